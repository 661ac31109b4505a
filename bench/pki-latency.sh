#!/usr/bin/env bash
# Latency of the online PKI checks (directory lookup, chain completion, OCSP and CRL),
# cold and cached, against the same command doing no online work, in one run. Each figure
# is the median wall time of a whole `smime-proxy` command (process start, config,
# TLS roots), so the ratio to the baseline is what a user waits for at the prompt; the
# proxy's own log gives the in-process times (`directory searched ms=`, `revocation
# checked ms=`).
#
#   bench/pki-latency.sh [--smoke]      (env: RUNS=9; SMIME_PROXY_BIN, default the debug build)
#
# Needs the directory and revocation stack: `bash tests/e2e/pki/stack.sh all` (root,
# Debian). --smoke: one run of each, numbers printed, nothing judged (CI runs this so the
# bench cannot rot). Everything stays on 127.0.0.1; the scratch config dir is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-9}
[[ ${1:-} == --smoke ]] && RUNS=1
BIN=${SMIME_PROXY_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/smime-proxy/target}/debug/smime-proxy}
[[ -x $BIN ]] || { echo "no smime-proxy binary at $BIN (cargo build -p smime-proxy)" >&2; exit 1; }
eval "$(bash tests/e2e/pki/stack.sh env | sed 's/^/export /')"
bash tests/e2e/pki/stack.sh status >/dev/null || { echo "the pki stack is not up: bash tests/e2e/pki/stack.sh all" >&2; exit 1; }

home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cat > "$home/config.toml" <<TOML
upstream_ca = ["$E2E_PKI_ROOT"]
[[directories]]
url = "$E2E_LDAPS_URL"
base = "$E2E_LDAP_BASE"
bind_dn = "$E2E_LDAP_BIND_DN"
password_file = "$E2E_LDAP_PASSWORD_FILE"
TOML
sp() { RUST_BACKTRACE=0 "$BIN" --config-dir "$home" "$@"; }
sp certs trust add "$E2E_PKI_ROOT" 2>/dev/null
sp certs fetch carol@example.test >/dev/null

# median_ms PREPARE COMMAND...: the median wall time of RUNS runs, PREPARE run before each.
median_ms() {
  local prepare=$1 i start times=()
  shift
  for ((i = 0; i < RUNS; i++)); do
    eval "$prepare"
    start=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    times+=("$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# shellcheck disable=SC2016 # expanded by eval in median_ms
cold='rm -rf "$home/cache"'
base=$(median_ms : sp certs trust list)
printf '%-58s %8s %8s\n' "command (median of $RUNS)" "ms" "x base"
row() { printf '%-58s %8s %8s\n' "$1" "$2" "$(awk -v a="$2" -v b="$base" 'BEGIN { printf "%.1f", a / b }')"; }
row "baseline: certs trust list (no online work)" "$base"
row "certs lookup carol: issuer (AIA) + OCSP, cache cold" "$(median_ms "$cold" sp certs lookup carol@example.test)"
row "certs lookup carol: cached" "$(median_ms : sp certs lookup carol@example.test)"
row "certs fetch carol: ldaps bind + search, OCSP cached" "$(median_ms : sp certs fetch carol@example.test)"
row "certs lookup erin: ldaps + AIA + CRL, cache cold" "$(median_ms "$cold" sp certs lookup erin@example.test)"
row "certs lookup erin: ldaps, CRL cached" "$(median_ms : sp certs lookup erin@example.test)"
