<?php
/**
 * Non-interactive Horde configuration for the smime-proxy e2e test stack (run by
 * tests/e2e/horde/stack.sh configure, as root, with the shims of this directory loaded).
 *
 * Replaces Debian's `webmail-install`, which dies on PHP 8.2 before writing anything:
 *   PHP Fatal error: Declaration of Horde_Form_Type_pgp::init(...) must be compatible with
 *   Horde_Form_Type_longtext::init(...)   (/usr/share/php/Horde/Form/Type.php:843)
 * (it builds Horde_Config_Form, which loads Horde_Form). This script never touches
 * Horde_Form: it generates every application's conf.php with Horde_Config from the
 * application's conf.xml defaults plus the settings below, then runs the database
 * migrations of all applications (what webmail-install's configDb/migrateDb/writeAllConfigs
 * do).
 *
 * Environment: E2E_HORDE_DIR (state dir), E2E_HORDE_HOST, E2E_SMTP_PORT, E2E_DOMAIN,
 * E2E_HORDE_SECRET (the install's secret key, kept by stack.sh so that re-runs write the
 * same file). Prints one line per file it (re)wrote.
 */

$H = getenv('E2E_HORDE_DIR');
$host = getenv('E2E_HORDE_HOST');
$smtpPort = getenv('E2E_SMTP_PORT');
$domain = getenv('E2E_DOMAIN');
$secret = getenv('E2E_HORDE_SECRET');
if (!$H || !$host || !$smtpPort || !$domain || !$secret) {
    fwrite(STDERR, "setup.php: E2E_HORDE_DIR, E2E_HORDE_HOST, E2E_SMTP_PORT, E2E_DOMAIN, E2E_HORDE_SECRET needed\n");
    exit(2);
}

// Horde's registry needs some conf.php to start (as in webmail-install).
$hordeConf = '/etc/horde/horde/conf.php';
if (!file_exists($hordeConf)) {
    copy('/etc/horde/horde/conf.php.dist', $hordeConf);
    chmod($hordeConf, 0640);
    chgrp($hordeConf, 'www-data');
}

require_once '/usr/share/horde/lib/Application.php';
Horde_Registry::appInit('horde', array('cli' => true, 'authentication' => 'none', 'nocompress' => true));

/**
 * Horde_Config that ignores the current conf.php: every value is either given in the
 * variables or the conf.xml default. (Horde_Config otherwise takes defaults from the
 * current file and then *omits* every key that the config form did not post.)
 */
class E2e_Horde_Config extends Horde_Config
{
    public function __construct($app)
    {
        parent::__construct($app);
        $this->_oldConfig = '';
        $this->_preConfig = '';
        $this->_postConfig = '';
    }

    public function generate(array $settings)
    {
        return $this->generatePHPConfig(new Horde_Variables($settings), array('e2e' => true));
    }
}

function write_if_changed($file, $content)
{
    if (is_file($file) && file_get_contents($file) === $content) {
        return false;
    }
    file_put_contents("$file.e2e-tmp", $content);
    chmod("$file.e2e-tmp", 0640);
    chgrp("$file.e2e-tmp", 'www-data');
    rename("$file.e2e-tmp", $file);
    echo "wrote $file\n";
    return true;
}

// ---- horde/config/conf.php. Keys are conf.xml paths joined with "__".
$horde = array(
    // Deprecations of PHP 8.2 (dynamic properties, ...) would flood the error log.
    'debug_level' => 'E_ALL & ~E_NOTICE & ~E_DEPRECATED',
    'secret_key' => $secret,
    'tmpdir' => "$H/tmp",
    'use_ssl' => '2',
    'server__name' => '$_SERVER[\'SERVER_NAME\']',
    // Full URLs (form actions, redirects) carry the port only when this is set.
    'server__port' => '$_SERVER[\'SERVER_PORT\']',
    'cookie__domain' => '$_SERVER[\'SERVER_NAME\']',
    'cookie__path' => '/',
    'testdisable' => 'on',
    'sql__phptype' => 'sqlite',
    'sql__database' => "$H/db/horde.sqlite",
    'sql__charset' => 'utf-8',
    // Users log in to IMP (Dovecot) with their full address; no Horde administrator.
    'auth__driver' => 'application',
    'auth__params__app' => 'imp',
    'auth__admins' => '',
    'auth__resetpassword' => 'false',
    'log__enabled' => 'true',
    'log__priority' => 'INFO',
    'log__type' => 'file',
    'log__name' => "$H/log/horde.log",
    'log__params__append' => 'on',
    'prefs__driver' => 'Sql',
    'cache__driver' => 'File',
    'cache__params__dir' => "$H/cache",
    'vfs__type' => 'File',
    'vfs__params__vfsroot' => "$H/vfs",
    'sessionhandler__type' => 'Builtin', // PHP files in session.save_path ($H/sessions)
    'mailer__type' => 'smtp',
    'mailer__params__host' => '127.0.0.1',
    'mailer__params__port' => $smtpPort,
    'mailer__params__secure' => 'none',
    'mailer__params__localhost' => $host,
    'mailer__params__auth' => 'false',
    'spell__driver' => 'aspell',
    'spell__params__path' => '/usr/bin/aspell',
    // Horde's own S/MIME and PGP stay off: no openssl/gpg binary configured (IMP then
    // suppresses both preference groups; prefs.local.php also locks use_smime/use_pgp off).
    'openssl__path' => '',
    'gnupg__path' => '',
    'problems__email' => "postmaster@$domain",
    'problems__maildomain' => $domain,
);

$config = new E2e_Horde_Config('horde');
$php = $config->generate($horde);
foreach (array("\$conf['sql']['phptype'] = 'sqlite';", "\$conf['session']['name'] = 'Horde';",
               "\$conf['mailer']['params']['port'] = $smtpPort;", "\$conf['auth']['driver'] = 'application';") as $must) {
    if (strpos($php, $must) === false) {
        fwrite(STDERR, "setup.php: generated horde conf.php lacks: $must\n");
        exit(1);
    }
}
if (preg_match('/\$conf\[\'(openssl|gnupg)\'\]\[\'path\'\]/', $php)) {
    fwrite(STDERR, "setup.php: generated horde conf.php configures openssl/gnupg\n");
    exit(1);
}
write_if_changed($hordeConf, $php);
include $hordeConf;
$GLOBALS['conf'] = $conf;

// ---- every other application: conf.xml defaults.
foreach ($GLOBALS['registry']->listAllApps() as $app) {
    $dir = $GLOBALS['registry']->get('fileroot', $app) . '/config';
    if ($app == 'horde' || !file_exists("$dir/conf.xml")) {
        continue;
    }
    $c = new E2e_Horde_Config($app);
    write_if_changed("$dir/conf.php", $c->generate(array()));
}

// ---- database tables (Horde_Core_Bundle::migrateDb: twice, for unresolved dependencies).
$migration = new Horde_Core_Db_Migration();
for ($i = 0; $i < 2; $i++) {
    $error = null;
    foreach ($migration->apps as $app) {
        $migrator = $migration->getMigrator($app);
        if ($migrator->getTargetVersion() <= $migrator->getCurrentVersion()) {
            continue;
        }
        try {
            $migrator->up();
            echo "migrated $app\n";
        } catch (Exception $error) {
            if ($i) {
                fwrite(STDERR, "setup.php: migration of $app failed: " . $error->getMessage() . "\n");
                exit(1);
            }
        }
    }
    if (!$error) {
        break;
    }
}
