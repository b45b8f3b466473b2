#!/usr/bin/env bash
# scripts/gpu-bench.sh — the one-shot GPU check, on a CUDA host: builds mhr against the host's CUDA LibTorch
# (the one inside its Python's torch, or the project's venv with TORCH=pip), runs the CUDA tests
# (tests/runtime/cuda_test.cpp: device, autocast, peak memory, a bf16 training run) and the training-step
# benchmark alternating with PyTorch eager in Python (bench/runtime/train_step.py, torchvision models) on the
# same card in the same run:
#   ResNet-50 at 1024x1024, batch 8, bf16 autocast + channels_last
#   DenseNet-121 at 1024x1024, batch 8, bf16 + channels_last
#   ResNet-18 at 2048x2048, batch 4, bf16 + channels_last
# reporting images/s (median of alternated rounds), the ratio, the measured peak memory of both sides and the
# compiler's cost-model estimate of mhr's step; then the largest-input check: ResNet-50, bf16, batch 1 at
# 4096x3328 with `checkpointing: auto` under an 8 GiB budget, against PyTorch eager without checkpointing.
# Writes gpu-bench.md, gpu-bench.json (one object per row), cuda-tests.json (GoogleTest's report) and the log
# under $OUT (the device tool's folder) or $BUILD/gpu-out.
#
# STATUS: prepared and its build steps checked on the CPU build machines; never run on a GPU yet.
#
# Usage, from the project root on the GPU host (sized for < 8 minutes on one H100/H200, build included):
#   scripts/device-deps.sh                 # once, on a Debian machine; carry .device-deps/ along
#   scripts/gpu-bench.sh                   # env: PYTHON (python3), BUILD (build-cuda), ROUNDS (3), STEPS (20),
#                                          #      TORCH=pip to use the project's venv instead of PYTHON's torch
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PY=${PYTHON:-python3}
[[ "${TORCH:-}" == pip ]] && PY="$(scripts/venv.sh)/bin/python"
BUILD=${BUILD:-build-cuda}
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-20}
RESULTS=${OUT:-$BUILD/gpu-out}
mkdir -p "$RESULTS"
D="$root/.device-deps/usr"
if [[ ! -d "$D" ]]; then
  echo "gpu-bench: $D is missing: run scripts/device-deps.sh on a Debian machine and copy .device-deps/" >&2
  exit 1
fi
TP=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')
"$PY" -c 'import torch, torchvision; assert torch.cuda.is_available(), "no CUDA device"' || {
  echo "gpu-bench: $PY needs torch with CUDA and torchvision, and a visible GPU" >&2
  exit 1
}
export LIBRARY_PATH="$D/lib/x86_64-linux-gnu${LIBRARY_PATH:+:$LIBRARY_PATH}"
export LD_LIBRARY_PATH="$D/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Warnings are not errors here: the host's compiler (GCC 13) may warn where Debian's GCC 12 does not.
start=$SECONDS
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMHR_WITH_IMAGE_IO=OFF -DMHR_WERROR=OFF \
  -DTORCH_DIR="$TP/Torch" -DMHR_PYTHON="$(command -v "$PY")" "-DCMAKE_PREFIX_PATH=$D" >&2 ||
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMHR_WITH_IMAGE_IO=OFF -DMHR_WERROR=OFF \
    -DTORCH_DIR="$TP/Torch" -DMHR_PYTHON="$(command -v "$PY")" "-DCMAKE_PREFIX_PATH=$D" >&2
cmake --build "$BUILD" -j"$(nproc)" --target mhr mhr_bench_train_step runtime_cuda_test >&2
echo "gpu-bench: built in $((SECONDS - start)) s" >&2
BIN="$BUILD/bench/runtime/mhr_bench_train_step"
"$BUILD/mhr" --version | tee "$RESULTS/version.txt" >&2

# The CUDA tests first: a failing device path makes the figures below meaningless.
cuda_rc=0
"$BUILD/tests/runtime/runtime_cuda_test" --gtest_output="json:$RESULTS/cuda-tests.json" >&2 || cuda_rc=$?
echo "gpu-bench: CUDA tests exit code $cuda_rc" >&2
CARD=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || echo "CUDA device")
TORCHV=$("$PY" -c 'import torch; print(torch.__version__)')
json="$RESULTS/gpu-bench.json"
echo "{\"card\": \"$CARD\", \"torch\": \"$TORCHV\", \"commit\": \"$(git rev-parse --short HEAD 2>/dev/null)\", \"cuda_tests_exit\": $cuda_rc, \"rows\": [" >"$json"
sep=""

field() { awk -v k="$1" '$1 == k {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
gib() { awk -v b="$1" 'BEGIN {if (b < 0) print "n/a"; else printf "%.2f", b / 1073741824}'; }
out="$RESULTS/gpu-bench.md"
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
  printf '%s{"arch": "%s", "res": %s, "batch": %s, "mhr_images_per_second": %s, "eager_images_per_second": %s, "mhr_peak_bytes": %s, "eager_peak_bytes": %s, "estimate_bytes": %s}\n' \
    "$sep" "$arch" "$res" "$batch" "${M:-null}" "${P:-null}" "${mp:-null}" "${pp:-null}" "${est:-null}" >>"$json"
  sep=","
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
echo "], \"largest_input\": {\"mhr\": \"$mline\", \"eager\": \"$pline\"}}" >>"$json"
echo >&2
echo "gpu-bench: $out and $json written in $((SECONDS - start)) s" >&2
exit "$cuda_rc"
