//===- ThreadPoolTest.cpp - the kernels' thread pool ----------------------===//

#include "runtime/ThreadPool.h"

#include "gtest/gtest.h"

#include <atomic>
#include <vector>

using namespace qn::runtime;

namespace {

TEST(ThreadPool, DefaultUsesEveryHardwareThread) {
  ThreadPool pool;
  EXPECT_EQ(pool.numThreads(), ThreadPool::hardwareThreads());
  EXPECT_GE(pool.numThreads(), 1u);
}

TEST(ThreadPool, ParallelForCoversEachIndexOnce) {
  for (unsigned threads : {1u, 2u, 3u, 5u}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 3, 7, 64, 1000, 1001}) {
      for (int64_t grain : {1, 4, 16}) {
        std::vector<std::atomic<int>> hits(n);
        std::atomic<int> calls{0};
        pool.parallelFor(
            n,
            [&](int64_t begin, int64_t end) {
              EXPECT_LT(begin, end);
              calls.fetch_add(1);
              for (int64_t i = begin; i < end; ++i)
                hits[i].fetch_add(1);
            },
            grain);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(hits[i].load(), 1)
              << "index " << i << " n " << n << " threads " << threads;
        EXPECT_LE(calls.load(), static_cast<int>(threads));
      }
    }
  }
}

TEST(ThreadPool, ChunksCoverEachIndexOnce) {
  for (unsigned threads : {1u, 2u, 3u}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 5, 64, 1001})
      for (int64_t chunk : {1, 7, 64, 5000}) {
        std::vector<std::atomic<int>> hits(n);
        std::atomic<int> badChunk{0};
        pool.parallelForChunks(n, chunk, [&](int64_t begin, int64_t end) {
          // Every call is one whole chunk (the last may be short).
          if (begin % chunk != 0 || (end - begin != chunk && end != n))
            badChunk.fetch_add(1);
          for (int64_t i = begin; i < end; ++i)
            hits[i].fetch_add(1);
        });
        EXPECT_EQ(badChunk.load(), 0);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(hits[i].load(), 1)
              << "index " << i << " n " << n << " chunk " << chunk;
      }
  }
}

TEST(ThreadPool, ChunksMoveToTheFreeThread) {
  // A thread stuck in its first chunk does not hold back the rest: the
  // other thread takes them all.
  ThreadPool pool(2);
  std::atomic<int> done{0};
  std::vector<std::thread::id> owner(10);
  pool.parallelForChunks(10, 1, [&](int64_t begin, int64_t) {
    owner[begin] = std::this_thread::get_id();
    if (begin == 0) {
      while (done.load() < 9)
        std::this_thread::yield();
    } else {
      done.fetch_add(1);
    }
  });
  EXPECT_EQ(done.load(), 9);
  // Chunk 0's thread did nothing else.
  for (int i = 1; i < 10; ++i)
    EXPECT_NE(owner[i], owner[0]);
}

TEST(ThreadPool, RangesStartOnGrainBoundaries) {
  ThreadPool pool(3);
  std::atomic<int> bad{0};
  pool.parallelFor(
      103,
      [&](int64_t begin, int64_t) {
        if (begin % 8 != 0)
          bad.fetch_add(1);
      },
      8);
  EXPECT_EQ(bad.load(), 0);
}

TEST(ThreadPool, EmptyRangeCallsNothing) {
  ThreadPool pool(2);
  bool called = false;
  pool.parallelFor(0, [&](int64_t, int64_t) { called = true; });
  pool.parallelFor(-3, [&](int64_t, int64_t) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ThreadPool, UsesSeveralThreads) {
  ThreadPool pool(2);
  std::vector<std::thread::id> ids(2);
  pool.runOnAll([&](unsigned index, unsigned total) {
    EXPECT_EQ(total, 2u);
    ids[index] = std::this_thread::get_id();
  });
  EXPECT_NE(ids[0], ids[1]);
  EXPECT_EQ(ids[0], std::this_thread::get_id()); // the caller takes part
}

TEST(ThreadPool, ManyBackToBackCalls) {
  // The wake-up/barrier protocol must not lose or repeat a generation.
  ThreadPool pool(3);
  std::atomic<int64_t> sum{0};
  for (int rep = 0; rep < 2000; ++rep)
    pool.parallelFor(
        3, [&](int64_t begin, int64_t end) { sum.fetch_add(end - begin); });
  EXPECT_EQ(sum.load(), 6000);
}

TEST(ThreadPool, WakesAfterWorkersSleep) {
  ThreadPool pool(2);
  std::atomic<int> sum{0};
  for (int rep = 0; rep < 3; ++rep) {
    // Long enough for the workers to stop spinning and block.
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    pool.parallelFor(2, [&](int64_t begin, int64_t end) {
      sum.fetch_add(static_cast<int>(end - begin));
    });
  }
  EXPECT_EQ(sum.load(), 6);
}

TEST(ThreadPool, NestedCallRunsInline) {
  ThreadPool pool(2);
  std::atomic<int64_t> inner{0};
  pool.parallelFor(2, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      pool.parallelFor(10,
                       [&](int64_t b, int64_t e) { inner.fetch_add(e - b); });
  });
  EXPECT_EQ(inner.load(), 20);
}

} // namespace
