#!/usr/bin/env bash
# The end-to-end suite in one command (CI calls this from .ci/run): installs what it needs
# (the stacks' Debian packages, Debian's chromium, playwright-core from the lock file),
# brings up the shared mail stack (tests/e2e/stack.sh: Dovecot, Postfix, Roundcube), then
# for each suite its own stack, its browser suite through smime-proxy and its stack
# again down: Roundcube (suite.mjs), Horde (horde/), SOGo (sogo/), the directory and
# revocation suite (pki/: LDAP, OCSP, CRL services, driven through Roundcube), and Roundcube
# in Firefox (firefox/: Debian's firefox-esr over WebDriver BiDi). Each suite NAME other than
# roundcube is NAME/stack.sh + NAME/suite.mjs. Before them, without any stack, the stackless
# suites NAME.mjs: ca-constraints (the interception CA's name constraints in Chromium with an
# NSS trust store) and hostile (another origin's page in the same Chromium attacks the proxy's
# own origin). Prints how long each stack's install, start and suite took, and stops
# everything again (trap), also on failure.
#
#   tests/e2e/run.sh
#
# SMIME_PROXY_BIN   use this binary (else $CARGO_TARGET_DIR/debug/smime-proxy, built here
#                   with `cargo build -p smime-proxy` when missing or when E2E_BUILD=1)
# SMIME_KEYSERVER_BIN  the same for smime-keyserver (roam.mjs)
# E2E_WEBMAILS      which suites, in order (default "ca-constraints hostile roundcube horde sogo
#                   pki firefox"; the name is historical: ca-constraints and hostile need no
#                   stack and run first, pki and firefox run through Roundcube)
# E2E_KEEP_STACK=1  leave the stacks running afterwards
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/smime-proxy/target}"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
t_start=$(now)
say() { printf 'e2e: %s\n' "$*"; }

SUITES=${E2E_WEBMAILS:-ca-constraints hostile roundcube horde sogo pki firefox}
STACKLESS_ALL="ca-constraints hostile"
STACKLESS=$(printf '%s\n' $SUITES | grep -xF "${STACKLESS_ALL// /$'\n'}" | xargs || true)
WEBMAILS=$(printf '%s\n' $SUITES | grep -vxF "${STACKLESS_ALL// /$'\n'}" | xargs || true)
stack_of() { [[ $1 == roundcube ]] && echo "$HERE/stack.sh" || echo "$HERE/$1/stack.sh"; }
suite_of() { [[ $1 == roundcube ]] && echo suite.mjs || echo "$1/suite.mjs"; }

stopped=
stop_stacks() {
  [[ -n $stopped ]] && return
  stopped=1
  [[ -n $WEBMAILS ]] || return 0
  if [[ ${E2E_KEEP_STACK:-} == 1 ]]; then say "leaving the stacks running (E2E_KEEP_STACK=1)"; return; fi
  for w in $WEBMAILS; do [[ $w == roundcube ]] || bash "$(stack_of "$w")" stop || true; done
  bash "$HERE/stack.sh" stop || true
}
trap stop_stacks EXIT

timings=()

# ---- install ------------------------------------------------------------------------------
if [[ -n $WEBMAILS ]]; then
  t0=$(now)
  bash "$HERE/stack.sh" install
  timings+=("install mail stack + roundcube $(secs "$t0" "$(now)")s")
fi
for w in $WEBMAILS; do
  [[ $w == roundcube ]] && continue
  t0=$(now)
  bash "$(stack_of "$w")" install
  timings+=("install $w $(secs "$t0" "$(now)")s")
done
t0=$(now)
if ! command -v /usr/bin/chromium >/dev/null; then
  say "installing chromium (Debian)"
  [[ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 \
    -o DPkg::Lock::Timeout=600 chromium fonts-liberation >/dev/null
fi
command -v node >/dev/null || {
  say "installing nodejs + npm (Debian)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
}
if ! command -v certutil >/dev/null; then
  say "installing certutil (Debian libnss3-tools, for the NSS trust stores of ca-constraints.mjs and firefox/)"
  [[ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 \
    -o DPkg::Lock::Timeout=600 libnss3-tools >/dev/null
fi
(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
timings+=("install chromium + playwright $(secs "$t0" "$(now)")s")

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
# The key server of the Roundcube suite's roaming steps (roam.mjs), built the same way.
if [[ -z ${SMIME_KEYSERVER_BIN:-} ]]; then
  SMIME_KEYSERVER_BIN=$(dirname "$SMIME_PROXY_BIN")/smime-keyserver
  if [[ ! -x $SMIME_KEYSERVER_BIN || ${E2E_BUILD:-} == 1 ]]; then
    say "building smime-keyserver (debug)"
    (cd "$REPO" && cargo build -p smime-keyserver --locked)
  fi
fi
export SMIME_KEYSERVER_BIN
timings+=("proxy binary $(secs "$t0" "$(now)")s")

rc=0
failed=()

# ---- the stackless suites (their own upstreams, or none) -----------------------------------
for s in $STACKLESS; do
  t0=$(now)
  say "suite: $s"
  (cd "$HERE" && node --test-reporter=spec "$s.mjs") || { rc=1; failed+=("$s"); }
  timings+=("$s suite $(secs "$t0" "$(now)")s")
done

# ---- the shared mail stack ----------------------------------------------------------------
if [[ -n $WEBMAILS ]]; then
  t0=$(now)
  bash "$HERE/stack.sh" configure
  bash "$HERE/stack.sh" start
  timings+=("mail stack + roundcube configure+start $(secs "$t0" "$(now)")s")
fi

# ---- each suite: stack up, suite, stack down -----------------------------------------------
for w in $WEBMAILS; do
  if [[ $w != roundcube ]]; then
    t0=$(now)
    bash "$(stack_of "$w")" configure
    bash "$(stack_of "$w")" start
    timings+=("$w configure+start $(secs "$t0" "$(now)")s")
  fi
  t0=$(now)
  say "suite: $w"
  (cd "$HERE" && node --test-reporter=spec "$(suite_of "$w")") || { rc=1; failed+=("$w"); }
  timings+=("$w suite $(secs "$t0" "$(now)")s")
  if [[ $w != roundcube && ${E2E_KEEP_STACK:-} != 1 ]]; then bash "$(stack_of "$w")" stop || true; fi
done

stop_stacks
say "timings:"
for t in "${timings[@]}"; do say "  $t"; done
say "  total $(secs "$t_start" "$(now)")s"
[[ $rc == 0 ]] || say "failed suites: ${failed[*]}"
exit $rc
