#!/usr/bin/env bash
# Soak: mixed load through smime-proxy for minutes, on 127.0.0.1, watching its memory and
# file descriptors. The load (bench/soak.py, WORKERS threads): files of an intercepted site
# passed through, Roundcube compose pages rewritten, S/MIME messages read (the preview page,
# then its view frame as the page's iframe loads it: decrypted with bob's key), a site that
# is not configured (tunnelled) and plain HTTP; every answer checked. The proxy's VmRSS and
# open descriptors are sampled every INTERVAL seconds and printed as a curve; the verdict
# compares the growth over the second half with the samples' scatter (the noise), and the
# descriptors SETTLE seconds after the load (the upstream closes idle connections after 5 s,
# so the proxy's pooled ones end too) with those before it.
#
#   bench/soak.sh [--minutes N]   release build, N minutes (default 10); exit 2 when RSS
#                                 grows beyond the noise or a descriptor leaks
#   bench/soak.sh --smoke         debug build, 20 s, nothing judged (CI runs it)
#   bench/soak.sh --heap FILE     the proxy under heaptrack, its profile written to FILE
#                                 (.zst), and the heap it still holds after the load
#                                 printed: run it for 5 and for 10 minutes to tell state
#                                 that grows from the allocator's footprint
#
# Env: WORKERS=6 INTERVAL=10 (smoke: 2) SETTLE=15 (smoke: 10) UP_PORT=19450 (and +1) SP_PORT=19090,
# PROFILE=debug for the full soak on the debug build (memory and descriptors do not depend on it).
# Needs curl, python3, openssl. Every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/smime-proxy/target}

smoke= minutes=10 heap=
while [[ $# -gt 0 ]]; do
  case $1 in
    --smoke) smoke=1 ;;
    --minutes) minutes=$2; shift ;;
    --heap) heap=$(realpath -m "${2%.zst}").zst; shift ;;
    *) echo "usage: bench/soak.sh [--smoke] [--minutes N] [--heap FILE]" >&2; exit 64 ;;
  esac
  shift
done
WORKERS=${WORKERS:-6}
UP_PORT=${UP_PORT:-19450}
SP_PORT=${SP_PORT:-19090}
if [[ -n $smoke ]]; then
  seconds=20 interval=${INTERVAL:-2} judge=0 settle=${SETTLE:-10} profile=debug
  cargo build --locked -q -p smime-proxy --bin smime-proxy
else
  seconds=$((minutes * 60)) interval=${INTERVAL:-10} judge=1 settle=${SETTLE:-15} profile=${PROFILE:-release}
  if [[ $profile == release ]]; then
    cargo build --release --locked -q -p smime-proxy --bin smime-proxy
  else
    cargo build --locked -q -p smime-proxy --bin smime-proxy
  fi
fi
bin=$CARGO_TARGET_DIR/$profile/smime-proxy
if [[ -n $heap ]] && ! command -v heaptrack >/dev/null; then
  echo "bench/soak.sh --heap needs heaptrack (apt install heaptrack)" >&2
  exit 64
fi

# shellcheck source=bench/lib.sh
source bench/lib.sh

echo "== test PKI, upstream certificate, bob's S/MIME message"
bash tests/pki/generate.sh "$work/pki" >/dev/null
marker=SOAK-PLAINTEXT-9d2b
ossl_req() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "$@" 2>/dev/null; }
ossl_req -keyout "$work/up-ca.key" -out "$work/up-ca.pem" -subj "/CN=soak upstream CA"
ossl_req -keyout "$work/up.key" -out "$work/up.pem" -subj /CN=localhost -CA "$work/up-ca.pem" \
  -CAkey "$work/up-ca.key" -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -addext basicConstraints=critical,CA:FALSE -addext extendedKeyUsage=serverAuth
{
  printf 'Date: %s\r\n' "$(date -R)"
  printf 'Content-Type: text/plain; charset=utf-8\r\n\r\nHi Bob, %s\r\n' "$marker" |
    openssl cms -encrypt -aes256 -from alice@example.test -to bob@example.test -subject soak "$work/pki/bob.pem"
} >"$work/message.eml"

python3 bench/soak.py upstream "$UP_PORT" "$work/up.pem" "$work/up.key" rewrite-rules/fixtures/roundcube \
  "$work/message.eml" 2>"$work/upstream.log" &
pids+=($!)
wait_port "$UP_PORT"

config=$work/smime-proxy
mkdir -p "$config"
printf 'trust_anchors = ["%s"]\n' "$work/pki/ca.pem" >"$config/config.toml"
printf 'soak store passphrase\n' >"$work/store-pass"
"$bin" --config-dir "$config" keys import "$work/pki/bob.p12" --passphrase-file "$work/pki/passphrase.txt" \
  --store-passphrase-file "$work/store-pass" >/dev/null
${heap:+heaptrack -o "${heap%.zst}"} "$bin" --config-dir "$config" run --listen "127.0.0.1:$SP_PORT" \
  --site "localhost:$UP_PORT=roundcube" --upstream-ca "$work/up-ca.pem" --store-passphrase-file "$work/store-pass" \
  --log warn 2>"$work/proxy.log" >"$work/proxy.out" &
sp_pid=$!
pids+=($sp_pid)
wait_port "$SP_PORT"
# Under heaptrack the proxy is the wrapper's child: that is the process to watch.
[[ -z $heap ]] || { wrapper=$sp_pid; sp_pid=$(pgrep -P "$wrapper" -f "$bin"); pids+=($sp_pid); }

echo "== soak: $seconds s, $WORKERS workers, $profile build, a sample every $interval s"
status=0
python3 bench/soak.py load "$SP_PORT" "$UP_PORT" "$config/ca.pem" "$work/up-ca.pem" "$sp_pid" "$seconds" \
  "$WORKERS" "$interval" "$marker" "$judge" "$settle" || status=$?
kill -0 "$sp_pid" 2>/dev/null || { echo "smime-proxy died:" >&2; tail -20 "$work/proxy.log" >&2; exit 1; }
if [[ -n $heap ]]; then
  kill "$sp_pid" && wait "$wrapper" || true
  echo "== heap (heaptrack's profile in $heap)"
  heaptrack_print -f "$heap" -p 0 -a 0 -T 0 2>/dev/null |
    sed -n -e 's/^calls to allocation functions: /allocations: /p' -e 's/^total memory leaked: /held after the load: /p'
fi
exit "$status"
