#include "g1.hpp"

namespace zkdl {

const Fq& curve_b() {
  static const Fq b = Fq::from_u64(3);
  return b;
}

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

// dbl-2009-l (a = 0)
G1 G1::dbl() const {
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
G1 G1::add(const G1& q) const {
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
G1 G1::add_mixed(const G1Affine& q) const {
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

G1Affine G1::to_affine() const {
  if (is_identity()) return G1Affine::identity();
  Fq zi = Z.inv(), zi2 = zi.sqr();
  return {X * zi2, Y * zi2 * zi, false};
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
