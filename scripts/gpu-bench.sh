#!/usr/bin/env bash
# scripts/gpu-bench.sh — the GPU benchmarks of issue 7, on a CUDA host (recipe: ../shared/design/GPU-BUILD.md).
# Builds mhr's training-step benchmark against the host's CUDA LibTorch (the one inside its Python's torch), then
# runs, alternating with PyTorch eager in Python (bench/runtime/train_step.py, torchvision models) on the same
# card in the same run:
#   ResNet-50 at 1024x1024, batch 8, bf16 autocast + channels_last
#   DenseNet-121 at 1024x1024, batch 8, bf16 + channels_last
#   ResNet-18 at 2048x2048, batch 4, bf16 + channels_last
# and reports images/s (median of alternated rounds), the ratio, the measured peak memory of both sides and the
# compiler's cost-model estimate of mhr's step. Then the largest-input check: ResNet-50, bf16, batch 1 at
# 4096x3328 (a full-field mammogram) with `checkpointing: auto` under an 8 GiB budget, against PyTorch eager at
# the same size without checkpointing. Prints markdown rows (also written to $BUILD/gpu-bench.md).
#
# STATUS: prepared but never run (the session that wrote it had no GPU). Expect to fix small things on first use.
#
# Usage, from the project root on the GPU host:
#   ../shared/scripts/device-deps.sh       # once, on a machine with Debian packages; copy .device-deps/ along
#   scripts/gpu-bench.sh                   # env: PYTHON (python3), BUILD (build-cuda), ROUNDS (3), STEPS (20)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PY=${PYTHON:-python3}
BUILD=${BUILD:-build-cuda}
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-20}
D="$root/.device-deps/usr"
if [[ ! -d "$D" ]]; then
  echo "gpu-bench: $D is missing: run ../shared/scripts/device-deps.sh on a Debian machine and copy .device-deps/" >&2
  exit 1
fi
TP=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')
"$PY" -c 'import torch, torchvision; assert torch.cuda.is_available(), "no CUDA device"' || {
  echo "gpu-bench: $PY needs torch with CUDA and torchvision" >&2
  exit 1
}
export LIBRARY_PATH="$D/lib/x86_64-linux-gnu${LIBRARY_PATH:+:$LIBRARY_PATH}"
export LD_LIBRARY_PATH="$D/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Warnings are not errors here: the host's compiler (GCC 13) may warn where Debian's GCC 12 does not.
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMHR_WITH_IMAGE_IO=OFF -DMHR_BUILD_TESTS=OFF -DMHR_WERROR=OFF \
  "-DCMAKE_PREFIX_PATH=$D;$TP" >&2
cmake --build "$BUILD" -j"$(nproc)" --target mhr_bench_train_step >&2
BIN="$BUILD/bench/runtime/mhr_bench_train_step"
CARD=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || echo "CUDA device")
TORCHV=$("$PY" -c 'import torch; print(torch.__version__)')

field() { awk -v k="$1" '$1 == k {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
gib() { awk -v b="$1" 'BEGIN {if (b < 0) print "n/a"; else printf "%.2f", b / 1073741824}'; }
out="$BUILD/gpu-bench.md"
{
  echo "# mhr GPU benchmarks ($CARD, PyTorch $TORCHV, $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD))"
  echo
  echo "| training step | mhr img/s | PyTorch eager img/s | ratio | mhr peak GiB | PyTorch peak GiB | estimate GiB | estimate / mhr peak |"
  echo "|---|---|---|---|---|---|---|---|"
} | tee "$out"

bench() { # arch res batch
  local arch=$1 res=$2 batch=$3
  local args=(--arch "$arch" --res "$res" --batch "$batch" --device cuda --precision bf16 --channels-last
    --steps "$STEPS" --warmup 5)
  local m=() p=() mp="" pp="" est=""
  for ((r = 0; r < ROUNDS; r++)); do
    o=$("$BIN" "${args[@]}")
    echo "$o" | sed "s/^/mhr $arch: /" >&2
    m+=("$(field images_per_second <<<"$o")")
    mp=$(field peak_bytes <<<"$o")
    est=$(field estimate_bytes <<<"$o")
    o=$("$PY" bench/runtime/train_step.py "${args[@]}")
    echo "$o" | sed "s/^/python $arch: /" >&2
    p+=("$(field images_per_second <<<"$o")")
    pp=$(field peak_bytes <<<"$o")
  done
  local M P
  M=$(printf '%s\n' "${m[@]}" | median)
  P=$(printf '%s\n' "${p[@]}" | median)
  echo "| $arch ${res}x${res}, batch $batch, bf16 + channels_last | $M | $P | $(awk -v a="$M" -v b="$P" 'BEGIN {printf "%.2f", a / b}')x | $(gib "$mp") | $(gib "$pp") | $(gib "$est") | $(awk -v e="$est" -v m="$mp" 'BEGIN {printf "%.2f", e / m}') |" | tee -a "$out"
}
bench resnet50 1024 8
bench densenet121 1024 8
bench resnet18 2048 4

# Largest input: a full-field mammogram, ResNet-50, bf16, batch 1, 8 GiB budget.
{
  echo
  echo "| largest input (ResNet-50, bf16 + channels_last, batch 1, 4096x3328) | mhr, checkpointing auto, budget 8 GiB | PyTorch eager, no checkpointing |"
  echo "|---|---|---|"
} | tee -a "$out"
args=(--arch resnet50 --res 4096x3328 --batch 1 --device cuda --precision bf16 --channels-last --steps 5 --warmup 2)
o=$("$BIN" "${args[@]}" --checkpointing auto --budget-gib 8 || true)
echo "$o" | sed 's/^/mhr largest: /' >&2
mline="$(field images_per_second <<<"$o") img/s, peak $(gib "$(field peak_bytes <<<"$o")") GiB (estimate $(gib "$(field estimate_bytes <<<"$o")"), $(field checkpoint_segments <<<"$o") segments)"
o=$("$PY" bench/runtime/train_step.py "${args[@]}" 2>&1 || true)
echo "$o" | sed 's/^/python largest: /' >&2
if grep -q images_per_second <<<"$o"; then
  pline="$(field images_per_second <<<"$o") img/s, peak $(gib "$(field peak_bytes <<<"$o")") GiB"
else
  pline="failed: $(grep -o 'OutOfMemoryError.*' <<<"$o" | head -1 | cut -c1-80)"
fi
echo "| | $mline | $pline |" | tee -a "$out"
echo >&2
echo "gpu-bench: table written to $out" >&2
