// The GPU algorithms, written once against a small executor interface so that the same code runs on
// CUDA (CudaExec, cuda.cu) and, one index at a time, on the host (HostExec, host_exec.hpp). The host
// run is how CI checks this code on machines without a GPU: the tests compare it with the CPU
// kernels, so only the executor's few CUDA calls are left for a machine with a device.
//
// An executor provides:
//   T* alloc<T>(n)                        device memory, released with the executor
//   upload(dst, src, n), download(dst, src, n), zero(p, n)
//   for_each(n, f)                        f(i) for every i < n, concurrently, in any order
//   sort_pairs(keys, values, n, bits)     sorts (key, value) pairs by the low `bits` bits of key
//
// Every f passed to for_each touches only index i's outputs, so any execution order is correct.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../errors.hpp"
#include "../g1.hpp"
#include "../scalar.hpp"
#include "gpu.hpp"

#if defined(__CUDACC__)
#define ZKDL_KERNEL [=] __host__ __device__
#else
#define ZKDL_KERNEL [=]
#endif

namespace zkdl::gpu {

template <class Exec>
std::vector<Fr> elementwise(Exec& ex, ElementOp op, const std::vector<Fr>& a, const std::vector<Fr>* b, Fr s) {
  const size_t n = a.size();
  Fr* da = ex.template alloc<Fr>(n);
  ex.upload(da, a.data(), n);
  Fr* db = da;
  if (b) {
    db = ex.template alloc<Fr>(n);
    ex.upload(db, b->data(), n);
  }
  Fr* out = ex.template alloc<Fr>(n);
  ex.for_each(n, ZKDL_KERNEL(size_t i) {
    switch (op) {
      case ElementOp::Add: out[i] = da[i] + db[i]; break;
      case ElementOp::Sub: out[i] = da[i] - db[i]; break;
      case ElementOp::Mul: out[i] = da[i] * db[i]; break;
      default: out[i] = da[i] * s;
    }
  });
  std::vector<Fr> r(n);
  ex.download(r.data(), out, n);
  return r;
}

/// out[i] = a[2i] + r·(a[2i+1] − a[2i]).
template <class Exec>
std::vector<Fr> fold(Exec& ex, const std::vector<Fr>& a, Fr r) {
  const size_t half = a.size() / 2;
  Fr* da = ex.template alloc<Fr>(a.size());
  ex.upload(da, a.data(), a.size());
  Fr* out = ex.template alloc<Fr>(half);
  ex.for_each(half, ZKDL_KERNEL(size_t i) { out[i] = da[2 * i] + r * (da[2 * i + 1] - da[2 * i]); });
  std::vector<Fr> res(half);
  ex.download(res.data(), out, half);
  return res;
}

/// Sums `rows` columns of length m in place (row-major, stride m) by halving; the sums land in column 0.
template <class Exec>
void sum_columns(Exec& ex, Fr* data, size_t rows, size_t m) {
  for (size_t len = m; len > 1;) {
    const size_t h = (len + 1) / 2, pairs = len - h;
    ex.for_each(rows * pairs, ZKDL_KERNEL(size_t j) {
      const size_t row = j / pairs, i = j % pairs;
      data[row * m + i] = data[row * m + i] + data[row * m + i + h];
    });
    len = h;
  }
}

constexpr int MAX_FACTORS = 5;
struct Factors {
  const Fr* p[MAX_FACTORS];
  int count;
};

/// Evaluations at X = 0..D of Σ_i Π_j ((1 − X)·f_j[2i] + X·f_j[2i+1]), D = the number of factors.
template <class Exec>
std::vector<Fr> sumcheck_round(Exec& ex, const std::vector<const std::vector<Fr>*>& factors) {
  const int k = (int)factors.size();
  const size_t n = factors[0]->size(), half = n / 2, points = (size_t)k + 1;
  Factors f{};
  f.count = k;
  for (int j = 0; j < k; ++j) {
    Fr* d = ex.template alloc<Fr>(n);
    ex.upload(d, factors[j]->data(), n);
    f.p[j] = d;
  }
  Fr* evals = ex.template alloc<Fr>(points * half);  // evals[X·half + i]
  ex.for_each(half, ZKDL_KERNEL(size_t i) {
    Fr value[MAX_FACTORS], step[MAX_FACTORS];
    for (int j = 0; j < f.count; ++j) {
      value[j] = f.p[j][2 * i];
      step[j] = f.p[j][2 * i + 1] - value[j];
    }
    for (int x = 0; x <= f.count; ++x) {
      Fr prod = value[0];
      for (int j = 1; j < f.count; ++j) prod = prod * value[j];
      evals[x * half + i] = prod;
      for (int j = 0; j < f.count; ++j) value[j] = value[j] + step[j];
    }
  });
  sum_columns(ex, evals, points, half);
  std::vector<Fr> out(points);
  for (size_t x = 0; x < points; ++x) ex.download(&out[x], evals + x * half, 1);
  return out;
}

/// Window width for n points with scalars of at most `bits` bits: about log2(n) − 3, so that a window
/// has a few points per bucket, capped at 16.
inline unsigned msm_window(size_t n, unsigned bits) {
  unsigned log_n = 0;
  while ((size_t(1) << (log_n + 1)) <= n) ++log_n;
  unsigned c = log_n > 5 ? log_n - 3 : 2;
  return std::max(2u, std::min({c, 16u, bits + 1}));
}

struct Magnitude {
  u64 k[4];
  uint32_t negate;
};

/// `batch` MSMs over the same n points: result[b] = Σ_i scalars[b·n + i]·points[i]. Pippenger with
/// signed digits; every (instance, window, bucket) is one sort key, so one radix sort groups all the
/// bucket members of all windows and instances, one thread sums each bucket, and each window's
/// Σ (b+1)·bucket_b is split into segments reduced in parallel.
template <class Exec>
std::vector<G1> msm_batch(Exec& ex, const G1Affine* points, size_t n, const Fr* scalars, size_t batch) {
  std::vector<G1> results(batch, G1::identity());
  if (n == 0 || batch == 0) return results;
  const size_t total = n * batch;
  G1Affine* dp = ex.template alloc<G1Affine>(n);
  ex.upload(dp, points, n);
  Fr* ds = ex.template alloc<Fr>(total);
  ex.upload(ds, scalars, total);

  // 1. Canonical magnitudes; scalars above (r−1)/2 become r − s on the negated point.
  Magnitude* mag = ex.template alloc<Magnitude>(total);
  uint8_t* bitlen = ex.template alloc<uint8_t>(total);
  ex.for_each(total, ZKDL_KERNEL(size_t i) {
    Magnitude m{{0, 0, 0, 0}, 0};
    uint8_t bits = 0;
    if (!dp[i % n].infinity && !ds[i].is_zero()) {
      m.negate = signed_magnitude(ds[i], m.k);
      bits = (uint8_t)bit_length(m.k);
    }
    mag[i] = m;
    bitlen[i] = bits;
  });
  std::vector<uint8_t> host_bits(total);
  ex.download(host_bits.data(), bitlen, total);
  const unsigned bits = *std::max_element(host_bits.begin(), host_bits.end());
  if (bits == 0) return results;

  // 2. One sort key per (term, window) with a non-zero digit; zero digits get SKIP, sorted last.
  const unsigned c = msm_window(n, bits);
  const unsigned windows = signed_windows(bits, c);
  const size_t per_window = size_t(1) << (c - 1);
  const size_t buckets = batch * windows * per_window;
  const size_t entries = total * windows;
  if (buckets >= (size_t(1) << 31) || entries >= (size_t(1) << 32))
    throw InputError("ZKDL_OUT_OF_RANGE", "MSM batch too large for one GPU pass");
  const uint32_t SKIP = (uint32_t)buckets;
  unsigned key_bits = 1;
  while ((size_t(1) << key_bits) <= buckets) ++key_bits;
  uint32_t* keys = ex.template alloc<uint32_t>(entries);
  uint32_t* vals = ex.template alloc<uint32_t>(entries);
  ex.for_each(total, ZKDL_KERNEL(size_t i) {
    const Magnitude m = mag[i];
    const size_t instance = i / n;
    signed_digits(m.k, c, windows, [&](unsigned w, int64_t digit) {
      const size_t e = w * total + i;
      if (digit == 0) {
        keys[e] = SKIP;
        vals[e] = 0;
      } else {
        const uint32_t mag_d = (uint32_t)(digit < 0 ? -digit : digit);
        keys[e] = (uint32_t)(((instance * windows + w) << (c - 1)) | (mag_d - 1));
        vals[e] = (uint32_t)(i % n) | ((uint32_t)((digit < 0) != (m.negate != 0)) << 31);
      }
    });
  });
  ex.sort_pairs(keys, vals, entries, key_bits);

  // 3. Bucket ranges in the sorted order, then one thread per bucket sums its points.
  uint32_t* start = ex.template alloc<uint32_t>(buckets);
  uint32_t* end = ex.template alloc<uint32_t>(buckets);
  ex.zero(start, buckets);
  ex.zero(end, buckets);
  ex.for_each(entries, ZKDL_KERNEL(size_t i) {
    const uint32_t key = keys[i];
    if (key == SKIP) return;
    if (i == 0 || keys[i - 1] != key) start[key] = (uint32_t)i;
    if (i + 1 == entries || keys[i + 1] != key) end[key] = (uint32_t)(i + 1);
  });
  G1* sums = ex.template alloc<G1>(buckets);
  ex.for_each(buckets, ZKDL_KERNEL(size_t b) {
    G1 acc = G1::identity();
    for (uint32_t i = start[b]; i < end[b]; ++i) {
      G1Affine p = dp[vals[i] & 0x7fffffffu];
      if (vals[i] >> 31) p.y = -p.y;
      acc = acc.add_mixed(p);
    }
    sums[b] = acc;
  });

  // 4. Each window's Σ_b (b+1)·bucket_b, as segments: a segment [lo, hi) contributes
  //    Σ (b − lo + 1)·bucket_b (running sums) + lo·Σ bucket_b.
  const size_t window_count = batch * windows;
  const size_t segments = std::min<size_t>(per_window, 64), seg_len = (per_window + segments - 1) / segments;
  G1* seg = ex.template alloc<G1>(window_count * segments);
  ex.for_each(window_count * segments, ZKDL_KERNEL(size_t j) {
    const size_t wi = j / segments, s = j % segments;
    const size_t lo = s * seg_len, hi = lo + seg_len < per_window ? lo + seg_len : per_window;
    G1 running = G1::identity(), sum = G1::identity();
    for (size_t b = hi; b-- > lo;) {
      running = running.add(sums[wi * per_window + b]);
      sum = sum.add(running);
    }
    seg[j] = lo < hi ? sum.add(running.mul_small((uint32_t)lo)) : G1::identity();
  });
  G1* window_sums = ex.template alloc<G1>(window_count);
  ex.for_each(window_count, ZKDL_KERNEL(size_t wi) {
    G1 acc = G1::identity();
    for (size_t s = 0; s < segments; ++s) acc = acc.add(seg[wi * segments + s]);
    window_sums[wi] = acc;
  });

  // 5. Horner over the windows, on the host.
  std::vector<G1> host(window_count);
  ex.download(host.data(), window_sums, window_count);
  for (size_t b = 0; b < batch; ++b) {
    G1 acc = G1::identity();
    for (size_t w = windows; w-- > 0;) {
      for (unsigned d = 0; d < c; ++d) acc = acc.dbl();
      acc = acc.add(host[b * windows + w]);
    }
    results[b] = acc;
  }
  return results;
}

}  // namespace zkdl::gpu
