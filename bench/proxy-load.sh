#!/usr/bin/env bash
# Load benchmark: the same ~100 KB HTML page over HTTPS with keep-alive, on this machine, in
# one run. The page is Roundcube's captured compose page (rewrite-rules/fixtures/roundcube/
# compose.html) grown with message rows, at a compose URL, so smime-proxy does its real work:
# the compose rewrite under the bundled roundcube rule.
#   1. direct to the upstream,
#   2. through smime-proxy (release build) intercepting and rewriting it,
#   3. through smime-proxy at a URL that is no compose page: intercepted, passed through
#      (the cost the compose rewrite is compared with),
#   4. through mitmproxy (mitmdump) with an addon doing the same HTML insertion.
# Each gets a throughput run (CONC connections for DURATION seconds) and a latency run
# (one connection, sequential requests). Prints requests/s, latency percentiles, ratios.
#
# Needs: oha (cargo install oha), mitmdump (pip install mitmproxy), curl, python3.
# Usage: bench/proxy-load.sh        (env: DURATION=10 CONC=4 LAT_N=2000 PAGE_BYTES=102400)
#        bench/proxy-load.sh --smoke   a few seconds, debug build, curl only: the page is
#                                      fetched direct and through smime-proxy, the rewrite
#                                      checked, times printed, nothing judged (CI runs it)
# All traffic stays on 127.0.0.1; every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONC=${CONC:-4}
LAT_N=${LAT_N:-2000}
PAGE_BYTES=${PAGE_BYTES:-102400}
UP_PORT=${UP_PORT:-19443}
SP_PORT=${SP_PORT:-19080}
MP_PORT=${MP_PORT:-19081}
OHA=${OHA:-oha}
MITMDUMP=${MITMDUMP:-mitmdump}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/smime-proxy/target}

SMOKE=; [[ ${1:-} == --smoke ]] && SMOKE=1
tools=(curl python3); [[ -z $SMOKE ]] && tools+=("$OHA" "$MITMDUMP")
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

if [[ -n $SMOKE ]]; then
  echo "== building (debug, smoke)"
  cargo build --locked -q -p smime-proxy --bin smime-proxy --example bench_upstream
  BIN=$CARGO_TARGET_DIR/debug
else
  echo "== building (release)"
  cargo build --release --locked -q 2>/dev/null -p smime-proxy --bin smime-proxy --example bench_upstream
  BIN=$CARGO_TARGET_DIR/release
fi

# shellcheck source=bench/lib.sh
source bench/lib.sh

URL="https://localhost:$UP_PORT/?_task=mail&_action=compose&_id=bench"
PLAIN_URL="https://localhost:$UP_PORT/?_task=mail&_action=bench"  # the same page, not a compose page

"$BIN/examples/bench_upstream" "$UP_PORT" "$work/upstream-ca.pem" "$PAGE_BYTES" \
  rewrite-rules/fixtures/roundcube/compose.html 2>"$work/upstream.log" &
pids+=($!)
wait_port "$UP_PORT"

# The store passphrase seals the proxy's CA (created at this first start) and unseals it.
printf 'bench store passphrase\n' >"$work/store-passphrase"
"$BIN/smime-proxy" --config-dir "$work/smime-proxy" run --listen "127.0.0.1:$SP_PORT" \
  --site "localhost:$UP_PORT=roundcube" --upstream-ca "$work/upstream-ca.pem" --log warn \
  --store-passphrase-file "$work/store-passphrase" 2>"$work/smime-proxy.log" &
SP_PID=$!
pids+=($SP_PID)
wait_port "$SP_PORT"

MARKER='id="smime-proxy-controls"'
fetch() { curl -sf -o "$work/page.html" "$@" "$URL"; } # to a file: `| grep -q` would SIGPIPE curl
if [[ -n $SMOKE ]]; then
  echo "== smoke: the compose page direct and through smime-proxy (10 each, curl; nothing judged)"
  fetch --cacert "$work/upstream-ca.pem"
  if grep -q "$MARKER" "$work/page.html"; then echo "direct page has the marker?" >&2; exit 1; fi
  fetch --proxy "http://127.0.0.1:$SP_PORT" --cacert "$work/smime-proxy/ca.pem"
  grep -q "$MARKER" "$work/page.html" || { echo "smime-proxy did not rewrite the compose page" >&2; exit 1; }
  for leg in direct smime-proxy; do
    args=(--cacert "$work/upstream-ca.pem")
    [[ $leg == smime-proxy ]] && args=(--proxy "http://127.0.0.1:$SP_PORT" --cacert "$work/smime-proxy/ca.pem")
    # One curl, ten requests on one keep-alive connection: the mean of the transfers.
    urls=(); for _ in $(seq 10); do urls+=(-o /dev/null "$URL"); done
    curl -sf "${args[@]}" -w '%{time_total}\n' "${urls[@]}" >"$work/$leg.times"
    awk -v leg="$leg" '{ s += $1 } END { printf "  %-12s %d requests, mean %.2f ms (debug build)\n", leg, NR, s / NR * 1000 }' \
      "$work/$leg.times"
  done
  exit 0
fi

"$MITMDUMP" -q --listen-host 127.0.0.1 -p "$MP_PORT" --set confdir="$work/mitmproxy" \
  --set ssl_verify_upstream_trusted_ca="$work/upstream-ca.pem" \
  -s bench/mitm_insert.py >"$work/mitmproxy.log" 2>&1 &
MP_PID=$!
pids+=($MP_PID)
wait_port "$MP_PORT"

echo "== sanity: both proxies rewrite, direct does not"
fetch --cacert "$work/upstream-ca.pem"
if grep -q "$MARKER" "$work/page.html"; then echo "direct page has the marker?" >&2; exit 1; fi
fetch --proxy "http://127.0.0.1:$SP_PORT" --cacert "$work/smime-proxy/ca.pem"
grep -q "$MARKER" "$work/page.html" || { echo "smime-proxy did not rewrite" >&2; exit 1; }
fetch --proxy "http://127.0.0.1:$MP_PORT" --cacert "$work/mitmproxy/mitmproxy-ca-cert.pem"
grep -q "$MARKER" "$work/page.html" || { echo "mitmproxy did not rewrite" >&2; exit 1; }
fetch --cacert "$work/upstream-ca.pem"
echo "ok (page: $(wc -c <"$work/page.html") bytes)"

cpu_ticks() { # utime + stime of a process, in clock ticks
  [ -n "${1:-}" ] || { echo 0; return; }
  awk '{print $14 + $15}' "/proc/$1/stat"
}
run() { # name, pid-of-proxy-or-empty, json-out, url, oha args...
  local name=$1 pid=$2 out=$3 url=$4; shift 4
  local before; before=$(cpu_ticks "$pid")
  "$OHA" --no-tui --output-format json "$@" "$url" >"$out"
  echo $(( $(cpu_ticks "$pid") - before )) >"$out.cpu"
  echo "   $name done"
}
for mode in throughput latency; do
  if [ "$mode" = throughput ]; then load=(-z "${DURATION}s" -c "$CONC"); else load=(-n "$LAT_N" -c 1); fi
  echo "== $mode run (${load[*]})"
  run direct "" "$work/direct-$mode.json" "$URL" "${load[@]}" --cacert "$work/upstream-ca.pem"
  run smime-proxy "$SP_PID" "$work/smime-proxy-$mode.json" "$URL" "${load[@]}" -x "http://127.0.0.1:$SP_PORT" \
    --cacert "$work/smime-proxy/ca.pem"
  run pass-through "$SP_PID" "$work/pass-through-$mode.json" "$PLAIN_URL" "${load[@]}" \
    -x "http://127.0.0.1:$SP_PORT" --cacert "$work/smime-proxy/ca.pem"
  if [ "$mode" = latency ]; then load=(-n $((LAT_N / 4)) -c 1); fi
  run mitmproxy "$MP_PID" "$work/mitmproxy-$mode.json" "$URL" "${load[@]}" -x "http://127.0.0.1:$MP_PORT" \
    --cacert "$work/mitmproxy/mitmproxy-ca-cert.pem"
done

python3 - "$work" "$CONC" "$DURATION" "$(getconf CLK_TCK)" <<'PY'
import json, sys
work, conc, duration, hz = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
names = ["direct", "smime-proxy", "pass-through", "mitmproxy"]
def load(name, mode):
    with open(f"{work}/{name}-{mode}.json") as f:
        return json.load(f)
res = {(n, m): load(n, m) for n in names for m in ("throughput", "latency")}
def ok(r):
    codes = r.get("statusCodeDistribution", {})
    # Requests still in flight when a timed run ends are "aborted due to deadline": not errors.
    errors = {k: v for k, v in r.get("errorDistribution", {}).items() if "deadline" not in k}
    return codes.get("200", 0), sum(v for k, v in codes.items() if k != "200") + sum(errors.values())
print()
print(f"Throughput: {conc} keep-alive connections, {duration} s")
print(f"{'':12} {'req/s':>10} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'ok':>8} {'errors':>7}")
for n in names:
    r = res[(n, "throughput")]; p = r["latencyPercentiles"]; good, bad = ok(r)
    print(f"{n:12} {r['summary']['requestsPerSec']:10.1f} {p['p50']*1e3:8.2f} {p['p90']*1e3:8.2f} {p['p99']*1e3:8.2f} {good:8} {bad:7}")
print()
print("Latency: 1 keep-alive connection, sequential requests")
print(f"{'':12} {'req/s':>10} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'ok':>8} {'errors':>7}")
for n in names:
    r = res[(n, "latency")]; p = r["latencyPercentiles"]; good, bad = ok(r)
    print(f"{n:12} {r['summary']['requestsPerSec']:10.1f} {p['p50']*1e3:8.2f} {p['p90']*1e3:8.2f} {p['p99']*1e3:8.2f} {good:8} {bad:7}")
def cpu_ms_per_request(n):
    with open(f"{work}/{n}-throughput.json.cpu") as f:
        ticks = int(f.read())
    good, _ = ok(res[(n, "throughput")])
    return ticks * 1000 / hz / max(good, 1)
print()
print("Proxy process CPU time per request (throughput run):")
for n in ("smime-proxy", "pass-through", "mitmproxy"):
    print(f"  {n:12} {cpu_ms_per_request(n):.3f} ms")
rps = {n: res[(n, "throughput")]["summary"]["requestsPerSec"] for n in names}
p50 = {n: res[(n, "latency")]["latencyPercentiles"]["p50"] * 1e3 for n in names}
print()
print(f"smime-proxy / direct throughput:    {rps['smime-proxy'] / rps['direct']:.2f}x")
print(f"smime-proxy / mitmproxy throughput: {rps['smime-proxy'] / rps['mitmproxy']:.1f}x   (target >= 20x)")
print(f"mitmproxy / smime-proxy CPU per request: {cpu_ms_per_request('mitmproxy') / cpu_ms_per_request('smime-proxy'):.1f}x")
print(f"added median latency, smime-proxy:  {p50['smime-proxy'] - p50['direct']:.3f} ms   (target < 1 ms)")
print(f"added median latency, mitmproxy:    {p50['mitmproxy'] - p50['direct']:.3f} ms")
rewrite = cpu_ms_per_request("smime-proxy") - cpu_ms_per_request("pass-through")
print(f"compose rewrite CPU / pass-through CPU: {rewrite / cpu_ms_per_request('pass-through'):.2f}x   (target <= 1x)")
print(f"compose rewrite added median latency over pass-through: {p50['smime-proxy'] - p50['pass-through']:.3f} ms")
PY
