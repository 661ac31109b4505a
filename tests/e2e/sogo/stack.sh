#!/usr/bin/env bash
# SOGo 5.8 (Debian 12 packages) for the end-to-end suite, next to the shared stack
# (tests/e2e/stack.sh: Dovecot, Postfix, the TLS test CA and the users). Test fixtures only:
# throwaway passwords, the shared throwaway CA, everything on loopback.
#
#   tests/e2e/sogo/stack.sh install|configure|start|stop|restart|status|env|all
#
#   install    Debian packages (sogo, memcached, postgresql, nginx; no daemon is started: policy-rc.d)
#   configure  write every config into the state dir; TLS leaf; private PostgreSQL cluster, users
#   start      start what is not running (the shared stack too), then wait (bounded) for every port
#   stop       stop SOGo's own daemons (sogod, nginx, memcached, PostgreSQL); the shared stack stays up
#   status     one line per service; exit 1 if anything is down
#   env        KEY=VALUE lines for the suite (URL, site, CA, state dirs, ports)
#   all        install + configure + start (idempotent; also recovers from killed daemons)
#
# Addresses (all 127.0.0.1 only):
#   https://sogo.example.test:9445/SOGo/  nginx (own instance) -> sogod   (TLS leaf from the stack CA)
#   127.0.0.1:10200                       sogod (WOPort, 3 workers; plain HTTP, only nginx talks to it)
#   127.0.0.1:10432                       PostgreSQL 15, private cluster (profiles, sessions, users)
#   127.0.0.1:10211                       memcached (private instance)
# SOGo uses the shared stack's Dovecot IMAP 127.0.0.1:10143 (same login and password) and
# sends through its Postfix SMTP 127.0.0.1:10025 (no auth). The submission service
# mail.example.test:10587 (STARTTLS + AUTH) is what a proxy uses to send for a SOGo user.
# sogo.example.test resolves through one idempotent "127.0.0.1 sogo.example.test" line in /etc/hosts.
#
# Users (SQL table sogo_users: c_uid = c_name = the full address, plain passwords):
# alice@example.test / alicepass, bob@example.test / bobpass, carol@example.test / carolpass.
# Log in with the full address; SOGo's URLs then read /SOGo/so/alice@example.test/...
# SOGo's own S/MIME is switched off (SOGoMailCertificateEnabled = NO).
#
# State: $E2E_SOGO_DIR (default /tmp/smime-proxy-e2e-sogo; traversable by sogo and postgres):
# etc/ (sogod arguments, nginx.conf, SQL) tls/ pg/ (PostgreSQL data) spool/ (SOGoMailSpoolPath)
# tmp/ (sogod's TMPDIR, nginx temp files) log/ run/. System files changed: /etc/hosts (one
# line). /etc/sogo, /etc/nginx, /etc/postgresql and /etc/memcached.conf are left alone: sogod
# gets every setting as -Key value arguments (they win over /etc/sogo/sogo.conf), the other
# daemons run from their own files or flags.
set -euo pipefail

SS=${E2E_SOGO_DIR:-/tmp/smime-proxy-e2e-sogo}
S=${E2E_STACK_DIR:-/tmp/smime-proxy-e2e-stack}
HOST=${E2E_SOGO_HOST:-sogo.example.test}
DOMAIN=example.test
HTTPS_PORT=9445
SOGO_PORT=10200
PG_PORT=10432
MEMCACHED_PORT=10211
IMAP_PORT=10143
SMTP_PORT=10025
SUBMISSION_HOST=mail.$DOMAIN
SUBMISSION_PORT=10587
WORKERS=3
START_TIMEOUT=${E2E_START_TIMEOUT:-60}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BASE=$HERE/../stack.sh

# shellcheck disable=SC2034 # read by stack_install (stack-lib.sh)
PACKAGES=(sogo memcached postgresql nginx openssl curl ca-certificates)
PG_BIN=/usr/lib/postgresql/15/bin
SOGO_RES=/usr/lib/GNUstep/SOGo

log() { printf 'sogo-stack: %s\n' "$*" >&2; }
die() { printf 'sogo-stack: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=../stack-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../stack-lib.sh"

timed() { stack_timed "$SS/log" "$@"; }

# --- install -------------------------------------------------------------------------------

cmd_install() {
  stack_install "${TMPDIR:-/tmp}/smime-proxy-e2e-sogo-apt.log"
}


# --- configure -----------------------------------------------------------------------------

write_if_changed() { # path (content on stdin)
  local tmp
  tmp=$(mktemp)
  cat > "$tmp"
  if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return; fi
  mv "$tmp" "$1"
  chmod 644 "$1"
}

make_tls() { # a CA:FALSE serverAuth leaf for $HOST from the shared stack's CA
  local t=$SS/tls
  mkdir -p "$t"
  if [[ -s $t/server-chain.crt && -s $t/server.key && $t/server.crt -nt $S/tls/ca.crt ]] \
    && openssl x509 -in "$t/server.crt" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:$HOST"; then
    return
  fi
  log "configure: TLS leaf for $HOST (CA $S/tls/ca.crt)"
  cat > "$t/ext.cnf" <<EOT
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:$HOST
EOT
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$HOST" -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  openssl x509 -req -in "$t/server.csr" -CA "$S/tls/ca.crt" -CAkey "$S/tls/ca.key" -CAserial "$t/ca.srl" \
    -CAcreateserial -sha256 -days 825 -extfile "$t/ext.cnf" -extensions leaf -out "$t/server.crt" 2>/dev/null
  cat "$t/server.crt" "$S/tls/ca.crt" > "$t/server-chain.crt"
  rm -f "$t/server.csr" "$t/ca.srl"
  chmod 600 "$t/server.key"
}

# sogod's settings, one "Key value" per line (value: a GNUstep property list); passed as
# -Key value arguments, which win over /etc/sogo/sogo.conf (left as Debian ships it).
sogod_settings() {
  local db="postgresql://sogo@127.0.0.1:$PG_PORT/sogo"
  cat <<EOT
WOPort 127.0.0.1:$SOGO_PORT
WOWorkersCount $WORKERS
WOPidFile $SS/run/sogo/sogo.pid
WOLogFile $SS/log/sogo.log
WOUseRelativeURLs YES
SOGoProfileURL $db/sogo_user_profile
OCSFolderInfoURL $db/sogo_folder_info
OCSSessionsFolderURL $db/sogo_sessions_folder
OCSEMailAlarmsFolderURL $db/sogo_alarms_folder
SOGoUserSources ({type = sql; id = users; viewURL = "$db/sogo_users"; canAuthenticate = YES; isAddressBook = NO; userPasswordAlgorithm = plain; displayName = "Users";})
SOGoMemcachedHost 127.0.0.1:$MEMCACHED_PORT
SOGoIMAPServer imap://127.0.0.1:$IMAP_PORT
NGImap4ConnectionStringSeparator /
SOGoMailingMechanism smtp
SOGoSMTPServer smtp://127.0.0.1:$SMTP_PORT
SOGoMailDomain $DOMAIN
SOGoDraftsFolderName Drafts
SOGoSentFolderName Sent
SOGoTrashFolderName Trash
SOGoJunkFolderName Junk
SOGoMailSpoolPath $SS/spool
SOGoMailCertificateEnabled NO
SOGoSieveScriptsEnabled NO
SOGoVacationEnabled NO
SOGoForwardEnabled NO
SOGoMailAuxiliaryUserAccountsEnabled NO
SOGoEnableEMailAlarms NO
SOGoAppointmentSendEMailNotifications NO
SOGoPasswordChangeEnabled NO
SOGoLanguage English
SOGoTimeZone UTC
SOGoPageTitle SOGo (smime-proxy e2e)
SOGoMailMessageCheck manually
EOT
}

cmd_configure() {
  [[ -x /usr/sbin/sogod ]] || die "SOGo not installed (run: $0 install)"
  [[ -x $PG_BIN/initdb ]] || die "PostgreSQL 15 not installed (run: $0 install)"
  if [[ ! -s $S/tls/ca.key ]]; then
    log "configure: the shared stack is not configured; $BASE configure"
    bash "$BASE" configure
  fi
  mkdir -p "$SS"/{etc,tls,pg,spool,tmp/sogo,log,run/pg,run/sogo,run/memcached,home}
  chmod 755 "$SS" "$SS/run" "$SS/log" "$SS/tmp"
  chown postgres:postgres "$SS/pg" "$SS/run/pg"
  chmod 700 "$SS/pg"
  chown sogo:sogo "$SS/spool" "$SS/tmp/sogo" "$SS/run/sogo" "$SS/home"
  chown memcache "$SS/run/memcached"
  chmod 750 "$SS/spool" "$SS/tmp/sogo" "$SS/home"
  touch "$SS/log/sogo.log" "$SS/log/postgresql.log"
  chown sogo:sogo "$SS/log/sogo.log"
  chown postgres:postgres "$SS/log/postgresql.log"

  case $HOST in
    localhost | 127.0.0.1) ;;
    *) if ! grep -Eq "^127\.0\.0\.1[[:space:]]+(.*[[:space:]])?$HOST([[:space:]]|\$)" /etc/hosts; then
         log "configure: adding '127.0.0.1 $HOST' to /etc/hosts"
         printf '127.0.0.1 %s\n' "$HOST" >> /etc/hosts
       fi ;;
  esac
  make_tls

  # ---- PostgreSQL: a private cluster (trust auth, 127.0.0.1 + a socket in run/pg only)
  if [[ ! -s $SS/pg/PG_VERSION ]]; then
    log "configure: initdb $SS/pg"
    setpriv --reuid=postgres --regid=postgres --init-groups "$PG_BIN/initdb" -D "$SS/pg" -U postgres \
      -A trust -E UTF8 --locale=C -N >"$SS/log/initdb.log" 2>&1 || { tail "$SS/log/initdb.log" >&2; die "initdb failed"; }
    printf "include_if_exists = '%s'\n" "$SS/etc/postgresql.conf" >> "$SS/pg/postgresql.conf"
    rm -f "$SS/etc/.provisioned"
  fi
  write_if_changed "$SS/etc/postgresql.conf" <<EOT
# smime-proxy e2e SOGo stack (generated by tests/e2e/sogo/stack.sh); included by $SS/pg/postgresql.conf
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SS/run/pg'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
logging_collector = off
EOT
  write_if_changed "$SS/etc/provision.sql" <<EOT
-- smime-proxy e2e SOGo stack (generated by tests/e2e/sogo/stack.sh), run as postgres in db sogo
CREATE TABLE IF NOT EXISTS sogo_users (
  c_uid varchar(128) PRIMARY KEY,  -- the login (and IMAP user): the full address
  c_name varchar(128) NOT NULL,    -- the unique id: the same
  c_password varchar(128) NOT NULL,
  c_cn varchar(128),
  mail varchar(128)
);
ALTER TABLE sogo_users OWNER TO sogo;
INSERT INTO sogo_users VALUES
  ('alice@$DOMAIN', 'alice@$DOMAIN', 'alicepass', 'Alice Example', 'alice@$DOMAIN'),
  ('bob@$DOMAIN', 'bob@$DOMAIN', 'bobpass', 'Bob Example', 'bob@$DOMAIN'),
  ('carol@$DOMAIN', 'carol@$DOMAIN', 'carolpass', 'Carol Example', 'carol@$DOMAIN')
ON CONFLICT (c_uid) DO UPDATE SET c_name = EXCLUDED.c_name, c_password = EXCLUDED.c_password,
  c_cn = EXCLUDED.c_cn, mail = EXCLUDED.mail;
EOT

  # ---- sogod
  sogod_settings | write_if_changed "$SS/etc/sogod.args"

  # ---- nginx (own instance; SOGo's documented proxy headers)
  write_if_changed "$SS/etc/nginx.conf" <<EOT
# smime-proxy e2e SOGo stack: nginx, HTTPS on 127.0.0.1:$HTTPS_PORT only
# (generated by tests/e2e/sogo/stack.sh)
user www-data;
worker_processes 1;
pid $SS/run/nginx.pid;
error_log $SS/log/nginx-error.log;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log $SS/log/nginx-access.log;
  # Request bodies (uploads) that do not fit in memory land here: part of E2E_SOGO_STATE_DIRS.
  client_body_temp_path $SS/tmp/nginx-body;
  proxy_temp_path $SS/tmp/nginx-proxy;
  fastcgi_temp_path $SS/tmp/nginx-fastcgi;
  uwsgi_temp_path $SS/tmp/nginx-uwsgi;
  scgi_temp_path $SS/tmp/nginx-scgi;
  client_max_body_size 50m;
  client_body_buffer_size 128k;
  server_tokens off;
  server {
    listen 127.0.0.1:$HTTPS_PORT ssl;
    server_name $HOST localhost 127.0.0.1;
    ssl_certificate $SS/tls/server-chain.crt;
    ssl_certificate_key $SS/tls/server.key;
    location = / { return 302 /SOGo/; }
    location ^~ /SOGo {
      proxy_pass http://127.0.0.1:$SOGO_PORT;
      proxy_redirect http://127.0.0.1:$SOGO_PORT/ /;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Real-IP \$remote_addr;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header x-webobjects-server-protocol HTTP/1.0;
      proxy_set_header x-webobjects-remote-host \$remote_addr;
      proxy_set_header x-webobjects-server-name \$server_name;
      proxy_set_header x-webobjects-server-url https://\$http_host;
      proxy_set_header x-webobjects-server-port \$server_port;
      proxy_connect_timeout 90;
      proxy_send_timeout 90;
      proxy_read_timeout 90;
      # The login answer's session cookie is ~4 KB: smaller buffers give 502 "too big header".
      proxy_buffer_size 128k;
      proxy_buffers 8 128k;
      proxy_busy_buffers_size 256k;
    }
    location /SOGo.woa/WebServerResources/ {
      alias $SOGO_RES/WebServerResources/;
      expires max;
    }
    location /SOGo/WebServerResources/ {
      alias $SOGO_RES/WebServerResources/;
      expires max;
    }
    location ~ ^/SOGo/so/ControlPanel/Products/([^/]*)/Resources/(.*)\$ {
      alias $SOGO_RES/\$1.SOGo/Resources/\$2;
      expires max;
    }
  }
}
EOT
}

# --- start / stop / status -----------------------------------------------------------------

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

psql_q() { # db sql...: as postgres over the private socket
  local db=$1; shift
  pg psql -X -q -v ON_ERROR_STOP=1 -h "$SS/run/pg" -p "$PG_PORT" -U postgres -d "$db" "$@"
}

sogo_ok() {
  curl -sS -m 10 --cacert "$S/tls/ca.crt" --resolve "$HOST:$HTTPS_PORT:127.0.0.1" \
    "https://$HOST:$HTTPS_PORT/SOGo/" 2>/dev/null | grep -q 'ng-app="SOGo.MainUI"'
}

# name|port-or-check|log
SERVICES=(
  "postgresql|port $PG_PORT|log/postgresql.log"
  "memcached|port $MEMCACHED_PORT|log/daemon-stdio.log"
  "sogod|sogod|log/sogo.log"
  "nginx https|port $HTTPS_PORT|log/nginx-error.log"
  "sogo login page over https|sogo|log/sogo.log, log/nginx-error.log"
)

# sogod directly (an HTTP request: a bare connect makes it log "http server caught: (null)")
sogod_ok() { curl -sS -m 5 -o /dev/null "http://127.0.0.1:$SOGO_PORT/SOGo/" 2>/dev/null; }

check() { # "port N" | "sogod" | "sogo"
  case $1 in
    port\ *) port_open "${1#port }" ;;
    sogod) sogod_ok ;;
    sogo) sogo_ok ;;
  esac
}

wait_for() { # name check logs deadline
  until check "$2"; do
    ((SECONDS < $4)) || die "$1 did not come up within ${START_TIMEOUT}s ($2); see $SS/${3//, /, $SS/}"
    sleep 0.2
  done
}

provision() { # role + db + user table, once per cluster and whenever provision.sql changed
  [[ -f $SS/etc/.provisioned && ! $SS/etc/provision.sql -nt $SS/etc/.provisioned ]] && return
  log "start: provisioning PostgreSQL (role sogo, db sogo, table sogo_users)"
  psql_q postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'sogo'" | grep -q 1 \
    || psql_q postgres -c "CREATE ROLE sogo LOGIN"
  psql_q postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'sogo'" | grep -q 1 \
    || psql_q postgres -c "CREATE DATABASE sogo OWNER sogo"
  psql_q sogo -f "$SS/etc/provision.sql"
  touch "$SS/etc/.provisioned"
}

cmd_start() {
  [[ -f $SS/etc/nginx.conf ]] || die "not configured (run: $0 configure)"
  local out=$SS/log/daemon-stdio.log deadline=$((SECONDS + START_TIMEOUT))
  bash "$BASE" status >/dev/null 2>&1 || { log "start: the shared stack ($BASE start)"; bash "$BASE" start; }

  # PostgreSQL
  if ! pg "$PG_BIN/pg_ctl" -D "$SS/pg" status >/dev/null 2>&1; then
    log "start: postgresql"
    pg "$PG_BIN/pg_ctl" -D "$SS/pg" -l "$SS/log/postgresql.log" -w -t "$START_TIMEOUT" start </dev/null >>"$out" 2>&1 \
      || die "postgresql failed to start; see $SS/log/postgresql.log and $out"
  elif [[ $SS/etc/postgresql.conf -nt $SS/pg/postmaster.pid ]]; then
    log "start: postgresql restart (config changed)"
    pg "$PG_BIN/pg_ctl" -D "$SS/pg" -l "$SS/log/postgresql.log" -w -t "$START_TIMEOUT" restart </dev/null >>"$out" 2>&1
  fi
  wait_for postgresql "port $PG_PORT" log/postgresql.log "$deadline"
  provision

  # memcached (it writes its pid file as user memcache)
  if ! pid_alive "$SS/run/memcached/memcached.pid"; then
    log "start: memcached"
    rm -f "$SS/run/memcached/memcached.pid"
    memcached -d -u memcache -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 64 -P "$SS/run/memcached/memcached.pid" </dev/null >>"$out" 2>&1 \
      || die "memcached failed to start; see $out"
  fi

  # sogod (restarted when its arguments changed)
  if pid_alive "$SS/run/sogo/sogo.pid" && [[ $SS/etc/sogod.args -nt $SS/run/sogo/sogo.pid ]]; then
    log "start: sogod restart (settings changed)"
    stop_sogod
  fi
  if ! pid_alive "$SS/run/sogo/sogo.pid"; then
    log "start: sogod"
    rm -f "$SS/run/sogo/sogo.pid"
    local args=() key value
    while read -r key value; do args+=("-$key" "$value"); done < "$SS/etc/sogod.args"
    (cd "$SS/home" && exec setpriv --reuid=sogo --regid=sogo --init-groups \
      env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$SS/home" TMPDIR="$SS/tmp/sogo" LANG=C.UTF-8 \
      /usr/sbin/sogod "${args[@]}") </dev/null >>"$out" 2>&1 \
      || die "sogod failed to start; see $SS/log/sogo.log and $out"
  fi

  # nginx
  if pid_alive "$SS/run/nginx.pid"; then
    nginx -p "$SS/run" -e "$SS/log/nginx-error.log" -c "$SS/etc/nginx.conf" -s reload </dev/null >>"$out" 2>&1
  else
    log "start: nginx"
    rm -f "$SS/run/nginx.pid"
    nginx -p "$SS/run" -e "$SS/log/nginx-error.log" -c "$SS/etc/nginx.conf" </dev/null >>"$out" 2>&1 \
      || die "nginx failed to start; see $SS/log/nginx-error.log and $out"
  fi

  local svc name what logs
  for svc in "${SERVICES[@]}"; do
    IFS='|' read -r name what logs <<<"$svc"
    wait_for "$name" "$what" "$logs" "$deadline"
  done
  log "start: up (https://$HOST:$HTTPS_PORT/SOGo/, sogod $SOGO_PORT, PostgreSQL $PG_PORT, memcached $MEMCACHED_PORT)"
}

stop_pidfile() { # name pidfile
  local pid i
  [[ -s $2 ]] || return 0
  pid=$(cat "$2")
  kill -TERM "$pid" 2>/dev/null || { rm -f "$2"; return 0; }
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { log "stop: $1 did not exit on TERM; KILL"; kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$2"
}

# sogod on TERM: the watchdog passes it on, but its workers take about 30 s to exit and the
# watchdog lingers as long again after "all children exited". Neither holds state (sessions
# and profiles are in PostgreSQL/memcached, drafts in IMAP and the spool dir), so: TERM, a
# 2 s grace, then KILL for whatever is left.
stop_sogod() {
  local f=$SS/run/sogo/sogo.pid pid kids i
  [[ -s $f ]] || return 0
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || { rm -f "$f"; return 0; }
  kids=$(ps --ppid "$pid" -o pid= | tr '\n' ' ')
  kill -TERM "$pid" $kids 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do ps --ppid "$pid" -o stat= | grep -qv '^Z' || break; sleep 0.1; done
  kill -KILL $kids "$pid" 2>/dev/null || true
  rm -f "$f"
}

cmd_stop() {
  stop_pidfile nginx "$SS/run/nginx.pid" &
  stop_sogod &
  stop_pidfile memcached "$SS/run/memcached/memcached.pid" &
  if [[ -s $SS/pg/postmaster.pid ]]; then
    pg "$PG_BIN/pg_ctl" -D "$SS/pg" -m fast -w stop </dev/null >>"$SS/log/daemon-stdio.log" 2>&1 || true &
  fi
  wait
  local i p
  for p in $HTTPS_PORT $SOGO_PORT $MEMCACHED_PORT $PG_PORT; do
    for ((i = 0; i < 50; i++)); do port_open "$p" || break; sleep 0.1; done
    port_open "$p" && log "stop: port $p still open"
  done
  log "stop: stopped (the shared stack is left running)"
}

cmd_status() { stack_status "$SS" what; }

cmd_env() {
  cat <<EOT
E2E_SOGO_DIR=$SS
E2E_SOGO_HOST=$HOST
E2E_SOGO_PORT=$HTTPS_PORT
E2E_SOGO_SITE=$HOST:$HTTPS_PORT
E2E_SOGO_URL=https://$HOST:$HTTPS_PORT/SOGo/
E2E_SOGO_CA=$S/tls/ca.crt
E2E_SOGO_LOG_DIR=$SS/log
E2E_SOGO_STATE_DIRS=$SS/pg $SS/spool $SS/tmp $SS/home $SS/log /var/spool/sogo
E2E_SOGO_MAIL_DIR=$S/mail/$DOMAIN
E2E_SOGO_IMAP_PORT=$IMAP_PORT
E2E_SOGO_SMTP_PORT=$SMTP_PORT
E2E_SOGO_SUBMISSION_HOST=$SUBMISSION_HOST
E2E_SOGO_SUBMISSION_PORT=$SUBMISSION_PORT
E2E_SOGO_ALICE=alice@$DOMAIN:alicepass
E2E_SOGO_BOB=bob@$DOMAIN:bobpass
E2E_SOGO_CAROL=carol@$DOMAIN:carolpass
EOT
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
