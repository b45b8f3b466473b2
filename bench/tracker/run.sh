#!/usr/bin/env bash
# bench/tracker/run.sh BUILD_DIR — the tracker benchmark for `make bench`. Prints markdown table rows
#   | benchmark | mhr | anchor | anchor / mhr | target |
# (a ratio above 1 means mhr is faster). The anchor is the real MLflow (its client and SQLAlchemy store on a
# sqlite:/// file) from the project's venv (`scripts/venv.sh --bench`, made by `make bench`); without it, the
# emulation of MLflow's SQLite schema (mlflow_anchor.py), labelled as such. Details go to stderr. About two
# minutes on 2 cores, most of it the anchor's per-point commits (capped by --anchor-seconds, then
# extrapolated). BENCH_QUICK=1: tiny sizes, to check that the script still runs and prints its rows.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-build}"
bench="$build/bench/tracker/tracker_bench"
venv="${MHR_VENV:-$root/.venv}"
if [[ ! -x "$bench" ]]; then
  echo "tracker bench: $bench is missing; build it with: cmake --build $build --target tracker_bench mhr" >&2
  exit 1
fi
if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import mlflow' 2>/dev/null; then
  version=$("$venv/bin/python" -c 'import mlflow; print(mlflow.__version__)')
  args=(--anchor "$here/mlflow_real.py" --python "$venv/bin/python" --anchor-name "MLflow $version")
else
  echo "tracker bench: no mlflow in $venv (scripts/venv.sh --bench); using the schema emulation" >&2
  args=(--anchor "$here/mlflow_anchor.py" --python /usr/bin/python3
    --anchor-name "MLflow's SQLite schema emulated with sqlite3 (mlflow not installed)")
fi
args+=(--anchor-seconds "${TRACKER_BENCH_ANCHOR_SECONDS:-60}")
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then args+=(--points 2000 --runs 200 --per-run 20 --anchor-seconds 1); fi
if [[ -x "$build/mhr" ]]; then args+=(--mhr "$build/mhr"); fi
exec "$bench" "${args[@]}"
