#!/usr/bin/env bash
# A real third-party webmail on 127.0.0.1 for the end-to-end suite: Roundcube 1.6 (Debian
# packages, SQLite) behind nginx + PHP-FPM over HTTPS, Dovecot (IMAP + LMTP), Postfix (SMTP).
# Test fixtures only: throwaway passwords, throwaway CA, everything on loopback.
#
#   tests/e2e/stack.sh install|configure|start|stop|restart|status|env|all
#
#   install    Debian packages (no daemon is started by the maintainer scripts: policy-rc.d)
#   configure  write every config into the state dir; TLS CA + leaf; S/MIME test PKI; users; DB
#   start      start what is not running, then wait (bounded) until every port answers
#   stop       stop every daemon of the stack
#   status     one line per service; exit 1 if anything is down
#   env        KEY=VALUE lines for the suite (URL, site, CA, users, ports)
#   all        install + configure + start (idempotent; also recovers from killed daemons)
#
# Addresses (all 127.0.0.1 only; none collides with the proxy's default 8080):
#   https://webmail.example.test:9443/  nginx + PHP-FPM, Roundcube   (TLS leaf from $S/tls/ca.crt)
#   127.0.0.1:10143                      Dovecot IMAP (plaintext login, no TLS)
#   127.0.0.1:10024                      Dovecot LMTP (Postfix delivers here)
#   127.0.0.1:10025                      Postfix SMTP (no auth; relays from 127.0.0.0/8 only;
#                                        only example.test is delivered, all else bounces)
#   mail.example.test:10587              Postfix submission (127.0.0.1): STARTTLS required (TLS leaf
#                                        for mail.example.test from $S/tls/ca.crt), then SASL
#                                        AUTH PLAIN/LOGIN required (Dovecot's auth, same users)
# The host names webmail.example.test and mail.example.test are resolved through /etc/hosts
# (idempotent "127.0.0.1 <name>" lines are added by `configure`): the browser never resolves
# them (the proxy does), and Roundcube then runs under a realistic non-loopback-looking name.
#
# Users: alice@example.test / alicepass, bob@example.test / bobpass, carol@example.test /
# carolpass (Roundcube also accepts "alice"). S/MIME test PKI (tests/pki/generate.sh): $S/pki/{ca,alice,bob,...}.pem.
# frank@example.test / frankpass has a mailbox only, for the directory/revocation suite (pki/):
# its sends to frank must be delivered to prove what they were encrypted to (his certificate
# is in pki/'s directory, not here). dave and erin deliberately have no mailbox.
#
# State: $E2E_STACK_DIR (default /tmp/smime-proxy-e2e-stack; must be traversable by
# www-data and vmail, so not under /root): etc/ tls/ pki/ mail/ db/ log/ run/ tmp/.
# System files changed: /etc/roundcube/config.inc.php (rewritten; the original is kept once
# as $S/etc/config.inc.php.orig), /etc/postfix/main.cf + master.cf (postconf), /etc/hosts
# (two lines), user vmail. /etc/nginx, /etc/dovecot and /etc/php are left alone: each daemon
# runs with its own config file from $S/etc.
set -euo pipefail

S=${E2E_STACK_DIR:-/tmp/smime-proxy-e2e-stack}
HOST=${E2E_WEBMAIL_HOST:-webmail.example.test}
DOMAIN=example.test
HTTPS_PORT=9443
IMAP_PORT=10143
LMTP_PORT=10024
SMTP_PORT=10025
SUBMISSION_HOST=mail.$DOMAIN
SUBMISSION_PORT=10587
START_TIMEOUT=${E2E_START_TIMEOUT:-30}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

# shellcheck disable=SC2034 # read by stack_install (stack-lib.sh)
PACKAGES=(roundcube-core roundcube-sqlite3 nginx php8.2-fpm dovecot-imapd dovecot-lmtpd
  postfix sqlite3 openssl curl ca-certificates)
RC_PUBLIC=/var/lib/roundcube/public_html
RC_SQL=/usr/share/roundcube/SQL/sqlite.initial.sql

log() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=stack-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack-lib.sh"

php_fpm_bin() {
  local b
  for b in /usr/sbin/php-fpm8.2 /usr/sbin/php-fpm*; do [[ -x $b ]] && { echo "$b"; return; }; done
  die "php-fpm not found (run: $0 install)"
}

# --- install -------------------------------------------------------------------------------

cmd_install() {
  debconf-set-selections <<EOF
roundcube-core roundcube/dbconfig-install boolean false
roundcube-core roundcube/database-type select sqlite3
postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string $DOMAIN
EOF
  # libapache2-mod-php8.2- : `php` would otherwise pull in Apache's PHP module.
  stack_install "${TMPDIR:-/tmp}/smime-proxy-e2e-apt.log" libapache2-mod-php8.2-
}

# --- configure -----------------------------------------------------------------------------

write_if_changed() { # path (content on stdin); prints "changed" when it did
  local tmp
  tmp=$(mktemp)
  cat > "$tmp"
  if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return; fi
  mv "$tmp" "$1"
  chmod 644 "$1"
}

make_tls() {
  local t=$S/tls
  mkdir -p "$t"
  if [[ -s $t/server-chain.crt && -s $t/server.key ]] \
    && openssl x509 -in "$t/server.crt" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:$HOST"; then
    return
  fi
  log "configure: TLS test CA and leaf for $HOST"
  cat > "$t/ext.cnf" <<EOF
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:$HOST, DNS:localhost, IP:127.0.0.1
EOF
  openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -subj "/CN=smime-proxy e2e webmail test CA/O=smime-proxy tests" \
    -keyout "$t/ca.key" -out "$t/ca.crt" -config /dev/null -extfile "$t/ext.cnf" -extensions ca 2>/dev/null \
    || openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -subj "/CN=smime-proxy e2e webmail test CA/O=smime-proxy tests" \
      -keyout "$t/ca.key" -out "$t/ca.crt" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  # A CA-issued CA:FALSE leaf: rustls rejects a self-signed CA:TRUE server cert
  # (CaUsedAsEndEntity). nginx serves leaf + CA.
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$HOST" -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial -sha256 \
    -days 825 -extfile "$t/ext.cnf" -extensions leaf -out "$t/server.crt" 2>/dev/null
  cat "$t/server.crt" "$t/ca.crt" > "$t/server-chain.crt"
  rm -f "$t/server.csr" "$t/ca.srl"
  chmod 600 "$t/ca.key" "$t/server.key"
}

make_leaf() { # name: a CA:FALSE serverAuth leaf for NAME from the stack CA ($S/tls/NAME.{key,crt,-chain.crt})
  local t=$S/tls n=$1
  if [[ -s $t/$n-chain.crt && -s $t/$n.key && $t/$n.crt -nt $t/ca.crt ]] \
    && openssl x509 -in "$t/$n.crt" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:$n"; then
    return
  fi
  log "configure: TLS leaf for $n"
  sed "s/^subjectAltName = .*/subjectAltName = DNS:$n/" "$t/ext.cnf" > "$t/$n.ext.cnf"
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$n" -keyout "$t/$n.key" -out "$t/$n.csr" 2>/dev/null
  openssl x509 -req -in "$t/$n.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial -sha256 \
    -days 825 -extfile "$t/$n.ext.cnf" -extensions leaf -out "$t/$n.crt" 2>/dev/null
  cat "$t/$n.crt" "$t/ca.crt" > "$t/$n-chain.crt"
  rm -f "$t/$n.csr" "$t/ca.srl" "$t/$n.ext.cnf"
  chmod 600 "$t/$n.key"
}

cmd_configure() {
  [[ -d $RC_PUBLIC ]] || die "Roundcube not installed ($RC_PUBLIC missing; run: $0 install)"
  mkdir -p "$S"/{etc,tls,pki,mail,db,log/roundcube,run,tmp}
  chmod 755 "$S"

  # Host names: resolved by the proxy (and curl) through /etc/hosts.
  local name
  for name in "$HOST" "$SUBMISSION_HOST"; do
    case $name in
      localhost | 127.0.0.1) ;;
      *) if ! grep -Eq "^127\.0\.0\.1[[:space:]]+(.*[[:space:]])?$name([[:space:]]|\$)" /etc/hosts; then
           log "configure: adding '127.0.0.1 $name' to /etc/hosts"
           printf '127.0.0.1 %s\n' "$name" >> /etc/hosts
         fi ;;
    esac
  done

  make_tls
  make_leaf "$SUBMISSION_HOST"
  if [[ ! -s $S/pki/bob.p12 ]]; then
    log "configure: S/MIME test PKI (tests/pki/generate.sh)"
    bash "$REPO/tests/pki/generate.sh" "$S/pki" >/dev/null
  fi

  id vmail >/dev/null 2>&1 || useradd --system --user-group --home-dir "$S/mail" --no-create-home \
    --shell /usr/sbin/nologin vmail
  local vuid vgid
  vuid=$(id -u vmail); vgid=$(id -g vmail)
  chown vmail:vmail "$S/mail"

  # ---- Dovecot
  write_if_changed "$S/etc/users" <<EOF
alice@$DOMAIN:{PLAIN}alicepass::::::
bob@$DOMAIN:{PLAIN}bobpass::::::
carol@$DOMAIN:{PLAIN}carolpass::::::
frank@$DOMAIN:{PLAIN}frankpass::::::
EOF
  chmod 640 "$S/etc/users"; chgrp dovecot "$S/etc/users" 2>/dev/null || true
  write_if_changed "$S/etc/dovecot.conf" <<EOF
# smime-proxy e2e stack: Dovecot, 127.0.0.1 only (generated by tests/e2e/stack.sh)
base_dir = $S/run/dovecot
state_dir = $S/run/dovecot-state
instance_name = smime-proxy-e2e
listen = 127.0.0.1
protocols = imap lmtp
log_path = $S/log/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = $vuid
mail_uid = $vuid
mail_gid = $vgid
mail_location = maildir:$S/mail/%d/%n/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $S/etc/users
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $S/etc/users
  default_fields = uid=$vuid gid=$vgid home=$S/mail/%d/%n
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
protocol lmtp {
  postmaster_address = postmaster@$DOMAIN
}
# SASL for Postfix's submission service ($S/run/dovecot/auth-postfix).
service auth {
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF

  # ---- Postfix (system instance, via postconf; mtimes kept when nothing changed, so that
  # `start` reloads Postfix only after a real change)
  local pf_before
  pf_before=$(mktemp -d)
  cp -p /etc/postfix/main.cf /etc/postfix/master.cf "$pf_before/"
  postconf -e \
    "myhostname=mail.$DOMAIN" "mydomain=$DOMAIN" "myorigin=$DOMAIN" \
    "inet_interfaces=127.0.0.1" "inet_protocols=ipv4" \
    "mydestination=localhost" "mynetworks=127.0.0.0/8" \
    "relayhost=" "default_transport=error" "relay_transport=error" \
    "virtual_mailbox_domains=$DOMAIN" "virtual_transport=lmtp:inet:127.0.0.1:$LMTP_PORT" \
    "smtpd_relay_restrictions=permit_mynetworks, reject" \
    "alias_maps=hash:/etc/aliases" "alias_database=hash:/etc/aliases" \
    "message_size_limit=52428800" \
    "maillog_file=$S/log/postfix.log" "maillog_file_prefixes=/var, /dev/stdout, $S/log"
  # No chroot: nothing has to be copied into /var/spool/postfix. (-F reorders master.cf on
  # every call, so only when needed.)
  if postconf -F '*/*/chroot' | grep -qv '= n$'; then postconf -F '*/*/chroot = n'; fi
  # SMTP on 127.0.0.1:$SMTP_PORT instead of :25.
  if postconf -M smtp/inet 2>/dev/null | grep -q .; then postconf -MX smtp/inet; fi
  postconf -M "127.0.0.1:$SMTP_PORT/inet=127.0.0.1:$SMTP_PORT inet n - n - - smtpd"
  # Submission: STARTTLS first, then SASL (Dovecot) for everything; no permit_mynetworks.
  postconf -M "127.0.0.1:$SUBMISSION_PORT/inet=127.0.0.1:$SUBMISSION_PORT inet n - n - - smtpd \
    -o syslog_name=postfix/submission -o smtpd_tls_security_level=encrypt -o smtpd_tls_auth_only=yes \
    -o smtpd_tls_chain_files=$S/tls/$SUBMISSION_HOST.key,$S/tls/$SUBMISSION_HOST-chain.crt \
    -o smtpd_sasl_auth_enable=yes -o smtpd_sasl_type=dovecot -o smtpd_sasl_path=$S/run/dovecot/auth-postfix \
    -o smtpd_sasl_security_options=noanonymous -o smtpd_client_restrictions=permit_sasl_authenticated,reject \
    -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
  postconf -M postlog/unix-dgram 2>/dev/null | grep -q . \
    || postconf -M "postlog/unix-dgram=postlog unix-dgram n - n - 1 postlogd"
  for f in main.cf master.cf; do
    cmp -s "$pf_before/$f" "/etc/postfix/$f" && touch -r "$pf_before/$f" "/etc/postfix/$f"
  done
  rm -rf "$pf_before"
  [[ -f /etc/aliases ]] || printf 'postmaster: root\n' > /etc/aliases
  [[ /etc/aliases.db -nt /etc/aliases ]] || newaliases

  # ---- PHP-FPM
  write_if_changed "$S/etc/php-fpm.conf" <<EOF
; smime-proxy e2e stack: PHP-FPM for Roundcube (generated by tests/e2e/stack.sh)
[global]
pid = $S/run/php-fpm.pid
error_log = $S/log/php-fpm.log
daemonize = yes

[roundcube]
user = www-data
group = www-data
listen = $S/run/php-fpm.sock
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
pm = dynamic
pm.max_children = 6
pm.start_servers = 2
pm.min_spare_servers = 1
pm.max_spare_servers = 3
catch_workers_output = yes
php_admin_flag[log_errors] = on
php_admin_value[error_log] = $S/log/php-errors.log
php_admin_value[upload_tmp_dir] = $S/tmp
php_admin_value[upload_max_filesize] = 25M
php_admin_value[post_max_size] = 30M
php_admin_value[memory_limit] = 256M
EOF

  # ---- nginx
  write_if_changed "$S/etc/nginx.conf" <<EOF
# smime-proxy e2e stack: nginx for Roundcube, HTTPS on 127.0.0.1:$HTTPS_PORT only
# (generated by tests/e2e/stack.sh)
user www-data;
worker_processes 1;
pid $S/run/nginx.pid;
error_log $S/log/nginx-error.log;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log $S/log/nginx-access.log;
  client_body_temp_path $S/run/nginx-body;
  fastcgi_temp_path $S/run/nginx-fastcgi;
  proxy_temp_path $S/run/nginx-proxy;
  uwsgi_temp_path $S/run/nginx-uwsgi;
  scgi_temp_path $S/run/nginx-scgi;
  client_max_body_size 30m;
  server_tokens off;
  server {
    listen 127.0.0.1:$HTTPS_PORT ssl;
    server_name $HOST localhost 127.0.0.1;
    ssl_certificate $S/tls/server-chain.crt;
    ssl_certificate_key $S/tls/server.key;
    root $RC_PUBLIC;
    index index.php;
    # Mirrors Roundcube's .htaccess.
    location ~ ^/(config|temp|logs|SQL|bin|installer|vendor|program/(include|lib|localization|steps))(/|\$) { return 403; }
    location ~ /\\. { return 403; }
    location ~ ^/(README|INSTALL|LICENSE|CHANGELOG|UPGRADING)\$ { return 403; }
    location ~ \\.php\$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      fastcgi_param HTTPS on;
      fastcgi_pass unix:$S/run/php-fpm.sock;
    }
  }
}
EOF

  # ---- Roundcube
  [[ -f $S/etc/des_key ]] || head -c 18 /dev/urandom | base64 > "$S/etc/des_key"
  [[ -f $S/etc/config.inc.php.orig || ! -f /etc/roundcube/config.inc.php ]] \
    || cp -p /etc/roundcube/config.inc.php "$S/etc/config.inc.php.orig"
  write_if_changed /etc/roundcube/config.inc.php <<EOF
<?php
// smime-proxy e2e stack (generated by tests/e2e/stack.sh; original in $S/etc/config.inc.php.orig)
\$config = [];
\$config['db_dsnw'] = 'sqlite:///$S/db/roundcube.sqlite?mode=0640';
\$config['imap_host'] = '127.0.0.1:$IMAP_PORT';
\$config['smtp_host'] = '127.0.0.1:$SMTP_PORT';
\$config['smtp_user'] = '';
\$config['smtp_pass'] = '';
\$config['username_domain'] = '$DOMAIN';
\$config['mail_domain'] = '$DOMAIN';
\$config['des_key'] = '$(cat "$S/etc/des_key")';
\$config['log_dir'] = '$S/log/roundcube/';
\$config['temp_dir'] = '$S/tmp/';
\$config['plugins'] = [];
\$config['skin'] = 'elastic';
\$config['product_name'] = 'Roundcube (smime-proxy e2e)';
\$config['support_url'] = '';
\$config['enable_spellcheck'] = false;
\$config['ip_check'] = false;
\$config['enable_installer'] = false;
\$config['smtp_log'] = true;
EOF
  chmod 640 /etc/roundcube/config.inc.php; chgrp www-data /etc/roundcube/config.inc.php
  if [[ ! -s $S/db/roundcube.sqlite ]]; then
    log "configure: Roundcube SQLite schema"
    sqlite3 "$S/db/roundcube.sqlite" < "$RC_SQL"
  fi
  # SQLite writes its journal next to the file: the directory must be www-data's.
  chown -R www-data:www-data "$S/db" "$S/log/roundcube" "$S/tmp"
  chmod 640 "$S/db/roundcube.sqlite"
}

# --- start / stop / status -----------------------------------------------------------------

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

webmail_ok() {
  curl -sS -m 5 --cacert "$S/tls/ca.crt" --resolve "$HOST:$HTTPS_PORT:127.0.0.1" \
    "https://$HOST:$HTTPS_PORT/" 2>/dev/null | grep -q 'id="rcmloginuser"'
}

# name|port-or-check|log
SERVICES=(
  "dovecot imap|port $IMAP_PORT|log/dovecot.log"
  "dovecot lmtp|port $LMTP_PORT|log/dovecot.log"
  "postfix smtp|port $SMTP_PORT|log/postfix.log"
  "postfix submission|port $SUBMISSION_PORT|log/postfix.log"
  "nginx https|port $HTTPS_PORT|log/nginx-error.log"
  "php-fpm + roundcube (login page over https)|webmail|log/php-fpm.log, log/php-errors.log, log/roundcube/errors.log"
)

check() { # "port N" | "webmail"
  case $1 in
    port\ *) port_open "${1#port }" ;;
    webmail) webmail_ok ;;
  esac
}

cmd_start() {
  [[ -f $S/etc/nginx.conf ]] || die "not configured (run: $0 configure)"
  local out=$S/log/daemon-stdio.log
  # Daemons keep the caller's stdio open (dovecot): never inherit ours.
  # Already running: reload when its config changed since it started (a re-`configure`).
  if ! pid_alive "$S/run/dovecot/master.pid"; then
    log "start: dovecot"
    dovecot -c "$S/etc/dovecot.conf" </dev/null >>"$out" 2>&1 || die "dovecot failed to start; see $S/log/dovecot.log and $out"
  elif [[ $S/etc/dovecot.conf -nt $S/run/dovecot/master.pid || $S/etc/users -nt $S/run/dovecot/master.pid ]]; then
    log "start: dovecot reload"
    doveadm -c "$S/etc/dovecot.conf" reload </dev/null >>"$out" 2>&1
    touch "$S/run/dovecot/master.pid"
  fi
  if ! postfix status >/dev/null 2>&1; then
    log "start: postfix"
    postfix start </dev/null >>"$out" 2>&1 || die "postfix failed to start; see $S/log/postfix.log and $out"
  elif [[ /etc/postfix/main.cf -nt /var/spool/postfix/pid/master.pid || /etc/postfix/master.cf -nt /var/spool/postfix/pid/master.pid ]]; then
    log "start: postfix reload"
    postfix reload </dev/null >>"$out" 2>&1
    touch /var/spool/postfix/pid/master.pid
  fi
  if pid_alive "$S/run/php-fpm.pid" && [[ $S/etc/php-fpm.conf -nt $S/run/php-fpm.pid ]]; then
    log "start: php-fpm restart (config changed)"
    stop_pidfile php-fpm "$S/run/php-fpm.pid"
  fi
  if ! pid_alive "$S/run/php-fpm.pid"; then
    log "start: php-fpm"
    rm -f "$S/run/php-fpm.pid" "$S/run/php-fpm.sock"
    "$(php_fpm_bin)" --fpm-config "$S/etc/php-fpm.conf" </dev/null >>"$out" 2>&1 \
      || die "php-fpm failed to start; see $S/log/php-fpm.log and $out"
  fi
  if pid_alive "$S/run/nginx.pid"; then
    nginx -p "$S/run" -e "$S/log/nginx-error.log" -c "$S/etc/nginx.conf" -s reload </dev/null >>"$out" 2>&1
  else
    log "start: nginx"
    rm -f "$S/run/nginx.pid"
    nginx -p "$S/run" -e "$S/log/nginx-error.log" -c "$S/etc/nginx.conf" </dev/null >>"$out" 2>&1 \
      || die "nginx failed to start; see $S/log/nginx-error.log and $out"
  fi
  local deadline=$((SECONDS + START_TIMEOUT)) svc name what logs
  for svc in "${SERVICES[@]}"; do
    IFS='|' read -r name what logs <<<"$svc"
    until check "$what"; do
      if ((SECONDS >= deadline)); then
        die "$name did not come up within ${START_TIMEOUT}s ($what); see $S/${logs//, /, $S/}"
      fi
      sleep 0.2
    done
  done
  log "start: up (https://$HOST:$HTTPS_PORT/, IMAP $IMAP_PORT, SMTP $SMTP_PORT, submission $SUBMISSION_PORT, LMTP $LMTP_PORT)"
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

cmd_stop() {
  # All at once (each takes 1-3 s to shut down gracefully).
  stop_pidfile nginx "$S/run/nginx.pid" &
  stop_pidfile php-fpm "$S/run/php-fpm.pid" &
  if pid_alive "$S/run/dovecot/master.pid"; then
    { doveadm -c "$S/etc/dovecot.conf" stop </dev/null >>"$S/log/daemon-stdio.log" 2>&1 \
      || stop_pidfile dovecot "$S/run/dovecot/master.pid"; } &
  fi
  if postfix status >/dev/null 2>&1; then postfix stop </dev/null >>"$S/log/daemon-stdio.log" 2>&1 || true; fi
  wait
  local i p
  for p in $HTTPS_PORT $IMAP_PORT $LMTP_PORT $SMTP_PORT $SUBMISSION_PORT; do
    for ((i = 0; i < 50; i++)); do port_open "$p" || break; sleep 0.1; done
    port_open "$p" && log "stop: port $p still open"
  done
  log "stop: stopped"
}

cmd_status() { stack_status "$S" what; }

cmd_env() {
  cat <<EOF
E2E_STACK_DIR=$S
E2E_WEBMAIL_HOST=$HOST
E2E_WEBMAIL_PORT=$HTTPS_PORT
E2E_WEBMAIL_SITE=$HOST:$HTTPS_PORT
E2E_WEBMAIL_URL=https://$HOST:$HTTPS_PORT/
E2E_STACK_CA=$S/tls/ca.crt
E2E_IMAP_PORT=$IMAP_PORT
E2E_SMTP_PORT=$SMTP_PORT
E2E_LMTP_PORT=$LMTP_PORT
E2E_SUBMISSION_HOST=$SUBMISSION_HOST
E2E_SUBMISSION_PORT=$SUBMISSION_PORT
E2E_PKI_DIR=$S/pki
E2E_ALICE=alice@$DOMAIN:alicepass
E2E_BOB=bob@$DOMAIN:bobpass
E2E_CAROL=carol@$DOMAIN:carolpass
E2E_MAIL_DIR=$S/mail/$DOMAIN
E2E_LOG_DIR=$S/log
EOF
}

case ${1:-} in
  install) cmd_install ;;
  configure) cmd_configure ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  env) cmd_env ;;
  all) cmd_install; cmd_configure; cmd_start ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
