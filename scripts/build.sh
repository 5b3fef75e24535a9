#!/usr/bin/env bash
# Configures (once) and builds qn into ./build with ninja.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${QN_BUILD_DIR:-build}
extra=()
[ "${CI:-}" = "true" ] && extra+=(-DQN_WERROR=ON)
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" "${extra[@]}" >&2
fi
# Two cores and heavy MLIR translation units: keep the link jobs from
# starving the machine of memory.
cmake --build "$BUILD_DIR" ${QN_BUILD_TARGETS:+--target $QN_BUILD_TARGETS}
