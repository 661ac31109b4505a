# shellcheck shell=bash
# Shared by the stacks' scripts (tests/e2e/stack.sh, horde/, sogo/, pki/), sourced after
# each defines `log` and `die` and the PACKAGES array:
#   stack_install APT_LOG [APT_ARG...]  install what of PACKAGES is missing, with no daemon
#                                       started by the maintainer scripts
#   stack_timed LOG_DIR NAME CMD...     run CMD, log its wall time and append it to
#                                       LOG_DIR/timings.log

stack_install() {
  local aptlog=$1 missing=() p
  shift
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then log "install: all packages present"; return; fi
  log "install: ${missing[*]}"
  # Maintainer scripts must not start daemons on every address: a policy-rc.d that denies
  # everything. Created only if missing, and removed again afterwards.
  local made_policy=
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Others may use apt at the same time: wait for the lock instead of failing.
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
  mkdir -p "$(dirname "$aptlog")"
  if ! "${apt[@]}" install -s -qq --no-install-recommends "${missing[@]}" "$@" >/dev/null 2>&1; then
    "${apt[@]}" update -qq
  fi
  # Stale package lists pass the simulation and then 404: update once and retry.
  if ! "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" "$@" >"$aptlog" 2>&1; then
    log "install: apt-get failed; apt-get update and retry"
    "${apt[@]}" update -qq
    "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" "$@" >"$aptlog" 2>&1 \
      || { tail -30 "$aptlog" >&2; die "apt-get install failed (log: $aptlog)"; }
  fi
  if [[ -n $made_policy ]]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
  log "install: $(grep -c '^Setting up' "$aptlog" || true) packages set up"
}

stack_timed() {
  local dir=$1 name=$2 t0=$EPOCHREALTIME dt
  shift 2
  "$@"
  dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  log "$name: ${dt}s"
  mkdir -p "$dir"
  printf '%s %s %ss\n' "$(date -u +%FT%TZ)" "$name" "$dt" >> "$dir/timings.log"
}

# stack_status LOG_DIR FIELD: one line per SERVICES entry ("name|what|logs", the logs
# comma-separated and relative to LOG_DIR, or absolute when LOG_DIR is empty), asking
# `check` with the entry's FIELD (name or what); returns 1 if any is down.
stack_status() {
  local dir=$1 field=$2 rc=0 svc name what logs
  for svc in "${SERVICES[@]}"; do
    IFS='|' read -r name what logs <<<"$svc"
    [[ -n $dir ]] && logs="$dir/${logs//, /, $dir/}"
    if check "${!field}"; then printf '  up    %-8s (%s)\n' "$name" "$what"
    else printf '  DOWN  %-8s (%s); see %s\n' "$name" "$what" "$logs"; rc=1; fi
  done
  return $rc
}
