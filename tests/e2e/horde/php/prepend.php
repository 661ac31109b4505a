<?php
/**
 * PHP 8.2 compatibility shim for Debian 12's Horde Groupware Webmail 5.2 / IMP 6.2 packages.
 *
 * Part of the smime-proxy end-to-end TEST STACK only (tests/e2e/horde/), not of the product:
 * stack.sh copies this file into the state dir and PHP-FPM loads it before every script
 * (php_admin_value[auto_prepend_file]); the CLI setup (setup.php) loads it with -d too.
 * No file of the Debian packages is modified.
 *
 * each(): removed in PHP 8.0, still called by the packaged IMP, e.g.
 *   /usr/share/horde/imp/lib/Ajax/Application/ListMessages.php:438
 *     while (list(,$ob) = each($overview['overview'])) {
 * (also imp/lib/Contents.php, Basic/Mailbox.php, Minimal/Mailbox.php, Mime/Viewer/Plain.php,
 * kronolith, nag and some Horde_Core imples). Without it the message list of every IMP view
 * dies with "Call to undefined function each()". This is the PHP 7 semantics: returns
 * [1 => value, 'value' => value, 0 => key, 'key' => key] for the current element and advances
 * the internal pointer, or false at the end.
 */
if (!function_exists('each')) {
    function each(array &$array)
    {
        $key = key($array);
        if ($key === null) {
            return false;
        }
        $value = current($array);
        next($array);
        return array(1 => $value, 'value' => $value, 0 => $key, 'key' => $key);
    }
}
