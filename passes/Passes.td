//===- Passes.td - qn passes -------------------------------*- tablegen -*-===//
//
// Every qn pass, one per file in passes/, reachable from qn-opt.
//
//===----------------------------------------------------------------------===//

#ifndef QN_PASSES_TD
#define QN_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Graph simplification
//===----------------------------------------------------------------------===//

def FuseRepeatBroadcastPass
    : Pass<"qn-fuse-repeat-broadcast", "::mlir::func::FuncOp"> {
  let summary = "Replaces repeats feeding add/sub/mul/div by broadcasting";
  let description = [{
    An elementwise `qn.add`/`qn.sub`/`qn.mul`/`qn.div` whose operand is a
    `qn.repeat` reads the repeat's input directly when numpy broadcasting of
    that input computes the same values and the same result type, i.e. when
    every dimension the repeat multiplies (multiple > 1) has static size 1
    in its input. A repeat that tiles a dimension larger than 1 (or of
    unknown size) is not a broadcast and is left alone, as is any rewrite
    that would change the result shape. The repeat stays while it has other
    users; otherwise it is erased.

    The outer difference of the chunked delta rule,
    `D[i][j] = G[i] - G[j]`, written with two repeats, becomes one broadcast
    subtract of two views and no `C x C` operand is materialized:

    ```mlir
    // before
    %a  = qn.reshape %G : tensor<64xf32> -> tensor<64x1xf32>
    %ai = qn.repeat %a, [1, 64] : tensor<64x1xf32>
    %b  = qn.reshape %G : tensor<64xf32> -> tensor<1x64xf32>
    %bj = qn.repeat %b, [64, 1] : tensor<1x64xf32>
    %d  = qn.sub %ai, %bj : tensor<64x64xf32>, tensor<64x64xf32>
    // after
    %a  = qn.reshape %G : tensor<64xf32> -> tensor<64x1xf32>
    %b  = qn.reshape %G : tensor<64xf32> -> tensor<1x64xf32>
    %d  = qn.sub %a, %b : tensor<64x1xf32>, tensor<1x64xf32>
    ```

    With `report`, every rewrite is also reported as a remark.
  }];
  let dependentDialects = ["::qn::QNDialect"];
  let options = [
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark for each operand rewritten into a broadcast">,
  ];
}

//===----------------------------------------------------------------------===//
// Backend placement
//===----------------------------------------------------------------------===//

def AssignBackendsPass
    : Pass<"qn-assign-backends", "::mlir::func::FuncOp"> {
  let summary = "Gives every op a backend with the minimum number of splits";
  let description = [{
    Builds the function's dataflow graph and assigns every op a backend
    (`qn.backend = "cpu" | "cuda"`) so that the number of transfers is the
    exact minimum for the placement, bytes crossing breaking ties (s-t
    minimum cut; docs/placement.md). A transfer is one copy of one value to
    one other backend on which some consumer runs; each becomes an explicit
    `qn.transfer` op, inserted after the producer. A remark on the function
    reports the splits and bytes, and those of a ggml-like greedy
    assignment.

    The placement: a function argument with a `qn.weight = "GGUF name"`
    attribute (or of `!qn.qweight` type) is a weight, living on `device`
    unless an `override-tensor` rule or `n-cpu-moe` says otherwise; one with
    `qn.state = "name"` is resident state, living on `device`. An op runs
    where most of its resident bytes live; a resident it reads from the
    other backend gets a `qn.transfer` too (reported as a resident copy).
    Other arguments and the returned values (except results marked
    `qn.state`) are on the host. `unsupported` entries (`cuda:moe`) are the
    support table; op kinds are op names without the `qn.` prefix. Dynamic
    dimensions count as `ubatch` for bytes.

    More than `max-splits` transfers is an error naming the limit and the
    count.

    ```mlir
    // qn-assign-backends{device=cuda}
    func.func @f(%ids: tensor<?xi32>, %e: tensor<64x8xf32> {qn.weight = "token_embd.weight"},
                 %w: tensor<8x8xf32> {qn.weight = "output.weight"}) -> tensor<?x8xf32> {
      %h = qn.embed %e[%ids] : tensor<64x8xf32>, tensor<?xi32>
      %y = qn.matmul %h, %w : tensor<?x8xf32>, tensor<8x8xf32>
      return %y : tensor<?x8xf32>
    }
    // after: embed on cpu (token_embd stays on the host), matmul on cuda
    //   %h = qn.embed %e[%ids] {qn.backend = "cpu"} : ...
    //   %0 = qn.transfer %h to "cuda" {qn.backend = "cuda"} : tensor<?x8xf32>
    //   %y = qn.matmul %0, %w {qn.backend = "cuda"} : ...
    //   %1 = qn.transfer %y to "cpu" {qn.backend = "cpu"} : tensor<?x8xf32>
    //   return %1 : tensor<?x8xf32>
    ```
  }];
  let dependentDialects = ["::qn::QNDialect"];
  let options = [
    Option<"device", "device", "std::string", /*default=*/"\"cpu\"",
           "Where weights and state live by default: cpu or cuda">,
    Option<"nCpuMoe", "n-cpu-moe", "unsigned", /*default=*/"0",
           "Expert weights of layers < N stay on the CPU">,
    ListOption<"overrideTensor", "override-tensor", "std::string",
               "REGEX=cpu|cuda rules for weight names (first match wins)">,
    ListOption<"unsupported", "unsupported", "std::string",
               "BACKEND:KIND support-table entries">,
    Option<"supportTable", "support-table", "std::string", /*default=*/"",
           "JSON support-table file (docs/placement.md)">,
    Option<"maxSplits", "max-splits", "int64_t", /*default=*/"-1",
           "Fail when more transfers are needed (-1: no limit)">,
    Option<"ubatch", "ubatch", "int64_t", /*default=*/"512",
           "Size assumed for dynamic dimensions when counting bytes">,
  ];
}

//===----------------------------------------------------------------------===//
// Delta-rule path selection
//===----------------------------------------------------------------------===//

def SelectDeltaPathPass
    : Pass<"qn-select-delta-path", "::mlir::func::FuncOp"> {
  let summary = "Chooses recurrent, chunked or fused for every gated delta net";
  let description = [{
    Decides how each `qn.gated_delta_net` that has no `impl` yet runs
    (spec section 4, docs/delta-path.md); all choices compute the same
    function. With `T` the token count (dimension 0 of `v`):

    * `mode=0` (the strict baseline): `T > 1` expands the op into the
      chunked form of spec 4.1 in primitive ops, built like the non-fused
      ggml graph: q/k repeated to the value heads, padding to chunks of 64,
      the decay matrix `G[i] - G[j]` from two materialized `qn.repeat`s of
      the cumulative decay (so `qn-fuse-repeat-broadcast` has work after
      it), masks before and after `exp`, `(I + L)^-1` applied by
      `qn.solve_tri {unit_diagonal}`, and an `scf.for` over the chunks
      carrying the state. `T = 1` keeps the op with `impl recurrent`.
    * `mode=1`: `impl fused` for `T > 1`, `impl recurrent` for `T = 1`.
    * `mode=2`: `impl fused` for every `T`.
    * `mode=auto`: the cheapest algorithm of `target`'s cost table
      (runtime/ops/DeltaNetCost.h, shared with `qn-run --delta-mode auto`).

    A static `T` decides at compile time. A dynamic `T` is decided in the IR:
    `scf.if` on `tensor.dim %v, 0` selects between the forms the mode allows
    for each range of `T`.

    ```mlir
    // before
    %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %beta, %s
        : (tensor<1x2x64xf32>, ...) -> (...)
    // after qn-select-delta-path{mode=1}
    %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %beta, %s impl recurrent
        : (tensor<1x2x64xf32>, ...) -> (...)
    ```
  }];
  let dependentDialects = ["::qn::QNDialect", "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"auto\"",
           "0 (chunked prefill), 1 (fused prefill), 2 (fused always) or "
           "auto (cost model)">,
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Cost table for mode=auto: cpu or cuda">,
  ];
}

#endif // QN_PASSES_TD
