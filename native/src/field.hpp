// Prime fields of BN254 in Montgomery form: Fr (scalars, all tensor values) and Fq (curve coordinates).
// Four 64-bit little-endian limbs; every value is kept fully reduced (< modulus), so equality is limb
// equality. Both moduli are below 2^254, which the carry handling below relies on. Constants come from
// constexpr functions rather than static arrays so that device code can use them too.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#include "errors.hpp"
#include "hd.hpp"

// Host x86-64 builds use the carry-chain intrinsics (plain adc/sbb, no ISA extension) for field
// addition and subtraction; device code and other hosts the portable limb loops. (The same for the
// Montgomery product measured slower in the MSM and matmul loops than the u128 form below.)
#if defined(__x86_64__) && !defined(__CUDA_ARCH__) && !defined(__CUDACC__)
#include <x86intrin.h>
#define ZKDL_X86_CARRY 1
#else
#define ZKDL_X86_CARRY 0
#endif

namespace zkdl {

using u64 = uint64_t;
using u128 = unsigned __int128;

struct Limbs {
  u64 v[4];
};

struct FrParams {
  static constexpr const char* name = "Fr";
  ZKDL_HD static constexpr Limbs mod() { return {{0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL}}; }
  ZKDL_HD static constexpr Limbs r() { return {{0xac96341c4ffffffbULL, 0x36fc76959f60cd29ULL, 0x666ea36f7879462eULL, 0x0e0a77c19a07df2fULL}}; }
  ZKDL_HD static constexpr Limbs r2() { return {{0x1bb8e645ae216da7ULL, 0x53fe3ab1e35c59e3ULL, 0x8c49833d53bb8085ULL, 0x0216d0b17f4e44a5ULL}}; }
  static constexpr u64 INV = 0xc2e1f593efffffffULL;  // -MOD^{-1} mod 2^64
};

struct FqParams {
  static constexpr const char* name = "Fq";
  ZKDL_HD static constexpr Limbs mod() { return {{0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL}}; }
  ZKDL_HD static constexpr Limbs r() { return {{0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL}}; }
  ZKDL_HD static constexpr Limbs r2() { return {{0xf32cfc5b538afa89ULL, 0xb5e71911d44501fbULL, 0x47ab1eff0a417ff6ULL, 0x06d89f71cab8351fULL}}; }
  static constexpr u64 INV = 0x87d20782e4866389ULL;
};

/// a >= b on 256-bit little-endian limbs.
ZKDL_HD bool geq256(const u64 a[4], const u64 b[4]) {
  for (int i = 3; i >= 0; --i)
    if (a[i] != b[i]) return a[i] > b[i];
  return true;
}

/// a -= b, returning the borrow.
ZKDL_HD u64 sub256(u64 a[4], const u64 b[4]) {
  u64 borrow = 0;
  for (int i = 0; i < 4; ++i) {
    u128 d = (u128)a[i] - b[i] - borrow;
    a[i] = (u64)d;
    borrow = (u64)(d >> 64) & 1;
  }
  return borrow;
}

/// a += b, returning the carry.
ZKDL_HD u64 add256(u64 a[4], const u64 b[4]) {
  u64 carry = 0;
  for (int i = 0; i < 4; ++i) {
    u128 s = (u128)a[i] + b[i] + carry;
    a[i] = (u64)s;
    carry = (u64)(s >> 64);
  }
  return carry;
}

/// 32 big-endian bytes into little-endian limbs.
inline void load_be256(const uint8_t* be, u64 v[4]) {
  for (int i = 0; i < 4; ++i) {
    u64 w = 0;
    for (int k = 0; k < 8; ++k) w = (w << 8) | be[(3 - i) * 8 + k];
    v[i] = w;
  }
}

template <class P>
struct Field {
  u64 l[4];  // Montgomery form: l = value * 2^256 mod MOD

  ZKDL_HD static Field zero() { return Field{{0, 0, 0, 0}}; }
  ZKDL_HD static Field one() {
    constexpr Limbs r = P::r();
    return Field{{r.v[0], r.v[1], r.v[2], r.v[3]}};
  }

  ZKDL_HD bool is_zero() const { return (l[0] | l[1] | l[2] | l[3]) == 0; }
  ZKDL_HD bool operator==(const Field& o) const { return ((l[0] ^ o.l[0]) | (l[1] ^ o.l[1]) | (l[2] ^ o.l[2]) | (l[3] ^ o.l[3])) == 0; }
  ZKDL_HD bool operator!=(const Field& o) const { return !(*this == o); }

  ZKDL_HD friend Field operator+(const Field& a, const Field& b) {
    constexpr Limbs m = P::mod();
#if ZKDL_X86_CARRY
    // Branch-free on the host: the sum (< 2^255, no carry out), then the modulus subtracted and the
    // result kept unless that borrowed. Same value as the portable path.
    unsigned long long s0, s1, s2, s3, d0, d1, d2, d3;
    unsigned char c = _addcarry_u64(0, a.l[0], b.l[0], &s0);
    c = _addcarry_u64(c, a.l[1], b.l[1], &s1);
    c = _addcarry_u64(c, a.l[2], b.l[2], &s2);
    _addcarry_u64(c, a.l[3], b.l[3], &s3);
    unsigned char br = _subborrow_u64(0, s0, m.v[0], &d0);
    br = _subborrow_u64(br, s1, m.v[1], &d1);
    br = _subborrow_u64(br, s2, m.v[2], &d2);
    br = _subborrow_u64(br, s3, m.v[3], &d3);
    return br ? Field{{s0, s1, s2, s3}} : Field{{d0, d1, d2, d3}};
#else
    Field r = a;
    add256(r.l, b.l);  // < 2^255: no carry out
    if (geq256(r.l, m.v)) sub256(r.l, m.v);
    return r;
#endif
  }

  ZKDL_HD friend Field operator-(const Field& a, const Field& b) {
    constexpr Limbs m = P::mod();
#if ZKDL_X86_CARRY
    // Branch-free on the host: the difference, plus the modulus masked in when it borrowed.
    unsigned long long d0, d1, d2, d3;
    unsigned char br = _subborrow_u64(0, a.l[0], b.l[0], &d0);
    br = _subborrow_u64(br, a.l[1], b.l[1], &d1);
    br = _subborrow_u64(br, a.l[2], b.l[2], &d2);
    br = _subborrow_u64(br, a.l[3], b.l[3], &d3);
    const u64 mask = 0 - (u64)br;
    unsigned char c = _addcarry_u64(0, d0, m.v[0] & mask, &d0);
    c = _addcarry_u64(c, d1, m.v[1] & mask, &d1);
    c = _addcarry_u64(c, d2, m.v[2] & mask, &d2);
    _addcarry_u64(c, d3, m.v[3] & mask, &d3);
    return Field{{d0, d1, d2, d3}};
#else
    Field r = a;
    if (sub256(r.l, b.l)) add256(r.l, m.v);
    return r;
#endif
  }

  ZKDL_HD Field operator-() const { return is_zero() ? *this : zero() - *this; }

  ZKDL_HD Field dbl() const { return *this + *this; }

  /// Montgomery multiplication (CIOS): a*b*2^-256 mod MOD.
  ZKDL_HD friend Field operator*(const Field& a, const Field& b) {
    constexpr Limbs mod = P::mod();
    u64 t[6] = {0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 4; ++i) {
      u64 c = 0;
      for (int j = 0; j < 4; ++j) {
        u128 s = (u128)a.l[j] * b.l[i] + t[j] + c;
        t[j] = (u64)s;
        c = (u64)(s >> 64);
      }
      u128 s = (u128)t[4] + c;
      t[4] = (u64)s;
      t[5] = (u64)(s >> 64);

      u64 m = t[0] * P::INV;
      s = (u128)m * mod.v[0] + t[0];
      c = (u64)(s >> 64);
      for (int j = 1; j < 4; ++j) {
        s = (u128)m * mod.v[j] + t[j] + c;
        t[j - 1] = (u64)s;
        c = (u64)(s >> 64);
      }
      s = (u128)t[4] + c;
      t[3] = (u64)s;
      t[4] = t[5] + (u64)(s >> 64);
    }
    Field r{{t[0], t[1], t[2], t[3]}};
    if (t[4] != 0 || geq256(r.l, mod.v)) sub256(r.l, mod.v);
    return r;
  }

  ZKDL_HD Field sqr() const { return *this * *this; }

  /// this^e for a canonical (non-Montgomery) exponent e.
  ZKDL_HD Field pow(const u64 e[4]) const {
    Field result = one();
    for (int i = 255; i >= 0; --i) {
      result = result.sqr();
      if ((e[i / 64] >> (i % 64)) & 1) result = result * *this;
    }
    return result;
  }

  /// Multiplicative inverse by Fermat (a^(MOD-2)); the inverse of zero is zero.
  ZKDL_HD Field inv() const {
    constexpr Limbs m = P::mod();
    u64 e[4] = {m.v[0], m.v[1], m.v[2], m.v[3]};
    const u64 two[4] = {2, 0, 0, 0};
    sub256(e, two);
    return pow(e);
  }

  /// From a canonical integer (< MOD) in limbs.
  ZKDL_HD static Field from_canonical(const u64 v[4]) {
    constexpr Limbs r2 = P::r2();
    const Field x{{v[0], v[1], v[2], v[3]}};
    return x * Field{{r2.v[0], r2.v[1], r2.v[2], r2.v[3]}};
  }

  ZKDL_HD static Field from_u64(u64 v) {
    const u64 limbs[4] = {v, 0, 0, 0};
    return from_canonical(limbs);
  }

  /// The canonical integer in limbs.
  ZKDL_HD void to_canonical(u64 out[4]) const {
    const Field c = *this * Field{{1, 0, 0, 0}};
    for (int i = 0; i < 4; ++i) out[i] = c.l[i];
  }

  /// Parses 32 big-endian bytes; rejects values >= MOD.
  static Field from_bytes(const uint8_t* be) {
    constexpr Limbs m = P::mod();
    u64 v[4];
    load_be256(be, v);
    if (geq256(v, m.v)) throw InputError("ZKDL_NON_CANONICAL", std::string(P::name) + " element is not below the modulus");
    return from_canonical(v);
  }

  /// Parses 32 big-endian bytes as an integer reduced mod MOD (for hash outputs).
  static Field from_bytes_reduce(const uint8_t* be) {
    constexpr Limbs m = P::mod();
    u64 v[4];
    load_be256(be, v);
    while (geq256(v, m.v)) sub256(v, m.v);  // at most 5 times: 2^256 / MOD < 6
    return from_canonical(v);
  }

  /// Writes 32 big-endian canonical bytes.
  void to_bytes(uint8_t* be) const {
    u64 v[4];
    to_canonical(v);
    for (int i = 0; i < 4; ++i)
      for (int k = 0; k < 8; ++k) be[(3 - i) * 8 + k] = (uint8_t)(v[i] >> (56 - 8 * k));
  }
};

using Fr = Field<FrParams>;
using Fq = Field<FqParams>;

}  // namespace zkdl
