#!/usr/bin/env bash
# Installs what is missing (Debian 12 packages), builds qn, and runs the main
# job on the built-in default model. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(cmake ninja-build g++ ccache libmlir-22-dev mlir-22-tools llvm-22-dev
  llvm-22-tools clang-22 libclang-rt-22-dev libfmt-dev libgtest-dev libbenchmark-dev python3
  libicu-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi

scripts/build.sh
scripts/demo.sh
