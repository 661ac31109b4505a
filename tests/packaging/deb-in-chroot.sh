#!/usr/bin/env bash
# Installs the smime-proxy .deb into a clean Debian bookworm root (debootstrap, minbase plus
# what the package recommends) and checks, inside it: `smime-proxy --version`, the man page,
# the bash/zsh/fish completions, the systemd user unit (`systemd-analyze verify`), and the
# quick start's `init` + `ca install` against that system's own CA store.
#
#   bash tests/packaging/deb-in-chroot.sh [PACKAGE.deb]   # default: packaging/build-deb.sh's
#
# The debootstrapped root is cached as a tarball in ~/.cache/smime-proxy/deb-root/ (delete
# it to start from scratch); every run unpacks a fresh copy. Needs root (chroot).
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
say() { printf 'deb-in-chroot: %s (%ss)\n' "$1" "$(( $(date +%s) - start ))"; }
fail() { echo "deb-in-chroot: FAILED: $1" >&2; exit 1; }

deb="${1:-$(bash packaging/build-deb.sh)}"
[ -f "$deb" ] || fail "no package at $deb"
say "package $deb"

if ! command -v debootstrap >/dev/null; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap >/dev/null
fi
# The Debian mirror this machine's apt uses (deb822 or one-line sources), else Debian's.
mirror=$(grep -rhoE 'https?://[^ ]*/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
  | grep -v security | head -1 | tr -d ' ' || true)
mirror="${mirror:-http://deb.debian.org/debian}"

# What the package recommends, plus systemd (systemd-analyze) and man-db (`man -w`, which the
# unit's Documentation= needs). The tarball's name changes with the list.
include=ca-certificates,libnss3-tools,systemd,man-db
cache="$HOME/.cache/smime-proxy/deb-root"
tarball="$cache/bookworm-minbase-$(echo "$include" | sha256sum | cut -c1-12).tar.gz"
work=$(mktemp -d /tmp/smime-deb-root.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root"
if [ ! -f "$tarball" ]; then
  say "debootstrap bookworm from $mirror (cold; cached afterwards)"
  mkdir -p "$cache"
  debootstrap --variant=minbase --include="$include" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_Packages
  tar -C "$root" -czf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
  rm -rf "$root"
fi
say "unpack the cached root"
mkdir -p "$root"
tar -C "$root" -xzf "$tarball"

say "dpkg -i in the root"
cp "$deb" "$root/tmp/smime-proxy.deb"
chroot "$root" dpkg -i /tmp/smime-proxy.deb >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }

in_root() { chroot "$root" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
version=$(in_root smime-proxy --version)
[[ "$version" == "smime-proxy "* ]] || fail "smime-proxy --version said: $version"
say "smime-proxy --version: $version"

for page in smime-proxy smime-proxy-ca-install smime-proxy-browser; do
  man_file=$(ls "$root"/usr/share/man/man1/"$page".1* 2>/dev/null | head -1)
  [ -n "$man_file" ] || fail "no man page $page.1"
  if [[ "$man_file" == *.gz ]]; then text=$(gzip -dc "$man_file"); else text=$(cat "$man_file"); fi
  grep -q '^\.TH' <<<"$text" || fail "$man_file is not a man page"
done
say "man pages: $(ls "$root"/usr/share/man/man1 | grep -c smime-proxy) files"

for file in usr/share/bash-completion/completions/smime-proxy usr/share/zsh/vendor-completions/_smime-proxy \
  usr/share/fish/vendor_completions.d/smime-proxy.fish usr/share/doc/smime-proxy/config.toml; do
  [ -s "$root/$file" ] || fail "missing /$file"
done
# bash loads the completion and completes a command and a subcommand's options.
complete_words() {
  in_root bash -c 'source /usr/share/bash-completion/completions/smime-proxy
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    fn=$(complete -p smime-proxy | sed -E "s/.*-F ([^ ]+).*/\1/")
    "$fn" smime-proxy "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; echo "${COMPREPLY[*]}"' _ "$@"
}
words=$(complete_words smime-proxy ca "")
[[ " $words " == *" install "* && " $words " == *" status "* ]] || fail "bash completes 'smime-proxy ca ' as: $words"
words=$(complete_words smime-proxy ca install --)
[[ " $words " == *" --system-root "* ]] || fail "bash completes 'smime-proxy ca install --' as: $words"
say "completions: bash completes 'ca ' with: $(complete_words smime-proxy ca "")"

unit=/usr/lib/systemd/user/smime-proxy.service
[ -s "$root$unit" ] || fail "no systemd user unit"
in_root man -w smime-proxy >/dev/null || fail "man does not find smime-proxy(1)"
# As the user manager would load it (its ExecStart and its man page are looked up too).
mkdir -p "$root/run/user/0" && chmod 700 "$root/run/user/0"
in_root env XDG_RUNTIME_DIR=/run/user/0 systemd-analyze --user verify "$unit" >"$work/verify.log" 2>&1 \
  || { cat "$work/verify.log"; fail "systemd-analyze --user verify $unit"; }
say "systemd-analyze --user verify: the user unit is valid; man -w finds the man page"

# The quick start's first steps on this clean system: init, then trust the CA system-wide.
# No terminal here: the store passphrase (it seals the CA) comes from a file.
printf 'chroot store passphrase\n' >"$root/root/store-passphrase" && chmod 600 "$root/root/store-passphrase"
in_root smime-proxy --config-dir /root/.config/smime-proxy init --store-passphrase-file /root/store-passphrase 2>/dev/null \
  || fail "init"
report=$(in_root smime-proxy --config-dir /root/.config/smime-proxy ca install)
echo "$report" | sed 's/^/  /'
grep -q '^system store /etc/ssl/certs/ca-certificates.crt: trusted now (added)$' <<<"$report" || fail "ca install"
grep -qF "$(sed -n 2p "$root/root/.config/smime-proxy/ca.pem")" "$root/etc/ssl/certs/ca-certificates.crt" \
  || fail "the system bundle does not hold the CA"
report=$(in_root smime-proxy --config-dir /root/.config/smime-proxy ca install)
grep -q '^system store .*: already trusted, unchanged$' <<<"$report" || fail "ca install is not idempotent: $report"
say "ca install trusts the CA in the root's system store, once"
say "done"
