#!/usr/bin/env bash
# The deep fuzz runs (by hand, not CI): each target until it has run a number of executions
# (default 10 million), on a corpus that persists between runs, with one table row per
# target for fuzz/README.md.
#
#   fuzz/deep.sh [TARGET...]          (default: every target, one after the other)
#
# env: FUZZ_RUNS=10000000 executions per target (the corpus is replayed first and counts);
# FUZZ_SANITIZER=none (or address: AddressSanitizer in the Rust code and in the C of aws-lc
# and ring, built with clang and cmake, in a target directory of its own, at half the speed);
# FUZZ_CORPUS_DIR=~/.cache/smime-proxy/fuzz-corpus (each target's corpus, seeded from
# fuzz/corpus/ at the first run); FUZZ_TARGET_DIR as in smoke.sh. Findings go to
# fuzz/artifacts/TARGET/ and end that target's run; the script goes on with the next and
# exits 1 at the end if any target failed. Run it under `nice -n 19` on a shared machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=${FUZZ_RUNS:-10000000}
sanitizer=${FUZZ_SANITIZER:-none}
corpora=${FUZZ_CORPUS_DIR:-$HOME/.cache/smime-proxy/fuzz-corpus}
target_dir=${FUZZ_TARGET_DIR:-$HOME/.cache/smime-proxy/fuzz-target}
export RUSTC_BOOTSTRAP=1 CARGO_TERM_COLOR=never
unset CARGO_TARGET_DIR
if [[ $sanitizer == address ]]; then
  # The C too: aws-lc-sys builds itself with ASan through cmake when asked, ring through cc.
  command -v clang >/dev/null && command -v cmake >/dev/null ||
    { echo "fuzz deep: an AddressSanitizer build needs clang and cmake (apt install clang cmake)" >&2; exit 2; }
  export AWS_LC_SYS_SANITIZER=asan CC=clang CXX=clang++ CFLAGS="-fsanitize=address -fno-omit-frame-pointer"
  target_dir=${FUZZ_TARGET_DIR:-$HOME/.cache/smime-proxy/fuzz-target-asan}
fi

cd "$here"
bash "$here/seed.sh" >/dev/null
cargo fuzz build -O --sanitizer "$sanitizer" --target-dir "$target_dir" >/dev/null
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || mapfile -t targets < <(cargo fuzz list)

echo "| target | executions | seconds | exec/s | corpus units | coverage | result |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
failed=()
for target in "${targets[@]}"; do
  corpus="$corpora/$target"
  mkdir -p "$corpus" "$here/artifacts/$target"
  [[ -d corpus/$target ]] && cp -n "corpus/$target"/* "$corpus/" 2>/dev/null || true
  log=$(mktemp)
  result=ok
  "$target_dir/x86_64-unknown-linux-gnu/release/$target" -runs="$runs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$here/artifacts/$target/" "$corpus" >"$log" 2>&1 || result=FAILED
  done_line=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 || true)
  executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  seconds=$(grep -o 'in [0-9]* second' <<<"$done_line" | grep -o '[0-9]*' || echo "?")
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  printf '| `%s` | %s | %s | %s | %s | %s | %s |\n' "$target" "$executions" "$seconds" "$speed" \
    "$(find "$corpus" -type f | wc -l)" "$coverage" "$result"
  if [[ $result != ok ]]; then
    grep -E 'ERROR|panicked|SUMMARY|Test unit written' "$log" | head -5 >&2
    failed+=("$target")
  fi
  rm -f "$log"
done
[[ ${#failed[@]} == 0 ]] || { echo "fuzz deep: failed: ${failed[*]}" >&2; exit 1; }
