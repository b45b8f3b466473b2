#!/usr/bin/env bash
# scripts/venv.sh where the package index cannot be reached and no wheel is at hand: one clear error line that
# says what it tried and that the default build needs no network; the half-made venv is not stamped complete,
# and the next call removes and rebuilds it; a folder that is not a venv is never removed; an index that answers
# but lacks a pinned version is reported as a pin problem, not a network one.
#   venv_without_network.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Nothing listens on port 9 of the loopback: every request is refused at once.
export PIP_INDEX_URL=http://127.0.0.1:9/simple PIP_FIND_LINKS= PIP_RETRIES=0 PIP_TIMEOUT=2 PIP_EXTRA_INDEX_URL=
export MHR_VENV="$tmp/venv" MHR_WHEELHOUSE="$tmp/wheels"
fail() { echo "FAIL: $*" >&2; exit 1; }

rc=0
"$src/scripts/venv.sh" >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 1 ]] || fail "exit code $rc, expected 1; stderr: $(cat "$tmp/err")"
grep -q "venv: error: could not download torch==" "$tmp/err" || fail "no clear error: $(cat "$tmp/err")"
grep -q "the default build (no TORCH=) needs no network" "$tmp/err" || fail "no word on the default build"
[[ $(grep -c "venv: error" "$tmp/err") -eq 1 ]] || fail "more than one error line: $(cat "$tmp/err")"
[[ ! -s "$tmp/out" ]] || fail "printed a venv path on failure: $(cat "$tmp/out")"
[[ ! -e "$MHR_VENV/.mhr-complete" ]] || fail "a failed install was stamped complete"

# The leftover is detected as incomplete, removed and made again (and fails again the same way).
rc=0
"$src/scripts/venv.sh" >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 1 ]] || fail "second call: exit code $rc"
grep -q "is incomplete or made for other pins: removing it" "$tmp/err" || fail "leftover not detected: $(cat "$tmp/err")"

# A folder with other content is refused, not removed.
mkdir -p "$tmp/mine" && echo keep >"$tmp/mine/file"
rc=0
MHR_VENV="$tmp/mine" "$src/scripts/venv.sh" >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 1 ]] || fail "a non-venv folder: exit code $rc"
grep -q "is not a Python virtual environment; not touching it" "$tmp/err" || fail "$(cat "$tmp/err")"
[[ -f "$tmp/mine/file" ]] || fail "removed a folder that is not a venv"
# An index that answers but has no such version: the pins are named as the problem, not the network.
mkdir -p "$tmp/index/torch" && echo '<html><body></body></html>' >"$tmp/index/torch/index.html"
rm -rf "$MHR_VENV"
rc=0
PIP_INDEX_URL="file://$tmp/index" "$src/scripts/venv.sh" >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 1 ]] || fail "an index without the pin: exit code $rc"
grep -q "venv: error: the pins cannot be resolved from the package index" "$tmp/err" ||
  fail "an unpublished pin was not named as such: $(cat "$tmp/err")"
grep -q "needs no network" "$tmp/err" && fail "an unpublished pin was blamed on the network: $(cat "$tmp/err")"
echo "ok"
