// The BN254 G1 group: y^2 = x^3 + 3 over Fq (cofactor 1, so every curve point is in the group).
// Jacobian coordinates (X, Y, Z) stand for (X/Z^2, Y/Z^3); Z = 0 is the identity.
#pragma once
#include <cstdint>

#include "field.hpp"

namespace zkdl {

struct G1Affine {
  Fq x, y;
  bool infinity;

  static G1Affine identity() { return {Fq::zero(), Fq::zero(), true}; }
  bool on_curve() const;

  /// 64 bytes x‖y big-endian (the EVM precompile layout); the identity is 64 zero bytes. Rejects
  /// non-canonical coordinates and points off the curve.
  static G1Affine from_bytes(const uint8_t in[64]);
  void to_bytes(uint8_t out[64]) const;
};

struct G1 {
  Fq X, Y, Z;

  static G1 identity() { return {Fq::one(), Fq::one(), Fq::zero()}; }
  static G1 from_affine(const G1Affine& a) { return a.infinity ? identity() : G1{a.x, a.y, Fq::one()}; }
  bool is_identity() const { return Z.is_zero(); }

  G1 dbl() const;
  G1 add(const G1& q) const;
  G1 add_mixed(const G1Affine& q) const;
  G1 neg() const { return {X, -Y, Z}; }
  G1Affine to_affine() const;
  bool equals(const G1& q) const;

  /// Scalar multiplication by a canonical integer (limbs, little-endian).
  G1 mul(const u64 scalar[4]) const;
};

/// Fq element b = 3 of the curve equation, in Montgomery form.
const Fq& curve_b();

}  // namespace zkdl
