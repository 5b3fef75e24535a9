//===- QNTypes.td - qn dialect types -----------------------*- tablegen -*-===//
//
// Types of the qn dialect: quantized weights whose type names the block format.
//
//===----------------------------------------------------------------------===//

#ifndef QN_TYPES_TD
#define QN_TYPES_TD

include "dialect/QNBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

def QN_QWeightType : TypeDef<QN_Dialect, "QWeight"> {
  let mnemonic = "qweight";
  let summary = "a stored weight in a GGML block format";
  let description = [{
    A weight as stored in the GGUF file: a static shape in math order (a
    linear layer `W[out][in]` is `[out, in]`, a stack of experts is
    `[E, out, in]`) and the block format its rows are stored in. Code
    generation picks a kernel from the format; `qn.dequantize` turns the
    weight into an f32 tensor of the same shape.

    The innermost dimension must be a whole number of blocks: 32 values for
    `q4_0`, `q4_1`, `q5_0`, `q5_1`, `q8_0`, `iq4_nl`, `mxfp4`, `q6_0`,
    `q8_kv`; 128 for `q1_0_g128`; 256 for the k-quants (`q2_k` ... `q6_k`),
    the i-quants (`iq1_s` ... `iq4_xs`) and the ik types (`iq2_k` ...
    `iq4_kt`); 1 for `f32`, `f16`, `bf16`. The ik row-scaled types
    (`iq4_ks`, `iq2_kt`, `q8_kv`, ...) store a row scale before each row's
    blocks; kernels read it from the row's first bytes.

    Example:

    ```mlir
    !qn.qweight<q4_k, 512x2048>      // W[512][2048], 8 blocks per row
    !qn.qweight<q8_0, 512x512x2048>  // 512 experts
    ```
  }];
  let parameters = (ins "::qn::QuantFormat":$format,
                        ArrayRefParameter<"int64_t">:$shape);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getRank() const { return getShape().size(); }
    int64_t getNumElements() const;
    /// Values per block of `format` (1 for the plain float formats).
    static int64_t getBlockSize(::qn::QuantFormat format);
  }];
}

def QN_QWeight : Type<CPred<"::llvm::isa<::qn::QWeightType>($_self)">,
                      "quantized weight", "::qn::QWeightType">;

// Operand type classes used by the ops.
def QN_FloatTensor : RankedTensorOf<[AnyFloat]>;
def QN_IndexTensor : RankedTensorOf<[I32, I64]>;
// A weight: a float tensor or a stored (possibly quantized) weight.
def QN_Weight : AnyTypeOf<[QN_FloatTensor, QN_QWeight],
                          "float tensor or !qn.qweight">;

#endif // QN_TYPES_TD
