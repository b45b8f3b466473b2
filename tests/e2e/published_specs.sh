#!/usr/bin/env bash
# Runs a published spec from experiments/ end to end on a scaled-down synthetic stand-in in the real on-disk
# format (`mhr synth`: CBIS-DDSM DICOMs + CSVs, or ChestX-ray14 PNGs + Data_Entry_2017.csv + split lists),
# through `--set` overrides only: the data root, no weights file, a narrow network, tiny resolutions with the
# spec's own low/high ratio, one epoch, fp32 on the CPU. Every statement, option and stage of the spec is
# still compiled, proven, executed and logged, so a spec that rots (a renamed option, a layer path that no
# longer exists, a morph that stops being provable) fails here.
#   published_specs.sh MHR_BINARY SPEC WORKDIR
set -euo pipefail
mhr=$(realpath "$1")
spec=$(realpath "$2")
work=$3
rm -rf "$work"
mkdir -p "$work"
work=$(realpath "$work")
cd "$work" # prepared-image caches (.mhr-cache) land here, not in the checkout
# One LibTorch thread: ctest runs these side by side, and two runs each spinning on every core slow each other
# down several-fold (docs/performance.md, "several processes on the same cores").
common=(--db "$work/runs.sqlite" --report "$work/report.html" --device cpu --cache-dir "$work/cache" --threads 1 --set network.imagenet.weights=
        --set train.low.epochs=1 --set train.hr.epochs=1 --set train.low.batch=4 --set train.hr.batch=4
        --set train.low.precision=fp32 --set train.hr.precision=fp32)
case "$(basename "$(dirname "$spec")")/$(basename "$spec")" in
experiments/quickstart.mhr)
  # What `make demo` runs (scripts/demo.sh), at a size CI affords: same statements, stages and morphs.
  "$mhr" synth mammo --out "$work/data" --count 40 --size 128x104 --lesion calcification --seed 3 > /dev/null
  common=(--db "$work/runs.sqlite" --report "$work/report.html" --device cpu --cache-dir "$work/cache" --threads 1)
  overrides=(--set dataset.mammo.root="$work/data" --set train.base.1.at=16x13 --set train.base.2.at=16x13
             --set evaluate.base.at=16x13 --set train.hr.at=128x104 --set evaluate.hr.at=128x104
             --set train.scratch.at=128x104 --set evaluate.scratch.at=128x104 --set train.base.1.epochs=1
             --set train.base.2.epochs=1 --set train.hr.epochs=1 --set train.scratch.epochs=1
             --set evaluate.hr.cam=2)
  "$mhr" check "$spec" "${overrides[@]}"
  "$mhr" run "$spec" "${common[@]}" "${overrides[@]}" | tee "$work/run.out"
  for stage in evaluate.base evaluate.hr evaluate.scratch; do
    grep -q "$stage" "$work/run.out" || { echo "the results table lacks $stage" >&2; exit 1; }
  done
  test -s "$work/report.html" || { echo "no report written" >&2; exit 1; }
  echo "$spec: ran on a small synthetic set"
  exit 0
  ;;
study/*)
  # The pre-registered study's specs (experiments/study/), each on its own: the parent on a few chest X-rays,
  # every arm from random weights (`network.source.weights=`) on a manifest written by study.py's own code
  # from a few mammograms, at 32x26 / 128x104 (the study's ratio of 4), one epoch. e2e.study_quick runs the
  # driver itself (parents through the tracker, resuming, aggregation).
  common=(--db "$work/runs.sqlite" --no-report --device cpu --cache-dir "$work/cache" --threads 1)
  name=$(basename "$spec" .mhr)
  if [[ $name == parent ]]; then
    "$mhr" synth cxr --out "$work/data" --count 40 --size 64x64 --seed 3 > /dev/null
    overrides=(--set dataset.source.root="$work/data" --set train.parent.at=32x32 --set evaluate.parent.at=32x32
               --set train.parent.epochs=1 --set train.parent.batch=8)
  else
    "$mhr" synth mammo --out "$work/data" --count 48 --size 128x104 --pixel-spacing 0.46875 --seed 3 > /dev/null
    python3 -c "import sys; sys.path.insert(0, sys.argv[1]); import study, pathlib; \
study.write_manifests(pathlib.Path(sys.argv[2]), [16], 12, 5)" "$(dirname "$spec")" "$work/data"
    at=128x104
    [[ $name == a_low ]] && at=32x26
    overrides=(--set dataset.target.csv="$work/data/target-16.csv" --set train.net.at=$at --set evaluate.net.at=$at
               --set train.net.epochs=1 --set train.net.batch=4)
    [[ $name != e_scratch ]] && overrides+=(--set network.source.weights=)
  fi
  "$mhr" check "$spec" "${overrides[@]}"
  "$mhr" run "$spec" "${common[@]}" "${overrides[@]}" | tee "$work/run.out"
  grep -q "evaluate\." "$work/run.out" || { echo "the results table lacks the evaluation" >&2; exit 1; }
  echo "$spec: ran on a small synthetic set"
  exit 0
  ;;
cbis-ddsm/*)
  "$mhr" synth mammo --out "$work/data" --count 48 --size 256x208 --seed 3 > /dev/null
  # The spec's high/low ratio is 4 (1024x832 over 256x208) or 8 (2048x1664 over 256x208).
  if grep -q "2048x1664" "$spec"; then hr=256x208; else hr=128x104; fi
  overrides=(--set dataset.cbis.root="$work/data" --set network.imagenet.width=0.125
             --set train.low.at=32x26 --set evaluate.low.at=32x26 --set train.hr.at=$hr --set evaluate.hr.at=$hr
             --set evaluate.hr.cam=2)
  ;;
chestxray14/*)
  "$mhr" synth cxr --out "$work/data" --count 60 --size 128x128 --seed 3 > /dev/null
  overrides=(--set dataset.cxr.root="$work/data" --set network.imagenet.width=0.125
             --set train.low.at=32x32 --set evaluate.low.at=32x32 --set train.hr.at=128x128
             --set evaluate.hr.at=128x128 --set evaluate.hr.cam=2 --set evaluate.hr.bootstrap=50)
  ;;
*)
  echo "published_specs.sh: no stand-in for $spec" >&2
  exit 2
  ;;
esac
"$mhr" check "$spec" "${overrides[@]}" --set network.imagenet.weights=
"$mhr" run "$spec" "${common[@]}" "${overrides[@]}" | tee "$work/run.out"
# The run finished, logged both evaluations and wrote its report.
"$mhr" runs list --db "$work/runs.sqlite" | tee "$work/runs.out"
grep -q "finished" "$work/runs.out" || { echo "the run is not marked finished" >&2; exit 1; }
grep -q "evaluate.low" "$work/run.out" && grep -q "evaluate.hr" "$work/run.out" ||
  { echo "the results table lacks an evaluation" >&2; exit 1; }
test -s "$work/report.html" || { echo "no report written" >&2; exit 1; }
echo "$spec: ran on the synthetic stand-in"
