#include "g1.hpp"

namespace zkdl {

bool G1Affine::on_curve() const {
  if (infinity) return true;
  return y.sqr() == x.sqr() * x + curve_b();
}

G1Affine G1Affine::from_bytes(const uint8_t in[64]) {
  bool all_zero = true;
  for (int i = 0; i < 64; ++i) all_zero &= in[i] == 0;
  if (all_zero) return identity();
  G1Affine p{Fq::from_bytes(in), Fq::from_bytes(in + 32), false};
  if (!p.on_curve()) throw InputError("ZKDL_NOT_ON_CURVE", "G1 point is not on the curve y^2 = x^3 + 3");
  return p;
}

void G1Affine::to_bytes(uint8_t out[64]) const {
  if (infinity) {
    for (int i = 0; i < 64; ++i) out[i] = 0;
    return;
  }
  x.to_bytes(out);
  y.to_bytes(out + 32);
}

G1Affine G1::to_affine() const {
  if (is_identity()) return G1Affine::identity();
  Fq zi = Z.inv(), zi2 = zi.sqr();
  return {X * zi2, Y * zi2 * zi, false};
}

void G1::batch_to_affine(const G1* in, size_t n, G1Affine* out) {
  // out[i].x holds the prefix product of the nonzero Z's before i until the backward pass.
  Fq acc = Fq::one();
  for (size_t i = 0; i < n; ++i) {
    out[i].x = acc;
    if (!in[i].is_identity()) acc = acc * in[i].Z;
  }
  Fq inv = acc.inv();
  for (size_t i = n; i-- > 0;) {
    if (in[i].is_identity()) {
      out[i] = G1Affine::identity();
      continue;
    }
    const Fq zi = inv * out[i].x, zi2 = zi.sqr();
    inv = inv * in[i].Z;
    out[i] = {in[i].X * zi2, in[i].Y * zi2 * zi, false};
  }
}

bool G1::equals(const G1& q) const {
  if (is_identity() || q.is_identity()) return is_identity() && q.is_identity();
  Fq z1z1 = Z.sqr(), z2z2 = q.Z.sqr();
  return X * z2z2 == q.X * z1z1 && Y * q.Z * z2z2 == q.Y * Z * z1z1;
}

G1 G1::mul(const u64 scalar[4]) const {
  G1 acc = identity();
  for (int i = 255; i >= 0; --i) {
    acc = acc.dbl();
    if ((scalar[i / 64] >> (i % 64)) & 1) acc = acc.add(*this);
  }
  return acc;
}

}  // namespace zkdl
