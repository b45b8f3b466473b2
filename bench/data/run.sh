#!/usr/bin/env bash
# bench/data/run.sh BUILD_DIR — decode + preprocess of 16-bit DICOM mammograms (5000x3000, the size of a
# large full-field CBIS-DDSM image) to 1024x832: mhr against pydicom 3 + OpenCV-Python + NumPy from the
# project's venv (`scripts/venv.sh --bench`; Debian's python3-pydicom and python3-opencv where there is none) and
# against MONAI's LoadImage + ScaleIntensityRange + Resize + SpatialPad (venv only), on the same files and the
# same number of cores (MHR_BENCH_THREADS, default: all). pydicom anchors: the straightforward script (convert
# to float, then resize) and a careful one (resize the uint16 codes, then convert). Prints markdown table rows:
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
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then COUNT=2 ROUNDS=1; fi
VENV=${MHR_VENV:-$(cd "$HERE/../.." && pwd)/.venv}
PY=/usr/bin/python3
if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import pydicom, cv2' 2>/dev/null; then PY="$VENV/bin/python"; fi
MONAI=""
if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import monai' 2>/dev/null; then MONAI="$VENV/bin/python"; fi
VERSIONS=$("$PY" -c 'import pydicom, cv2, numpy; print("pydicom %s + OpenCV-Python %s + NumPy %s" % (pydicom.__version__, cv2.__version__, numpy.__version__))')
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
mhr=() careful=() plain=() monai=()
for ((r = 0; r < ROUNDS; r++)); do
  out=$("$BIN" run "$DATA" "$THREADS" 1024x832)
  mhr+=("$(field images_per_second <<<"$out")")
  mhr_sum=$(field checksum <<<"$out")
  out=$("$PY" "$HERE/bench_data.py" "$DATA" "$THREADS" 1024x832 --codes-first)
  careful+=("$(field images_per_second <<<"$out")")
  out=$("$PY" "$HERE/bench_data.py" "$DATA" "$THREADS" 1024x832)
  plain+=("$(field images_per_second <<<"$out")")
  plain_sum=$(field checksum <<<"$out")
  if [[ -n "$MONAI" ]]; then
    out=$("$MONAI" "$HERE/bench_data_monai.py" "$DATA" "$THREADS" 1024x832 2>>"$BUILD/data-bench-monai.err")
    monai+=("$(field images_per_second <<<"$out")")
    monai_sum=$(field checksum <<<"$out")
    monai_version=$(field monai <<<"$out")
  fi
done
M=$(printf '%s\n' "${mhr[@]}" | median)
C=$(printf '%s\n' "${careful[@]}" | median)
P=$(printf '%s\n' "${plain[@]}" | median)

differ() { awk -v a="$mhr_sum" -v b="$1" -v n="$COUNT" 'BEGIN {d = a - b; if (d < 0) d = -d; print (d <= 1e-4 * n) ? "" : " (OUTPUTS DIFFER: " a " vs " b ")"}'; }
ratio() { awk -v m="$1" -v a="$2" 'BEGIN {printf "%.2f", m / a}'; }
same=$(differ "$plain_sum")
echo "| $NAME | $M img/s | $VERSIONS, resize codes then convert: $C img/s | $(ratio "$M" "$C")x | >= 3x |"
echo "| $NAME | $M img/s | $VERSIONS, convert then resize: $P img/s$same | $(ratio "$M" "$P")x | >= 3x |"
if [[ -n "$MONAI" && ${#monai[@]} -gt 0 && -n "${monai[0]}" ]]; then
  MO=$(printf '%s\n' "${monai[@]}" | median)
  echo "| $NAME | $M img/s | MONAI $monai_version LoadImage(PydicomReader) + ScaleIntensityRange + Resize(area) + SpatialPad: $MO img/s$(differ "$monai_sum") | $(ratio "$M" "$MO")x | >= 3x |"
elif [[ -n "$MONAI" ]]; then
  echo "| $NAME | $M img/s | MONAI: the anchor failed (see $BUILD/data-bench-monai.err) | — | >= 3x |"
fi
