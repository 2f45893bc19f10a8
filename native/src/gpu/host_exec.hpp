// The host executor for pipeline.hpp: plain memory, for_each spread over the CPU threads, std::sort.
// It runs the GPU algorithms where no GPU is present, which is how the tests check them.
#pragma once
#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>
#include <vector>

#include "../parallel.hpp"

namespace zkdl::gpu {

class HostExec {
 public:
  template <class T>
  T* alloc(size_t n) {
    arena_.emplace_back(new unsigned char[std::max<size_t>(1, n * sizeof(T))]);
    return reinterpret_cast<T*>(arena_.back().get());
  }
  template <class T>
  void upload(T* dst, const T* src, size_t n) { if (n) std::memcpy(dst, src, n * sizeof(T)); }
  template <class T>
  void download(T* dst, const T* src, size_t n) { if (n) std::memcpy(dst, src, n * sizeof(T)); }
  template <class T>
  void zero(T* p, size_t n) { if (n) std::memset(p, 0, n * sizeof(T)); }

  template <class F>
  void for_each(size_t n, F f) {
    parallel_for(n, 1024, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) f(i);
    });
  }

  void sort_pairs(uint32_t* keys, uint32_t* values, size_t n, unsigned bits) {
    const uint32_t mask = bits >= 32 ? ~0u : ((1u << bits) - 1);
    std::vector<uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return (keys[a] & mask) < (keys[b] & mask); });
    std::vector<uint32_t> k(n), v(n);
    for (size_t i = 0; i < n; ++i) k[i] = keys[order[i]], v[i] = values[order[i]];
    std::copy(k.begin(), k.end(), keys);
    std::copy(v.begin(), v.end(), values);
  }

 private:
  std::vector<std::unique_ptr<unsigned char[]>> arena_;
};

}  // namespace zkdl::gpu
