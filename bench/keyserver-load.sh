#!/usr/bin/env bash
# Key-server load benchmark: OPAQUE logins with key release, over TLS, against real
# `smime-keyserver serve` processes, in one run:
#   1. SQLite, one replica (the baseline),
#   2. PostgreSQL, one replica,
#   3. PostgreSQL, two replicas on the same database (logins alternate between them).
# Prints logins/s and p50/p99 latency per setup and the ratio to the baseline, plus the
# client's own OPAQUE + Argon2id time per login (measured apart, in process: it is the
# same for every setup and dominates the latency).
#
# PostgreSQL: SMIME_KEYSERVER_TEST_POSTGRES (an admin URL) if set, else a throwaway cluster
# started here with keyserver/tests/pg.sh (which needs Debian's postgresql installed).
# Usage: bench/keyserver-load.sh           (env: USERS=8 LOGINS=64 CONC=4; PROFILE=debug uses the
#                                          debug build: the dependencies, where the time goes
#                                          (Argon2id, OPAQUE, TLS, sqlx), are optimised in it too)
#        bench/keyserver-load.sh --smoke   seconds, debug build, 2 users, 4 logins; nothing judged
# Everything listens on 127.0.0.1 (ports 18455-18457); every process started here is stopped
# on exit, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/smime-proxy/target}
SMOKE=; [[ ${1:-} == --smoke ]] && SMOKE=1
USERS=${USERS:-8}; LOGINS=${LOGINS:-64}; CONC=${CONC:-4}
[[ -n $SMOKE ]] && { USERS=2; LOGINS=4; CONC=2; }
PORTS=(18455 18456 18457)

PROFILE=${PROFILE:-release}
[[ -n $SMOKE ]] && PROFILE=debug
if [[ $PROFILE == release ]]; then
  cargo build --release --locked -q -p smime-keyserver --bin smime-keyserver --example keyserver_load
else
  cargo build --locked -q -p smime-keyserver --bin smime-keyserver --example keyserver_load
fi
BIN=$CARGO_TARGET_DIR/$PROFILE

WORK=$(mktemp -d)
# The throwaway cluster lives in $WORK/pg and runs as user postgres, which must reach it.
chmod 711 "$WORK"
PIDS=()
STARTED_PG=
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -z $STARTED_PG ]] || bash keyserver/tests/pg.sh stop
  rm -rf "$WORK"
}
trap cleanup EXIT

PG=${SMIME_KEYSERVER_TEST_POSTGRES:-}
if [[ -z $PG ]]; then
  if PG=$(SMIME_KEYSERVER_PG_DIR=$WORK/pg bash keyserver/tests/pg.sh start 2>/dev/null); then
    STARTED_PG=1; export SMIME_KEYSERVER_PG_DIR=$WORK/pg
  else
    PG=; echo "(PostgreSQL not available: only the SQLite setup runs)"
  fi
fi

# A throwaway CA and a server certificate for localhost.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=bench CA" \
  -keyout "$WORK/ca-key.pem" -out "$WORK/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$WORK/key.pem" -out "$WORK/cert.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\n' >"$WORK/ext"
openssl x509 -req -in "$WORK/cert.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca-key.pem" -CAcreateserial -days 1 \
  -extfile "$WORK/ext" -out "$WORK/cert.pem" 2>/dev/null

wait_port() {
  for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "port $1 did not open" >&2; return 1
}

# run NAME DATABASE_URL REPLICAS
run() {
  local name=$1 db=$2 replicas=$3 dir=$WORK/$1 urls=() i
  mkdir -p "$dir"
  local ks=("$BIN/smime-keyserver" --data-dir "$dir")
  [[ -n $db ]] && ks+=(--database "$db")
  "${ks[@]}" init >"$dir/server-key" 2>/dev/null
  : >"$dir/tokens"
  for i in $(seq "$USERS"); do
    echo "user$i@bench.test $("${ks[@]}" enrol "user$i@bench.test" 2>/dev/null)" >>"$dir/tokens"
  done
  local started=()
  for i in $(seq 0 $((replicas - 1))); do
    RUST_LOG=warn "${ks[@]}" serve --listen "127.0.0.1:${PORTS[$i]}" --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" \
      --guess-limit 1000000 &
    PIDS+=($!); started+=($!)
    wait_port "${PORTS[$i]}"
    urls+=("https://localhost:${PORTS[$i]}")
  done
  local line
  line=$("$BIN/examples/keyserver_load" "$WORK/ca.pem" "$(cat "$dir/server-key")" "$dir/tokens" "$LOGINS" "$CONC" "${urls[@]}")
  for pid in "${started[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
  printf '%-22s %s\n' "$name" "$line"
  echo "$line" | sed -n 's/.*logins_per_s=\([0-9.]*\).*/\1/p' >"$dir/rate"
}

fresh_pg() {
  local name=bench_$RANDOM$RANDOM
  psql -q "$PG" -c "CREATE DATABASE $name" >/dev/null
  echo "${PG%/*}/$name"
}

echo "== key-server logins with key release (users=$USERS logins=$LOGINS concurrency=$CONC)"
run sqlite-1-replica "" 1
[[ -n $PG ]] && run postgres-1-replica "$(fresh_pg)" 1
[[ -n $PG ]] && run postgres-2-replicas "$(fresh_pg)" 2
base=$(cat "$WORK/sqlite-1-replica/rate")
for setup in postgres-1-replica postgres-2-replicas; do
  [[ -f $WORK/$setup/rate ]] && printf '%-22s %.2fx the logins/s of sqlite-1-replica\n' "$setup" \
    "$(python3 -c "print($(cat "$WORK/$setup/rate") / $base)")"
done
exit 0
