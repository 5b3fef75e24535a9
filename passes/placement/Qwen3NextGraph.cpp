//===- Qwen3NextGraph.cpp - the Qwen3-Next op graph for placement ---------===//
//
// Node granularity follows ggml's Qwen3-Next graph (spec §3 and §8.1) so that
// split counts are comparable with the peer's scheduler: every op that reads
// a weight is its own node (one weight per node), and ops that write resident
// state in place (the conv window, the delta-net state, the KV cache stores)
// name that state.
//
//===----------------------------------------------------------------------===//
#include "passes/placement/Qwen3NextGraph.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace llvm;

namespace qn::placement {

ModelShape ModelShape::qwen3Next80BA3B() {
  ModelShape s;
  s.nLayer = 48;
  s.nEmbd = 2048;
  s.nVocab = 151936;
  s.nHead = 16;
  s.nHeadKV = 2;
  s.headDim = 256;
  s.convKernel = 4;
  s.ssmInner = 4096;
  s.ssmState = 128;
  s.ssmHeadsV = 32;
  s.ssmGroups = 16;
  s.nExpert = 512;
  s.nExpertUsed = 10;
  s.expertFF = 512;
  s.sharedExpertFF = 512;
  return s;
}

Error ModelShape::validate() const {
  auto bad = [](StringRef what, int64_t v) {
    return createStringError(
        inconvertibleErrorCode(),
        formatv("model shape: {0} must be positive, got {1}", what, v));
  };
  std::pair<StringRef, int64_t> dims[] = {
      {"block_count", nLayer},
      {"embedding_length", nEmbd},
      {"vocab_size", nVocab},
      {"attention.head_count", nHead},
      {"attention.head_count_kv", nHeadKV},
      {"attention.key_length", headDim},
      {"ssm.conv_kernel", convKernel},
      {"ssm.inner_size", ssmInner},
      {"ssm.state_size", ssmState},
      {"ssm.time_step_rank", ssmHeadsV},
      {"ssm.group_count", ssmGroups},
      {"expert_count", nExpert},
      {"expert_used_count", nExpertUsed},
      {"expert_feed_forward_length", expertFF}};
  for (auto &[what, v] : dims)
    if (v <= 0)
      return bad(what, v);
  if (sharedExpertFF < 0)
    return bad("expert_shared_feed_forward_length", sharedExpertFF);
  if (nExpertUsed > nExpert)
    return createStringError(
        inconvertibleErrorCode(),
        formatv("model shape: expert_used_count {0} exceeds expert_count {1}",
                nExpertUsed, nExpert));
  if (!isRecurrent.empty() && int64_t(isRecurrent.size()) != nLayer)
    return createStringError(
        inconvertibleErrorCode(),
        formatv("model shape: {0} layer kinds for {1} layers",
                isRecurrent.size(), nLayer));
  return Error::success();
}

namespace {

/// Appends the nodes of one model; keeps names and byte sizes in one place.
class Builder {
public:
  Builder(Graph &g, const ModelShape &s, int64_t T, int64_t nPast)
      : g(g), s(s), T(T), kvLen(nPast + T) {}

  NodeId build();

private:
  static constexpr uint64_t kF32 = 4, kF16 = 2, kI32 = 4;

  /// Elements of a weight, by its name without the `blk.N.` prefix.
  uint64_t weightElements(StringRef name) const {
    const uint64_t D = s.nEmbd, Cv = s.ssmInner, Ck = s.ssmGroups * s.ssmState,
                   Cc = 2 * Ck + Cv, Hv = s.ssmHeadsV,
                   qDim = s.nHead * s.headDim, kvDim = s.nHeadKV * s.headDim,
                   E = s.nExpert, F = s.expertFF, Fs = s.sharedExpertFF;
    StringRef base = name.rsplit('.').first; // drop .weight / .bias
    if (name == "ssm_a")
      base = name;
    return StringSwitch<uint64_t>(base)
        .Cases({"attn_norm", "post_attention_norm", "output_norm",
                "ffn_gate_inp_shexp"},
               D)
        .Cases({"token_embd", "output"}, D * s.nVocab)
        .Case("ssm_in", D * (Cc + Cv))
        .Case("attn_qkv", D * Cc)
        .Case("attn_gate", D * Cv)
        .Case("ssm_ba", D * 2 * Hv)
        .Cases({"ssm_dt", "ssm_a"}, Hv)
        .Case("ssm_conv1d", Cc * s.convKernel)
        .Case("ssm_norm", Cv / Hv)
        .Case("ssm_out", Cv * D)
        .Case("attn_q", D * 2 * qDim)
        .Cases({"attn_k", "attn_v"}, D * kvDim)
        .Cases({"attn_q_norm", "attn_k_norm"}, s.headDim)
        .Case("attn_output", qDim * D)
        .Case("ffn_gate_inp", D * E)
        .Cases({"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"}, D * F * E)
        .Cases({"ffn_gate_shexp", "ffn_up_shexp", "ffn_down_shexp"}, D * Fs)
        .Default(0);
  }
  /// A weight with its size: the file's when known, else F16 (2 bytes per
  /// element), which only matters relative to other residents of a node.
  Resident gw(StringRef name) const {
    auto it = s.weightBytes.find(name);
    if (it != s.weightBytes.end())
      return Resident(name.str(), it->second);
    StringRef local = name;
    if (local.consume_front("blk."))
      local = local.split('.').second;
    return Resident(name.str(), 2 * weightElements(local));
  }
  Resident w(int64_t layer, StringRef name) const {
    return gw(formatv("blk.{0}.{1}", layer, name).str());
  }
  /// An op reading activations (and at most one weight).
  NodeId op(StringRef kind, std::string name, uint64_t bytes,
            ArrayRef<NodeId> inputs, Resident weight = Resident("")) {
    std::vector<Resident> ws;
    if (!weight.name.empty())
      ws.push_back(std::move(weight));
    return g.add(kind, name, bytes, inputs, ws);
  }
  NodeId stateOp(StringRef kind, std::string name, uint64_t bytes,
                 ArrayRef<NodeId> inputs, Resident weight, Resident state) {
    std::vector<Resident> ws;
    if (!weight.name.empty())
      ws.push_back(std::move(weight));
    return g.add(kind, name, bytes, inputs, ws, {std::move(state)});
  }
  /// Bytes of a [T x cols] F32 activation.
  uint64_t act(int64_t cols) const { return uint64_t(T) * cols * kF32; }

  NodeId linearMixer(int64_t il, NodeId x);
  NodeId attentionMixer(int64_t il, NodeId x);
  NodeId moe(int64_t il, NodeId f);

  Graph &g;
  const ModelShape &s;
  int64_t T, kvLen;
  NodeId inpPos = 0, inpMask = 0;
};

NodeId Builder::linearMixer(int64_t il, NodeId x) {
  const int64_t Cv = s.ssmInner, Ck = s.ssmGroups * s.ssmState,
                Cc = 2 * Ck + Cv, Hv = s.ssmHeadsV;
  std::string p = formatv("blk.{0}.", il).str();
  NodeId qkv, z;
  if (s.legacySsmIn) {
    // One fused projection, then the gathers of spec §2.3 (views + cont).
    NodeId qkvz =
        op("mul_mat", p + "qkvz", act(Cc + Cv), {x}, w(il, "ssm_in.weight"));
    qkv = op("concat", p + "qkv_mixed", act(Cc), {qkvz});
    z = op("cont", p + "z", act(Cv), {qkvz});
  } else {
    qkv =
        op("mul_mat", p + "qkv_mixed", act(Cc), {x}, w(il, "attn_qkv.weight"));
    z = op("mul_mat", p + "z", act(Cv), {x}, w(il, "attn_gate.weight"));
  }
  NodeId ba = op("mul_mat", p + "ba", act(2 * Hv), {x}, w(il, "ssm_ba.weight"));
  NodeId beta = op("cont", p + "beta", act(Hv), {ba});
  NodeId alpha = op("cont", p + "alpha", act(Hv), {ba});
  NodeId biased =
      op("add", p + "alpha_biased", act(Hv), {alpha}, w(il, "ssm_dt.bias"));
  NodeId sp = op("softplus", p + "alpha_softplus", act(Hv), {biased});
  NodeId gate = op("mul", p + "gate", act(Hv), {sp}, w(il, "ssm_a"));
  NodeId conv = stateOp(
      "ssm_conv", p + "conv", act(Cc), {qkv}, w(il, "ssm_conv1d.weight"),
      Resident(p + "conv_state", (s.convKernel - 1) * Cc * kF32));
  NodeId convAct = op("silu", p + "conv_silu", act(Cc), {conv});
  NodeId q = op("l2_norm", p + "q_l2", act(Ck), {convAct});
  NodeId k = op("l2_norm", p + "k_l2", act(Ck), {convAct});
  NodeId delta =
      stateOp("delta_net", p + "delta_net", act(Cv),
              {q, k, convAct, gate, beta}, Resident(""),
              Resident(p + "ssm_state", Hv * s.ssmState * (Cv / Hv) * kF32));
  NodeId normed = op("rms_norm", p + "ssm_norm", act(Cv), {delta},
                     w(il, "ssm_norm.weight"));
  NodeId gated = op("fused_mul_unary", p + "gated_norm", act(Cv), {normed, z});
  return op("mul_mat", p + "ssm_out", act(s.nEmbd), {gated},
            w(il, "ssm_out.weight"));
}

NodeId Builder::attentionMixer(int64_t il, NodeId x) {
  const int64_t qDim = s.nHead * s.headDim, kvDim = s.nHeadKV * s.headDim;
  std::string p = formatv("blk.{0}.", il).str();
  NodeId qFull =
      op("mul_mat", p + "q_gate", act(2 * qDim), {x}, w(il, "attn_q.weight"));
  NodeId q = op("cont", p + "q", act(qDim), {qFull});
  NodeId gate = op("cont", p + "gate", act(qDim), {qFull});
  NodeId k = op("mul_mat", p + "k", act(kvDim), {x}, w(il, "attn_k.weight"));
  NodeId v = op("mul_mat", p + "v", act(kvDim), {x}, w(il, "attn_v.weight"));
  NodeId qn =
      op("rms_norm", p + "q_norm", act(qDim), {q}, w(il, "attn_q_norm.weight"));
  NodeId kn = op("rms_norm", p + "k_norm", act(kvDim), {k},
                 w(il, "attn_k_norm.weight"));
  NodeId qr = op("rope", p + "q_rope", act(qDim), {qn, inpPos});
  NodeId kr = op("rope", p + "k_rope", act(kvDim), {kn, inpPos});
  // The stores write the cache in place; their value is the cache view the
  // attention reads (kvLen rows of F16).
  uint64_t cacheView = uint64_t(kvLen) * kvDim * kF16;
  NodeId ks = stateOp("cpy", p + "k_store", cacheView, {kr}, Resident(""),
                      Resident(p + "cache_k", cacheView));
  NodeId vs = stateOp("cpy", p + "v_store", cacheView, {v}, Resident(""),
                      Resident(p + "cache_v", cacheView));
  NodeId att =
      op("flash_attn_ext", p + "attn", act(qDim), {qr, ks, vs, inpMask});
  NodeId sig = op("sigmoid", p + "gate_sigmoid", act(qDim), {gate});
  NodeId gated = op("mul", p + "attn_gated", act(qDim), {att, sig});
  return op("mul_mat", p + "attn_out", act(s.nEmbd), {gated},
            w(il, "attn_output.weight"));
}

NodeId Builder::moe(int64_t il, NodeId f) {
  const int64_t E = s.nExpert, K = s.nExpertUsed, F = s.expertFF, D = s.nEmbd,
                Fs = s.sharedExpertFF;
  std::string p = formatv("blk.{0}.", il).str();
  NodeId logits =
      op("mul_mat", p + "router", act(E), {f}, w(il, "ffn_gate_inp.weight"));
  NodeId probs = op("soft_max", p + "router_probs", act(E), {logits});
  NodeId ids = op("argsort_top_k", p + "topk", uint64_t(T) * K * kI32, {probs});
  NodeId tw = op("get_rows", p + "topk_weights", act(K), {probs, ids});
  NodeId sum = op("sum_rows", p + "topk_sum", act(1), {tw});
  NodeId wn = op("div", p + "topk_norm", act(K), {tw, sum});
  NodeId eg = op("mul_mat_id", p + "exps_gate", act(K * F), {f, ids},
                 w(il, "ffn_gate_exps.weight"));
  NodeId eu = op("mul_mat_id", p + "exps_up", act(K * F), {f, ids},
                 w(il, "ffn_up_exps.weight"));
  NodeId ea = op("fused_mul_unary", p + "exps_act", act(K * F), {eg, eu});
  NodeId ed = op("mul_mat_id", p + "exps_down", act(K * D), {ea, ids},
                 w(il, "ffn_down_exps.weight"));
  NodeId routed = op("mul_multi_add", p + "exps_sum", act(D), {ed, wn});
  if (Fs == 0)
    return routed;
  NodeId sg = op("mul_mat", p + "shexp_gate", act(Fs), {f},
                 w(il, "ffn_gate_shexp.weight"));
  NodeId su =
      op("mul_mat", p + "shexp_up", act(Fs), {f}, w(il, "ffn_up_shexp.weight"));
  NodeId sa = op("fused_mul_unary", p + "shexp_act", act(Fs), {sg, su});
  NodeId sd = op("mul_mat", p + "shexp_down", act(D), {sa},
                 w(il, "ffn_down_shexp.weight"));
  NodeId gi = op("mul_mat", p + "shexp_gate_inp", act(1), {f},
                 w(il, "ffn_gate_inp_shexp.weight"));
  NodeId gs = op("sigmoid", p + "shexp_gate_sigmoid", act(1), {gi});
  NodeId so = op("mul", p + "shexp_out", act(D), {sd, gs});
  return op("add", p + "moe_out", act(D), {routed, so});
}

NodeId Builder::build() {
  const int64_t D = s.nEmbd;
  // Graph inputs live on the host.
  NodeId tokens =
      g.addPinned("input", "inp_tokens", uint64_t(T) * kI32, {}, Backend::CPU);
  inpPos =
      g.addPinned("input", "inp_pos", uint64_t(T) * kI32, {}, Backend::CPU);
  inpMask = g.addPinned("input", "inp_kq_mask", uint64_t(T) * kvLen * kF16, {},
                        Backend::CPU);
  NodeId h = op("get_rows", "embd", act(D), {tokens}, gw("token_embd.weight"));
  for (int64_t il = 0; il < s.nLayer; ++il) {
    std::string p = formatv("blk.{0}.", il).str();
    NodeId x =
        op("rms_norm", p + "attn_norm", act(D), {h}, w(il, "attn_norm.weight"));
    NodeId m = s.recurrent(il) ? linearMixer(il, x) : attentionMixer(il, x);
    NodeId h1 = op("add", p + "mixer_residual", act(D), {h, m});
    NodeId f = op("rms_norm", p + "post_attn_norm", act(D), {h1},
                  w(il, "post_attention_norm.weight"));
    NodeId mo = moe(il, f);
    h = op("add", p + "ffn_residual", act(D), {h1, mo});
  }
  // Only the last token's logits are computed (ik: inp_out_ids when T > 1).
  int64_t nOut = T;
  if (T > 1) {
    NodeId outIds = g.addPinned("input", "inp_out_ids", kI32, {}, Backend::CPU);
    h = op("get_rows", "out_rows", uint64_t(D) * kF32, {h, outIds});
    nOut = 1;
  }
  NodeId n = op("rms_norm", "output_norm", uint64_t(nOut) * D * kF32, {h},
                gw("output_norm.weight"));
  NodeId logits = op("mul_mat", "logits", uint64_t(nOut) * s.nVocab * kF32, {n},
                     gw(s.tiedOutput ? "token_embd.weight" : "output.weight"));
  // The caller reads logits on the host.
  return g.addPinned("output", "result_output", 0, {logits}, Backend::CPU);
}

} // namespace

Expected<Graph> buildQwen3NextGraph(const ModelShape &shape, int64_t nTokens,
                                    int64_t nPast) {
  if (Error e = shape.validate())
    return e;
  if (nTokens <= 0 || nPast < 0)
    return createStringError(
        inconvertibleErrorCode(),
        formatv("ubatch must have at least one token (got {0}, past {1})",
                nTokens, nPast));
  Graph g;
  Builder(g, shape, nTokens, nPast).build();
  return g;
}

} // namespace qn::placement
