//===- ExecutorBackendsTest.cpp - dispatches run on their own backend ----===//
//
// The executor is backend-neutral: each dispatch goes to the backend the
// program placed it on, scratch is allocated by the backend whose memory
// it is, a Transfer is copied by its non-CPU side, and a program that
// reads another backend's memory without a transfer, or needs a backend
// the executor lacks, is an error naming the dispatch. The second backend
// here is a recording stand-in registered as `cuda` (host memory; it runs
// Copy dispatches only), so this runs without a GPU.
//
//===----------------------------------------------------------------------===//

#include "PlanTestUtil.h"

#include "runtime/cpu/CpuBackend.h"
#include "runtime/plan/Bindings.h"

using namespace qn::plantest;

namespace {

/// Host memory posing as a device: records what the executor asks of it.
class RecordingBackend final : public DispatchBackend {
public:
  struct Log {
    std::vector<size_t> allocated, ran;
    /// (bytes, to device) per transfer.
    std::vector<std::pair<size_t, bool>> transfers;
    std::vector<const uint8_t *> memory;
  };
  explicit RecordingBackend(Log &log) : log(log) {}

  Backend kind() const override { return Backend::Cuda; }
  llvm::Expected<uint8_t *> allocate(size_t bytes) override {
    log.allocated.push_back(bytes);
    uint8_t *p = blocks.emplace_back(bytes, 0).data();
    log.memory.push_back(p);
    return p;
  }
  llvm::Error bindWeight(Bindings &, int32_t, WeightUse) override {
    return llvm::createStringError("cannot read weights");
  }
  llvm::Error reserve(const Bindings &b, size_t index) override {
    if (b.program.dispatches[index].kind != DispatchKind::Copy)
      return b.dispatchError(index, "no kernel on the recording backend");
    return llvm::Error::success();
  }
  llvm::Error finishReserving(const Bindings &) override {
    return llvm::Error::success();
  }
  void run(Bindings &b, size_t index, llvm::ArrayRef<SeqGroup>, ThreadPool *,
           const Dumper &) override {
    const Dispatch &d = b.program.dispatches[index];
    log.ran.push_back(index);
    std::memcpy(b.values[d.results[0]].data, b.values[d.operands[0]].data,
                sizeof(float) * b.elements(d.operands[0]));
  }
  void transfer(uint8_t *dst, Backend dstOn, const uint8_t *src, Backend srcOn,
                size_t bytes) override {
    EXPECT_NE(dstOn, srcOn);
    log.transfers.emplace_back(bytes, dstOn == Backend::Cuda);
    std::memcpy(dst, src, bytes);
  }

private:
  Log &log;
  std::vector<std::vector<uint8_t>> blocks;
};

class ExecutorBackendsTest : public TinyModelTest {
protected:
  /// tokens -> embed (cpu) -> transfer to cuda -> copy (cuda) -> transfer
  /// to cpu -> matmul(output) (cpu) as logits.
  void SetUp() override {
    TinyModelTest::SetUp();
    if (IsSkipped())
      return;
    const int64_t D = hp().nEmbd, V = hp().nVocab;
    int32_t tok = pb.tokens();
    int32_t x =
        pb.op(DispatchKind::Embed, "inp_embd",
              {pb.weight("token_embd.weight", {V, D}), tok}, {kTokens, D});
    int32_t xd = pb.op(DispatchKind::Transfer, "to_device", {x}, {kTokens, D});
    toDevice = &p().dispatches.back();
    toDevice->backend = Backend::Cuda;
    int32_t y = pb.op(DispatchKind::Copy, "on_device", {xd}, {kTokens, D});
    p().dispatches.back().backend = Backend::Cuda;
    int32_t yh = pb.op(DispatchKind::Transfer, "to_host", {y}, {kTokens, D});
    p().dispatches.back().get<TransferParams>().from = Backend::Cuda;
    p().logits = pb.op(DispatchKind::Matmul, "result_output",
                       {yh, pb.weight("output.weight", {V, D})}, {kTokens, V});
    toDevice = &p().dispatches[1];
  }

  Program &p() { return pb.program(); }

  llvm::Expected<std::unique_ptr<Executor>> createOn(bool withDevice) {
    Backends backends;
    backends.push_back(std::make_unique<cpu::CpuBackend>());
    if (withDevice)
      backends.push_back(std::make_unique<RecordingBackend>(log));
    return Executor::create(*model, p(), 8, KVType::F16, 16, 1,
                            std::move(backends));
  }

  std::string errorOf(bool withDevice = true) {
    auto e = createOn(withDevice);
    return e ? "" : llvm::toString(e.takeError());
  }

  ProgramBuilder pb;
  Dispatch *toDevice = nullptr;
  RecordingBackend::Log log;
};

TEST_F(ExecutorBackendsTest, EachDispatchRunsOnItsBackend) {
  auto e = createOn(true);
  ASSERT_TRUE(static_cast<bool>(e)) << llvm::toString(e.takeError());
  // The two device values (xd, y) have their own slots, from the device.
  const int64_t D = hp().nEmbd;
  ASSERT_EQ(log.allocated.size(), 2u);
  for (size_t bytes : log.allocated)
    EXPECT_GE(bytes, sizeof(float) * 8 * D);

  const std::vector<int32_t> tokens = {5, 17, 3, 999, 42};
  std::vector<int32_t> pos = {0, 1, 2, 3, 4}, rows = {0, 1, 2, 3, 4};
  SequenceSlot slot = freshSlot(16);
  SeqGroup g{&slot, 0, 5};
  std::vector<float> logits(5 * hp().nVocab);
  (*e)->run(tokens, pos, g, rows, logits.data(), nullptr, Dumper());

  EXPECT_EQ(log.ran, std::vector<size_t>{2}); // only the copy, index 2
  ASSERT_EQ(log.transfers.size(), 2u);
  EXPECT_EQ(log.transfers[0], std::make_pair(sizeof(float) * 5 * D, true));
  EXPECT_EQ(log.transfers[1], std::make_pair(sizeof(float) * 5 * D, false));
  const std::vector<float> want =
      matmulRef(model->output(), embedRows(tokens), 5);
  EXPECT_EQ(maxAbsDiff(logits.data(), want.data(), want.size()), 0.0);
}

TEST_F(ExecutorBackendsTest, AMissingBackendIsNamed) {
  const std::string message = errorOf(/*withDevice=*/false);
  EXPECT_NE(message.find("dispatch #1 'to_device' (transfer)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("runs on cuda, and this executor has no cuda "
                         "backend"),
            std::string::npos)
      << message;
}

TEST_F(ExecutorBackendsTest, ReadingAnotherBackendsMemoryNeedsATransfer) {
  // The device copy reads the host embedding directly.
  p().dispatches[2].operands[0] = p().dispatches[0].results[0];
  const std::string message = errorOf();
  EXPECT_NE(message.find("dispatch #2 'on_device' (copy): on cuda reads "
                         "'inp_embd', which lives in cpu memory; a transfer "
                         "must bring it over"),
            std::string::npos)
      << message;
}

TEST_F(ExecutorBackendsTest, ATransferBetweenOneBackendIsRefused) {
  toDevice->backend = Backend::Cpu;
  const std::string message = errorOf();
  EXPECT_NE(message.find("'to_device' (transfer): a transfer from backend 0 "
                         "to cpu; they must differ"),
            std::string::npos)
      << message;
}

TEST_F(ExecutorBackendsTest, ASlotHoldsOneBackendsValues) {
  // The device copy's result shares the host embedding's slot.
  const int32_t x = p().dispatches[0].results[0];
  const int32_t y = p().dispatches[2].results[0];
  p().values[y].slot = p().values[x].slot;
  const std::string message = errorOf();
  EXPECT_NE(message.find("'on_device': in cuda memory, shares scratch slot"),
            std::string::npos)
      << message;
}

TEST_F(ExecutorBackendsTest, LogitsMustComeBackToTheHost) {
  const int64_t V = hp().nVocab;
  p().logits = pb.op(DispatchKind::Transfer, "logits_to_device", {p().logits},
                     {kTokens, V});
  p().dispatches.back().backend = Backend::Cuda;
  const std::string message = errorOf();
  EXPECT_NE(message.find("'logits_to_device': logits in cuda memory (a "
                         "transfer must bring them to the cpu)"),
            std::string::npos)
      << message;
}

TEST_F(ExecutorBackendsTest, ABackendRefusesWhatItHasNoKernelFor) {
  // A weight it cannot bind, named with the dispatch and the operand.
  p().dispatches[4].backend = Backend::Cuda; // the matmul
  p().dispatches[4].operands[0] = p().dispatches[2].results[0];
  std::string message = errorOf();
  EXPECT_NE(message.find("'result_output' (matmul): the weight "
                         "'output.weight' f32 [1024, 64] cannot read weights"),
            std::string::npos)
      << message;
  // A kind it has no kernel for.
  Dispatch &norm = p().dispatches[2];
  norm.kind = DispatchKind::L2Norm;
  norm.params = NormParams{1e-6f};
  message = errorOf();
  EXPECT_NE(message.find("'on_device' (l2_norm): no kernel on the recording "
                         "backend"),
            std::string::npos)
      << message;
}

} // namespace
