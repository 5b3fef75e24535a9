//===- ThreadPool.cpp - persistent worker threads for kernels -------------===//

#include "runtime/ThreadPool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QN_CPU_RELAX() _mm_pause()
#else
#define QN_CPU_RELAX() std::this_thread::yield()
#endif

using namespace qn::runtime;

namespace {
// Set while a thread runs pool work, so nested parallelFor runs inline instead
// of deadlocking on the busy pool.
thread_local bool InsidePoolWork = false;

// Waiting is spin (pause), then spin-with-yield, then (workers only) sleep.
// A decode step issues a matmul every few tens of microseconds, so workers
// spin about a millisecond to keep the wake-up off the futex path; yielding
// after the first PauseIterations keeps a spinning thread from starving the
// thread it waits for when there are more threads than free cores (other
// processes, or -t above the core count).
constexpr int PauseIterations = 2048;
constexpr int SpinIterations = PauseIterations + 2048;

inline void backOff(int iteration) {
  if (iteration < PauseIterations)
    QN_CPU_RELAX();
  else
    std::this_thread::yield();
}
} // namespace

unsigned ThreadPool::hardwareThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

ThreadPool::ThreadPool(unsigned numThreads)
    : NumThreads(std::min(numThreads == 0 ? hardwareThreads() : numThreads,
                          kMaxThreads)) {
  Workers.reserve(NumThreads - 1);
  for (unsigned i = 1; i < NumThreads; ++i)
    Workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(SleepMutex);
    Stop.store(true, std::memory_order_release);
    Generation.fetch_add(1, std::memory_order_acq_rel);
  }
  WakeUp.notify_all();
  for (std::thread &t : Workers)
    t.join();
}

void ThreadPool::runJob(unsigned index) {
  InsidePoolWork = true;
  Job(index, NumThreads);
  InsidePoolWork = false;
}

void ThreadPool::workerLoop(unsigned index) {
  uint64_t seen = 0;
  for (;;) {
    // Spin, then sleep, until the caller publishes a new generation.
    uint64_t gen = Generation.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < SpinIterations; ++spin) {
      backOff(spin);
      gen = Generation.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(SleepMutex);
      WakeUp.wait(lock, [&] {
        return Generation.load(std::memory_order_acquire) != seen;
      });
      gen = Generation.load(std::memory_order_acquire);
    }
    seen = gen;
    if (Stop.load(std::memory_order_acquire))
      return;
    runJob(index);
    Pending.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::runOnAll(llvm::function_ref<void(unsigned, unsigned)> fn) {
  if (NumThreads == 1 || InsidePoolWork) {
    // Serial: one call per logical thread keeps the contract.
    for (unsigned i = 0; i < NumThreads; ++i)
      fn(i, NumThreads);
    return;
  }
  Job = fn;
  Pending.store(NumThreads - 1, std::memory_order_relaxed);
  {
    // Bumping under the mutex means a worker between its last check and
    // its wait cannot miss the notification.
    std::lock_guard<std::mutex> lock(SleepMutex);
    Generation.fetch_add(1, std::memory_order_acq_rel);
  }
  WakeUp.notify_all();
  runJob(0);
  for (int spin = 0; Pending.load(std::memory_order_acquire) != 0; ++spin)
    backOff(spin);
  Job = {};
}

void ThreadPool::parallelFor(int64_t n,
                             llvm::function_ref<void(int64_t, int64_t)> fn,
                             int64_t grain) {
  if (n <= 0)
    return;
  grain = std::max<int64_t>(grain, 1);
  int64_t units = (n + grain - 1) / grain;
  int64_t parts = std::min<int64_t>(units, NumThreads);
  if (parts <= 1 || InsidePoolWork) {
    fn(0, n);
    return;
  }
  runOnAll([&](unsigned index, unsigned) {
    if (index >= parts)
      return;
    // Thread i takes units [i*units/parts, (i+1)*units/parts).
    int64_t beginUnit = index * units / parts;
    int64_t endUnit = (index + 1) * units / parts;
    int64_t begin = beginUnit * grain;
    int64_t end = std::min(n, endUnit * grain);
    if (begin < end)
      fn(begin, end);
  });
}

void ThreadPool::parallelForChunks(
    int64_t n, int64_t chunk, llvm::function_ref<void(int64_t, int64_t)> fn) {
  if (n <= 0)
    return;
  chunk = std::max<int64_t>(chunk, 1);
  const int64_t chunks = (n + chunk - 1) / chunk;
  if (chunks == 1 || NumThreads == 1 || InsidePoolWork) {
    fn(0, n);
    return;
  }
  std::atomic<int64_t> next{0};
  runOnAll([&](unsigned, unsigned) {
    for (;;) {
      int64_t k = next.fetch_add(1, std::memory_order_relaxed);
      if (k >= chunks)
        return;
      fn(k * chunk, std::min(n, (k + 1) * chunk));
    }
  });
}
