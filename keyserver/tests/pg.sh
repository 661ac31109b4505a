#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the key-server tests, on 127.0.0.1 only (no systemd).
#
#   keyserver/tests/pg.sh install   Debian's postgresql (idempotent; no packaged cluster is started)
#   keyserver/tests/pg.sh start     initdb + pg_ctl in a temp dir; prints the URL for
#                                   SMIME_KEYSERVER_TEST_POSTGRES (reuses a running one)
#   keyserver/tests/pg.sh stop      stops it by its recorded PID and removes the folder
#
# initdb refuses to run as root, so as root the cluster runs as user postgres. Trust
# authentication is fine here: only 127.0.0.1 listens, on a non-default port.
set -euo pipefail
PORT="${SMIME_KEYSERVER_PG_PORT:-54329}"
DIR="${SMIME_KEYSERVER_PG_DIR:-/tmp/smime-keyserver-pg}"
URL="postgres://ks@127.0.0.1:$PORT/ks"

bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] || { echo "pg.sh: PostgreSQL is not installed (run: $0 install)" >&2; exit 1; }
  echo "$dir"
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() {
  [ -f "$DIR/pid" ] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null
}

case "${1:-}" in
  install)
    if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v pg_dump >/dev/null; then
      exit 0
    fi
    # Keep postinst from starting the packaged cluster on port 5432.
    made_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
      postgresql postgresql-client >/dev/null
    [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
    ;;
  start)
    if running; then echo "$URL"; exit 0; fi
    bin=$(bin_dir)
    rm -rf "$DIR"
    mkdir -p "$DIR/sock"
    [ "$(id -u)" != 0 ] || chown -R postgres "$DIR"
    as_postgres "$bin/initdb" -D "$DIR/data" -U ks --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; exit 1; }
    as_postgres "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -o \
      "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DIR/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
    head -1 "$DIR/data/postmaster.pid" > "$DIR/pid"
    as_postgres "$bin/createdb" -h 127.0.0.1 -p "$PORT" -U ks ks
    echo "$URL"
    ;;
  stop)
    if [ -f "$DIR/pid" ]; then
      pid=$(cat "$DIR/pid")
      # Only the server this script started: its PID must still be the cluster's.
      if [ "$(head -1 "$DIR/data/postmaster.pid" 2>/dev/null)" = "$pid" ]; then
        kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
    fi
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 install|start|stop" >&2
    exit 2
    ;;
esac
