//===- DescribeCommand.cpp - `qn-gguf describe` ---------------------------===//
//
//   qn-gguf describe FILE [--json]
//
// Validates a qwen3next file (every key and tensor shape; the error names the
// tensor and both shapes) and prints its hyper-parameters, linear-layer
// layout, layer kinds and weight types.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "gguf/Qwen3Next.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <map>

using namespace llvm;
using namespace qn::gguf;

namespace {
cl::SubCommand describeCmd("describe",
                           "validate a qwen3next file and print its model");
cl::opt<std::string> inputPath(cl::Positional, cl::desc("<file.gguf>"),
                               cl::Required, cl::sub(describeCmd));
cl::opt<bool> asJson("json", cl::desc("print JSON on stdout"),
                     cl::sub(describeCmd));

std::string shortest(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

int runDescribe() {
  auto fileOr = GGUFFile::open(inputPath);
  if (!fileOr)
    return qn::gguftool::reportError("describe", fileOr.takeError());
  const GGUFFile &file = **fileOr;
  auto modelOr = describeQwen3Next(file);
  if (!modelOr)
    return qn::gguftool::reportError(
        "describe",
        createStringError(inputPath + ": " + toString(modelOr.takeError())));
  const Qwen3NextModel &m = *modelOr;
  const Qwen3NextHParams &hp = m.hp;

  std::map<std::string, int64_t> typeCounts;
  uint64_t totalBytes = 0;
  for (const TensorInfo &t : file.tensors()) {
    ++typeCounts[getTypeName(t.type).str()];
    totalBytes += t.nbytes;
  }
  std::string kinds;
  int64_t nLinear = 0;
  for (bool r : hp.isRecurrent) {
    kinds += r ? 'L' : 'A';
    nLinear += r;
  }
  bool shared = !m.layers.empty() && m.layers[0].hasSharedExpert();
  StringRef layout = m.layout == LinearLayout::Legacy ? "legacy" : "split";

  if (asJson) {
    json::Object types;
    for (auto &[name, count] : typeCounts)
      types[name] = count;
    json::Array layers;
    for (size_t i = 0; i < m.layers.size(); ++i)
      layers.push_back(json::Object{
          {"kind", hp.isRecurrent[i] ? "linear" : "full_attention"},
          {"shared_expert", m.layers[i].hasSharedExpert()}});
    json::Object h{{"n_layer", hp.nLayer},
                   {"n_embd", hp.nEmbd},
                   {"n_vocab", hp.nVocab},
                   {"n_ctx_train", hp.nCtxTrain},
                   {"n_head", hp.nHead},
                   {"n_head_kv", hp.nHeadKV},
                   {"head_dim", hp.headDim},
                   {"rope_dims", hp.ropeDims},
                   {"rope_base", hp.ropeBase},
                   {"rms_eps", hp.rmsEps},
                   {"conv_kernel", hp.convKernel},
                   {"ssm_inner", hp.ssmInner},
                   {"ssm_state", hp.ssmState},
                   {"ssm_time_step_rank", hp.ssmTimeStepRank},
                   {"ssm_group_count", hp.ssmGroupCount},
                   {"head_v_dim", hp.headVDim()},
                   {"conv_channels", hp.convChannels()},
                   {"n_expert", hp.nExpert},
                   {"n_expert_used", hp.nExpertUsed},
                   {"expert_ff", hp.expertFF},
                   {"shared_expert_ff", hp.sharedExpertFF},
                   {"full_attention_interval", hp.fullAttentionInterval}};
    json::Object root{{"file", inputPath.getValue()},
                      {"architecture", getArchName(hp.arch).str()},
                      {"mtp_blocks", hp.nMtp},
                      {"layout", layout.str()},
                      {"tied_output", m.tiedOutput},
                      {"hparams", std::move(h)},
                      {"layers", std::move(layers)},
                      {"tensor_types", std::move(types)},
                      {"tensor_bytes", int64_t(totalBytes)}};
    outs() << formatv("{0:2}", json::Value(std::move(root))) << "\n";
    return 0;
  }

  raw_ostream &os = outs();
  os << getArchName(hp.arch) << ": " << hp.nLayer << " layers (" << nLinear
     << " linear, " << hp.nLayer - nLinear << " full attention), linear layout "
     << layout << ", output "
     << (m.tiedOutput ? "tied to token_embd" : "separate") << "\n";
  os << "layers: " << kinds << "\n";
  os << formatv("embedding: D={0} V={1} ctx_train={2} rms_eps={3}\n", hp.nEmbd,
                hp.nVocab, hp.nCtxTrain, shortest(hp.rmsEps));
  os << formatv("attention: Hq={0} Hkv={1} Dh={2} rope_dims={3} "
                "rope_base={4}\n",
                hp.nHead, hp.nHeadKV, hp.headDim, hp.ropeDims,
                shortest(hp.ropeBase));
  os << formatv("linear: Hk={0} Hv={1} dk={2} dv={3} Kc={4} Cc={5}\n",
                hp.ssmGroupCount, hp.ssmTimeStepRank, hp.ssmState,
                hp.headVDim(), hp.convKernel, hp.convChannels());
  if (hp.denseFFN())
    os << formatv("ffn: dense Fd={0}\n", hp.denseFF);
  else
    os << formatv("moe: E={0} k={1} F={2} Fs={3} shared_expert={4}\n",
                  hp.nExpert, hp.nExpertUsed, hp.expertFF, hp.sharedExpertFF,
                  shared ? "yes" : "no");
  os << "tensors: " << file.tensors().size() << ", " << totalBytes << " bytes;";
  for (auto &[name, count] : typeCounts)
    os << " " << name << " x" << count;
  os << "\n";
  return 0;
}

qn::gguftool::CommandRegistration reg(&describeCmd, runDescribe);
} // namespace
