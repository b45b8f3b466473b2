#!/usr/bin/env bash
# `make fuzz`: builds the front end with clang + libFuzzer + AddressSanitizer + UndefinedBehaviorSanitizer in
# build-fuzz/ and fuzzes it for N seconds (default 60; the acceptance run is 600), seeded with every .mhr in
# tests/golden, experiments and docs, plus the hostile shapes in fuzz/seeds/. New interesting inputs go to
# fuzz-corpus/ (kept between runs, not committed); crashes to build-fuzz/crashes/. Prints corpus size and
# executions at the end.
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=$root/build-fuzz
corpus=$root/fuzz-corpus
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link -g -O1"
if [[ ! -f $build/build.ninja ]]; then
  CC=clang CXX=clang++ cmake -S . -B $build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMHR_FUZZ=ON -DMHR_WITH_TORCH=OFF -DMHR_WITH_IMAGE_IO=OFF -DMHR_BUILD_TESTS=OFF -DMHR_BUILD_BENCH=OFF \
    -DMHR_WERROR=OFF -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" >/dev/null
fi
cmake --build $build --target fuzz_frontend -j "$(nproc)"
mkdir -p "$corpus" $build/seeds $build/crashes
find tests/golden experiments docs -name '*.mhr' -exec cp {} $build/seeds/ \; 2>/dev/null || true
# Hostile shapes (deep nesting, long tokens) that once crashed or stalled the front end.
cp fuzz/seeds/*.mhr $build/seeds/
log=$build/fuzz.log
set +e
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  $build/fuzz/fuzz_frontend "$corpus" $build/seeds -max_total_time="$seconds" -timeout=1 -rss_limit_mb=2048 \
  -max_len=8192 -dict=$root/fuzz/mhr.dict -artifact_prefix=$build/crashes/ -print_final_stats=1 2>&1 | tee "$log" | \
  grep -E "^#[0-9]+ +(pulse|DONE)|ERROR|crash|timeout|stat::" || true
status=${PIPESTATUS[0]}
set -e
echo "corpus: $(ls "$corpus" | wc -l) inputs; $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') executions in ${seconds}s"
exit "$status"
