#!/usr/bin/env bash
# scripts/venv.sh — the project's Python virtual environment for the LibTorch 2.x leg (`TORCH=pip`) and the
# benchmark anchors. In: the pins of scripts/venv/requirements*.txt. Out: a complete venv at $MHR_VENV (default
# .venv/ in the checkout); its path is the last line printed on stdout.
#   scripts/venv.sh           torch + torchvision + the Python test references (requirements.txt)
#   scripts/venv.sh --bench   also the benchmark anchors (requirements-bench.txt)
# Environment: MHR_VENV (share one venv between clones), PYTHON (the interpreter that makes the venv, python3),
# MHR_WHEELHOUSE (downloaded wheels, kept outside the checkout so a fresh clone installs offline;
# default ~/.cache/mhr/wheels).
#
# Why a wheelhouse rather than pip's cache: the torch wheels weigh ~3 GB and pip's HTTP cache is not a
# promise (it may be disabled or pruned); installing with --no-index from a folder of wheels is. The network is
# used only when the folder lacks a pinned wheel.
#
# A venv is complete only once the stamp file is written, after every package installed and imported; one
# without the stamp (an interrupted download or install) or with a stamp of other pins is removed and rebuilt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${MHR_VENV:-$root/.venv}
python=${PYTHON:-python3}
wheels=${MHR_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/mhr/wheels}

base_req="$root/scripts/venv/requirements.txt"
bench_req="$root/scripts/venv/requirements-bench.txt"
reqs=("$base_req")
stamp="$venv/.mhr-complete"
if [[ "${1:-}" == "--bench" ]]; then
  reqs+=("$bench_req")
  stamp="$venv/.mhr-complete-bench"
elif [[ -n "${1:-}" ]]; then
  echo "usage: scripts/venv.sh [--bench]" >&2
  exit 2
fi

log() { echo "venv: $*" >&2; }
pins() { grep -hv '^\s*\(#\|-r\|$\)' "${reqs[@]}" | tr '\n' ' '; }
# A stamp records the pins it was made for and the interpreter (a venv is tied to the Python that made it).
pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
stamp_of() { echo "$(cat "$@" | sha256sum | cut -c1-16)-py$pyver"; }
base_want=$(stamp_of "$base_req")
want=$(stamp_of "${reqs[@]}")

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "$venv"
  exit 0
fi
# Without a valid base stamp whatever is there is a leftover (an interrupted download or install, other pins).
if [[ -e "$venv" && ! (-x "$venv/bin/python" && -f "$venv/.mhr-complete" &&
  "$(cat "$venv/.mhr-complete")" == "$base_want") ]]; then
  if [[ -n "$(ls -A "$venv" 2>/dev/null)" && ! -f "$venv/pyvenv.cfg" ]]; then
    echo "venv: error: $venv exists and is not a Python virtual environment; not touching it" >&2
    exit 1
  fi
  log "$venv is incomplete or made for other pins: removing it and building it again"
  rm -rf "$venv"
fi

if [[ ! -x "$venv/bin/python" ]]; then
  log "creating $venv with $("$python" --version 2>&1)"
  if ! "$python" -m venv "$venv"; then
    rm -rf "$venv"
    echo "venv: error: '$python -m venv' failed (Debian: apt-get install python3-venv, or set PYTHON=)" >&2
    exit 1
  fi
fi

mkdir -p "$wheels"
pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input)
pip_log="$venv/pip.log"
req_args=()
for r in "${reqs[@]}"; do req_args+=(-r "$r"); done

# Offline first: a machine that downloaded the wheels once never downloads them again.
if ! "${pip[@]}" install --no-index --find-links "$wheels" "${req_args[@]}" >"$pip_log" 2>&1; then
  log "downloading $(pins)into $wheels (once per machine; the torch wheels are ~3 GB)"
  # pip names connection errors only in its verbose log (with no retries left it prints none), so keep that too.
  if ! "${pip[@]}" download --log "$pip_log.verbose" --dest "$wheels" "${req_args[@]}" >>"$pip_log" 2>&1; then
    last=$(grep -v '^\s*$' "$pip_log" | tail -1)
    # A pin the index cannot satisfy (a version or a dependency never published) is not a network problem:
    # say which, so nobody retries a download that cannot succeed. An unreachable index also ends in "No
    # matching distribution" (pip saw no versions at all), so a connection error in the log decides first.
    if ! grep -qE "Could not fetch URL|connection error|NewConnectionError|ConnectTimeout|ReadTimeout" \
      "$pip_log" "$pip_log.verbose" &&
      grep -qE "ResolutionImpossible|No matching distribution found|Could not find a version that satisfies" \
        "$pip_log"; then
      echo "venv: error: the pins cannot be resolved from the package index: $last" \
        "(pip's log: $pip_log). A pinned package or one of its dependencies does not exist there in that" \
        "version; change the pin in scripts/venv/requirements*.txt." >&2
    else
      echo "venv: error: could not download $(pins)from the Python package index into $wheels" \
        "(pip's log: $pip_log; last line: $last)." \
        "TORCH=pip needs the package index once per machine; the default build (no TORCH=) needs no network." >&2
    fi
    exit 1
  fi
  if ! "${pip[@]}" install --no-index --find-links "$wheels" "${req_args[@]}" >>"$pip_log" 2>&1; then
    echo "venv: error: installing from $wheels failed (pip's log: $pip_log)" >&2
    exit 1
  fi
fi

# Import what the tests and benchmarks use, and check the one version the build depends on.
torch_pin=$(grep -h '^torch==' "${reqs[@]}" | cut -d= -f3)
check='import torch, torchvision, safetensors, numpy, sklearn, scipy
assert torch.__version__.split("+")[0] == "'"$torch_pin"'", torch.__version__'
[[ ${#reqs[@]} -gt 1 ]] && check+=$'\nimport mlflow, monai, pydicom, cv2'
if ! "$venv/bin/python" -c "$check" >>"$pip_log" 2>&1; then
  echo "venv: error: $venv was installed but does not import (see $pip_log)" >&2
  exit 1
fi
# The bench stamp implies the base one.
echo "$base_want" >"$venv/.mhr-complete"
echo "$want" >"$stamp"
log "$venv is ready (torch $torch_pin)"
echo "$venv"
