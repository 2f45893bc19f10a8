#include "msm.hpp"

#include <algorithm>
#include <thread>

namespace zkdl {
namespace {

// (r - 1) / 2: scalars above it are treated as negatives, r - s, on the negated point.
constexpr u64 HALF_R[4] = {0xa1f0fac9f8000000ULL, 0x9419f4243cdcb848ULL, 0xdc2822db40c0ac2eULL, 0x183227397098d014ULL};

struct Term {
  const G1Affine* point;
  u64 k[4];  // canonical magnitude, <= (r-1)/2 < 2^253
  bool negate;
};

unsigned bit_length(const u64 k[4]) {
  for (int i = 3; i >= 0; --i)
    if (k[i]) return 64 * i + 64 - __builtin_clzll(k[i]);
  return 0;
}

/// Bits [offset, offset + width) of k, width <= 32.
inline u64 window_bits(const u64 k[4], unsigned offset, unsigned width) {
  unsigned limb = offset / 64, shift = offset % 64;
  if (limb >= 4) return 0;
  u64 v = k[limb] >> shift;
  if (shift + width > 64 && limb + 1 < 4) v |= k[limb + 1] << (64 - shift);
  return v & ((1ULL << width) - 1);
}

/// Pippenger over terms[begin, end) with signed digits in (-2^(c-1), 2^(c-1)].
G1 pippenger(const std::vector<Term>& terms, size_t begin, size_t end, unsigned bits, unsigned c) {
  if (begin >= end || bits == 0) return G1::identity();
  const unsigned windows = (bits + 1 + c - 1) / c;  // one spare bit for the final carry
  const size_t n = end - begin;
  const u64 half = 1ULL << (c - 1);

  // Signed digits of every scalar, window by window (digit 0 means "skip").
  std::vector<int32_t> digits(n * windows);
  for (size_t i = 0; i < n; ++i) {
    const u64* k = terms[begin + i].k;
    u64 carry = 0;
    for (unsigned w = 0; w < windows; ++w) {
      u64 d = window_bits(k, w * c, c) + carry;
      carry = d > half ? 1 : 0;
      digits[i * windows + w] = carry ? (int32_t)d - (int32_t)(1ULL << c) : (int32_t)d;
    }
  }

  std::vector<G1> buckets(half);
  G1 result = G1::identity();
  for (int w = (int)windows - 1; w >= 0; --w) {
    for (unsigned d = 0; d < c; ++d) result = result.dbl();
    std::fill(buckets.begin(), buckets.end(), G1::identity());
    for (size_t i = 0; i < n; ++i) {
      int32_t d = digits[i * windows + w];
      if (d == 0) continue;
      const Term& t = terms[begin + i];
      bool neg = (d < 0) != t.negate;
      G1Affine p = *t.point;
      if (neg) p.y = -p.y;
      size_t b = (size_t)(d < 0 ? -d : d) - 1;
      buckets[b] = buckets[b].add_mixed(p);
    }
    G1 running = G1::identity(), window_sum = G1::identity();
    for (size_t b = half; b-- > 0;) {
      running = running.add(buckets[b]);
      window_sum = window_sum.add(running);
    }
    result = result.add(window_sum);
  }
  return result;
}

}  // namespace

unsigned msm_window_bits(size_t n, unsigned bits) {
  unsigned log_n = 0;
  while ((size_t(1) << (log_n + 1)) <= n) ++log_n;
  unsigned c = log_n > 3 ? log_n - 2 : 2;
  c = std::min(c, 16u);
  return std::max(2u, std::min(c, bits + 1));
}

G1 msm(const G1Affine* points, const Fr* scalars, size_t n, unsigned threads) {
  std::vector<Term> terms;
  terms.reserve(n);
  unsigned bits = 0;
  for (size_t i = 0; i < n; ++i) {
    if (points[i].infinity || scalars[i].is_zero()) continue;
    Term t{&points[i], {0, 0, 0, 0}, false};
    scalars[i].to_canonical(t.k);
    if (!geq256(HALF_R, t.k)) {  // s > (r-1)/2: use r - s on -P
      u64 r[4] = {FrParams::MOD[0], FrParams::MOD[1], FrParams::MOD[2], FrParams::MOD[3]};
      sub256(r, t.k);
      std::copy(r, r + 4, t.k);
      t.negate = true;
    }
    bits = std::max(bits, bit_length(t.k));
    terms.push_back(t);
  }
  if (terms.empty()) return G1::identity();

  unsigned hw = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  // Below a few thousand points the thread start-up outweighs the gain.
  size_t chunks = std::min<size_t>(hw, std::max<size_t>(1, terms.size() / 2048));
  unsigned c = msm_window_bits(terms.size() / chunks, bits);
  if (chunks == 1) return pippenger(terms, 0, terms.size(), bits, c);

  std::vector<G1> partial(chunks, G1::identity());
  std::vector<std::thread> pool;
  size_t per = (terms.size() + chunks - 1) / chunks;
  for (size_t t = 0; t < chunks; ++t) {
    size_t begin = t * per, end = std::min(terms.size(), begin + per);
    pool.emplace_back([&, t, begin, end] { partial[t] = pippenger(terms, begin, end, bits, c); });
  }
  for (auto& th : pool) th.join();
  G1 sum = G1::identity();
  for (const G1& p : partial) sum = sum.add(p);
  return sum;
}

}  // namespace zkdl
