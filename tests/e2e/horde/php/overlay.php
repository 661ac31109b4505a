<?php
/**
 * PHP 8.2 compatibility overlay for Debian 12's Horde packages (smime-proxy e2e TEST STACK
 * only, not the product).
 *
 *   php overlay.php OUT_DIR
 *
 * Copies each package file named below to OUT_DIR/<same path under /usr/share/php>, with one
 * literal replacement; PHP-FPM puts OUT_DIR first on its include_path, so Horde's autoloader
 * (and Net_DNS2's) load the copy instead of the packaged file. The packages are never changed.
 * Fails (exit 1) when a search string is not found exactly once: the package changed, and the
 * shim must be looked at again. Writes a file only when its content changed.
 */
$shims = array(
    /*
     * Horde_Core_Ajax_Application_Handler::has() builds `new ReflectionMethod($this, $action)`
     * and catches ReflectionException. The dynamic view's compose page (and any AJAX
     * application set up without an action) calls has(null): PHP 8 throws a ValueError
     * ("ReflectionMethod::__construct(): Argument #2 ($method) cannot be null"), not a
     * ReflectionException, and the page ends in "A fatal error has occurred". The shim
     * answers false for a non-string action, as PHP 7 effectively did.
     */
    array(
        'file' => 'Horde/Core/Ajax/Application/Handler.php',
        'search' => "    final public function has(\$action)\n    {\n        try {",
        'replace' => "    final public function has(\$action)\n    {\n"
            . "        // smime-proxy e2e PHP 8 shim: ReflectionMethod throws ValueError for null.\n"
            . "        if (!is_string(\$action) || \$action === '') {\n            return false;\n        }\n"
            . "        try {",
    ),
    /*
     * php-net-dns2 1.5.0, Net_DNS2_Cache_File::__destruct(): `@fread($fp, filesize(...))` on
     * the cache file Horde creates empty (Horde_Core_Factory_Dns: <tmpdir>/horde_dns.cache*).
     * PHP 8 throws a ValueError for a length of 0 (the @ does not silence it), in a
     * destructor at the end of the request: AJAX answers such as sendMessage then arrive
     * with HTTP 500 although their JSON says success. The shim skips the read of an empty file.
     */
    array(
        'file' => 'Net/DNS2/Cache/File.php',
        'search' => "            \$data = @fread(\$fp, filesize(\$this->cache_file));\n            if ( (\$data !== false) && (strlen(\$data) > 0) ) {\n\n                //\n                // unserialize and store the data\n                //\n                \$c = \$this->cache_data;",
        'replace' => "            // smime-proxy e2e PHP 8 shim: fread() throws ValueError for a length of 0.\n"
            . "            \$size = filesize(\$this->cache_file);\n"
            . "            \$data = \$size > 0 ? @fread(\$fp, \$size) : false;\n            if ( (\$data !== false) && (strlen(\$data) > 0) ) {\n\n                //\n                // unserialize and store the data\n                //\n                \$c = \$this->cache_data;",
    ),
);

if ($argc != 2) {
    fwrite(STDERR, "usage: php overlay.php OUT_DIR\n");
    exit(2);
}
$out = rtrim($argv[1], '/');
foreach ($shims as $s) {
    $src = '/usr/share/php/' . $s['file'];
    $text = @file_get_contents($src);
    if ($text === false) {
        fwrite(STDERR, "overlay: $src not found\n");
        exit(1);
    }
    $n = substr_count($text, $s['search']);
    if ($n != 1) {
        fwrite(STDERR, "overlay: expected text found $n times in $src (package changed?)\n");
        exit(1);
    }
    if (strncmp($text, "<?php\n", 6) != 0) {
        fwrite(STDERR, "overlay: $src does not start with <?php\n\n");
        exit(1);
    }
    $new = "<?php // smime-proxy e2e overlay of $src (see tests/e2e/horde/php/overlay.php)\n"
        . substr(str_replace($s['search'], $s['replace'], $text), 6);
    $dst = "$out/{$s['file']}";
    if (is_file($dst) && file_get_contents($dst) === $new) {
        continue;
    }
    if (!is_dir(dirname($dst)) && !mkdir(dirname($dst), 0755, true)) {
        fwrite(STDERR, "overlay: cannot create " . dirname($dst) . "\n");
        exit(1);
    }
    file_put_contents("$dst.tmp", $new);
    chmod("$dst.tmp", 0644);
    rename("$dst.tmp", $dst);
}
