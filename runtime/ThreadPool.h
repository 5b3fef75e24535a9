//===- ThreadPool.h - persistent worker threads for kernels -----*- C++ -*-===//
//
// A small fixed pool used by the runtime's kernels (matmul, attention, ...).
// Workers live for the pool's lifetime; a parallelFor call hands them a
// function_ref (no allocation per call), wakes them through a generation
// counter they spin on briefly before sleeping, and waits for all of them
// with a spin-then-yield barrier. Calls are cheap enough (~microseconds) to
// issue one per weight matmul of a decode step.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_THREADPOOL_H
#define QN_RUNTIME_THREADPOOL_H

#include "llvm/ADT/STLFunctionalExtras.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace qn::runtime {

class ThreadPool {
public:
  /// A pool that runs work on `numThreads` threads in total: the calling
  /// thread plus numThreads - 1 workers. 0 means one per hardware thread.
  /// More threads are clamped to kMaxThreads: each costs a stack, and a
  /// count from a flag must not be able to exhaust memory.
  explicit ThreadPool(unsigned numThreads = 0);
  static constexpr unsigned kMaxThreads = 1024;
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// Threads that take part in a parallelFor, the caller included.
  unsigned numThreads() const { return NumThreads; }

  /// Calls fn(begin, end) on disjoint contiguous ranges covering [0, n),
  /// at most one range per thread, ranges as equal as possible (each a
  /// multiple of `grain` except the last). Returns when every call has
  /// returned. Only one thread may call parallelFor at a time; a call made
  /// from inside fn runs serially on the calling thread.
  void parallelFor(int64_t n, llvm::function_ref<void(int64_t, int64_t)> fn,
                   int64_t grain = 1);

  /// Calls fn(begin, end) on the chunks [k*chunk, min(n, (k+1)*chunk)) of
  /// [0, n), each exactly once, handed out to the threads as they ask for
  /// them. Where one thread is slowed down (another process on its core),
  /// the others take over its share; the chunks stay contiguous enough for
  /// the hardware prefetcher. Same nesting rule as parallelFor.
  void parallelForChunks(int64_t n, int64_t chunk,
                         llvm::function_ref<void(int64_t, int64_t)> fn);

  /// Calls fn(threadIndex, numThreads) once on every thread of the pool.
  void runOnAll(llvm::function_ref<void(unsigned, unsigned)> fn);

  /// The number of hardware threads (at least 1).
  static unsigned hardwareThreads();

private:
  void workerLoop(unsigned index);
  void runJob(unsigned index);

  unsigned NumThreads;
  std::vector<std::thread> Workers;

  // The current job; written by the caller before Generation is bumped.
  llvm::function_ref<void(unsigned, unsigned)> Job;
  std::atomic<uint64_t> Generation{0};
  std::atomic<unsigned> Pending{0};
  std::atomic<bool> Stop{false};
  std::mutex SleepMutex;
  std::condition_variable WakeUp;
};

} // namespace qn::runtime

#endif // QN_RUNTIME_THREADPOOL_H
