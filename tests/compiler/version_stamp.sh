#!/usr/bin/env bash
# `mhr --version` names the commit the binary was built from, "-dirty" when tracked files differ from it
# (cmake/version.cmake stamps it at every build). Skipped (77) outside a git checkout.
#   version_stamp.sh MHR_BINARY SOURCE_DIR
set -euo pipefail
mhr=$1
src=$2
head=$(git -C "$src" rev-parse --short=12 HEAD 2> /dev/null) || exit 77
git -C "$src" diff --quiet HEAD -- || head="$head-dirty"
got=$("$mhr" --version)
[[ "$got" == "mhr "*" ($head)" ]] || { echo "mhr --version says '$got'; the checkout is $head" >&2; exit 1; }
echo "ok: $got"
