#!/usr/bin/env bash
# Horde Groupware Webmail 5.2 / IMP 6.2 (Debian 12 packages, SQLite) on 127.0.0.1 for the
# end-to-end suite, on top of the shared mail stack of tests/e2e/stack.sh (its Dovecot,
# Postfix and TLS test CA). Test fixtures only: throwaway CA leaf, everything on loopback.
#
#   tests/e2e/horde/stack.sh install|configure|start|stop|restart|status|env|all
#
#   install    Debian packages (no daemon is started by the maintainer scripts: policy-rc.d)
#   configure  TLS leaf from the base stack's CA; PHP 8.2 shims; Horde + IMP config; DB
#   start      start Horde's own PHP-FPM and nginx, wait (bounded) for the login page
#   stop       stop them (the base stack is left alone)
#   status     one line per service; exit 1 if anything is down
#   env        KEY=VALUE lines for the suite
#   all        install + configure + start (idempotent; also recovers from killed daemons)
#
# Needs the base stack: `tests/e2e/stack.sh configure` (for $S/tls/ca.key) before
# `configure`, and its Dovecot/Postfix running before `start`.
#
# Addresses (127.0.0.1 only):
#   https://horde.example.test:9444/horde/  nginx + PHP-FPM 8.2, Horde/IMP dynamic view
#   IMAP 127.0.0.1:10143, SMTP 127.0.0.1:10025 (the base stack's Dovecot and Postfix)
# horde.example.test resolves through one idempotent /etc/hosts line (added by configure).
# Users log in with their full address: alice@example.test / alicepass, bob@..., carol@...
# Horde's own S/MIME and PGP are off (no openssl/gpg configured; prefs locked off).
#
# State: $E2E_HORDE_DIR (default /tmp/smime-proxy-e2e-horde; traversable by www-data):
#   etc/ (nginx.conf, php-fpm.conf, secret_key)  tls/  php/ (shims: prepend.php, overlay/)
#   db/horde.sqlite  tmp/ (Horde tmpdir, PHP uploads, compose attachments, nginx bodies)
#   sessions/ (PHP sessions: IMP's compose cache lives here)  cache/ (Horde_Cache)
#   vfs/  log/ (horde.log, php-errors.log, nginx-*.log, timings.log)  run/
# System files written: /etc/horde/*/conf.php (generated; Debian ships none),
# /etc/horde/imp/backends.local.php, /etc/horde/imp/prefs.local.php, /etc/hosts (one line).
# /etc/nginx and /etc/php are left alone: both daemons run from $H/etc.
set -euo pipefail

H=${E2E_HORDE_DIR:-/tmp/smime-proxy-e2e-horde}
S=${E2E_STACK_DIR:-/tmp/smime-proxy-e2e-stack}
HOST=${E2E_HORDE_HOST:-horde.example.test}
DOMAIN=example.test
HTTPS_PORT=9444
IMAP_PORT=10143
SMTP_PORT=10025
START_TIMEOUT=${E2E_START_TIMEOUT:-30}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck disable=SC2034 # read by stack_install (stack-lib.sh)
PACKAGES=(php-horde-webmail php-horde-history php-horde-http php8.2-fpm php8.2-sqlite3 php8.2-intl
  php8.2-curl nginx aspell aspell-en sqlite3 openssl curl)
HORDE_BASE=/usr/share/horde
STATE_DIRS=(db tmp sessions cache vfs log)

log() { printf 'horde: %s\n' "$*" >&2; }
die() { printf 'horde: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=../stack-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../stack-lib.sh"

php_fpm_bin() {
  local b
  for b in /usr/sbin/php-fpm8.2 /usr/sbin/php-fpm*; do [[ -x $b ]] && { echo "$b"; return; }; done
  die "php-fpm not found (run: $0 install)"
}

# Elapsed time of a subcommand, to stderr and $H/log/timings.log.
timed() { stack_timed "$H/log" "$@"; }

# --- install -------------------------------------------------------------------------------

cmd_install() {
  # libapache2-mod-php8.2- : `php` would otherwise pull in Apache's PHP module;
  # --no-install-recommends (stack_install): 104 packages instead of ~250.
  stack_install "$H/log/install-apt.log" libapache2-mod-php8.2-
}

# --- configure -----------------------------------------------------------------------------

write_if_changed() { # path [mode [group]] (content on stdin)
  local tmp
  tmp=$(mktemp)
  cat > "$tmp"
  if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return; fi
  mv "$tmp" "$1"
  chmod "${2:-644}" "$1"
  if [[ -n ${3:-} ]]; then chgrp "$3" "$1"; fi
}

# A CA:FALSE leaf for $HOST, signed by the base stack's test CA (the one the proxy gets as
# --upstream-ca). Re-issued when missing, for another name, or not signed by the current CA.
make_tls() {
  local t=$H/tls
  [[ -s $S/tls/ca.crt && -s $S/tls/ca.key ]] \
    || die "the base stack's CA is missing ($S/tls/ca.crt, ca.key): run tests/e2e/stack.sh configure first"
  mkdir -p "$t"
  if [[ -s $t/server-chain.crt && -s $t/server.key ]] \
    && openssl verify -CAfile "$S/tls/ca.crt" "$t/server.crt" >/dev/null 2>&1 \
    && openssl x509 -in "$t/server.crt" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:$HOST"; then
    return
  fi
  log "configure: TLS leaf for $HOST (signed by $S/tls/ca.crt)"
  cat > "$t/ext.cnf" <<EOF
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:$HOST
EOF
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$HOST" -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  openssl x509 -req -in "$t/server.csr" -CA "$S/tls/ca.crt" -CAkey "$S/tls/ca.key" \
    -CAserial "$t/ca.srl" -CAcreateserial -sha256 -days 825 -extfile "$t/ext.cnf" -extensions leaf \
    -out "$t/server.crt" 2>/dev/null
  cat "$t/server.crt" "$S/tls/ca.crt" > "$t/server-chain.crt"
  rm -f "$t/server.csr" "$t/ca.srl"
  chmod 600 "$t/server.key"
}

cmd_configure() {
  [[ -d $HORDE_BASE/imp ]] || die "Horde not installed ($HORDE_BASE/imp missing; run: $0 install)"
  mkdir -p "$H"/{etc,tls,php,run} "${STATE_DIRS[@]/#/$H/}"
  chmod 755 "$H"

  case $HOST in
    localhost | 127.0.0.1) ;;
    *) if ! grep -Eq "^127\.0\.0\.1[[:space:]]+(.*[[:space:]])?$HOST([[:space:]]|\$)" /etc/hosts; then
         log "configure: adding '127.0.0.1 $HOST' to /etc/hosts"
         if [[ -s /etc/hosts && -n $(tail -c 1 /etc/hosts) ]]; then echo >> /etc/hosts; fi
         printf '127.0.0.1 %s\n' "$HOST" >> /etc/hosts
       fi ;;
  esac

  make_tls

  # ---- PHP 8.2 shims (see the comments in php/*.php): copied, never run from the repo
  # (www-data must read them; the repo may live under /root).
  write_if_changed "$H/php/prepend.php" < "$HERE/php/prepend.php"
  php "$HERE/php/overlay.php" "$H/php/overlay" || die "PHP 8.2 overlay failed (see above)"
  local php_cli=(php -d "include_path=$H/php/overlay:.:/usr/share/php" -d "auto_prepend_file=$H/php/prepend.php"
    -d "error_reporting=E_ALL & ~E_DEPRECATED & ~E_NOTICE")

  # ---- Horde: conf.php of every application + database (php/setup.php)
  [[ -s $H/etc/secret_key ]] || { head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$H/etc/secret_key"; chmod 600 "$H/etc/secret_key"; }
  local out i
  for i in 1 2; do
    # A second pass when something changed: some defaults (turba's address book names) come
    # from the configuration written by the first.
    out=$(cd "$H/tmp" && E2E_HORDE_DIR=$H E2E_HORDE_HOST=$HOST E2E_SMTP_PORT=$SMTP_PORT E2E_DOMAIN=$DOMAIN \
      E2E_HORDE_SECRET=$(cat "$H/etc/secret_key") "${php_cli[@]}" "$HERE/php/setup.php" 2>"$H/log/setup-stderr.log") \
      || { cat "$H/log/setup-stderr.log" >&2; die "Horde setup failed (php/setup.php)"; }
    [[ -n $out ]] || break
    [[ $i == 1 ]] && log "configure: $(tr '\n' ' ' <<<"$out")"
  done

  # ---- IMP: the base stack's Dovecot, full addresses as login names
  write_if_changed /etc/horde/imp/backends.local.php 640 www-data <<EOF
<?php
// smime-proxy e2e stack (generated by tests/e2e/horde/stack.sh): the base stack's Dovecot.
\$servers['imap']['disabled'] = false;
\$servers['imap']['name'] = 'smime-proxy e2e Dovecot';
\$servers['imap']['hostspec'] = '127.0.0.1';
\$servers['imap']['port'] = $IMAP_PORT;
\$servers['imap']['secure'] = false;
\$servers['imap']['maildomain'] = '$DOMAIN';
EOF
  write_if_changed /etc/horde/imp/prefs.local.php 640 www-data <<'EOF'
<?php
// smime-proxy e2e stack (generated by tests/e2e/horde/stack.sh): IMP's own S/MIME and PGP
// are off and cannot be switched on by a user; the proxy does the crypto.
$_prefs['use_smime']['value'] = 0;
$_prefs['use_smime']['locked'] = true;
$_prefs['use_pgp']['value'] = 0;
$_prefs['use_pgp']['locked'] = true;
EOF

  # ---- PHP-FPM
  write_if_changed "$H/etc/php-fpm.conf" <<EOF
; smime-proxy e2e Horde: PHP-FPM (generated by tests/e2e/horde/stack.sh)
[global]
pid = $H/run/php-fpm.pid
error_log = $H/log/php-fpm.log
daemonize = yes

[horde]
user = www-data
group = www-data
listen = $H/run/php-fpm.sock
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
pm = dynamic
pm.max_children = 6
pm.start_servers = 2
pm.min_spare_servers = 1
pm.max_spare_servers = 3
catch_workers_output = yes
clear_env = no
; PHP 8.2 shims (tests/e2e/horde/php/): the overlay directory first on the include path,
; each() defined before every script.
php_admin_value[include_path] = "$H/php/overlay:.:/usr/share/php"
php_admin_value[auto_prepend_file] = $H/php/prepend.php
php_admin_flag[log_errors] = on
php_admin_flag[display_errors] = off
php_admin_value[error_log] = $H/log/php-errors.log
php_admin_value[session.save_path] = $H/sessions
php_admin_value[upload_tmp_dir] = $H/tmp
php_admin_value[sys_temp_dir] = $H/tmp
php_admin_value[upload_max_filesize] = 25M
php_admin_value[post_max_size] = 30M
php_admin_value[memory_limit] = 256M
EOF

  # ---- nginx
  write_if_changed "$H/etc/nginx.conf" <<EOF
# smime-proxy e2e Horde: nginx, HTTPS on 127.0.0.1:$HTTPS_PORT only
# (generated by tests/e2e/horde/stack.sh)
user www-data;
worker_processes 1;
pid $H/run/nginx.pid;
error_log $H/log/nginx-error.log;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log $H/log/nginx-access.log;
  client_body_temp_path $H/tmp/nginx-body;
  fastcgi_temp_path $H/tmp/nginx-fastcgi;
  proxy_temp_path $H/tmp/nginx-proxy;
  uwsgi_temp_path $H/tmp/nginx-uwsgi;
  scgi_temp_path $H/tmp/nginx-scgi;
  client_max_body_size 30m;
  server_tokens off;
  server {
    listen 127.0.0.1:$HTTPS_PORT ssl;
    server_name $HOST;
    ssl_certificate $H/tls/server-chain.crt;
    ssl_certificate_key $H/tls/server.key;
    root /usr/share;
    location = / { return 302 /horde/; }
    location / { return 404; }
    location /horde/ {
      index index.php;
      # Mirrors the packages' .htaccess denies (config/, lib/, locale/, templates/ of every app).
      location ~ ^/horde/([a-z]+/)?(config|lib|locale|templates|migration|scripts|install|test)(/|\$) { return 403; }
      location ~ /\\. { return 403; }
      location ~ ^/horde/.+?\\.php(/|\$) {
        fastcgi_split_path_info ^(.+?\\.php)(/.*)\$;
        set \$path_info \$fastcgi_path_info;
        try_files \$fastcgi_script_name =404;
        include /etc/nginx/fastcgi_params;
        fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
        fastcgi_param PATH_INFO \$path_info;
        fastcgi_param HTTPS on;
        fastcgi_pass unix:$H/run/php-fpm.sock;
        fastcgi_read_timeout 120s;
      }
    }
  }
}
EOF

  # Horde writes its DB, caches, sessions, temp files and logs as www-data (setup.php ran
  # as root and left root-owned files there).
  chown -R www-data:www-data "${STATE_DIRS[@]/#/$H/}"
  chmod 640 "$H/db/horde.sqlite"
}

# --- start / stop / status -----------------------------------------------------------------

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

horde_ok() {
  # Not `curl | grep -q`: grep exits at the first match, curl then dies of SIGPIPE and, with
  # pipefail, the check fails now and then although the page is fine.
  local page
  page=$(curl -sS -m 10 --cacert "$S/tls/ca.crt" --resolve "$HOST:$HTTPS_PORT:127.0.0.1" \
    "https://$HOST:$HTTPS_PORT/horde/login.php" 2>/dev/null) || return 1
  [[ $page == *'name="horde_user"'* ]]
}

# name|check|log
SERVICES=(
  "base stack dovecot imap|port $IMAP_PORT|$S/log/dovecot.log (tests/e2e/stack.sh)"
  "base stack postfix smtp|port $SMTP_PORT|$S/log/postfix.log (tests/e2e/stack.sh)"
  "horde nginx https|port $HTTPS_PORT|$H/log/nginx-error.log"
  "horde php-fpm + login page over https|horde|$H/log/php-fpm.log, $H/log/php-errors.log, $H/log/horde.log"
)

check() { # "port N" | "horde"
  case $1 in
    port\ *) port_open "${1#port }" ;;
    horde) horde_ok ;;
  esac
}

stop_pidfile() { # name pidfile
  local pid i
  [[ -s $2 ]] || return 0
  pid=$(cat "$2")
  kill -TERM "$pid" 2>/dev/null || { rm -f "$2"; return 0; }
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { log "stop: $1 did not exit on TERM; KILL"; kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$2"
}

cmd_start() {
  [[ -f $H/etc/nginx.conf ]] || die "not configured (run: $0 configure)"
  port_open $IMAP_PORT && port_open $SMTP_PORT \
    || die "the base stack is down (IMAP $IMAP_PORT / SMTP $SMTP_PORT): run tests/e2e/stack.sh start"
  local out=$H/log/daemon-stdio.log
  # Restart PHP-FPM when its config or a shim changed since it started (a re-`configure`).
  if pid_alive "$H/run/php-fpm.pid" && [[ -n $(find "$H/etc/php-fpm.conf" "$H/php" -newer "$H/run/php-fpm.pid" -print -quit) ]]; then
    log "start: php-fpm restart (config changed)"
    stop_pidfile php-fpm "$H/run/php-fpm.pid"
  fi
  if ! pid_alive "$H/run/php-fpm.pid"; then
    log "start: php-fpm"
    rm -f "$H/run/php-fpm.pid" "$H/run/php-fpm.sock"
    "$(php_fpm_bin)" --fpm-config "$H/etc/php-fpm.conf" </dev/null >>"$out" 2>&1 \
      || die "php-fpm failed to start; see $H/log/php-fpm.log and $out"
  fi
  if pid_alive "$H/run/nginx.pid"; then
    nginx -p "$H/run" -e "$H/log/nginx-error.log" -c "$H/etc/nginx.conf" -s reload </dev/null >>"$out" 2>&1
  else
    log "start: nginx"
    rm -f "$H/run/nginx.pid"
    nginx -p "$H/run" -e "$H/log/nginx-error.log" -c "$H/etc/nginx.conf" </dev/null >>"$out" 2>&1 \
      || die "nginx failed to start; see $H/log/nginx-error.log and $out"
  fi
  local deadline=$((SECONDS + START_TIMEOUT)) svc name what logs
  for svc in "${SERVICES[@]}"; do
    IFS='|' read -r name what logs <<<"$svc"
    until check "$what"; do
      if ((SECONDS >= deadline)); then
        die "$name did not come up within ${START_TIMEOUT}s ($what); see $logs"
      fi
      sleep 0.2
    done
  done
  log "start: up (https://$HOST:$HTTPS_PORT/horde/, IMAP $IMAP_PORT, SMTP $SMTP_PORT)"
}

cmd_stop() {
  stop_pidfile nginx "$H/run/nginx.pid" &
  stop_pidfile php-fpm "$H/run/php-fpm.pid" &
  wait
  local i
  for ((i = 0; i < 50; i++)); do port_open $HTTPS_PORT || break; sleep 0.1; done
  port_open $HTTPS_PORT && log "stop: port $HTTPS_PORT still open"
  log "stop: stopped (the base stack keeps running)"
}

cmd_status() { stack_status "" what; }

cmd_env() {
  cat <<EOF
E2E_HORDE_URL=https://$HOST:$HTTPS_PORT/horde/
E2E_HORDE_HOST=$HOST
E2E_HORDE_PORT=$HTTPS_PORT
E2E_HORDE_SITE=$HOST:$HTTPS_PORT
E2E_HORDE_CA=$S/tls/ca.crt
E2E_HORDE_TLS_CERT=$H/tls/server.crt
E2E_HORDE_LOG_DIR=$H/log
E2E_HORDE_STATE_DIRS=${STATE_DIRS[*]/#/$H/}
E2E_HORDE_MAIL_DIR=$S/mail/$DOMAIN
EOF
}

case ${1:-} in
  install) timed install cmd_install ;;
  configure) timed configure cmd_configure ;;
  start) timed start cmd_start ;;
  stop) timed stop cmd_stop ;;
  restart) cmd_stop; timed start cmd_start ;;
  status) cmd_status ;;
  env) cmd_env ;;
  all) timed install cmd_install; timed configure cmd_configure; timed start cmd_start ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
