#include "fixed_base.hpp"

namespace zkdl {

FixedBase::FixedBase(const G1Affine& base) {
  if (base.infinity) return;
  // d·256^w for d ≤ 128 < r is never a multiple of the prime group order, so no entry is the identity
  // and every Z below is invertible.
  std::vector<G1> jac;
  jac.reserve(kWindows * kDigits);
  G1 step = G1::from_affine(base);  // 256^w·P
  for (int w = 0; w < kWindows; ++w) {
    G1 m = step;
    for (int d = 1; d <= kDigits; ++d) {
      jac.push_back(m);
      m = m.add(step);
    }
    step = jac.back().dbl();  // 2·128·256^w·P
  }
  // One inversion for all of them (Montgomery's trick).
  std::vector<Fq> prefix(jac.size());
  Fq acc = Fq::one();
  for (size_t i = 0; i < jac.size(); ++i) {
    prefix[i] = acc;
    acc = acc * jac[i].Z;
  }
  Fq inv = acc.inv();
  table_.resize(jac.size());
  for (size_t i = jac.size(); i-- > 0;) {
    Fq zi = inv * prefix[i];
    inv = inv * jac[i].Z;
    Fq zi2 = zi.sqr();
    table_[i] = {jac[i].X * zi2, jac[i].Y * zi2 * zi, false};
  }
}

G1 FixedBase::mul(const u64 k[4]) const {
  G1 acc = G1::identity();
  digits(k, [&](size_t index, bool negate) {
    const G1Affine& p = table_[index];
    acc = acc.add_mixed(negate ? G1Affine{p.x, -p.y, false} : p);
  });
  return acc;
}

}  // namespace zkdl
