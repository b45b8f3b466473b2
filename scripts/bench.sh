#!/usr/bin/env bash
# `make bench`: runs every benchmark (bench/*/run.sh), each against its anchor in the same run, and prints one
# markdown table (also written to BUILD/bench-results.md). Benchmarks are never timed tests: the machines
# are shared and noisy, so every row reports medians of alternated runs and a ratio, not a threshold.
set -uo pipefail
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out="$BUILD/bench-results.md"
{
  echo "# mhr benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null))"
  echo
  echo "| benchmark | mhr | anchor | ratio | target |"
  echo "|---|---|---|---|---|"
} > "$out"
for script in bench/*/run.sh; do
  echo "bench: $script" >&2
  if ! bash "$script" "$BUILD" >> "$out" 2> "$BUILD/$(basename "$(dirname "$script")")-bench.log"; then
    echo "| $(dirname "$script") | failed: see $BUILD/$(basename "$(dirname "$script")")-bench.log | | | |" >> "$out"
  fi
done
cat "$out"
