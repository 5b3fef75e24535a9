#!/usr/bin/env bash
# The GPU check of the CUDA back end, in two halves because the GPU machine
# has no MLIR/LLVM (docs/codegen.md, "CUDA C++ of the elementwise
# dispatches"):
#
#   scripts/gpu-check.sh prepare DIR   here: qn-exec (runtime only) and one
#                                      check bundle per fixture model into
#                                      DIR (a few MB: carry it over)
#   scripts/gpu-check.sh run DIR OUT   on the GPU machine: the devices, then
#                                      every bundle's kernels on the GPU vs
#                                      the CPU answers; OUT/gpu-check.json
#                                      and OUT/gpu-check.log. Exit 1 if any
#                                      kernel fails or no GPU is usable.
#
# `run` takes well under a minute (NVRTC ~0.2 s per model, tiny launches).
set -uo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: $0 prepare DIR | run DIR OUT" >&2; exit 2; }
[ $# -ge 2 ] || usage
mode=$1 dir=$2
MODELS=(tiny-f32 small-f16 small-q8_0 small-q4_k_m)

case "$mode" in
prepare)
  BUILD_DIR=${QN_BUILD_DIR:-build}
  mkdir -p "$dir" || exit 1
  cp "$BUILD_DIR/bin/qn-exec" "$dir/" || exit 1
  for m in "${MODELS[@]}"; do
    rm -rf "$dir/$m"
    "$BUILD_DIR/bin/qn-run" ir -m "../shared/fixtures/models/$m.gguf" \
      --emit cuda --check-bundle "$dir/$m" -o /dev/null || exit 1
  done
  du -sh "$dir" >&2
  ;;
run)
  [ $# -eq 3 ] || usage
  out=$3
  mkdir -p "$out" || exit 1
  log="$out/gpu-check.log"
  : >"$log"
  exe="$dir/qn-exec"
  rc=0
  devices=$("$exe" devices --json 2>>"$log") || rc=1
  "$exe" devices >>"$log" 2>&1
  bundles=""
  for m in "${MODELS[@]}"; do
    [ -d "$dir/$m" ] || continue
    echo "== $m" >>"$log"
    result=$("$exe" cuda-check "$dir/$m" --json 2>>"$log") || rc=1
    [ -n "$result" ] || result=null
    bundles+="${bundles:+,}\"$m\": $result"
    "$exe" cuda-check "$dir/$m" >>"$log" 2>&1
  done
  printf '{"devices": %s, "bundles": {%s}, "ok": %s}\n' "${devices:-null}" \
    "$bundles" "$([ $rc -eq 0 ] && echo true || echo false)" >"$out/gpu-check.json"
  tail -n 20 "$log"
  exit $rc
  ;;
*)
  usage
  ;;
esac
