#!/usr/bin/env bash
# S/MIME engine throughput against `openssl cms` on the same inputs, in the same run.
#
#   bench/smime-throughput.sh [SIZES...]        (default: 1K 1M 25M)
#   bench/smime-throughput.sh --smoke           1K once, debug build: seconds, nothing judged
#                                               (CI runs it so the bench cannot rot)
#
# For each message size it times, best of N runs (wall clock) and records peak RSS:
#   sign+encrypt:   smime-proxy message sign-encrypt   vs  openssl cms -sign | openssl cms -encrypt
#   decrypt+verify: smime-proxy message decrypt --trust vs openssl cms -decrypt | openssl cms -verify
# and prints the ratio smime-proxy / openssl (below 1.0 = faster than OpenSSL) and peak
# memory as a multiple of the message size. Builds the release binary first. Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/smime-proxy/target}"
smoke=; [[ ${1:-} == --smoke ]] && { smoke=1; shift; }
sizes=("$@"); [ $# -eq 0 ] && sizes=(1K 1M 25M)
if [[ -n $smoke ]]; then
  sizes=(1K)
  cargo build -q --locked -p smime-proxy
  bin="$CARGO_TARGET_DIR/debug/smime-proxy"
else
  cargo build --release -q -p smime-proxy
  bin="$CARGO_TARGET_DIR/release/smime-proxy"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash tests/pki/generate.sh "$work/pki" >/dev/null
pki=$work/pki

bytes() { numfmt --from=iec "$1"; }

make_message() { # size file
  python3 - "$(bytes "$1")" "$2" <<'PY'
import base64, os, sys
n, path = int(sys.argv[1]), sys.argv[2]
head = (b"From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: bench\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
body = base64.encodebytes(os.urandom(n * 3 // 4 + 3)).replace(b"\n", b"\r\n")[:n]
open(path, "wb").write(head + body)
PY
}

# best wall time (s) and peak RSS (KiB) over $runs runs of a shell command
measure() {
  python3 - "$runs" "$1" <<'PY'
import resource, subprocess, sys, time
runs, command = int(sys.argv[1]), sys.argv[2]
best = float("inf")
for _ in range(runs):
    start = time.perf_counter()
    done = subprocess.run(["bash", "-c", command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    best = min(best, time.perf_counter() - start)
    if done.returncode != 0:
        sys.exit(f"failed: {command}\n{done.stderr.decode(errors='replace')}")
print(f"{best:.4f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
}

printf '%-6s %-15s %10s %10s %7s %12s %12s\n' size operation smime-proxy openssl ratio "peak(x msg)" "openssl(x)"
for size in "${sizes[@]}"; do
  msg=$work/msg-$size.eml
  make_message "$size" "$msg"
  n=$(stat -c %s "$msg")
  runs=5; [ "$n" -gt 5000000 ] && runs=3; [[ -n $smoke ]] && runs=1
  ours_enc="$bin message sign-encrypt --in $msg --out $work/ours.p7m --key $pki/alice.key --signer $pki/alice.pem --recipient $pki/bob.pem"
  ossl_enc="openssl cms -sign -in $msg -signer $pki/alice.pem -inkey $pki/alice.key | openssl cms -encrypt -aes256 -out $work/ossl.p7m $pki/bob.pem"
  ours_dec="$bin message decrypt --in $work/ours.p7m --out $work/ours.out --key $pki/bob.key --cert $pki/bob.pem --trust $pki/ca.pem"
  ossl_dec="openssl cms -decrypt -in $work/ossl.p7m -recip $pki/bob.pem -inkey $pki/bob.key | openssl cms -verify -CAfile $pki/ca.pem -out $work/ossl.out"
  for op in enc dec; do
    ours_cmd=ours_$op; ossl_cmd=ossl_$op
    read -r t1 m1 < <(measure "${!ours_cmd}")
    read -r t2 m2 < <(measure "${!ossl_cmd}")
    label=$([ $op = enc ] && echo sign+encrypt || echo decrypt+verify)
    python3 - "$size" "$label" "$t1" "$t2" "$m1" "$m2" "$n" <<'PY'
import sys
size, label, t1, t2, m1, m2, n = sys.argv[1:]
t1, t2, m1, m2, n = float(t1), float(t2), int(m1), int(m2), int(n)
print(f"{size:<6} {label:<15} {t1:9.4f}s {t2:9.4f}s {t1/t2:7.2f} {m1*1024/n:11.1f}x {m2*1024/n:11.1f}x")
PY
  done
  grep -q 'Subject: bench' "$work/ours.out" || { echo "round trip failed" >&2; exit 1; }
done
echo "(ratio = smime-proxy wall time / openssl wall time, best of $runs runs; peak = max RSS / message size)"
