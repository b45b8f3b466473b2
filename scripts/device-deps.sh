#!/usr/bin/env bash
# scripts/device-deps.sh — fills .device-deps/ (ignored by git) with what a GPU host without package access
# lacks to build mhr with -DMHR_WITH_IMAGE_IO=OFF and its CUDA tests: the ANTLR4 C++ runtime, SQLite's header,
# fmt 9, nlohmann-json, CLI11 and GoogleTest, unpacked from Debian 12's packages (run here, on a Debian machine;
# carry the folder to the GPU host; scripts/gpu-bench.sh uses it). The recipe it extends:
# ../shared/design/GPU-BUILD.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
grep -qx '/.device-deps/' .git/info/exclude 2>/dev/null || echo '/.device-deps/' >>.git/info/exclude
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download libantlr4-runtime4.9 libantlr4-runtime-dev libsqlite3-dev libfmt-dev libfmt9 \
  nlohmann-json3-dev libcli11-dev libgtest-dev googletest >/dev/null)
rm -rf .device-deps && mkdir -p .device-deps
for f in "$tmp"/*.deb; do dpkg -x "$f" .device-deps; done
# Link-time names for system libraries the GPU host has only as runtime .so.N files (the ANTLR runtime's CMake
# target links plain `uuid`).
lib=.device-deps/usr/lib/x86_64-linux-gnu
ln -sf /usr/lib/x86_64-linux-gnu/libsqlite3.so.0 "$lib/libsqlite3.so"
ln -sf /usr/lib/x86_64-linux-gnu/libuuid.so.1 "$lib/libuuid.so"
du -sh .device-deps
