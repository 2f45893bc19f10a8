// The BN254 G1 group: y^2 = x^3 + 3 over Fq (cofactor 1, so every curve point is in the group).
// Jacobian coordinates (X, Y, Z) stand for (X/Z^2, Y/Z^3); Z = 0 is the identity.
#pragma once
#include <cstddef>
#include <cstdint>

#include "field.hpp"

namespace zkdl {

/// Fq element b = 3 of the curve equation, in Montgomery form.
ZKDL_HD Fq curve_b() { return Fq{{0x7a17caa950ad28d7ULL, 0x1f6ac17ae15521b9ULL, 0x334bea4e696bd284ULL, 0x2a1f6744ce179d8eULL}}; }

struct G1Affine {
  Fq x, y;
  bool infinity;

  ZKDL_HD static G1Affine identity() { return {Fq::zero(), Fq::zero(), true}; }
  bool on_curve() const;

  /// 64 bytes x‖y big-endian (the EVM precompile layout); the identity is 64 zero bytes. Rejects
  /// non-canonical coordinates and points off the curve.
  static G1Affine from_bytes(const uint8_t in[64]);
  void to_bytes(uint8_t out[64]) const;
};

struct G1 {
  Fq X, Y, Z;

  ZKDL_HD static G1 identity() { return {Fq::one(), Fq::one(), Fq::zero()}; }
  ZKDL_HD static G1 from_affine(const G1Affine& a) { return a.infinity ? identity() : G1{a.x, a.y, Fq::one()}; }
  ZKDL_HD bool is_identity() const { return Z.is_zero(); }

  // The group law is inline (and host+device) because it is the inner loop of every MSM.

  // dbl-2009-l (a = 0)
  ZKDL_HD G1 dbl() const {
    if (is_identity()) return *this;
    Fq a = X.sqr(), b = Y.sqr(), c = b.sqr();
    Fq d = ((X + b).sqr() - a - c).dbl();
    Fq e = a.dbl() + a;
    Fq f = e.sqr();
    Fq x3 = f - d.dbl();
    Fq y3 = e * (d - x3) - c.dbl().dbl().dbl();
    Fq z3 = (Y * Z).dbl();
    return {x3, y3, z3};
  }

  // add-2007-bl
  ZKDL_HD G1 add(const G1& q) const {
    if (is_identity()) return q;
    if (q.is_identity()) return *this;
    Fq z1z1 = Z.sqr(), z2z2 = q.Z.sqr();
    Fq u1 = X * z2z2, u2 = q.X * z1z1;
    Fq s1 = Y * q.Z * z2z2, s2 = q.Y * Z * z1z1;
    Fq h = u2 - u1, r = (s2 - s1).dbl();
    if (h.is_zero()) return r.is_zero() ? dbl() : identity();
    Fq i = h.dbl().sqr(), j = h * i, v = u1 * i;
    Fq x3 = r.sqr() - j - v.dbl();
    Fq y3 = r * (v - x3) - (s1 * j).dbl();
    Fq z3 = ((Z + q.Z).sqr() - z1z1 - z2z2) * h;
    return {x3, y3, z3};
  }

  // madd-2007-bl (q has Z = 1)
  ZKDL_HD G1 add_mixed(const G1Affine& q) const {
    if (q.infinity) return *this;
    if (is_identity()) return from_affine(q);
    Fq z1z1 = Z.sqr();
    Fq u2 = q.x * z1z1, s2 = q.y * Z * z1z1;
    Fq h = u2 - X, r = (s2 - Y).dbl();
    if (h.is_zero()) return r.is_zero() ? dbl() : identity();
    Fq hh = h.sqr(), i = hh.dbl().dbl(), j = h * i, v = X * i;
    Fq x3 = r.sqr() - j - v.dbl();
    Fq y3 = r * (v - x3) - (Y * j).dbl();
    Fq z3 = (Z + h).sqr() - z1z1 - hh;
    return {x3, y3, z3};
  }

  ZKDL_HD G1 neg() const { return {X, -Y, Z}; }
  G1Affine to_affine() const;
  /// out[i] = in[i].to_affine() for n points with one field inversion (Montgomery's trick).
  static void batch_to_affine(const G1* in, size_t n, G1Affine* out);
  bool equals(const G1& q) const;

  /// Scalar multiplication by a canonical integer (limbs, little-endian).
  G1 mul(const u64 scalar[4]) const;

  /// Multiplication by a small integer (double-and-add from the top set bit).
  ZKDL_HD G1 mul_small(uint32_t k) const {
    G1 acc = identity();
    for (int i = 31; i >= 0; --i) {
      acc = acc.dbl();
      if ((k >> i) & 1) acc = acc.add(*this);
    }
    return acc;
  }
};

}  // namespace zkdl
