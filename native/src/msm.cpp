// Pippenger's bucket method, shaped for the scalars this project commits to:
//
//  * Scalars above (r−1)/2 are negatives: the magnitude r − s goes on the negated point, so a
//    fixed-point value −5 costs the same as +5 (3 bits, not 254).
//  * Scalars still wider than 128 bits are split with the GLV endomorphism φ(x, y) = (βx, y) = λ·P:
//    s·P = k1·P + k2·φ(P) with |k1|, |k2| < 2^128, halving the number of windows.
//  * Digits are signed, in (−2^(c−1), 2^(c−1)], so a window needs 2^(c−1) buckets.
//  * Buckets are filled in affine coordinates: each window's points are sorted by bucket, then summed
//    pairwise in rounds, every round's additions sharing one field inversion (Montgomery's trick).
//    An affine addition then costs about 6 multiplications against 11 for a mixed Jacobian one.
//  * The work is split into (window, slice of points) tasks that threads take from a shared counter;
//    the window width and the number of slices come from a cost model of both phases.
#include "msm.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <array>
#include <thread>

#include "gpu/gpu.hpp"
#include "parallel.hpp"
#include "scalar.hpp"

namespace zkdl {
namespace {

constexpr Limbs R_MOD = FrParams::mod();
constexpr Limbs HALF_R = half_r();

// GLV constants. β is a cube root of unity in Fq and λ = 0xb3c4d79d41a917585bfc41088d8daaa78b17ea66b99c90dd
// one in Fr, paired so that (βx, y) = λ·(x, y) on G1; the basis comes from the extended Euclidean
// algorithm on (r, λ) stopped at √r (GLV 2001, §4). The MSM tests check the split on edge scalars. The short lattice basis v1 = (A1, −B1), v2 = (A2, B2)
// satisfies a + b·λ ≡ 0 (mod r), and G1_ = round(2^256·B2 / r), G2_ = round(2^256·B1 / r) give the
// rounded coordinates of (k, 0) in that basis.
constexpr u64 BETA[4] = {0x5763473177fffffeULL, 0xd4f263f1acdb5c4fULL, 0x59e26bcea0d48bacULL, 0};
constexpr u64 A1 = 0x89d3256894d213e3ULL;                                          // 9931322734385697763
constexpr u64 B1[2] = {0x8211bbeb7d4f1128ULL, 0x6f4d8248eeb859fcULL};               // |b1|, 127 bits
constexpr u64 A2[2] = {0x0be4e1541221250bULL, 0x6f4d8248eeb859fdULL};               // 127 bits
constexpr u64 B2 = A1;

/// round(2^256 · x / r) for the two basis coordinates, computed once (see glv_constants()).
struct GlvRounding {
  u64 g1[4];  // ≈ 2^66
  u64 g2[4];  // ≈ 2^129
};

/// (a · b) mod 2^256 on little-endian limbs.
void mul_lo(const u64 a[4], const u64 b[4], u64 out[4]) {
  u64 r[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) {
    u64 carry = 0;
    for (int j = 0; i + j < 4; ++j) {
      u128 s = (u128)a[i] * b[j] + r[i + j] + carry;
      r[i + j] = (u64)s;
      carry = (u64)(s >> 64);
    }
  }
  std::copy(r, r + 4, out);
}

/// floor(a · b / 2^256).
void mul_hi(const u64 a[4], const u64 b[4], u64 out[4]) {
  u64 r[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) {
    u64 carry = 0;
    for (int j = 0; j < 4; ++j) {
      u128 s = (u128)a[i] * b[j] + r[i + j] + carry;
      r[i + j] = (u64)s;
      carry = (u64)(s >> 64);
    }
    r[i + 4] = carry;
  }
  std::copy(r + 4, r + 8, out);
}

void neg256(u64 a[4]) {
  u64 zero[4] = {0, 0, 0, 0};
  sub256(zero, a);
  std::copy(zero, zero + 4, a);
}

const GlvRounding& glv_rounding() {
  // round(2^256·x/r) = floor((2^256·x + r/2) / r), by long division on bits (once per process).
  static const GlvRounding g = [] {
    auto compute = [](const u64 x[2], u64 out[4]) {
      // numerator = x·2^256 + (r−1)/2, as 6 limbs; divide bit by bit by r (r < 2^254).
      u64 num[6] = {HALF_R.v[0], HALF_R.v[1], HALF_R.v[2], HALF_R.v[3], x[0], x[1]};
      u64 rem[5] = {0, 0, 0, 0, 0};
      u64 q[6] = {0, 0, 0, 0, 0, 0};
      for (int bit = 383; bit >= 0; --bit) {
        for (int i = 4; i > 0; --i) rem[i] = (rem[i] << 1) | (rem[i - 1] >> 63);
        rem[0] = (rem[0] << 1) | ((num[bit / 64] >> (bit % 64)) & 1);
        if (rem[4] || geq256(rem, R_MOD.v)) {
          u64 borrow = sub256(rem, R_MOD.v);
          rem[4] -= borrow;
          q[bit / 64] |= 1ULL << (bit % 64);
        }
      }
      std::copy(q, q + 4, out);
    };
    GlvRounding r{};
    const u64 b2[2] = {B2, 0};
    compute(b2, r.g1);
    compute(B1, r.g2);
    return r;
  }();
  return g;
}

/// Splits k (< r) into k ≡ k1 + k2·λ (mod r), |k1|, |k2| < 2^128; returns the magnitudes and signs.
void glv_split(const u64 k[4], u64 k1[2], bool& neg1, u64 k2[2], bool& neg2) {
  const GlvRounding& g = glv_rounding();
  u64 c1[4], c2[4];
  mul_hi(k, g.g1, c1);  // ≈ k·B2/r < 2^64
  mul_hi(k, g.g2, c2);  // ≈ k·B1/r < 2^127
  // k1 = k − c1·A1 − c2·A2,  k2 = c1·B1 − c2·B2  (exact in two's complement mod 2^256: both are small)
  const u64 a1[4] = {A1, 0, 0, 0}, a2[4] = {A2[0], A2[1], 0, 0}, b1[4] = {B1[0], B1[1], 0, 0}, b2[4] = {B2, 0, 0, 0};
  u64 t[4], x1[4] = {k[0], k[1], k[2], k[3]}, x2[4];
  mul_lo(c1, a1, t);
  sub256(x1, t);
  mul_lo(c2, a2, t);
  sub256(x1, t);
  mul_lo(c1, b1, x2);
  mul_lo(c2, b2, t);
  sub256(x2, t);
  neg1 = x1[3] >> 63;
  if (neg1) neg256(x1);
  neg2 = x2[3] >> 63;
  if (neg2) neg256(x2);
  k1[0] = x1[0], k1[1] = x1[1];
  k2[0] = x2[0], k2[1] = x2[1];
}

/// An affine point without an infinity flag: (0, 0) is not on the curve (y = 0 has no solution on
/// BN254 G1), so y = 0 marks the identity.
struct Aff {
  Fq x, y;
  bool is_identity() const { return y.is_zero(); }
};

/// One scalar's contribution after the sign and GLV rewrites: |k| times ±P or ±φ(P).
struct Scalar {
  u64 k[4];     // when split: k1 in limbs 0–1, k2 in limbs 2–3
  bool split;   // k = k1 + k2·λ
  bool neg, neg2;
};

// The cost model, in field multiplications: an affine bucket addition (batched) and a bucket of the
// running-sum reduction (one mixed and one full Jacobian addition).
constexpr double COST_AFFINE_ADD = 6.5;
constexpr double COST_BUCKET = 27.0;
constexpr unsigned MAX_WINDOW = 15;  // digits fit in int16_t
constexpr size_t MAX_SLICE = size_t(1) << 18;  // bounds each task's scratch (64 B per point)

struct Plan {
  unsigned c, windows;
  size_t slices;
};

Plan plan_msm(size_t terms, unsigned bits, unsigned threads) {
  Plan best{2, signed_windows(bits, 2), 1};
  double best_time = INFINITY;
  for (unsigned c = 2; c <= MAX_WINDOW; ++c) {
    const unsigned w = signed_windows(bits, c);
    for (size_t slices = 1; slices <= 4 * (size_t)threads; ++slices) {
      const size_t per = (terms + slices - 1) / slices;
      if (per > MAX_SLICE && slices < 4 * (size_t)threads) continue;
      if (slices > 1 && per < 1024) break;
      const size_t tasks = w * slices;
      const double rounds = std::ceil((double)tasks / threads);
      const double task = per * COST_AFFINE_ADD + (double)(1u << (c - 1)) * COST_BUCKET;
      const double time = rounds * task;
      if (time < best_time) best_time = time, best = Plan{c, w, slices};
    }
  }
  return best;
}

/// Sum of one window over one slice of points, bucketed by digit. `digits` and `points` are the
/// slice's; scratch is reused across the calling thread's tasks.
G1 window_sum(const int16_t* digits, const Aff* points, size_t n, unsigned c, std::vector<Aff>& scratch,
              std::vector<uint32_t>& start, std::vector<uint32_t>& len) {
  const size_t buckets = size_t(1) << (c - 1);
  start.assign(buckets + 1, 0);
  len.assign(buckets, 0);
  for (size_t i = 0; i < n; ++i)
    if (digits[i]) ++start[std::abs(digits[i])];  // bucket |d| − 1, counted one slot to the right
  for (size_t b = 1; b <= buckets; ++b) start[b] += start[b - 1];
  const size_t used = start[buckets];
  if (scratch.size() < used) scratch.resize(used);
  for (size_t i = 0; i < n; ++i) {
    const int d = digits[i];
    if (!d) continue;
    const size_t b = std::abs(d) - 1;
    Aff& slot = scratch[start[b] + len[b]++];
    slot.x = points[i].x;
    slot.y = d < 0 ? -points[i].y : points[i].y;
  }

  // Pairwise rounds: in bucket b, entries 2j and 2j+1 are added into entry j, an odd last entry moves
  // to the end of the halved list. Additions are batched so that a batch shares one inversion.
  constexpr size_t BATCH = 1024;
  struct PairOp {
    uint32_t a, b, dst;
    uint8_t kind;  // 0 add, 1 double, 2 copy a, 3 copy b, 4 identity
  };
  std::vector<PairOp> ops;
  ops.reserve(BATCH);
  Fq den[BATCH], prefix[BATCH];
  std::vector<uint32_t> active;
  for (size_t b = 0; b < buckets; ++b)
    if (len[b] > 1) active.push_back((uint32_t)b);

  auto flush = [&] {
    const size_t m = ops.size();
    if (!m) return;
    Fq acc = Fq::one();
    for (size_t i = 0; i < m; ++i) {
      const PairOp& op = ops[i];
      const Aff &p = scratch[op.a], &q = scratch[op.b];
      den[i] = op.kind == 0 ? q.x - p.x : op.kind == 1 ? p.y.dbl() : Fq::one();
      acc = acc * den[i];
      prefix[i] = acc;
    }
    // Walk back to turn each prefix into its own inverse, then apply the additions in op order.
    Fq inv = acc.inv();
    for (size_t i = m; i-- > 0;) {
      const Fq inv_i = i ? inv * prefix[i - 1] : inv;
      inv = inv * den[i];
      den[i] = inv_i;
    }
    for (size_t i = 0; i < m; ++i) {
      const PairOp& op = ops[i];
      const Aff p = scratch[op.a], q = scratch[op.b];
      Aff& out = scratch[op.dst];
      switch (op.kind) {
        case 0:
        case 1: {
          Fq lambda;
          if (op.kind == 0) {
            lambda = (q.y - p.y) * den[i];
          } else {
            const Fq xx = p.x.sqr();
            lambda = (xx.dbl() + xx) * den[i];
          }
          const Fq x3 = lambda.sqr() - p.x - q.x;
          out.y = lambda * (p.x - x3) - p.y;
          out.x = x3;
          break;
        }
        case 2: out = p; break;
        case 3: out = q; break;
        default: out.x = Fq::zero(), out.y = Fq::zero();
      }
    }
    ops.clear();
  };

  while (!active.empty()) {
    // Results land at lower indices than the entries still to be read (op j of a bucket writes entry j
    // and reads 2j, 2j+1), and a flush applies its ops in order, so no source is overwritten early.
    for (uint32_t b : active) {
      const uint32_t s = start[b];
      for (uint32_t j = 0; 2 * j + 1 < len[b]; ++j) {
        const uint32_t ia = s + 2 * j, ib = ia + 1;
        const Aff &p = scratch[ia], &q = scratch[ib];
        uint8_t kind;
        if (p.is_identity()) kind = 3;
        else if (q.is_identity()) kind = 2;
        else if (p.x != q.x) kind = 0;
        else kind = p.y == q.y ? 1 : 4;
        ops.push_back({ia, ib, s + j, kind});
        if (ops.size() == BATCH) flush();
      }
    }
    flush();
    std::vector<uint32_t> next;
    for (uint32_t b : active) {
      const uint32_t s = start[b], half = len[b] / 2;
      if (len[b] & 1) scratch[s + half] = scratch[s + len[b] - 1];
      len[b] = half + (len[b] & 1);
      if (len[b] > 1) next.push_back(b);
    }
    active.swap(next);
  }

  // Σ_b (b+1)·bucket_b as a sum of running sums, from the top bucket down.
  G1 running = G1::identity(), total = G1::identity();
  for (size_t b = buckets; b-- > 0;) {
    if (len[b] && !scratch[start[b]].is_identity()) {
      const Aff& p = scratch[start[b]];
      running = running.add_mixed(G1Affine{p.x, p.y, false});
    }
    total = total.add(running);
  }
  return total;
}

/// Straus' method for a handful of terms: one shared doubling chain over 4-bit windows, each point's
/// multiples 1..15 in a small table. The bucket method's fixed costs (a batch inversion per window
/// flush) make it about ten times slower below a few dozen terms, and the Σ-protocols and ZK sumchecks
/// send thousands of two-term commitments (v·g + ρ·H) per proof.
G1 msm_small(const G1Affine* points, const Fr* scalars, size_t n) {
  std::vector<std::array<G1, 16>> table(n);
  std::vector<std::array<u64, 4>> k(n);
  for (size_t i = 0; i < n; ++i) {
    scalars[i].to_canonical(k[i].data());
    table[i][0] = G1::identity();
    for (unsigned d = 1; d < 16; ++d) table[i][d] = table[i][d - 1].add_mixed(points[i]);
  }
  G1 acc = G1::identity();
  for (int w = 63; w >= 0; --w) {
    for (int b = 0; b < 4; ++b) acc = acc.dbl();
    for (size_t i = 0; i < n; ++i) {
      const unsigned d = unsigned(k[i][w / 16] >> (4 * (w % 16))) & 15u;
      if (d) acc = acc.add(table[i][d]);
    }
  }
  return acc;
}

constexpr size_t SMALL_MSM = 16;

}  // namespace

G1 msm(const G1Affine* points, const Fr* scalars, size_t n, unsigned threads) {
  if (n <= SMALL_MSM) return msm_small(points, scalars, n);
  if (gpu::offload(n)) return gpu::msm_batch(points, n, scalars, 1)[0];
  if (!threads) threads = worker_count();
  if (n < 4096) threads = 1;  // below this the thread start-up outweighs the work

  // 1. Per input: the canonical magnitude, its sign, and whether GLV splits it.
  std::vector<Scalar> parts(n);
  std::vector<uint8_t> count(n);
  parallel_for(n, 4096, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      Scalar& s = parts[i];
      s.split = s.neg = s.neg2 = false;
      if (points[i].infinity || scalars[i].is_zero()) {
        count[i] = 0;
        continue;
      }
      s.neg = signed_magnitude(scalars[i], s.k);
      if (bit_length(s.k) > 128) {
        u64 k1[2], k2[2];
        bool n1, n2;
        glv_split(s.k, k1, n1, k2, n2);
        s.k[0] = k1[0], s.k[1] = k1[1], s.k[2] = k2[0], s.k[3] = k2[1];
        s.neg2 = s.neg != n2;
        s.neg = s.neg != n1;
        s.split = true;
      }
      count[i] = s.split ? 2 : 1;
    }
  }, threads);

  std::vector<size_t> offset(n + 1, 0);
  unsigned bits = 0;
  for (size_t i = 0; i < n; ++i) {
    offset[i + 1] = offset[i] + count[i];
    if (!count[i]) continue;
    const Scalar& s = parts[i];
    if (s.split) {
      const u64 a[4] = {s.k[0], s.k[1], 0, 0}, b[4] = {s.k[2], s.k[3], 0, 0};
      bits = std::max({bits, bit_length(a), bit_length(b)});
    } else {
      bits = std::max(bits, bit_length(s.k));
    }
  }
  const size_t terms = offset[n];
  if (terms == 0 || bits == 0) return G1::identity();

  // 2. The plan, then every term's point (sign folded in) and signed digits, window-major.
  const Plan plan = plan_msm(terms, bits, threads);
  const unsigned c = plan.c, windows = plan.windows;
  std::vector<Aff> term_points(terms);
  std::vector<int16_t> digits(terms * windows);
  const Fq beta = Fq::from_canonical(BETA);
  parallel_for(n, 4096, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      if (!count[i]) continue;
      const Scalar& s = parts[i];
      auto emit = [&](size_t t, const u64 k[4], const Fq& x, const Fq& y, bool neg) {
        term_points[t].x = x;
        term_points[t].y = neg ? -y : y;
        signed_digits(k, c, windows, [&](unsigned w, int64_t d) { digits[w * terms + t] = (int16_t)d; });
      };
      const G1Affine& p = points[i];
      if (s.split) {
        const u64 k1[4] = {s.k[0], s.k[1], 0, 0}, k2[4] = {s.k[2], s.k[3], 0, 0};
        emit(offset[i], k1, p.x, p.y, s.neg);
        emit(offset[i] + 1, k2, p.x * beta, p.y, s.neg2);
      } else {
        emit(offset[i], s.k, p.x, p.y, s.neg);
      }
    }
  }, threads);

  // 3. (window, slice) tasks from a shared counter, then Horner over the windows.
  const size_t slices = plan.slices, per = (terms + slices - 1) / slices;
  const size_t tasks = windows * slices;
  std::vector<G1> partial(tasks, G1::identity());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    std::vector<Aff> scratch;
    std::vector<uint32_t> start, len;
    for (size_t task; (task = next.fetch_add(1)) < tasks;) {
      const size_t w = task / slices, slice = task % slices;
      const size_t begin = slice * per, end = std::min(terms, begin + per);
      if (begin >= end) continue;
      partial[task] = window_sum(digits.data() + w * terms + begin, term_points.data() + begin, end - begin, c, scratch, start, len);
    }
  };
  const unsigned pool_size = (unsigned)std::min<size_t>(threads, tasks);
  if (pool_size <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < pool_size; ++t) pool.emplace_back(worker);
    for (auto& th : pool) th.join();
  }
  G1 result = G1::identity();
  for (size_t w = windows; w-- > 0;) {
    for (unsigned d = 0; d < c; ++d) result = result.dbl();
    for (size_t slice = 0; slice < slices; ++slice) result = result.add(partial[w * slices + slice]);
  }
  return result;
}

}  // namespace zkdl
