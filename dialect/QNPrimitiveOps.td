//===- QNPrimitiveOps.td - qn primitive operations ---------*- tablegen -*-===//
//
// Primitive ops: the building blocks that model-level ops decompose into.
// All are pure functions of their operands.
//
//===----------------------------------------------------------------------===//

#ifndef QN_PRIMITIVE_OPS_TD
#define QN_PRIMITIVE_OPS_TD

include "dialect/QNBase.td"
include "dialect/QNTypes.td"
include "dialect/QNInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Elementwise binary ops (numpy broadcasting)
//===----------------------------------------------------------------------===//

class QN_BinaryOp<string mnemonic, string formula>
    : QN_Op<mnemonic, [Pure, InferTypeOpAdaptor,
                       DeclareOpInterfaceMethods<QN_ScalarElementwiseOpInterface>]> {
  let summary = "elementwise `" # formula # "` with broadcasting";
  let description = [{
    Computes `}] # formula # [{` element by element. The operands follow
    numpy broadcasting: shapes are aligned at their last dimension, a
    missing leading dimension counts as 1, and in each dimension the sizes
    must be equal or one of them must be 1 (that operand is read at index 0
    along the dimension). A dynamic size is assumed to match the other
    operand's size. Both operands have the same float element type; the
    result type is inferred.

    Example (the outer difference `D[i][j] = G[i] - G[j]`):

    ```mlir
    %d = qn.}] # mnemonic # [{ %gi, %gj : tensor<64x1xf32>, tensor<1x64xf32>
    // %d : tensor<64x64xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$lhs, QN_FloatTensor:$rhs);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

def QN_AddOp : QN_BinaryOp<"add", "lhs + rhs">;
def QN_SubOp : QN_BinaryOp<"sub", "lhs - rhs">;
def QN_MulOp : QN_BinaryOp<"mul", "lhs * rhs">;
def QN_DivOp : QN_BinaryOp<"div", "lhs / rhs">;
def QN_MaxOp : QN_BinaryOp<"max", "max(lhs, rhs)">;
def QN_MinOp : QN_BinaryOp<"min", "min(lhs, rhs)">;

//===----------------------------------------------------------------------===//
// Elementwise unary ops
//===----------------------------------------------------------------------===//

class QN_UnaryOp<string mnemonic, string formula>
    : QN_Op<mnemonic, [Pure, SameOperandsAndResultType,
                       DeclareOpInterfaceMethods<QN_ScalarElementwiseOpInterface>]> {
  let summary = "elementwise `" # formula # "`";
  let description = [{
    Computes `}] # formula # [{` for every element; the result has the
    operand's type.

    Example:

    ```mlir
    %y = qn.}] # mnemonic # [{ %x : tensor<?x4096xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def QN_ExpOp : QN_UnaryOp<"exp", "exp(x)">;
def QN_LogOp : QN_UnaryOp<"log", "log(x)">;
def QN_NegOp : QN_UnaryOp<"neg", "-x">;
def QN_AbsOp : QN_UnaryOp<"abs", "|x|">;
def QN_SqrtOp : QN_UnaryOp<"sqrt", "sqrt(x)">;
def QN_RsqrtOp : QN_UnaryOp<"rsqrt", "1 / sqrt(x)">;
def QN_TanhOp : QN_UnaryOp<"tanh", "tanh(x)">;
def QN_SigmoidOp : QN_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def QN_SiluOp : QN_UnaryOp<"silu", "x / (1 + exp(-x))">;
def QN_SoftplusOp
    : QN_UnaryOp<"softplus", "x > 20 ? x : log(1 + exp(x))">;

def QN_ScaleOp : QN_Op<"scale", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<QN_ScalarElementwiseOpInterface>]> {
  let summary = "multiplication by a constant";
  let description = [{
    Multiplies every element by the constant `factor` (ggml `scale`), e.g.
    the `1/sqrt(dk)` query scaling.

    Example:

    ```mlir
    %y = qn.scale %x, 0.0883883461 : tensor<?x16x128xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, F32Attr:$factor);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input `,` $factor attr-dict `:` type($input)";
  let hasFolder = 1;
}

def QN_ConvertOp : QN_Op<"convert", [Pure]> {
  let summary = "element type conversion";
  let description = [{
    Converts every element to the result's float element type (round to
    nearest even), e.g. f32 keys into an f16 KV cache. The shapes must be
    equal.

    Example:

    ```mlir
    %h = qn.convert %k : tensor<?x2x256xf32> to tensor<?x2x256xf16>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Shape and data movement ops
//===----------------------------------------------------------------------===//

def QN_RepeatOp : QN_Op<"repeat", [Pure, InferTypeOpAdaptor]> {
  let summary = "tiles a tensor (ggml repeat, numpy tile)";
  let description = [{
    Tiles `input` `multiples[d]` times along each dimension `d`:
    `result[i_0, ..., i_n] = input[i_0 mod s_0, ..., i_n mod s_n]` where
    `s` is the input shape; result dimension `d` is `s_d * multiples[d]`
    (dynamic if `s_d` is). `multiples` has one entry per dimension, each at
    least 1. Repeating a dimension of size 1 is a broadcast (see
    `qn-fuse-repeat-broadcast`); repeating a larger one tiles it.

    Example:

    ```mlir
    %r = qn.repeat %g, [1, 64] : tensor<64x1xf32>
    // %r : tensor<64x64xf32>, %r[i][j] = %g[i][0]
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, DenseI64ArrayAttr:$multiples);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input `,` $multiples attr-dict `:` type($input)";
  let hasFolder = 1;
}

def QN_ReshapeOp : QN_Op<"reshape", [Pure]> {
  let summary = "reinterprets the row-major elements with a new shape";
  let description = [{
    Returns the elements of `input` in row-major order under the result's
    shape; the element type is kept and the element count must be equal
    (checked when both shapes are static). At most one result dimension
    may be dynamic when the input has dynamic dimensions.

    Example:

    ```mlir
    %v = qn.reshape %g : tensor<64xf32> -> tensor<64x1xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def QN_PermuteOp : QN_Op<"permute", [Pure, InferTypeOpAdaptor]> {
  let summary = "permutes the dimensions (transpose)";
  let description = [{
    `result[i_0, ..., i_n]` with result dimension `d` taken from input
    dimension `permutation[d]`: `result.shape[d] = input.shape[perm[d]]`.
    `permutation` must be a permutation of `0 .. rank-1`.

    Example:

    ```mlir
    %t = qn.permute %k, [0, 2, 1] : tensor<4x64x128xf32>
    // %t : tensor<4x128x64xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input `,` $permutation attr-dict `:` type($input)";
  let hasFolder = 1;
}

def QN_SliceOp : QN_Op<"slice", [Pure, InferTypeOpAdaptor]> {
  let summary = "a strided window of a tensor";
  let description = [{
    Takes `sizes[d]` elements from dimension `d`, starting at `offsets[d]`
    with step `strides[d]`. A size of -1 means "as many as fit": the result
    dimension is then computed from the input (dynamic if the input
    dimension is). Offsets are at least 0, strides at least 1, and the
    window must lie inside static dimensions.

    Example (query and gate halves of a packed projection, per head):

    ```mlir
    %q = qn.slice %p [0, 0, 0] [-1, 16, 256] [1, 1, 1] : tensor<?x16x512xf32>
    // %q : tensor<?x16x256xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, DenseI64ArrayAttr:$offsets,
                       DenseI64ArrayAttr:$sizes, DenseI64ArrayAttr:$strides);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat =
      "$input $offsets $sizes $strides attr-dict `:` type($input)";
  let hasFolder = 1;
}

def QN_ConcatOp : QN_Op<"concat", [Pure, InferTypeOpAdaptor]> {
  let summary = "joins tensors along one dimension";
  let description = [{
    Concatenates the inputs along `dim`. All inputs have the same rank and
    element type, and equal sizes in every other dimension.

    Example:

    ```mlir
    %w = qn.concat %state, %x along 0 : tensor<3x8192xf32>, tensor<?x8192xf32>
    // %w : tensor<?x8192xf32>
    ```
  }];
  let arguments = (ins Variadic<QN_FloatTensor>:$inputs, I64Attr:$dim);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat =
      "$inputs `along` $dim attr-dict `:` type($inputs)";
}

def QN_PadOp : QN_Op<"pad", [Pure, InferTypeOpAdaptor]> {
  let summary = "pads with a constant";
  let description = [{
    Adds `low[d]` elements before and `high[d]` elements after dimension
    `d`, filled with `value` (0 unless given). Padding amounts are at
    least 0.

    Example (tokens padded to a multiple of the chunk size):

    ```mlir
    %p = qn.pad %g low [0, 0] high [0, 60] : tensor<32x4xf32>
    // %p : tensor<32x64xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, DenseI64ArrayAttr:$low,
                       DenseI64ArrayAttr:$high,
                       DefaultValuedAttr<F32Attr, "0.0">:$value);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat =
      "$input `low` $low `high` $high attr-dict `:` type($input)";
  let hasFolder = 1;
}

def QN_PadToMultipleOp : QN_Op<"pad_to_multiple", [Pure, InferTypeOpAdaptor]> {
  let summary = "zero-pads one dimension up to a multiple of a size";
  let description = [{
    Appends zeros at the end of dimension `dim` so that its size becomes the
    next multiple of `multiple` (unchanged if it already is one). Works on
    dynamic sizes too (the result is then dynamic), which is what the
    chunked delta rule needs for a dynamic token count: pad to whole chunks,
    compute, then `qn.crop` back.

    Example:

    ```mlir
    %p = qn.pad_to_multiple %q along 0 multiple 64 : tensor<?x4x128xf32>
    // %p : tensor<?x4x128xf32>; 100 rows at run time become 128
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, I64Attr:$dim, I64Attr:$multiple);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input `along` $dim `multiple` $multiple attr-dict `:` "
                       "type($input)";
  let hasFolder = 1;
}

def QN_CropOp : QN_Op<"crop", [Pure, InferTypeOpAdaptor]> {
  let summary = "keeps the leading entries of one dimension, sized like a "
                "reference";
  let description = [{
    Keeps the first `size` entries of dimension `dim` of `input`, where
    `size` is the size of the same dimension of `like` (only its shape is
    read). The inverse of `qn.pad_to_multiple`: it drops the padded tokens
    even when the token count is dynamic. Both operands have the same rank;
    when both sizes are static, `like`'s may not exceed `input`'s.

    Example:

    ```mlir
    %o = qn.crop %padded to %v along 0
        : tensor<?x4x128xf32>, tensor<?x4x128xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, AnyRankedTensor:$like,
                       I64Attr:$dim);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input `to` $like `along` $dim attr-dict `:` "
                       "type($input) `,` type($like)";
  let hasFolder = 1;
}

def QN_GatherOp : QN_Op<"gather", [Pure, InferTypeOpAdaptor]> {
  let summary = "selects slices by index (numpy take)";
  let description = [{
    `result[a..., i..., b...] = source[a..., indices[i...], b...]` where
    `a` are the dimensions of `source` before `dim` and `b` those after:
    the result shape is `source.shape[:dim] + indices.shape +
    source.shape[dim+1:]`. Indices are i32 or i64 and must be in range
    (out-of-range indices are undefined behaviour).

    Example (rows of a matrix, ggml get_rows):

    ```mlir
    %rows = qn.gather %m[%ids] along 0 : tensor<512x2048xf32>, tensor<?xi32>
    // %rows : tensor<?x2048xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$source, QN_IndexTensor:$indices,
                       I64Attr:$dim);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$source `[` $indices `]` `along` $dim attr-dict `:` "
                       "type($source) `,` type($indices)";
}

//===----------------------------------------------------------------------===//
// Scans, masks, reductions
//===----------------------------------------------------------------------===//

def QN_CumsumOp : QN_Op<"cumsum", [Pure, SameOperandsAndResultType]> {
  let summary = "inclusive prefix sum along one dimension";
  let description = [{
    `result[..., i, ...] = sum_{m <= i} input[..., m, ...]` along `dim`
    (inclusive, like ggml `cumsum`). The chunked delta rule uses it for
    `G_i = sum_{m <= i} g_m`.

    Example:

    ```mlir
    %G = qn.cumsum %g along 1 : tensor<32x64xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, I64Attr:$dim);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input `along` $dim attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def QN_TriOp : QN_Op<"tri", [Pure, SameOperandsAndResultType]> {
  let summary = "keeps one triangle of the last two dimensions";
  let description = [{
    Treats the last two dimensions as a matrix (row `i`, column `j`) and
    keeps the elements of one triangle, setting the others to 0:
    `lower` keeps `j < i`, `lower_diag` keeps `j <= i`, `upper` keeps
    `j > i`, `upper_diag` keeps `j >= i`. The matrix need not be square.
    (ggml's `LOWER` keeps `i0 < i1`, i.e. math `j < i`: the same.)

    Example (the causal mask of the decay matrix, zeroed before `exp`):

    ```mlir
    %m = qn.tri lower_diag %d : tensor<32x64x64xf32>
    ```
  }];
  let arguments = (ins QN_TriKind:$kind, QN_FloatTensor:$input);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$kind $input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def QN_ReduceOp : QN_Op<"reduce", [Pure, InferTypeOpAdaptor]> {
  let summary = "sum, mean, max or min along one dimension";
  let description = [{
    Combines the elements along `dim` with `kind`. Without `keep_dim` the
    dimension is removed; with it, it stays with size 1 (handy for a later
    broadcast).

    Example:

    ```mlir
    %s = qn.reduce sum %p along 1 keep_dim : tensor<?x10xf32>
    // %s : tensor<?x1xf32>
    ```
  }];
  let arguments = (ins QN_ReduceKind:$kind, QN_FloatTensor:$input,
                       I64Attr:$dim, UnitAttr:$keep_dim);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat =
      "$kind $input `along` $dim (`keep_dim` $keep_dim^)? attr-dict `:` "
      "type($input)";
}

def QN_SoftmaxOp : QN_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "softmax along one dimension";
  let description = [{
    `result = exp(x - max(x)) / sum(exp(x - max(x)))` along `dim`.

    Example (the MoE router probabilities):

    ```mlir
    %p = qn.softmax %logits along 1 : tensor<?x512xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, I64Attr:$dim);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input `along` $dim attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def QN_L2NormOp : QN_Op<"l2_norm", [Pure, SameOperandsAndResultType]> {
  let summary = "L2 normalisation over the last dimension";
  let description = [{
    `result = x / max(||x||_2, epsilon)` over the last dimension (ggml
    `l2_norm`), as applied to the query and key heads of the gated delta
    net.

    Example:

    ```mlir
    %qn = qn.l2_norm %q {epsilon = 1.0e-06 : f32} : tensor<?x16x128xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, "1.0e-6">:$epsilon);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def QN_TopKOp : QN_Op<"top_k", [Pure, InferTypeOpAdaptor]> {
  let summary = "the k largest values of the last dimension and their indices";
  let description = [{
    Sorts the last dimension in descending order and keeps the first `k`
    entries: `values[..., r]` is the r-th largest element and
    `indices[..., r]` (i32) its position. Ties are broken by the lower
    index. `k` must be between 1 and the (static) last dimension.

    Example (MoE expert selection):

    ```mlir
    %vals, %ids = qn.top_k %p, 10 : tensor<?x512xf32>
    // %vals : tensor<?x10xf32>, %ids : tensor<?x10xi32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, I64Attr:$k);
  let results = (outs QN_FloatTensor:$values, RankedTensorOf<[I32]>:$indices);
  let assemblyFormat = "$input `,` $k attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def QN_BatchMatmulOp : QN_Op<"batch_matmul", [Pure, InferTypeOpAdaptor]> {
  let summary = "matrix product over the last two dimensions";
  let description = [{
    `result[b..., m, n] = sum_k lhs[b..., m, k] * rhs[b..., k, n]`, with
    `transpose_rhs` reading `rhs[b..., n, k]` instead (ggml `mul_mat` is the
    transposed form). Both operands have rank >= 2 and the same element
    type; the leading (batch) dimensions broadcast like the elementwise ops
    (a grouped-query product repeats the smaller batch).

    Example:

    ```mlir
    %kk = qn.batch_matmul %k, %kb transpose_rhs
        : tensor<32x64x128xf32>, tensor<32x64x128xf32>
    // %kk : tensor<32x64x64xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$lhs, QN_FloatTensor:$rhs,
                       UnitAttr:$transpose_rhs);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs (`transpose_rhs` $transpose_rhs^)? "
                       "attr-dict `:` type($lhs) `,` type($rhs)";
}

def QN_SolveTriOp : QN_Op<"solve_tri", [Pure, InferTypeOpAdaptor]> {
  let summary = "solves a lower-triangular system A X = B";
  let description = [{
    Forward substitution over the last two dimensions:
    `X[i][c] = (B[i][c] - sum_{t<i} A[i][t] X[t][c]) / A[i][i]`, reading
    only the lower triangle and diagonal of `A`; with `unit_diagonal` the
    diagonal is taken as 1 and not read. `A` is `[..., n, n]`, `B` is
    `[..., n, k]`, the batch dimensions are equal, and the result has `B`'s
    type.

    Example (the chunked delta rule's `(I + L)^-1`):

    ```mlir
    %x = qn.solve_tri %a, %b {unit_diagonal}
        : tensor<32x64x64xf32>, tensor<32x64x64xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$a, QN_FloatTensor:$b,
                       UnitAttr:$unit_diagonal);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$a `,` $b attr-dict `:` type($a) `,` type($b)";
}

def QN_DequantizeOp : QN_Op<"dequantize", [Pure, InferTypeOpAdaptor]> {
  let summary = "decodes a stored weight into f32";
  let description = [{
    Decodes every block of the weight; the result is an f32 tensor of the
    weight's shape.

    Example:

    ```mlir
    %w = qn.dequantize %q : !qn.qweight<q8_0, 64x2048>
    // %w : tensor<64x2048xf32>
    ```
  }];
  let arguments = (ins QN_QWeight:$weight);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$weight attr-dict `:` qualified(type($weight))";
}

def QN_RopeOp : QN_Op<"rope", [Pure, InferTypeOpAdaptor]> {
  let summary = "rotary position embedding, NEOX style, on the first dims";
  let description = [{
    `input` is `[T, H, Dh]`, `positions` is `[T]` (i32). Only the first
    `dims` entries of each head rotate; for `i < dims/2`,
    `theta_i = pos * base^(-2i/dims)` and
    `(x_i, x_{i+dims/2}) <- (x_i cos - x_{i+dims/2} sin,
    x_i sin + x_{i+dims/2} cos)`. Entries `dims .. Dh-1` pass through.
    `dims` is even and at most `Dh`. The result has the input's type.

    Example:

    ```mlir
    %r = qn.rope %q, %pos dims 64 base 1.0e+07
        : tensor<?x16x256xf32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, RankedTensorOf<[I32]>:$positions,
                       I64Attr:$dims, F32Attr:$base);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $positions `dims` $dims `base` $base attr-dict `:` "
      "type($input) `,` type($positions)";
}

//===----------------------------------------------------------------------===//
// Backend placement (added by qn-assign-backends, passes/AssignBackends.cpp)
//===----------------------------------------------------------------------===//

def QN_BackendName : AttrConstraint<
    CPred<"::llvm::isa<::mlir::StringAttr>($_self) && "
          "(::llvm::cast<::mlir::StringAttr>($_self).getValue() == \"cpu\" || "
          "::llvm::cast<::mlir::StringAttr>($_self).getValue() == \"cuda\")">,
    "backend name \"cpu\" or \"cuda\"">;

def QN_TransferOp : QN_Op<"transfer", [Pure, SameOperandsAndResultType]> {
  let summary = "copies a value to another backend's memory";
  let description = [{
    The value `input`, produced on one backend, copied to backend `to`
    (`"cpu"` or `"cuda"`). The result has the input's type and equal
    contents; ops on `to` read the result. `qn-assign-backends` inserts one
    transfer per value and destination backend: the number of transfers is
    the plan's number of splits.

    Example:

    ```mlir
    %h_gpu = qn.transfer %h to "cuda" : tensor<?x2048xf32>
    ```
  }];
  let arguments = (ins AnyType:$input,
                       ConfinedAttr<StrAttr, [QN_BackendName]>:$to);
  let results = (outs AnyType:$result);
  let assemblyFormat = "$input `to` $to attr-dict `:` type($input)";
}

#endif // QN_PRIMITIVE_OPS_TD
