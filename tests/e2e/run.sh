#!/usr/bin/env bash
# The end-to-end suite in one command (CI calls this from .ci/run): installs what it needs
# (the stack's Debian packages, Debian's chromium, playwright-core from the lock file),
# brings up the webmail stack (tests/e2e/stack.sh all), locates or builds smime-proxy, runs
# tests/e2e/suite.mjs through it, prints how long install / start / suite took, and stops
# the stack again (trap), also on failure.
#
#   tests/e2e/run.sh
#
# SMIME_PROXY_BIN   use this binary (else $CARGO_TARGET_DIR/debug/smime-proxy, built here
#                   with `cargo build -p smime-proxy` when missing or when E2E_BUILD=1)
# E2E_KEEP_STACK=1  leave the stack running afterwards
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/smime-proxy/target}"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
t_start=$(now)
say() { printf 'e2e: %s\n' "$*"; }

stopped=
stop_stack() {
  [[ -n $stopped ]] && return
  stopped=1
  if [[ ${E2E_KEEP_STACK:-} == 1 ]]; then say "leaving the stack running (E2E_KEEP_STACK=1)"; return; fi
  bash "$HERE/stack.sh" stop || true
}
trap stop_stack EXIT

# ---- install ------------------------------------------------------------------------------
t0=$(now)
bash "$HERE/stack.sh" install
if ! command -v /usr/bin/chromium >/dev/null; then
  say "installing chromium (Debian)"
  [[ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 \
    chromium fonts-liberation >/dev/null
fi
command -v node >/dev/null || {
  say "installing nodejs + npm (Debian)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
}
(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
t_install=$(secs "$t0" "$(now)")

# ---- the proxy binary -------------------------------------------------------------------
t0=$(now)
if [[ -z ${SMIME_PROXY_BIN:-} ]]; then
  SMIME_PROXY_BIN=$CARGO_TARGET_DIR/debug/smime-proxy
  if [[ ! -x $SMIME_PROXY_BIN || ${E2E_BUILD:-} == 1 ]]; then
    say "building smime-proxy (debug)"
    (cd "$REPO" && cargo build -p smime-proxy --locked)
  fi
fi
[[ -x $SMIME_PROXY_BIN ]] || { say "error: no smime-proxy binary at $SMIME_PROXY_BIN"; exit 1; }
export SMIME_PROXY_BIN
t_build=$(secs "$t0" "$(now)")

# ---- start --------------------------------------------------------------------------------
t0=$(now)
bash "$HERE/stack.sh" configure
bash "$HERE/stack.sh" start
t_stack=$(secs "$t0" "$(now)")

# ---- suite --------------------------------------------------------------------------------
t0=$(now)
rc=0
(cd "$HERE" && node --test-reporter=spec suite.mjs) || rc=$?
t_suite=$(secs "$t0" "$(now)")

stop_stack
say "timings: install ${t_install}s, proxy binary ${t_build}s, stack configure+start ${t_stack}s, suite ${t_suite}s, total $(secs "$t_start" "$(now)")s"
exit $rc
