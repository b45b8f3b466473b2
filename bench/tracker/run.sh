#!/usr/bin/env bash
# bench/tracker/run.sh BUILD_DIR — the tracker benchmark for `make bench`. Prints markdown table rows
#   | benchmark | mhr | anchor (MLflow's SQLite store, emulated) | anchor / mhr | target |
# (a ratio above 1 means mhr is faster). Details and the raw anchor numbers go to stderr. Takes about two
# minutes on 2 cores, most of it the anchor's per-point commits (capped by --anchor-seconds, then extrapolated).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build}"
bench="$build/bench/tracker/tracker_bench"
if [[ ! -x "$bench" ]]; then
  echo "tracker bench: $bench is missing; build it with: cmake --build $build --target tracker_bench mhr" >&2
  exit 1
fi
if [[ ! -x /usr/bin/python3 ]]; then
  echo "tracker bench: /usr/bin/python3 is missing (the MLflow-store anchor runs on it)" >&2
  exit 1
fi
args=(--anchor "$here/mlflow_anchor.py" --anchor-seconds "${TRACKER_BENCH_ANCHOR_SECONDS:-60}")
if [[ -x "$build/mhr" ]]; then args+=(--mhr "$build/mhr"); fi
exec "$bench" "${args[@]}"
