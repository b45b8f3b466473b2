#!/usr/bin/env bash
# bench/runtime/run.sh BUILD_DIR — one CPU training step of ResNet-18 at 256x256, batch 8 (forward,
# cross-entropy, backward, SGD with momentum): mhr's runtime (the network built from its IR by LibTorch in C++)
# against PyTorch eager with torchvision's resnet18, same threads (MHR_BENCH_THREADS, default: all cores).
# Rows, each side by side in one run:
#   - mhr (BUILD_DIR's LibTorch) vs the reference Python of that build (MHR_PYTHON in its CMake cache: Debian's
#     torch 1.13 for build/, the venv's torch 2.15 for build-pip/): like for like;
#   - mhr (BUILD_DIR) vs PyTorch 2.15 eager from the project's venv, when that is another Python;
#   - mhr's LibTorch 2.15 build (build-pip/, when built) vs PyTorch 2.15 eager, when BUILD_DIR is not it;
#   - mhr vs PyTorch 2.15 torch.compile (compilation in the warm-up, not timed; said when it fails).
# Each row also gives CPU time per step and the peak resident memory of both processes. Prints markdown rows
#   | benchmark | mhr | anchor | ratio (mhr / anchor, above 1 = mhr faster) | target |
# Runs alternate (mhr, Python, mhr, Python, ...) and each side's median is reported, so load from other
# processes hits both sides alike. BENCH_QUICK=1: 64x64, batch 2, 1 round, 1 step (checks the script runs).
set -euo pipefail
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${MHR_VENV:-$ROOT/.venv}
THREADS=${MHR_BENCH_THREADS:-$(nproc)}
ROUNDS=${MHR_BENCH_ROUNDS:-3}
STEPS=${MHR_BENCH_STEPS:-5}
RES=256 BATCH=8
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then ROUNDS=1 STEPS=1 RES=64 BATCH=2; fi
args=(--res "$RES" --batch "$BATCH" --device cpu --threads "$THREADS" --steps "$STEPS" --warmup 2)
# What each side is told to build: a stdlib network by name, or (the second set of rows) the quickstart's
# morphed `hr`, which the mhr side compiles from the spec and the Python side runs as the model.py that mhr
# generates from the same IR (`mhr export`'s generator).
margs=(--arch resnet18) pargs=(--arch resnet18) NET="ResNet-18"
field() { awk -v k="$1" '$1 == k {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
refpy() { sed -n 's/^MHR_PYTHON:[A-Z]*=//p' "$1/CMakeCache.txt" 2>/dev/null || true; }
mib() { awk -v b="$1" 'BEGIN {printf "%.0f MiB", b / 1048576}'; }

# pair BIN PYTHON [extra python args...]: alternated rounds, then three rows (throughput, CPU time, memory).
pair() {
  local bin=$1 py=$2
  shift 2
  local m=() p=() mc=() pc=() mr=() pr=() out lt tv tvv extra=""
  for ((r = 0; r < ROUNDS; r++)); do
    out=$(OMP_NUM_THREADS=$THREADS "$bin" "${args[@]}" "${margs[@]}")
    echo "$out" | sed 's/^/mhr: /' >&2
    m+=("$(field images_per_second <<<"$out")") mc+=("$(field cpu_seconds_per_step <<<"$out")")
    mr+=("$(field peak_rss_bytes <<<"$out")")
    lt=$(field libtorch <<<"$out")
    if ! out=$(OMP_NUM_THREADS=$THREADS "$py" "$HERE/train_step.py" "${args[@]}" "${pargs[@]}" "$@" 2>"$BUILD/train-step-anchor.err"); then
      echo "| runtime: $NET training step vs PyTorch $("$py" -c 'import torch; print(torch.__version__)' 2>/dev/null) ${*:-eager} | (not measured) | the anchor failed: $(tail -1 "$BUILD/train-step-anchor.err" | cut -c1-200) | — | — |"
      return 0
    fi
    echo "$out" | sed 's/^/python: /' >&2
    p+=("$(field images_per_second <<<"$out")") pc+=("$(field cpu_seconds_per_step <<<"$out")")
    pr+=("$(field peak_rss_bytes <<<"$out")")
    tv=$(field torch <<<"$out") tvv=$(field torchvision <<<"$out")
    [[ -n "$(field compile_seconds <<<"$out")" ]] && extra=", compiled in $(field compile_seconds <<<"$out") s (not timed)"
  done
  local M P MC PC MR PR
  M=$(printf '%s\n' "${m[@]}" | median) P=$(printf '%s\n' "${p[@]}" | median)
  MC=$(printf '%s\n' "${mc[@]}" | median) PC=$(printf '%s\n' "${pc[@]}" | median)
  MR=$(printf '%s\n' "${mr[@]}" | median) PR=$(printf '%s\n' "${pr[@]}" | median)
  local mode="eager"
  [[ " $* " == *" --compile "* ]] && mode="torch.compile"
  local name="runtime: $NET training step, ${RES}x${RES}, batch $BATCH, fp32 CPU ($THREADS threads, $STEPS steps, median of $ROUNDS), mhr on LibTorch $lt"
  local anchor="PyTorch $tv $mode + torchvision $tvv$extra"
  # The morphed network's Python side is the model.py that `mhr export` generates, not a torchvision model.
  [[ " ${pargs[*]} " == *" --model-py "* ]] && anchor="PyTorch $tv $mode, the network as \`mhr export\`'s model.py$extra"
  echo "| $name | $M img/s | $anchor: $P img/s | $(awk -v a="$M" -v b="$P" 'BEGIN {printf "%.2f", a / b}')x | >= 1.0x |"
  echo "| ${name/training step/training step, CPU time} | $MC CPU-s/step | $anchor: $PC CPU-s/step | $(awk -v a="$MC" -v b="$PC" 'BEGIN {printf "%.2f", b / a}')x | >= 1.0x |"
  echo "| ${name/training step/training step, peak resident memory} | $(mib "$MR") | $anchor: $(mib "$PR") | $(awk -v a="$MR" -v b="$PR" 'BEGIN {printf "%.2f", b / a}')x | — |"
}

BIN="$BUILD/bench/runtime/mhr_bench_train_step"
if [[ ! -x "$BIN" ]]; then
  echo "| runtime: training step | not built ($BIN missing: needs MHR_WITH_TORCH=ON) | | | >= 1.0x |"
  exit 0
fi
REF=$(refpy "$BUILD")
REF=${REF:-/usr/bin/python3}
pair "$BIN" "$REF"
VPY="$VENV/bin/python"
PIPBIN="$ROOT/build-pip/bench/runtime/mhr_bench_train_step"
if [[ -x "$VPY" ]] && "$VPY" -c 'import torch, torchvision' 2>/dev/null; then
  # (paths, not resolved links: the venv's python is a link to the system interpreter, its torch is not)
  if [[ "$REF" != "$VPY" ]]; then pair "$BIN" "$VPY"; fi
  best="$BIN"
  if [[ -x "$PIPBIN" && "$(readlink -f "$PIPBIN")" != "$(readlink -f "$BIN")" ]]; then
    pair "$PIPBIN" "$VPY"
    best="$PIPBIN"
  elif [[ ! -x "$PIPBIN" && "$REF" != "$VPY" ]]; then
    echo "bench: build-pip/ is not built (make build TORCH=pip): no like-for-like LibTorch 2.15 row" >&2
  fi
  pair "$best" "$VPY" --compile
  # The quickstart's morphed network (fused 8x8 stem, identity block, widened layer, full-resolution branch).
  HRPY="$BUILD/bench-quickstart-hr-model.py"
  NET="quickstart's morphed hr (1 channel, 2 classes)"
  margs=(--spec "$ROOT/experiments/quickstart.mhr" --network hr --model-py "$HRPY") pargs=(--model-py "$HRPY")
  pair "$best" "$VPY"
  pair "$best" "$VPY" --compile
else
  echo "bench: no venv with torch at $VENV (scripts/venv.sh --bench): no PyTorch 2.15 rows" >&2
fi
