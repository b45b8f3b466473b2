#!/usr/bin/env bash
# bench/runtime/run.sh BUILD_DIR — one CPU training step of ResNet-18 at 256x256, batch 8 (forward,
# cross-entropy, backward, SGD with momentum): mhr's runtime (the network built from its IR by LibTorch in C++)
# against PyTorch eager with torchvision's resnet18 in Debian's /usr/bin/python3, same LibTorch, same threads
# (MHR_BENCH_THREADS, default: all cores). Prints markdown table rows
#   | benchmark | mhr | anchor | ratio (mhr / anchor, above 1 = mhr faster) | target |
# Runs alternate (mhr, Python, mhr, Python, ...) and each side's median is reported, so load from other
# processes hits both sides alike.
set -euo pipefail
BUILD=${1:-build}
BIN="$BUILD/bench/runtime/mhr_bench_train_step"
HERE=$(cd "$(dirname "$0")" && pwd)
THREADS=${MHR_BENCH_THREADS:-$(nproc)}
ROUNDS=${MHR_BENCH_ROUNDS:-3}
STEPS=${MHR_BENCH_STEPS:-5}
NAME="runtime: ResNet-18 training step, 256x256, batch 8, fp32 CPU ($THREADS threads, $STEPS steps, median of $ROUNDS)"
if [[ ! -x "$BIN" ]]; then
  echo "| $NAME | not built ($BIN missing: needs MHR_WITH_TORCH=ON) | | | >= 1.0x |"
  exit 0
fi
args=(--arch resnet18 --res 256 --batch 8 --device cpu --threads "$THREADS" --steps "$STEPS" --warmup 2)
field() { awk -v k="$1" '$1 == k {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mhr=() py=() mhrcpu=() pycpu=()
for ((r = 0; r < ROUNDS; r++)); do
  out=$(OMP_NUM_THREADS=$THREADS "$BIN" "${args[@]}")
  echo "$out" | sed 's/^/mhr: /' >&2
  mhr+=("$(field images_per_second <<<"$out")")
  mhrcpu+=("$(field cpu_seconds_per_step <<<"$out")")
  out=$(OMP_NUM_THREADS=$THREADS /usr/bin/python3 "$HERE/train_step.py" "${args[@]}")
  echo "$out" | sed 's/^/python: /' >&2
  py+=("$(field images_per_second <<<"$out")")
  pycpu+=("$(field cpu_seconds_per_step <<<"$out")")
done
M=$(printf '%s\n' "${mhr[@]}" | median)
P=$(printf '%s\n' "${py[@]}" | median)
MC=$(printf '%s\n' "${mhrcpu[@]}" | median)
PC=$(printf '%s\n' "${pycpu[@]}" | median)
ratio=$(awk -v m="$M" -v p="$P" 'BEGIN {printf "%.2f", m / p}')
cpuratio=$(awk -v m="$MC" -v p="$PC" 'BEGIN {printf "%.2f", p / m}')
TV="PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') eager + torchvision (Python)"
echo "| $NAME | $M img/s | $TV: $P img/s | ${ratio}x | >= 1.0x |"
# The same runs in CPU time per step (user + system): robust to other processes sharing the machine.
echo "| ${NAME/training step/training step, CPU time} | $MC CPU-s/step | $TV: $PC CPU-s/step | ${cpuratio}x | >= 1.0x |"
