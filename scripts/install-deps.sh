#!/usr/bin/env bash
# Installs the Debian 12 packages mhr builds and tests with. Idempotent: when everything is present it
# only asks dpkg (well under a second) and touches nothing. Nothing is downloaded at build or run time.
#   scripts/install-deps.sh           build + test dependencies
#   scripts/install-deps.sh --minimal build dependencies only (no Python reference stack, no Chromium)
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev                       # runtime (Debian's LibTorch 1.13, CPU)
  libantlr4-runtime-dev antlr4       # parser runtime; the antlr4 tool only to regenerate the parser
  libfmt-dev nlohmann-json3-dev libcli11-dev
  libopencv-dev libdcmtk-dev         # data/: PNG/JPEG and DICOM decoding
  libsqlite3-dev                     # tracker
  libgtest-dev libgmock-dev          # tests
  libgloo-dev                        # Gloo headers for c10d data-parallel training on CPU
  clang libclang-rt-14-dev           # `make fuzz` (libFuzzer + sanitizers)
)
test_pkgs=(
  python3-torch python3-torchvision  # reference implementation for weight-import and speed comparisons
  python3-sklearn python3-numpy      # reference metrics (roc_auc_score)
  python3-pydicom python3-opencv     # reference DICOM decoding / preprocessing
  chromium                           # headless render test of the HTML report
  sqlite3
)

pkgs=("${build_pkgs[@]}")
[[ "${1:-}" == "--minimal" ]] || pkgs+=("${test_pkgs[@]}")

# One dpkg-query for all packages; packages it does not know are missing too.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${pkgs[@]}" 2>/dev/null | awk '/install ok installed/ {print $1}' || true)
missing=()
for p in "${pkgs[@]}"; do
  grep -qx "$p" <<<"$installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
