#!/usr/bin/env bash
# The README's quick start, step by step, as a user runs it: `cargo install` from this
# repository, `smime-proxy ca install`, `smime-proxy run --site ...`, then the one page in a
# real Chromium that was given nothing but the PAC URL (its certificates come from the
# `ca install` of step 2): the setup page says "Ready", and the proxy's own page offers the
# key import. Everything happens under a temporary HOME; the system store is that of an
# empty tree (tests/packaging/deb-in-chroot.sh runs `ca install` on a real Debian root).
#
#   bash tests/packaging/quick-start.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
say() { printf 'quick-start: %s (%ss)\n' "$1" "$(( $(date +%s) - start ))"; }
fail() { echo "quick-start: FAILED: $1" >&2; exit 1; }
work=$(mktemp -d /tmp/smime-quick-start.XXXXXX)
proxy_pid=
trap '[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/home" "$work/system"

# 1. cargo install (debug, into a throw-away root: the same manifest and lock file as a
# release install, without a second full build in CI).
cargo install --locked --debug --quiet --path proxy --root "$work/cargo" 2>"$work/install.log" \
  || { cat "$work/install.log"; fail "cargo install"; }
export PATH="$work/cargo/bin:$PATH"
say "1. cargo install --locked --path proxy: $(smime-proxy --version)"
# From here on, the user's home is a temporary one (cargo needed the real one for rustup).
export HOME="$work/home"

# The store passphrase the user types at the prompts of steps 2 and 3 (no terminal here).
printf 'quick start store passphrase\n' >"$work/store-passphrase"

# 2. ca install: creates the CA (sealed under the store passphrase), trusts it in Chromium's
# database of this HOME.
report=$(smime-proxy ca install --system-root "$work/system" --store-passphrase-file "$work/store-passphrase")
echo "$report" | sed 's/^/   /'
grep -q "^Chromium NSS database $HOME/.pki/nssdb: trusted now (added)$" <<<"$report" || fail "ca install"
say "2. smime-proxy ca install"

# 3. run, with a webmail site (any free loopback port stands for 8080).
listen="127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
smime-proxy run --site mail.example.org=roundcube --listen "$listen" --store-passphrase-file "$work/store-passphrase" \
  2>"$work/run.log" &
proxy_pid=$!
for _ in $(seq 100); do grep -q "smime-proxy listening on" "$work/run.log" && break; sleep 0.1; done
grep -q "smime-proxy listening on $listen" "$work/run.log" || { cat "$work/run.log"; fail "run"; }
say "3. smime-proxy run --site mail.example.org=roundcube"

# The page, in Chromium set up with the PAC URL only.
page() {
  chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --user-data-dir="$work/chromium" --proxy-pac-url="http://$listen/proxy.pac" \
    --virtual-time-budget=5000 --dump-dom "$1" 2>/dev/null
}
setup=$(page "http://$listen/")
grep -q '<div id="ready">' <<<"$setup" || fail "the setup page does not say ready: $(grep -o '<div id="[a-z-]*"[^>]*>' <<<"$setup")"
own=$(page "https://smime-proxy.invalid/")
grep -q 'action="/api/keys/import"' <<<"$own" || fail "the proxy's own page over HTTPS has no key import"
grep -q "<code>mail.example.org" <<<"$own" || fail "the own page does not list the site"
say "the page: http://$listen/ says Ready; https://smime-proxy.invalid/ offers the key import"
