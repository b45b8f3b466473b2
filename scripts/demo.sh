#!/usr/bin/env bash
# `make demo`: the MorphHR argument on the built-in synthetic data, end to end on the CPU.
#  1. writes a synthetic CBIS-DDSM-style data set (16-bit DICOM + the four description CSVs) with `mhr synth`;
#  2. checks experiments/quickstart.mhr (the compiler proves each morph statement);
#  3. runs it: a small ResNet learns at low resolution, is morphed to 8x the resolution and trained there,
#     against fine-tuning at low resolution and the same high-resolution network trained from scratch, all
#     with the same number of epochs;
#  4. prints the comparison table from the tracker (AUC with 95% CI) and the path of the HTML report.
set -euo pipefail
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
MHR="$BUILD/mhr"
DATA=data/synth-mammo
OUT=demo-out
mkdir -p "$OUT"
start=$(date +%s)
if [[ ! -f "$DATA/mass_case_description_test_set.csv" ]]; then
  "$MHR" synth mammo --out "$DATA" --count 400 --size 512x416 --seed 7
fi
"$MHR" check experiments/quickstart.mhr
"$MHR" run experiments/quickstart.mhr --db "$OUT/mhr-runs.sqlite" --report "$OUT/quickstart-report.html"
echo
echo "demo finished in $(( $(date +%s) - start )) s; explore with: $MHR runs list --db $OUT/mhr-runs.sqlite"
