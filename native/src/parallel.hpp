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

/// Calls fn(begin, end) on disjoint ranges covering [0, n), on up to `threads` threads (0 = all), each
/// range holding at least `grain` items. Rethrows the first exception a range threw.
template <class Fn>
void parallel_for(size_t n, size_t grain, Fn&& fn, unsigned threads = 0) {
  if (n == 0) return;
  size_t workers = threads ? threads : worker_count();
  workers = std::max<size_t>(1, std::min(workers, n / std::max<size_t>(1, grain)));
  if (workers == 1) {
    fn(size_t(0), n);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(workers);
  const size_t per = (n + workers - 1) / workers;
  for (size_t w = 0; w < workers; ++w) {
    const size_t begin = w * per, end = std::min(n, begin + per);
    if (begin >= end) break;
    pool.emplace_back([&, w, begin, end] {
      try {
        fn(begin, end);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    });
  }
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace zkdl
