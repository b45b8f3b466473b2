#!/usr/bin/env bash
# bench/data/run.sh BUILD_DIR — decode + preprocess of 16-bit DICOM mammograms (5000x3000, the size of a
# large full-field CBIS-DDSM image) to 1024x832: mhr against pydicom + OpenCV-Python (Debian's python3-pydicom
# and python3-opencv, /usr/bin/python3) on the same files and the same number of cores (MHR_BENCH_THREADS,
# default: all). Two anchors: the straightforward script (convert to float, then resize) and a careful one
# (resize the uint16 codes, then convert). Prints markdown table rows:
#   | benchmark | mhr | anchor | ratio (mhr / anchor) | target |
# The runs alternate (mhr, anchors, mhr, anchors, ...) and each side's median is reported, so load from
# other processes hits every side alike. The centre pixels of all outputs are summed on both sides: a
# mismatch means the two sides did not compute the same thing, and the row says so.
set -euo pipefail
BUILD=${1:-build}
BIN="$BUILD/bench/data/mhr_bench_data"
HERE=$(cd "$(dirname "$0")" && pwd)
THREADS=${MHR_BENCH_THREADS:-$(nproc)}
COUNT=${MHR_BENCH_DATA_COUNT:-12}
ROUNDS=${MHR_BENCH_ROUNDS:-3}
NAME="data: decode + preprocess 16-bit DICOM 5000x3000 -> 1024x832 ($THREADS cores, $COUNT files, median of $ROUNDS)"
if [[ ! -x "$BIN" ]]; then
  echo "| $NAME | not built ($BIN missing: needs MHR_WITH_IMAGE_IO=ON) | | | >= 3x |"
  exit 0
fi
DATA="$BUILD/bench-data/dicom-5000x3000-$COUNT"
if [[ ! -f "$DATA/done" ]]; then
  rm -rf "$DATA"
  "$BIN" make "$DATA" "$COUNT" 5000x3000
  touch "$DATA/done"
fi
field() { awk -v k="$1" '$1 == k {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mhr=() careful=() plain=()
for ((r = 0; r < ROUNDS; r++)); do
  out=$("$BIN" run "$DATA" "$THREADS" 1024x832)
  mhr+=("$(field images_per_second <<<"$out")")
  mhr_sum=$(field checksum <<<"$out")
  out=$(/usr/bin/python3 "$HERE/bench_data.py" "$DATA" "$THREADS" 1024x832 --codes-first)
  careful+=("$(field images_per_second <<<"$out")")
  out=$(/usr/bin/python3 "$HERE/bench_data.py" "$DATA" "$THREADS" 1024x832)
  plain+=("$(field images_per_second <<<"$out")")
  plain_sum=$(field checksum <<<"$out")
done
M=$(printf '%s\n' "${mhr[@]}" | median)
C=$(printf '%s\n' "${careful[@]}" | median)
P=$(printf '%s\n' "${plain[@]}" | median)
same=$(awk -v a="$mhr_sum" -v b="$plain_sum" -v n="$COUNT" 'BEGIN {d = a - b; if (d < 0) d = -d; print (d <= 1e-4 * n) ? "" : " (OUTPUTS DIFFER: " a " vs " b ")"}')
ratio() { awk -v m="$1" -v a="$2" 'BEGIN {printf "%.2f", m / a}'; }
echo "| $NAME | $M img/s | pydicom + OpenCV-Python, resize codes then convert: $C img/s | $(ratio "$M" "$C")x | >= 3x |"
echo "| $NAME | $M img/s | pydicom + OpenCV-Python, convert then resize: $P img/s$same | $(ratio "$M" "$P")x | >= 3x |"
