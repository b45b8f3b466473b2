#!/usr/bin/env bash
# The build-time version stamp (cmake/version.cmake) writes the checkout's commit, "-dirty" when tracked files
# differ from it, and `mhr --version` shows a stamp of that form. (The binary's own stamp is not compared with
# HEAD: a commit made after the last build would fail that without anything being wrong.) Skipped (77) outside
# a git checkout.
#   version_stamp.sh MHR_BINARY SOURCE_DIR
set -euo pipefail
mhr=$1
src=$2
head=$(git -C "$src" rev-parse --short=12 HEAD 2> /dev/null) || exit 77
git -C "$src" diff --quiet HEAD -- || head="$head-dirty"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake -DSOURCE_DIR="$src" -DOUTPUT="$tmp/version.h" -DPROJECT_VERSION=9.9.9 -P "$src/cmake/version.cmake"
grep -qF "kGitCommit = \"$head\";" "$tmp/version.h" ||
  { echo "the stamp says $(grep kGitCommit "$tmp/version.h"); the checkout is $head" >&2; exit 1; }
grep -qF 'kVersion = "9.9.9";' "$tmp/version.h" || { echo "the stamp lost the project version" >&2; exit 1; }
got=$("$mhr" --version)
first=$(head -1 <<<"$got")
[[ "$first" =~ ^mhr\ [0-9.]+\ \(([0-9a-f]{12}(-dirty)?|unknown)\)$ ]] ||
  { echo "mhr --version says '$got'" >&2; exit 1; }
# The second line: what the runtime was built against, e.g. "built with LibTorch 2.15.0, CUDA 13.0, Gloo + NCCL".
build=$(sed -n 2p <<<"$got")
[[ "$build" =~ ^built\ with\ (LibTorch\ [0-9]+\.[0-9]+\.[0-9]+.*,\ (CUDA\ [0-9.]+|no\ CUDA),\ .+|no\ LibTorch\ runtime)$ ]] ||
  { echo "mhr --version's build line is '$build'" >&2; exit 1; }
[[ -z "${MHR_EXPECT_BUILD:-}" || "$build" == *"$MHR_EXPECT_BUILD"* ]] ||
  { echo "mhr --version's build line '$build' lacks '$MHR_EXPECT_BUILD'" >&2; exit 1; }
echo "ok: stamp $head; $got"
