#!/usr/bin/env bash
# Bounded fuzzing + sanitizer run (CI runs it after scripts/test.sh):
#  1. configures build-fuzz with clang 22, libFuzzer targets on, and the whole
#     build under ASan+UBSan (-fno-sanitize-recover=all: any report aborts);
#  2. runs qn-gguf-fuzzer (seeds: the fixture GGUF files) and, if the target
#     exists, qn-tokenizer-fuzzer (seeds: the tokenizer cases), each for
#     QN_FUZZ_SECONDS (default 45) in a temporary corpus dir (never the repo);
#  3. runs the GGUF unit tests (GGUFTests) in that sanitized build.
# Prints one summary line; exits non-zero on any crash, sanitizer report or
# build failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${QN_FUZZ_BUILD_DIR:-build-fuzz}
SECONDS_EACH=${QN_FUZZ_SECONDS:-45}
JOBS=${QN_JOBS:-$(nproc)}
LLVM_BIN=/usr/lib/llvm-22/bin
SHARED=${QN_SHARED_DIR:-$(cd .. && pwd)/shared}
export QN_SHARED_DIR=$SHARED
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"

fail() { echo "fuzz: FAILED ($1)"; exit 1; }

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  CC=$LLVM_BIN/clang CXX=$LLVM_BIN/clang++ cmake -G Ninja -S . -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQN_ENABLE_FUZZER=ON \
    -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" \
    -DCMAKE_EXE_LINKER_FLAGS="$SAN" >/dev/null || fail "configure"
fi
targets=(qn-gguf-fuzzer GGUFTests)
have_tok=0
# The list is read whole before grep looks at it: `ninja | grep -q` under
# pipefail fails whenever grep exits before ninja has written everything
# (SIGPIPE), which silently skipped this fuzzer.
all_targets=$(ninja -C "$BUILD_DIR" -t targets all 2>/dev/null)
if grep -q '^qn-tokenizer-fuzzer:' <<<"$all_targets"; then
  targets+=(qn-tokenizer-fuzzer)
  have_tok=1
fi
ninja -C "$BUILD_DIR" -j"$JOBS" "${targets[@]}" >"$BUILD_DIR/fuzz-build.log" 2>&1 ||
  { tail -30 "$BUILD_DIR/fuzz-build.log"; fail "build"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# $1 fuzzer, $2 corpus dir, rest: extra libFuzzer flags.
run_fuzzer() {
  local bin=$1 corpus=$2
  shift 2
  local log="$work/$(basename "$bin").log"
  "$BUILD_DIR/bin/$bin" "$corpus" -max_total_time="$SECONDS_EACH" \
    -timeout=20 -rss_limit_mb=4096 -artifact_prefix="$work/" -print_final_stats=1 \
    "$@" >"$log" 2>&1
  local rc=$?
  if [ $rc -ne 0 ]; then
    tail -40 "$log"
    ls "$work"/crash-* "$work"/timeout-* "$work"/oom-* 2>/dev/null
    fail "$bin exited $rc"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  summary+="$bin ${runs:-?} runs ok; "
}

summary=""
mkdir -p "$work/gguf-corpus"
for f in "$SHARED"/fixtures/models/tiny-f32.gguf \
  "$SHARED"/fixtures/models/tiny-f32-split.gguf \
  "$SHARED"/fixtures/quant/quant-types.gguf; do
  [ -f "$f" ] && cp "$f" "$work/gguf-corpus/"
done
# Every block family of quant2 (i-quants, ik, trellis, row-scaled and
# interleaved layouts) in one file; renamed, the quant/ seed has its name.
[ -f "$SHARED/fixtures/quant2/quant-types.gguf" ] &&
  cp "$SHARED/fixtures/quant2/quant-types.gguf" "$work/gguf-corpus/quant2-types.gguf"
run_fuzzer qn-gguf-fuzzer "$work/gguf-corpus" -max_len=2200000

# The tokenizer fuzzer needs the fixture vocabulary.
[ -f "$SHARED/fixtures/tokenizer/vocab-qwen3.gguf" ] || have_tok=0
if [ $have_tok -eq 1 ]; then
  mkdir -p "$work/tok-corpus"
  [ -f "$SHARED/fixtures/tokenizer/cases.json" ] &&
    cp "$SHARED/fixtures/tokenizer/cases.json" "$work/tok-corpus/"
  printf 'Hello world' >"$work/tok-corpus/hello"
  printf '<|im_start|>user\nHi 123 !?<|im_end|>\n' >"$work/tok-corpus/chat"
  run_fuzzer qn-tokenizer-fuzzer "$work/tok-corpus" -max_len=4096
fi

"$BUILD_DIR/unittests/GGUFTests" --gtest_brief=1 >"$work/gtest.log" 2>&1 ||
  { tail -40 "$work/gtest.log"; fail "GGUFTests under ASan+UBSan"; }
summary+="GGUFTests (ASan+UBSan) ok"
echo "fuzz: $summary"
