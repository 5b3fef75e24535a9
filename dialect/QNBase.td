//===- QNBase.td - qn dialect definition and enums ---------*- tablegen -*-===//
//
// The `qn` dialect: a typed graph IR for Qwen3-Next inference. This file holds
// the dialect record and the enums shared by types and ops.
//
//===----------------------------------------------------------------------===//

#ifndef QN_BASE_TD
#define QN_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def QN_Dialect : Dialect {
  let name = "qn";
  let cppNamespace = "::qn";
  let summary = "A typed graph IR for Qwen3-Next inference";
  let description = [{
    The `qn` dialect describes the forward pass of a Qwen3-Next model at two
    levels:

    * model-level ops (`qn.embed`, `qn.rms_norm`, `qn.matmul`,
      `qn.gated_attention`, `qn.conv1d_causal`, `qn.gated_delta_net`,
      `qn.moe`) that mirror the computations of the model spec one to one;
    * primitive ops (elementwise arithmetic and activations, `qn.repeat`,
      `qn.cumsum`, `qn.tri`, `qn.solve_tri`, `qn.batch_matmul`, shape ops,
      reductions, `qn.softmax`, `qn.top_k`, `qn.gather`) into which the
      model-level ops decompose.

    Values are ranked tensors (dimensions may be dynamic: the token count
    usually is) or quantized weights (`!qn.qweight<format, shape>`), whose type
    names the block format because code generation depends on it. Recurrent
    state and the KV cache are explicit values: an op that updates them takes
    the old state as an operand and returns the new state as a result.

    Shapes are written in math order, row-major: a weight `W[out][in]` (GGUF
    ne `{in, out}`) has shape `[out, in]`.
  }];
  let useDefaultTypePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerTypes();
  }];
}

// Block formats of stored weights. The names are the GGML type names.
def QN_QuantFormat : I32EnumAttr<"QuantFormat", "storage format of a weight", [
  I32EnumAttrCase<"f32", 0>,    I32EnumAttrCase<"f16", 1>,
  I32EnumAttrCase<"bf16", 2>,   I32EnumAttrCase<"q4_0", 3>,
  I32EnumAttrCase<"q4_1", 4>,   I32EnumAttrCase<"q5_0", 5>,
  I32EnumAttrCase<"q5_1", 6>,   I32EnumAttrCase<"q8_0", 7>,
  I32EnumAttrCase<"q2_k", 8>,   I32EnumAttrCase<"q3_k", 9>,
  I32EnumAttrCase<"q4_k", 10>,  I32EnumAttrCase<"q5_k", 11>,
  I32EnumAttrCase<"q6_k", 12>,  I32EnumAttrCase<"iq4_nl", 13>,
  I32EnumAttrCase<"iq4_xs", 14>, I32EnumAttrCase<"mxfp4", 15>,
  // Mainline i-quants and the 1-bit class.
  I32EnumAttrCase<"iq2_xxs", 16>, I32EnumAttrCase<"iq2_xs", 17>,
  I32EnumAttrCase<"iq2_s", 18>,   I32EnumAttrCase<"iq3_xxs", 19>,
  I32EnumAttrCase<"iq3_s", 20>,   I32EnumAttrCase<"iq1_s", 21>,
  I32EnumAttrCase<"iq1_m", 22>,   I32EnumAttrCase<"q1_0_g128", 23>,
  // ik_llama.cpp's types (the _ks/_kss/_kl/_kt/q8_kv rows start with a row
  // scale).
  I32EnumAttrCase<"q6_0", 24>,    I32EnumAttrCase<"iq2_k", 25>,
  I32EnumAttrCase<"iq3_k", 26>,   I32EnumAttrCase<"iq4_k", 27>,
  I32EnumAttrCase<"iq5_k", 28>,   I32EnumAttrCase<"iq6_k", 29>,
  I32EnumAttrCase<"iq2_ks", 30>,  I32EnumAttrCase<"iq3_ks", 31>,
  I32EnumAttrCase<"iq2_kl", 32>,  I32EnumAttrCase<"iq4_ks", 33>,
  I32EnumAttrCase<"iq5_ks", 34>,  I32EnumAttrCase<"iq4_kss", 35>,
  I32EnumAttrCase<"q8_kv", 36>,   I32EnumAttrCase<"iq1_kt", 37>,
  I32EnumAttrCase<"iq2_kt", 38>,  I32EnumAttrCase<"iq3_kt", 39>,
  I32EnumAttrCase<"iq4_kt", 40>]> {
  let cppNamespace = "::qn";
}

// Which part of the last two dimensions `qn.tri` keeps (row i, column j).
def QN_TriKind : I32EnumAttr<"TriKind", "triangle kept by qn.tri", [
  I32EnumAttrCase<"lower", 0>,       // j <  i
  I32EnumAttrCase<"lower_diag", 1>,  // j <= i
  I32EnumAttrCase<"upper", 2>,       // j >  i
  I32EnumAttrCase<"upper_diag", 3>]> // j >= i
{
  let cppNamespace = "::qn";
}

def QN_ReduceKind : I32EnumAttr<"ReduceKind", "combiner of qn.reduce", [
  I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"mean", 1>,
  I32EnumAttrCase<"max", 2>, I32EnumAttrCase<"min", 3>]> {
  let cppNamespace = "::qn";
}

// How value head h finds its query/key head when there are fewer of them:
// `interleave` uses h / (Hv / Hk) (Qwen3-Next), `tile` uses h mod Hk.
def QN_HeadMapping : I32EnumAttr<"HeadMapping", "value head to key head map", [
  I32EnumAttrCase<"interleave", 0>, I32EnumAttrCase<"tile", 1>]> {
  let cppNamespace = "::qn";
}

// The algorithm chosen for a qn.gated_delta_net (absent: not chosen yet).
def QN_DeltaNetImpl : I32EnumAttr<"DeltaNetImpl", "gated delta net algorithm", [
  I32EnumAttrCase<"recurrent", 0>, I32EnumAttrCase<"chunked", 1>,
  I32EnumAttrCase<"fused", 2>]> {
  let cppNamespace = "::qn";
}

class QN_Op<string mnemonic, list<Trait> traits = []>
    : Op<QN_Dialect, mnemonic, traits>;

#endif // QN_BASE_TD
