#!/usr/bin/env bash
# The main job on the built-in default model. Upgraded as the executor grows.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${QN_BUILD_DIR:-build}
echo "qn built in $BUILD_DIR" >&2
