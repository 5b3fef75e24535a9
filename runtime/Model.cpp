//===- Model.cpp - a loaded Qwen3-Next GGUF ready to run -----------------===//

#include "runtime/Model.h"

#include "gguf/Dequantize.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <optional>
#include <string>

namespace qn::runtime {

using gguf::TensorInfo;

static llvm::Error tensorError(const llvm::Twine &file, const TensorInfo &t,
                               const llvm::Twine &why) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 file + ": tensor '" + t.name + "' " + why);
}

/// A matrix view of a 2-D tensor {cols, rows} or a stacked 3-D tensor
/// {cols, rows, E} (one rows x cols matrix per expert).
static llvm::Expected<WeightView> matrixView(llvm::StringRef file,
                                             const TensorInfo *t) {
  if (!t)
    return WeightView{};
  if (!gguf::canDequantize(t->type) || gguf::rowsPerGroup(t->type) > 1 ||
      !gguf::isValidRowLength(t->type, t->ne[0]))
    return tensorError(file, *t,
                       llvm::formatv("has type {0}, which qn cannot multiply "
                                     "with {1} columns",
                                     gguf::getTypeName(t->type), t->ne[0]));
  WeightView v;
  v.type = t->type;
  v.data = t->data;
  v.cols = t->ne[0];
  v.rows = t->ne.size() > 1 ? t->ne[1] : 1;
  v.rowBytes = gguf::rowBytes(t->type, t->ne[0]);
  return v;
}

static llvm::Expected<std::vector<float>> floatVector(llvm::StringRef file,
                                                      const TensorInfo *t) {
  std::vector<float> out;
  if (!t)
    return out;
  out.resize(static_cast<size_t>(t->numElements()));
  if (llvm::Error err = gguf::dequantizeRows(
          t->type, t->data, out.data(),
          t->numElements() / std::max<int64_t>(t->ne[0], 1), t->ne[0]))
    return tensorError(file, *t,
                       "cannot be read as floats: " +
                           llvm::toString(std::move(err)));
  return out;
}

llvm::Expected<std::unique_ptr<Model>> Model::open(llvm::StringRef path) {
  auto file = gguf::GGUFFile::open(path);
  if (!file)
    return file.takeError();
  // Sizes that later code divides by: refuse a zero before anything
  // computes with it (a malformed file must not crash the loader).
  for (const char *key :
       {"block_count", "embedding_length", "attention.head_count",
        "attention.head_count_kv", "attention.key_length",
        "attention.value_length", "ssm.conv_kernel", "ssm.inner_size",
        "ssm.state_size", "ssm.time_step_rank", "ssm.group_count",
        "expert_count", "expert_used_count", "full_attention_interval"}) {
    std::string arch = "qwen3next";
    if (auto a = (*file)->getString("general.architecture"))
      arch = a->str();
    else
      llvm::consumeError(a.takeError());
    const std::string full = arch + "." + key;
    const gguf::Value *v = (*file)->find(full);
    if (v && v->isInteger() && v->asUInt() == std::optional<uint64_t>(0))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "%s: %s is 0", path.str().c_str(),
                                     full.c_str());
  }
  auto desc = gguf::describeQwen3Next(**file);
  if (!desc)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": " +
                                       llvm::toString(desc.takeError()));
  std::unique_ptr<Model> m(new Model());
  m->gguf = std::move(*file);
  m->desc = std::move(*desc);
  const gguf::Qwen3NextHParams &hp = m->desc.hp;
  // The ops divide by these and index with them: reject what the forward
  // pass cannot run rather than misbehave later.
  const bool positive =
      hp.nLayer > 0 && hp.nEmbd > 0 && hp.nVocab > 0 && hp.nHead > 0 &&
      hp.nHeadKV > 0 && hp.headDim > 0 && hp.ssmGroupCount > 0 &&
      hp.ssmTimeStepRank > 0 && hp.ssmState > 0 && hp.headVDim() > 0 &&
      hp.convKernel > 0 &&
      (hp.denseFFN() ? hp.denseFF > 0
                     : hp.nExpertUsed > 0 && hp.nExpert >= hp.nExpertUsed);
  if (!positive || hp.ssmTimeStepRank % hp.ssmGroupCount != 0 ||
      hp.nHead % hp.nHeadKV != 0 || hp.ropeDims % 2 || hp.ropeDims < 0 ||
      hp.ropeDims > hp.headDim ||
      static_cast<int64_t>(hp.isRecurrent.size()) != hp.nLayer)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "%s: unsupported hyper-parameters (zero sizes, Hv not a multiple of "
        "Hk, Hq not a multiple of Hkv, no experts, or bad rope dims)",
        path.str().c_str());

  llvm::Error err = llvm::Error::success();
  auto view = [&](const TensorInfo *t) {
    auto v = matrixView(path, t);
    if (!v) {
      err = llvm::joinErrors(std::move(err), v.takeError());
      return WeightView{};
    }
    return *v;
  };
  auto floats = [&](const TensorInfo *t) {
    auto v = floatVector(path, t);
    if (!v) {
      err = llvm::joinErrors(std::move(err), v.takeError());
      return std::vector<float>{};
    }
    return std::move(*v);
  };

  m->tokenEmbdView = view(m->desc.tokenEmbd);
  m->outputView = view(m->desc.output);
  m->outputNormW = floats(m->desc.outputNorm);
  for (size_t il = 0; il < m->desc.layers.size(); ++il) {
    const gguf::Qwen3NextLayer &l = m->desc.layers[il];
    LayerWeights w;
    w.recurrent = hp.isRecurrent[il];
    w.attnNorm = floats(l.attnNorm);
    w.postAttnNorm = floats(l.postAttnNorm);
    w.attnQ = view(l.attnQ);
    w.attnK = view(l.attnK);
    w.attnV = view(l.attnV);
    w.attnOutput = view(l.attnOutput);
    w.attnQNorm = floats(l.attnQNorm);
    w.attnKNorm = floats(l.attnKNorm);
    w.ssmIn = view(l.ssmIn);
    w.attnQKV = view(l.attnQKV);
    w.attnGate = view(l.attnGate);
    w.ssmBA = view(l.ssmBA);
    w.ssmBeta = view(l.ssmBeta);
    w.ssmAlpha = view(l.ssmAlpha);
    w.ssmOut = view(l.ssmOut);
    w.ssmConv1d = floats(l.ssmConv1d);
    if (!w.ssmConv1d.empty()) {
      const int64_t Kc = hp.convKernel, Cc = hp.convChannels();
      w.ssmConv1dT.resize(w.ssmConv1d.size());
      for (int64_t ch = 0; ch < Cc; ++ch)
        for (int64_t i = 0; i < Kc; ++i)
          w.ssmConv1dT[i * Cc + ch] = w.ssmConv1d[ch * Kc + i];
    }
    w.ssmDt = floats(l.ssmDt);
    w.ssmA = floats(l.ssmA);
    w.ssmNorm = floats(l.ssmNorm);
    w.ffnRouter = view(l.ffnGateInp);
    w.ffnGateExps = view(l.ffnGateExps);
    w.ffnUpExps = view(l.ffnUpExps);
    w.ffnDownExps = view(l.ffnDownExps);
    w.hasSharedExpert = l.hasSharedExpert();
    w.ffnGateShexp = view(l.ffnGateShexp);
    w.ffnUpShexp = view(l.ffnUpShexp);
    w.ffnDownShexp = view(l.ffnDownShexp);
    w.ffnGateInpShexp = floats(l.ffnGateInpShexp);
    w.ffnGate = view(l.ffnGate);
    w.ffnUp = view(l.ffnUp);
    w.ffnDown = view(l.ffnDown);
    m->layerWeights.push_back(std::move(w));
  }
  if (err)
    return std::move(err);
  m->qkvzOrder = gguf::legacyQKVZRowOrder(hp);
  m->baOrder = gguf::baRowOrder(hp);
  return m;
}

void Model::embed(int32_t token, float *out) const {
  const uint8_t *row = tokenEmbdView.data + token * tokenEmbdView.rowBytes;
  gguf::dequantizeRowUnchecked(tokenEmbdView.type, row, out,
                               tokenEmbdView.cols);
}

} // namespace qn::runtime
