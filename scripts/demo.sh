#!/usr/bin/env bash
# The README's main command: text generation on the built-in default model,
# a tiny seeded random Qwen3-Next GGUF that the project makes itself
# (`qn-gguf gen`), so tokenizer -> runtime -> sampler run with nothing
# downloaded. The weights are random: the text is gibberish by design.
#
# Environment: QN_BUILD_DIR (default build), QN_DEMO_PROMPT, QN_DEMO_TOKENS.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${QN_BUILD_DIR:-build}
QN_RUN=$BUILD_DIR/bin/qn-run
QN_GGUF=$BUILD_DIR/bin/qn-gguf
MODEL=$BUILD_DIR/models/qn-default-tiny.gguf
PROMPT=${QN_DEMO_PROMPT:-Hello}
TOKENS=${QN_DEMO_TOKENS:-32}

if [ ! -x "$QN_RUN" ]; then
  echo "demo: $QN_RUN is missing; run scripts/build.sh first" >&2
  exit 1
fi

# `qn-gguf gen` is listed among qn-gguf's subcommands once it is built in.
has_gen() {
  [ -x "$QN_GGUF" ] || return 1
  local help
  help=$("$QN_GGUF" --help 2>/dev/null) || return 1
  grep -qE '^[[:space:]]+gen[[:space:]]' <<<"$help"
}

if [ ! -f "$MODEL" ] && has_gen; then
  mkdir -p "$(dirname "$MODEL")"
  echo "demo: generating the default model $MODEL (qn-gguf gen, tiny, seed 1)" >&2
  if ! "$QN_GGUF" gen --config tiny --type f32 --seed 1 -o "$MODEL.tmp" >&2; then
    echo "demo: qn-gguf gen failed" >&2
    rm -f "$MODEL.tmp"
  else
    mv "$MODEL.tmp" "$MODEL"
  fi
fi

if [ ! -f "$MODEL" ]; then
  # Until `qn-gguf gen` is in the build: the shared tiny fixture, if this
  # checkout sits next to ../shared.
  FALLBACK=../shared/fixtures/models/tiny-f32.gguf
  if [ -f "$FALLBACK" ]; then
    echo "demo: no default model (qn-gguf gen unavailable); using $FALLBACK" >&2
    MODEL=$FALLBACK
  else
    echo "demo: no model to run: qn-gguf gen is unavailable and $FALLBACK is absent" >&2
    exit 1
  fi
fi

echo "demo: $QN_RUN -m $MODEL -p \"$PROMPT\" -n $TOKENS --temp 0" >&2
"$QN_RUN" -m "$MODEL" -p "$PROMPT" -n "$TOKENS" --temp 0
