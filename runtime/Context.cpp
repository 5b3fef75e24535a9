//===- Context.cpp - evaluation context: state slots + batches -----------===//

#include "runtime/Context.h"

#include "runtime/ThreadPool.h"
#include "runtime/layers/Layers.h"
#include "runtime/ops/Norms.h"
#include "runtime/plan/Executor.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <utility>

#include <unistd.h>

namespace qn::runtime {

static llvm::Error error(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

Context::Context(const Model &model, const ContextParams &params)
    : model(model), cparams(params) {}

Context::~Context() = default;

llvm::Expected<std::unique_ptr<Context>>
Context::create(const Model &model, const ContextParams &requested) {
  if (requested.nCtx <= 0 || requested.nSeqMax <= 0 || requested.nUBatch <= 0)
    return error(llvm::formatv("invalid context parameters: context {0}, "
                               "sequences {1}, ubatch {2} (all must be > 0)",
                               requested.nCtx, requested.nSeqMax,
                               requested.nUBatch));
  // A ubatch never holds more tokens than the context has positions, so a
  // larger one (-b 99999999999) is clamped instead of sizing scratch for it.
  ContextParams params = requested;
  if (params.nUBatch / params.nSeqMax >= params.nCtx)
    params.nUBatch = params.nCtx * params.nSeqMax;
  const gguf::Qwen3NextHParams &hp = model.hparams();
  if (hp.nCtxTrain > 0 && params.nCtx > hp.nCtxTrain)
    return error(llvm::formatv("context of {0} positions exceeds the "
                               "model's trained context of {1}",
                               params.nCtx, hp.nCtxTrain));
  const size_t kvRow = kvElementBytes(params.kvType) * hp.nHeadKV * hp.headDim;
  // Refuse what cannot fit in memory instead of dying in the allocator.
  double stateBytes = 0;
  for (int64_t il = 0; il < hp.nLayer; ++il)
    stateBytes += hp.isRecurrent[il]
                      ? 4.0 * ((hp.convKernel - 1) * hp.convChannels() +
                               hp.ssmTimeStepRank * hp.ssmState * hp.headVDim())
                      : 2.0 * kvRow * params.nCtx;
  stateBytes *= params.nSeqMax;
  // Per-token scratch of a ubatch (the layer loop's Workspace; the plans'
  // buffers are of the same order): projections, conv channels, attention
  // rows, the MoE's router and expert rows.
  const double qDim = static_cast<double>(hp.nHead) * hp.headDim;
  const double kvDim = static_cast<double>(hp.nHeadKV) * hp.headDim;
  const double ff = static_cast<double>(
      std::max({hp.expertFF, hp.sharedExpertFF, hp.denseFF}));
  const double perToken =
      4.0 *
      (2 * std::max<double>(2.0 * hp.keyDim() + 2.0 * hp.ssmInner, 2 * qDim) +
       2.0 * hp.convChannels() + 3.0 * hp.ssmInner + 3.0 * hp.ssmTimeStepRank +
       2 * kvDim + qDim + 8.0 * hp.nEmbd + 2.0 * hp.nExpert + hp.nExpertUsed +
       2 * ff);
  stateBytes += perToken * static_cast<double>(params.nUBatch);
  const double physical = static_cast<double>(sysconf(_SC_PHYS_PAGES)) *
                          static_cast<double>(sysconf(_SC_PAGE_SIZE));
  if (physical > 0 && stateBytes > physical)
    return error(llvm::formatv("{0} sequences x {1} positions with a "
                               "ubatch of {2} need {3:f1} GiB of state and "
                               "scratch, more than this machine's {4:f1} GiB",
                               params.nSeqMax, params.nCtx, params.nUBatch,
                               stateBytes / (1 << 30), physical / (1 << 30)));
  std::unique_ptr<Context> ctx(new Context(model, params));
  ctx->slots.resize(static_cast<size_t>(params.nSeqMax));
  ctx->inUse.assign(static_cast<size_t>(params.nSeqMax), false);
  for (SequenceSlot &slot : ctx->slots) {
    slot.conv.resize(hp.nLayer);
    slot.delta.resize(hp.nLayer);
    slot.keys.resize(hp.nLayer);
    slot.values.resize(hp.nLayer);
    for (int64_t il = 0; il < hp.nLayer; ++il) {
      if (hp.isRecurrent[il]) {
        slot.conv[il].assign((hp.convKernel - 1) * hp.convChannels(), 0.0f);
        slot.delta[il].assign(hp.ssmTimeStepRank * hp.ssmState * hp.headVDim(),
                              0.0f);
      } else {
        slot.keys[il].assign(kvRow * params.nCtx, 0);
        slot.values[il].assign(kvRow * params.nCtx, 0);
      }
    }
  }
  const unsigned threads = params.pool ? params.pool->numThreads() : 1;
  if (params.prefillProgram) {
    if (params.prefillProgram->singleToken && params.nUBatch > 1)
      return error(llvm::formatv("the prefill plan '{0}' takes one token, "
                                 "the context ubatches of up to {1}",
                                 params.prefillProgram->entry, params.nUBatch));
    auto exec =
        plan::Executor::create(model, *params.prefillProgram, params.nUBatch,
                               params.kvType, params.nCtx, threads);
    if (!exec)
      return exec.takeError();
    ctx->prefillPlan = std::move(*exec);
  }
  if (params.decodeProgram) {
    auto exec = plan::Executor::create(model, *params.decodeProgram, 1,
                                       params.kvType, params.nCtx, threads);
    if (!exec)
      return exec.takeError();
    ctx->decodePlan = std::move(*exec);
  }
  ctx->groupTokens.assign(static_cast<size_t>(params.nUBatch), 0);
  ctx->groupPos.assign(static_cast<size_t>(params.nUBatch), 0);
  ctx->planRows.assign(static_cast<size_t>(params.nUBatch), 0);
  // The layer loop's scratch, unless a prefill plan runs every ubatch.
  if (!ctx->prefillPlan) {
    ctx->ws = std::make_unique<Workspace>();
    ctx->ws->allocate(hp, params.nUBatch, params.nCtx, threads);
    const size_t act = static_cast<size_t>(params.nUBatch * hp.nEmbd);
    ctx->hidden.assign(act, 0.0f);
    ctx->normed.assign(act, 0.0f);
    ctx->mixed.assign(act, 0.0f);
  }
  return ctx;
}

int64_t Context::nVocab() const { return model.hparams().nVocab; }

const float *Context::outputLogits(int64_t i) const {
  return logits.data() + i * nVocab();
}

llvm::Error Context::checkSeq(int32_t seq) const {
  if (seq < 0 || seq >= cparams.nSeqMax)
    return error(llvm::formatv("sequence id {0} out of range [0, {1})", seq,
                               cparams.nSeqMax));
  return llvm::Error::success();
}

int64_t Context::seqLength(int32_t seq) const {
  return seq >= 0 && seq < cparams.nSeqMax ? slots[seq].length : 0;
}

llvm::Expected<int32_t> Context::seqAdd() {
  for (int32_t s = 0; s < cparams.nSeqMax; ++s)
    if (!inUse[s]) {
      inUse[s] = true;
      slots[s].reset();
      return s;
    }
  return error(
      llvm::formatv("all {0} sequence slots are in use", cparams.nSeqMax));
}

void Context::seqRemove(int32_t seq) {
  if (seq >= 0 && seq < cparams.nSeqMax) {
    slots[seq].reset();
    inUse[seq] = false;
  }
}

void Context::seqReset(int32_t seq) {
  if (seq >= 0 && seq < cparams.nSeqMax)
    slots[seq].reset();
}

llvm::Error Context::seqCopy(int32_t src, int32_t dst) {
  if (llvm::Error err = checkSeq(src))
    return err;
  if (llvm::Error err = checkSeq(dst))
    return err;
  if (src != dst)
    slots[dst] = slots[src];
  inUse[dst] = true;
  return llvm::Error::success();
}

llvm::Error Context::validate(llvm::ArrayRef<BatchToken> batch) const {
  if (batch.empty())
    return error("empty batch: no tokens to evaluate");
  std::vector<int64_t> next(static_cast<size_t>(cparams.nSeqMax));
  for (int64_t s = 0; s < cparams.nSeqMax; ++s)
    next[s] = slots[s].length;
  const int64_t V = nVocab();
  for (size_t i = 0; i < batch.size(); ++i) {
    const BatchToken &b = batch[i];
    if (b.token < 0 || b.token >= V)
      return error(llvm::formatv("token {0}: id {1} out of range [0, {2})", i,
                                 b.token, V));
    if (llvm::Error err = checkSeq(b.seq))
      return err;
    if (b.pos >= cparams.nCtx)
      return error(llvm::formatv(
          "token {0}: position {1} does not fit the context of {2} tokens", i,
          b.pos, cparams.nCtx));
    if (b.pos != 0 && b.pos != next[b.seq])
      return error(llvm::formatv(
          "token {0}: position {1} in sequence {2}, expected {3} (sequences "
          "are append-only; position 0 restarts one)",
          i, b.pos, b.seq, next[b.seq]));
    next[b.seq] = b.pos + 1;
  }
  return llvm::Error::success();
}

llvm::Error Context::decode(llvm::ArrayRef<BatchToken> batch) {
  if (llvm::Error err = validate(batch))
    return err;
  const int64_t V = nVocab();
  outputRow.assign(batch.size(), -1);
  nOutputs = 0;
  for (size_t i = 0; i < batch.size(); ++i)
    if (batch[i].wantLogits)
      outputRow[i] = nOutputs++;
  logits.resize(static_cast<size_t>(std::max<int64_t>(nOutputs * V, 1)));

  // Ubatches of at most nUBatch tokens. Inside one, the tokens of each
  // sequence become one group of consecutive rows (groups in order of first
  // appearance), so every matmul runs once over all sequences while the
  // recurrent state and KV cache stay per group. A token that restarts a
  // sequence already in the ubatch (position 0 again) starts a new ubatch.
  std::vector<int64_t> rows;
  std::vector<SeqGroup> groups;
  std::vector<std::vector<int64_t>> members;
  std::vector<int32_t> groupOf(static_cast<size_t>(cparams.nSeqMax));
  size_t start = 0;
  while (start < batch.size()) {
    groups.clear();
    members.clear();
    std::fill(groupOf.begin(), groupOf.end(), -1);
    size_t end = start;
    while (end < batch.size() &&
           static_cast<int64_t>(end - start) < cparams.nUBatch) {
      const BatchToken &b = batch[end];
      if (groupOf[b.seq] < 0) {
        groupOf[b.seq] = static_cast<int32_t>(groups.size());
        groups.push_back({&slots[b.seq], 0, 0});
        members.emplace_back();
      } else if (b.pos == 0) {
        break; // a restart of a sequence this ubatch already advances
      }
      members[groupOf[b.seq]].push_back(static_cast<int64_t>(end));
      ++end;
    }
    rows.clear();
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      groups[gi].begin = static_cast<int64_t>(rows.size());
      groups[gi].count = static_cast<int64_t>(members[gi].size());
      rows.insert(rows.end(), members[gi].begin(), members[gi].end());
      if (batch[members[gi].front()].pos == 0)
        groups[gi].slot->reset();
    }
    forward(batch, rows, groups);
    if (!dumpError.empty())
      return llvm::createStringError(std::exchange(dumpError, {}));
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const BatchToken &last = batch[members[gi].back()];
      slots[last.seq].length = last.pos + 1;
      inUse[last.seq] = true;
    }
    start = end;
  }
  return llvm::Error::success();
}

void Context::forwardPlan(plan::Executor &exec,
                          llvm::ArrayRef<BatchToken> batch,
                          llvm::ArrayRef<int64_t> idx,
                          llvm::ArrayRef<SeqGroup> groups) {
  const size_t T = idx.size();
  size_t R = 0;
  for (size_t t = 0; t < T; ++t) {
    groupTokens[t] = batch[idx[t]].token;
    groupPos[t] = batch[idx[t]].pos;
    if (outputRow[idx[t]] >= 0)
      planRows[R++] = static_cast<int32_t>(t);
  }
  const int64_t V = nVocab();
  groupLogits.resize(static_cast<size_t>(std::max<int64_t>(R * V, 1)));
  exec.run(llvm::ArrayRef(groupTokens).take_front(T),
           llvm::ArrayRef(groupPos).take_front(T), groups,
           llvm::ArrayRef(planRows).take_front(R), groupLogits.data(),
           cparams.pool, Dumper(cparams.dumpDir, &dumpError));
  for (size_t r = 0; r < R; ++r)
    std::copy_n(groupLogits.data() + r * V, V,
                logits.data() + outputRow[idx[planRows[r]]] * V);
}

void Context::forward(llvm::ArrayRef<BatchToken> batch,
                      llvm::ArrayRef<int64_t> idx,
                      llvm::ArrayRef<SeqGroup> groups) {
  // A compiled plan, when there is one for this ubatch.
  if (decodePlan && idx.size() == 1 && outputRow[idx[0]] >= 0)
    return forwardPlan(*decodePlan, batch, idx, groups);
  if (prefillPlan)
    return forwardPlan(*prefillPlan, batch, idx, groups);

  const gguf::Qwen3NextHParams &hp = model.hparams();
  const int64_t T = static_cast<int64_t>(idx.size()), D = hp.nEmbd;
  const float eps = static_cast<float>(hp.rmsEps);
  const Dumper dump(cparams.dumpDir, &dumpError);
  for (int64_t t = 0; t < T; ++t) {
    groupPos[t] = batch[idx[t]].pos;
    model.embed(batch[idx[t]].token, hidden.data() + t * D);
  }
  float *h = hidden.data(), *x = normed.data(), *m = mixed.data();
  dump("inp_embd", h, T * D);

  for (int64_t il = 0; il < hp.nLayer; ++il) {
    const LayerWeights &w = model.layers()[il];
    LayerContext lc{model,         w, il, groups, *ws, cparams.pool, dump,
                    cparams.kvType};
    lc.deltaMode = cparams.deltaMode;
    rmsNormRows(h, w.attnNorm.data(), T, D, eps, x);
    dump("attn_norm-" + llvm::Twine(il), x, T * D);
    if (w.recurrent)
      linearAttention(lc, x, T, m);
    else
      fullAttention(lc, x, groupPos.data(), T, m);
    for (int64_t i = 0; i < T * D; ++i)
      h[i] += m[i];
    rmsNormRows(h, w.postAttnNorm.data(), T, D, eps, x);
    dump("ffn_inp_normed-" + llvm::Twine(il), x, T * D);
    if (w.ffnGate.data)
      denseFFN(w.ffnGate, w.ffnUp, w.ffnDown, x, T, ws->moe, cparams.pool, dump,
               il, m);
    else
      moeFFN(moeWeights(w), hp.nExpertUsed, x, T, ws->moe, cparams.pool, dump,
             il, m);
    for (int64_t i = 0; i < T * D; ++i)
      h[i] += m[i];
    dump("l_out-" + llvm::Twine(il), h, T * D);
  }

  // Head: only the rows that asked for logits.
  int64_t n = 0;
  for (int64_t t = 0; t < T; ++t)
    if (outputRow[idx[t]] >= 0)
      rmsNorm(h + t * D, model.outputNorm().data(), D, eps, x + (n++) * D);
  if (n == 0)
    return;
  dump("result_norm", x, n * D);
  const int64_t V = nVocab();
  groupLogits.resize(static_cast<size_t>(n * V));
  matmul(model.output(), x, n, groupLogits.data(), cparams.pool);
  dump("result_output", groupLogits.data(), n * V);
  int64_t r = 0;
  for (int64_t t = 0; t < T; ++t)
    if (outputRow[idx[t]] >= 0)
      std::copy_n(groupLogits.data() + (r++) * V, V,
                  logits.data() + outputRow[idx[t]] * V);
}

} // namespace qn::runtime
