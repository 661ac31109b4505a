#!/usr/bin/env bash
# The fuzz smoke CI runs (.ci/run): builds every target once and runs each for a moment on
# its seed corpus, so that none stops building or crashes on its seeds unnoticed. It finds
# nothing new in that time; the deep runs are by hand (fuzz/README.md).
#
#   fuzz/smoke.sh                 (env: FUZZ_RUNS=2000 per target, FUZZ_SECONDS=5 at most)
#
# Built without a sanitizer (`--sanitizer none`): AddressSanitizer doubles the build and
# halves the speed, and what the smoke must catch (a target that no longer builds, a panic
# on a seed) needs neither. The deep runs keep AddressSanitizer, for the C in aws-lc.
# Needs cargo-fuzz (installed here when missing) and openssl (for the seeds); a stable
# toolchain does with RUSTC_BOOTSTRAP=1. New corpus units go to a temporary directory, not
# into fuzz/corpus.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=${FUZZ_RUNS:-2000}
seconds=${FUZZ_SECONDS:-5}
target_dir=${FUZZ_TARGET_DIR:-$HOME/.cache/smime-proxy/fuzz-target}
export RUSTC_BOOTSTRAP=1 CARGO_TERM_COLOR=never
unset CARGO_TARGET_DIR

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz smoke: installing cargo-fuzz"
  cargo install -q cargo-fuzz --locked
fi
start=$(date +%s)
bash "$here/seed.sh" >/dev/null
cd "$here"
cargo fuzz build -O --sanitizer none --target-dir "$target_dir" >/dev/null
built=$(date +%s)
echo "fuzz smoke: seeded and built in $((built - start))s"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=()
for target in $(cargo fuzz list); do
  mkdir -p "$out/$target"
  log="$out/$target.log"
  seeds=()
  [[ -d corpus/$target ]] && seeds=("corpus/$target")
  if "$target_dir/x86_64-unknown-linux-gnu/release/$target" -runs="$runs" -max_total_time="$seconds" \
    -artifact_prefix="$out/" "$out/$target" "${seeds[@]}" >"$log" 2>&1; then
    execs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' || echo "?")
    printf 'fuzz smoke: %-22s ok (%s runs, %s seeds)\n' "$target" "$execs" "$(ls "corpus/$target" 2>/dev/null | wc -l)"
  else
    printf 'fuzz smoke: %-22s FAILED\n' "$target"
    tail -30 "$log"
    failed+=("$target")
  fi
done
echo "fuzz smoke: all targets in $(($(date +%s) - start))s"
[[ ${#failed[@]} == 0 ]] || { echo "fuzz smoke: failed: ${failed[*]}"; exit 1; }
