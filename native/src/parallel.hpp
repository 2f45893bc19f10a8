// A minimal fork-join helper shared by the CPU kernels: split [0, n) into contiguous ranges, one
// std::thread per range. Kernels here run for milliseconds or more, so the thread start-up cost
// (~20 µs) is noise next to them; ranges below `grain` items stay on the calling thread.
#pragma once
#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace zkdl {

/// Hardware threads, at least 1. ZKDL_THREADS in the environment caps it (for benchmarks and tests).
unsigned worker_count();

/// How many ranges parallel_chunks cuts [0, n) into: at most `threads` (0 = all), each at least `grain`.
inline size_t chunk_count(size_t n, size_t grain, unsigned threads = 0) {
  if (n == 0) return 0;
  const size_t workers = threads ? threads : worker_count();
  return std::max<size_t>(1, std::min(workers, n / std::max<size_t>(1, grain)));
}

/// Calls fn(chunk, begin, end) for chunk = 0 … chunk_count(n, grain, threads) − 1 on disjoint
/// contiguous ranges covering [0, n), one thread per chunk (reductions index partial results by
/// chunk). Rethrows the first exception a range threw.
template <class Fn>
void parallel_chunks(size_t n, size_t grain, Fn&& fn, unsigned threads = 0) {
  const size_t chunks = chunk_count(n, grain, threads);
  if (chunks == 0) return;
  const size_t per = (n + chunks - 1) / chunks;
  if (chunks == 1) {
    fn(size_t(0), size_t(0), n);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(chunks);
  for (size_t c = 0; c < chunks; ++c) {
    const size_t begin = std::min(n, c * per), end = std::min(n, begin + per);
    pool.emplace_back([&, c, begin, end] {
      try {
        if (begin < end) fn(c, begin, end);
      } catch (...) {
        errors[c] = std::current_exception();
      }
    });
  }
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

/// Calls fn(begin, end) on disjoint ranges covering [0, n), as parallel_chunks.
template <class Fn>
void parallel_for(size_t n, size_t grain, Fn&& fn, unsigned threads = 0) {
  parallel_chunks(n, grain, [&](size_t, size_t begin, size_t end) { fn(begin, end); }, threads);
}

}  // namespace zkdl
