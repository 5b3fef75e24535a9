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

#endif // QN_PASSES_TD
