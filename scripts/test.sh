#!/usr/bin/env bash
# Builds qn and runs every test (lit IR/tool tests and GoogleTest units, all
# through lit), then prints one summary line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${QN_BUILD_DIR:-build}
scripts/build.sh || { echo "0 passed, 1 failed (build failed)"; exit 1; }
cmake --build "$BUILD_DIR" --target qn-test-depends ||
  { echo "0 passed, 1 failed (build failed)"; exit 1; }

log=$(mktemp)
/usr/lib/llvm-22/bin/lit -sv "$BUILD_DIR/test" "$BUILD_DIR/test/unittests" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
count() { sed -n "s/^ *$1 *: *\([0-9]*\).*/\1/p" "$log" | head -1; }
passed=$(( $(count Passed || true) + 0 ))
xfail=$(( $(count "Expectedly Failed" || true) + 0 ))
failed=$(( $(count Failed || true) + $(count Unresolved || true) + $(count "Unexpectedly Passed" || true) + $(count "Timed Out" || true) + 0 ))
unsupported=$(( $(count Unsupported || true) + 0 ))
rm -f "$log"
echo "$((passed + xfail)) passed, $failed failed, $unsupported skipped"
# A run that counted no test is a broken runner (or a changed lit summary
# format), not a pass.
[ "$((passed + xfail))" -gt 0 ] || { echo "test.sh: lit reported no passed test" >&2; exit 1; }
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
