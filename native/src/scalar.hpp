// Scalar recoding shared by the CPU MSM (msm.cpp) and the GPU pipeline (gpu/pipeline.hpp): the signed
// magnitude of an Fr scalar and its signed-digit windows. Host+device code.
#pragma once
#include <cstdint>

#include "field.hpp"

namespace zkdl {

/// (r − 1) / 2: scalars above it are negatives.
ZKDL_HD constexpr Limbs half_r() { return {{0xa1f0fac9f8000000ULL, 0x9419f4243cdcb848ULL, 0xdc2822db40c0ac2eULL, 0x183227397098d014ULL}}; }

/// The canonical magnitude of s as a signed value: k = s if s ≤ (r−1)/2, else k = r − s and the
/// result is true (negate the point). A fixed-point −5 becomes (5, true), not a 254-bit number.
ZKDL_HD bool signed_magnitude(const Fr& s, u64 k[4]) {
  s.to_canonical(k);
  constexpr Limbs half = half_r();
  if (geq256(half.v, k)) return false;
  constexpr Limbs r = FrParams::mod();
  u64 t[4] = {r.v[0], r.v[1], r.v[2], r.v[3]};
  sub256(t, k);
  for (int i = 0; i < 4; ++i) k[i] = t[i];
  return true;
}

/// Position of the highest set bit plus one (0 for k = 0).
ZKDL_HD unsigned bit_length(const u64 k[4]) {
  for (int i = 3; i >= 0; --i) {
    if (!k[i]) continue;
#if defined(__CUDA_ARCH__)
    return 64 * i + 64 - __clzll((long long)k[i]);
#else
    return 64 * i + 64 - __builtin_clzll(k[i]);
#endif
  }
  return 0;
}

/// Windows of c bits needed for signed digits of a `bits`-bit magnitude (one spare bit for the carry).
ZKDL_HD unsigned signed_windows(unsigned bits, unsigned c) { return (bits + 1 + c - 1) / c; }

/// Signed digits of k in (−2^(c−1), 2^(c−1)], c ≤ 31, least significant first: k = Σ_w digit_w·2^(wc).
/// Calls emit(w, digit) for w = 0 … windows−1.
template <class Emit>
ZKDL_HD void signed_digits(const u64 k[4], unsigned c, unsigned windows, Emit emit) {
  const u64 half = 1ULL << (c - 1), mask = (1ULL << c) - 1;
  u64 carry = 0;
  for (unsigned w = 0; w < windows; ++w) {
    const unsigned offset = w * c, limb = offset / 64, shift = offset % 64;
    u64 v = limb < 4 ? k[limb] >> shift : 0;
    if (limb + 1 < 4 && shift + c > 64) v |= k[limb + 1] << (64 - shift);
    const u64 d = (v & mask) + carry;
    carry = d > half ? 1 : 0;
    emit(w, carry ? (int64_t)d - (int64_t)(1ULL << c) : (int64_t)d);
  }
}

}  // namespace zkdl
