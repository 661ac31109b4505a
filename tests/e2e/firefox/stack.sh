#!/usr/bin/env bash
# The Firefox suite's "stack": Debian's firefox-esr and certutil (libnss3-tools). It runs
# against the shared mail stack (tests/e2e/stack.sh: Roundcube, Dovecot, Postfix), so it
# starts no service of its own.
#
#   tests/e2e/firefox/stack.sh install|configure|start|stop|restart|status|env|all
#
#   install    Debian packages (firefox-esr, libnss3-tools)
#   configure, start, stop, restart   nothing to do (the mail stack is run.sh's)
#   status     firefox-esr and certutil present, and the mail stack up; exit 1 otherwise
#   env        nothing (the suite reads the mail stack's env)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf 'firefox: %s\n' "$*" >&2; }
die() { printf 'firefox: error: %s\n' "$*" >&2; exit 1; }
# shellcheck disable=SC2034 # read by stack_install (stack-lib.sh)
PACKAGES=(firefox-esr libnss3-tools)
# shellcheck source=../stack-lib.sh
source "$HERE/../stack-lib.sh"

cmd_status() {
  local rc=0
  if command -v firefox-esr >/dev/null; then printf '  up    %-8s (%s)\n' firefox "$(firefox-esr --version 2>/dev/null)"
  else printf '  DOWN  %-8s (not installed: tests/e2e/firefox/stack.sh install)\n' firefox; rc=1; fi
  if command -v certutil >/dev/null; then printf '  up    %-8s (libnss3-tools)\n' certutil
  else printf '  DOWN  %-8s (not installed: tests/e2e/firefox/stack.sh install)\n' certutil; rc=1; fi
  bash "$HERE/../stack.sh" status || rc=1
  return $rc
}

case ${1:-} in
  install) stack_install "${TMPDIR:-/tmp}/smime-proxy-e2e-firefox-apt.log" ;;
  configure | start | stop | restart | env) ;;
  status) cmd_status ;;
  all) stack_install "${TMPDIR:-/tmp}/smime-proxy-e2e-firefox-apt.log" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
