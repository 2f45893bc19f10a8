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
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "fixed_base.hpp"
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

constexpr size_t SMALL_MSM = 16;

/// Straus' method for a handful of terms: one shared doubling chain over 4-bit windows, each point's
/// multiples 1..15 in a small table. The bucket method's fixed costs (a batch inversion per window
/// flush) make it about ten times slower below a few dozen terms, and the Σ-protocols and ZK sumchecks
/// send thousands of two-term commitments (v·g + ρ·H) per proof. Scalars are taken as signed
/// magnitudes (−5 is 5 on the negated point), the chain starts at the widest one's top window, and a
/// table holds only the multiples that digits of that width can reach.
G1 msm_small(const G1Affine* points, const Fr* scalars, size_t n) {
  std::array<std::array<G1, 16>, SMALL_MSM> table;
  std::array<std::array<u64, 4>, SMALL_MSM> k;
  size_t m = 0;
  unsigned bits = 0;
  for (size_t i = 0; i < n; ++i) {
    if (points[i].infinity || scalars[i].is_zero()) continue;
    const bool neg = signed_magnitude(scalars[i], k[m].data());
    bits = std::max(bits, bit_length(k[m].data()));
    table[m][0] = G1::from_affine(neg ? G1Affine{points[i].x, -points[i].y, false} : points[i]);
    ++m;
  }
  if (m == 0) return G1::identity();
  const unsigned top = bits < 4 ? (1u << bits) : 16u;  // multiples 1 … top − 1 can occur
  for (size_t t = 0; t < m; ++t) {
    const G1Affine p = G1Affine{table[t][0].X, table[t][0].Y, false};  // Z = 1
    for (unsigned d = 2; d < top; ++d) table[t][d - 1] = table[t][d - 2].add_mixed(p);
  }
  G1 acc = G1::identity();
  for (int w = (int)((bits + 3) / 4) - 1; w >= 0; --w) {
    for (int b = 0; b < 4; ++b) acc = acc.dbl();
    for (size_t t = 0; t < m; ++t) {
      const unsigned d = unsigned(k[t][w / 16] >> (4 * (w % 16))) & 15u;
      if (d) acc = acc.add(table[t][d - 1]);
    }
  }
  return acc;
}

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

// ───────────── many MSMs over one set of bases: Hyrax rows ─────────────
//
// A Hyrax commitment is one MSM per row of a matrix, every row over the same generators, and most
// entries are small (limbs, remainders, bits). Row by row, the bucket method pays its fixed costs
// (a field inversion per round of additions, the bucket reductions, the plan) once per window of every
// row, which dominates for rows of a few hundred entries. Here a task takes a group of rows and puts
// every (row, window) bucket of the group into one array, so that each round of pairwise additions
// across all of them shares one inversion per 1024 additions. The window width comes from the
// entries' actual widths (one scan of the matrix); the few entries much wider than the rest (a
// full-width value among 16-bit limbs) leave the buckets and are added by a small MSM of their own.
// For narrow rows the bases are shifted per window (2^(c·w)·G_i, computed once per call) so that all
// windows of a row share one set of buckets, and one bucket reduction serves them all; for narrow rows
// of entries up to 16 bits a cached comb table of the generators' multiples does away with buckets.
// The blinding ρ_j·H of a Hyrax row comes in as its fixed-base table's entries, added with the rest.

namespace {

constexpr size_t ROW_FLUSH = 1024;

/// dst = a + b on affine points of one array, queued and then applied in batches that share one
/// field inversion (Montgomery's trick). Ops queued before a flush must not read what another op of
/// the same batch writes.
class AffineAdder {
 public:
  explicit AffineAdder(std::vector<Aff>& pts) : p_(pts) {}

  void add(uint32_t a, uint32_t b, uint32_t dst) {
    const Aff &p = p_[a], &q = p_[b];
    uint8_t kind;
    if (p.is_identity()) kind = 3;
    else if (q.is_identity()) kind = 2;
    else if (p.x != q.x) kind = 0;
    else kind = p.y == q.y ? 1 : 4;
    ops_[m_++] = Op{a, b, dst, kind};
    if (m_ == ROW_FLUSH) flush();
  }

  void flush() {
    if (!m_) return;
    Fq acc = Fq::one();
    for (size_t i = 0; i < m_; ++i) {
      const Op& op = ops_[i];
      const Aff &p = p_[op.a], &q = p_[op.b];
      den_[i] = op.kind == 0 ? q.x - p.x : op.kind == 1 ? p.y.dbl() : Fq::one();
      prefix_[i] = acc;
      acc = acc * den_[i];
    }
    Fq inv = acc.inv();
    for (size_t i = m_; i-- > 0;) {
      const Fq inv_i = inv * prefix_[i];
      inv = inv * den_[i];
      den_[i] = inv_i;
    }
    for (size_t i = 0; i < m_; ++i) {
      const Op& op = ops_[i];
      const Aff p = p_[op.a], q = p_[op.b];
      Aff& out = p_[op.dst];
      switch (op.kind) {
        case 0:
        case 1: {
          Fq lambda;
          if (op.kind == 0) {
            lambda = (q.y - p.y) * den_[i];
          } else {
            const Fq xx = p.x.sqr();
            lambda = (xx.dbl() + xx) * den_[i];
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
    m_ = 0;
  }

 private:
  struct Op {
    uint32_t a, b, dst;
    uint8_t kind;  // 0 add, 1 double, 2 copy a, 3 copy b, 4 identity
  };
  std::vector<Aff>& p_;
  Op ops_[ROW_FLUSH];
  Fq den_[ROW_FLUSH], prefix_[ROW_FLUSH];
  size_t m_ = 0;
};

/// Sums each bucket b (entries start[b] … start[b] + len[b] − 1 of pts) into its first entry, in
/// pairwise rounds over all buckets at once; afterwards len[b] ≤ 1.
void reduce_buckets(std::vector<Aff>& pts, const std::vector<uint32_t>& start, std::vector<uint32_t>& len, AffineAdder& adder,
                    std::vector<uint32_t>& active, std::vector<uint32_t>& next) {
  active.clear();
  for (uint32_t b = 0; b < (uint32_t)len.size(); ++b)
    if (len[b] > 1) active.push_back(b);
  while (!active.empty()) {
    // Op j of a bucket writes entry j and reads 2j, 2j + 1, and ops apply in order: no source is
    // overwritten before it is read.
    for (uint32_t b : active) {
      const uint32_t s = start[b];
      for (uint32_t j = 0; 2 * j + 1 < len[b]; ++j) adder.add(s + 2 * j, s + 2 * j + 1, s + j);
    }
    adder.flush();
    next.clear();
    for (uint32_t b : active) {
      const uint32_t s = start[b], half = len[b] / 2;
      if (len[b] & 1) pts[s + half] = pts[s + len[b] - 1];
      len[b] = half + (len[b] & 1);
      if (len[b] > 1) next.push_back(b);
    }
    active.swap(next);
  }
}

/// Σ_b (b+1)·bucket_b over `count` buckets (reduced to ≤ 1 entry each), as a sum of running sums.
G1 bucket_total(const std::vector<Aff>& pts, const uint32_t* start, const uint32_t* len, size_t count) {
  G1 running = G1::identity(), total = G1::identity();
  for (size_t b = count; b-- > 0;) {
    if (len[b] && !pts[start[b]].is_identity()) {
      const Aff& p = pts[start[b]];
      running = running.add_mixed(G1Affine{p.x, p.y, false});
    }
    total = total.add(running);
  }
  return total;
}

// Costs in field multiplications, as in plan_msm: an affine addition in a batched round (with the
// entry's placement), a bucket of a running-sum reduction, a Jacobian doubling.
constexpr double ROW_COST_ADD = 8.0;
constexpr double ROW_COST_BUCKET = 27.0;
constexpr double ROW_COST_DBL = 9.0;
constexpr unsigned ROW_MAX_WINDOW = 16;
constexpr size_t ROW_MAX_SHIFTED = size_t(1) << 18;  // shifted bases kept per call (64 B each)

/// An entry of the widest kind (above 128 bits) is split by GLV into two terms of at most 128 bits.
constexpr unsigned GLV_BITS = 128;

// The comb table: for narrow matrices of small entries, every multiple d·2^(9w)·G_i (d ≤ 256, w < 2)
// of each generator, so that an entry of up to 16 bits is at most two table points added straight
// into its row's sum: no buckets to reduce, no windows to combine. 32 KiB a column; built once per
// generator set and kept (see comb_table), since a prover commits every tensor over the same key.
constexpr unsigned TABLE_C = 9, TABLE_WINDOWS = 2, TABLE_DIGITS = 256;
constexpr unsigned TABLE_BITS = 16;     // the widths it serves: signed 9-bit digits in two windows
constexpr size_t TABLE_MAX_COLS = 256;
constexpr size_t TABLE_COLUMN = TABLE_WINDOWS * TABLE_DIGITS;
// A table is built for later calls too: its cost counts as shared by this many. Its points are read
// from 32 KiB columns rather than one compact array: a cache miss more per entry.
constexpr double TABLE_REUSE = 8.0;
constexpr double ROW_COST_TABLE_ADD = ROW_COST_ADD + 1.0;

enum class RowLayout {
  Plain,    // one bucket set per window of a row, combined by doublings
  Shifted,  // one bucket set per row, over bases shifted per window (2^(c·w)·G_i, built per call)
  Table,    // one bucket per row (its sum) over the comb table's points
};

struct RowPlan {
  unsigned width = 0;   // entries of at most this many bits go into the buckets; wider ones are extras
  bool split = false;   // width > 128: entries above 128 bits become two GLV terms
  unsigned c = 1, windows = 0;
  RowLayout layout = RowLayout::Plain;
  double cost = INFINITY;
  double adds = 0;      // bucket entries (all rows)
};

/// An extra entry's cost as a term of a Straus chain of its own: b doublings (shared when a row has
/// several, ignored here), a 4-bit window's addition, and its table.
double extra_cost(unsigned bits) { return bits * (ROW_COST_DBL + 16.0 / 4) + 165.0; }

/// The width, window and layout for a matrix whose entries have the bit-length histogram `hist`
/// (hist[b] = entries of b bits; index 0 counts zeros). `table_ready`: the generators' comb table is
/// already built.
RowPlan plan_rows(const std::array<size_t, 256>& hist, size_t rows, size_t cols, bool table_ready) {
  std::vector<unsigned> present;
  for (unsigned b = 1; b < 256; ++b)
    if (hist[b]) present.push_back(b);
  RowPlan best;
  best.cost = INFINITY;
  if (present.empty()) {
    best.cost = 0;
    return best;
  }
  std::vector<double> extras_above(present.size() + 1, 0.0);  // cost of entries wider than present[k]
  for (size_t k = present.size(); k-- > 0;)
    extras_above[k] = extras_above[k + 1] + (k + 1 < present.size() ? hist[present[k + 1]] * extra_cost(present[k + 1]) : 0.0);
  for (size_t k = 0; k < present.size(); ++k) {
    const unsigned width = present[k];
    const bool split = width > GLV_BITS;
    const unsigned term_bits = std::min(width, GLV_BITS);
    const size_t bases = split ? 2 * cols : cols;
    for (unsigned c = 1; c <= ROW_MAX_WINDOW; ++c) {
      const unsigned windows = signed_windows(term_bits, c);
      // Bucket entries: an entry of b bits has nonzero digits in about signed_windows(b, c) windows.
      double adds = 0;
      for (size_t q = 0; q <= k; ++q) {
        const unsigned b = present[q];
        adds += (double)hist[b] * (b > GLV_BITS ? 2.0 * signed_windows(GLV_BITS, c) : signed_windows(b, c));
      }
      const double buckets = (double)(1u << (c - 1));
      const double plain = adds * ROW_COST_ADD + rows * windows * (buckets * ROW_COST_BUCKET + c * ROW_COST_DBL);
      double shifted = INFINITY;
      if (windows > 1 && bases * windows <= ROW_MAX_SHIFTED)
        shifted = adds * ROW_COST_ADD + rows * buckets * ROW_COST_BUCKET + (double)bases * (windows - 1) * (c * ROW_COST_DBL + 8.0);
      const double cost = std::min(plain, shifted) + extras_above[k];
      if (cost < best.cost) {
        best.width = width, best.split = split, best.c = c, best.windows = windows;
        best.layout = shifted < plain ? RowLayout::Shifted : RowLayout::Plain;
        best.cost = cost;
        best.adds = adds;
      }
    }
    if (width <= TABLE_BITS && cols <= TABLE_MAX_COLS) {
      double adds = 0;  // an entry below 2^8 is one table point, a wider one two
      for (size_t q = 0; q <= k; ++q) adds += (double)hist[present[q]] * (present[q] <= TABLE_C - 1 ? 1.0 : 2.0);
      const double build = table_ready ? 0.0 : (double)cols * TABLE_COLUMN * ROW_COST_ADD / TABLE_REUSE;
      const double cost = adds * ROW_COST_TABLE_ADD + rows * ROW_COST_BUCKET + build + extras_above[k];
      if (cost < best.cost) {
        best.width = width, best.split = false, best.c = TABLE_C, best.windows = TABLE_WINDOWS;
        best.layout = RowLayout::Table;
        best.cost = cost;
        best.adds = adds;
      }
    }
  }
  return best;
}

struct CombTable {
  size_t cols;
  std::vector<Aff> pts;  // pts[i·512 + w·256 + d − 1] = d·2^(9w)·G_i; zeros (the identity) for G_i = O

  /// Whether the table's first cols columns are over these generators.
  bool serves(const G1Affine* points, size_t n) const {
    if (n > cols) return false;
    for (size_t i = 0; i < n; ++i) {
      const Aff& t = pts[i * TABLE_COLUMN];
      if (points[i].infinity ? !t.is_identity() : (t.x != points[i].x || t.y != points[i].y)) return false;
    }
    return true;
  }
};

std::shared_ptr<const CombTable> build_comb_table(const G1Affine* points, size_t cols, unsigned threads) {
  auto table = std::make_shared<CombTable>();
  table->cols = cols;
  table->pts.assign(cols * TABLE_COLUMN, Aff{Fq::zero(), Fq::zero()});
  std::vector<Aff>& pts = table->pts;
  parallel_for(cols, 16, [&](size_t begin, size_t end) {
    std::unique_ptr<AffineAdder> adder(new AffineAdder(pts));
    for (size_t i = begin; i < end; ++i)
      if (!points[i].infinity) pts[i * TABLE_COLUMN] = Aff{points[i].x, points[i].y};
    for (unsigned w = 0; w < TABLE_WINDOWS; ++w) {
      const size_t off = w * TABLE_DIGITS;
      if (w > 0) {  // 2^9·2^(9(w−1))·G = 2·(256·2^(9(w−1))·G)
        for (size_t i = begin; i < end; ++i)
          if (!points[i].infinity) {
            const uint32_t top = (uint32_t)(i * TABLE_COLUMN + off - 1);
            adder->add(top, top, (uint32_t)(i * TABLE_COLUMN + off));
          }
        adder->flush();
      }
      // Round h: multiples h+1 … 2h as (1 … h) + h, read from earlier rounds only. None is the
      // identity (d·2^(9w) < r), and h + h is a doubling, which the adder recognises.
      for (uint32_t h = 1; h < TABLE_DIGITS; h *= 2) {
        for (size_t i = begin; i < end; ++i) {
          if (points[i].infinity) continue;
          const uint32_t base = (uint32_t)(i * TABLE_COLUMN + off);
          for (uint32_t j = 1; j <= h; ++j) adder->add(base + j - 1, base + h - 1, base + h + j - 1);
        }
        adder->flush();
      }
    }
  }, threads);
  return table;
}

/// The comb table of these generators, from a small cache of the last ones built (a prover commits
/// every tensor over prefixes of one key), or null if none serves them.
std::mutex comb_lock;
std::vector<std::shared_ptr<const CombTable>> comb_cache;  // most recently used last
constexpr size_t COMB_CACHE_SIZE = 2;

std::shared_ptr<const CombTable> cached_comb_table(const G1Affine* points, size_t cols) {
  std::lock_guard<std::mutex> guard(comb_lock);
  for (size_t k = comb_cache.size(); k-- > 0;) {
    if (!comb_cache[k]->serves(points, cols)) continue;
    std::shared_ptr<const CombTable> hit = comb_cache[k];
    comb_cache.erase(comb_cache.begin() + k);
    comb_cache.push_back(hit);
    return hit;
  }
  return nullptr;
}

void cache_comb_table(std::shared_ptr<const CombTable> table) {
  std::lock_guard<std::mutex> guard(comb_lock);
  if (comb_cache.size() >= COMB_CACHE_SIZE) comb_cache.erase(comb_cache.begin());
  comb_cache.push_back(std::move(table));
}

constexpr uint32_t NEGATE_POINT = 0x80000000u, TAIL_POINT = 0x40000000u, POINT_INDEX = 0x3fffffffu;
constexpr size_t ROWS_AT_ONCE = size_t(1) << 22;  // entries a call scans at once; more go in blocks of rows

/// Per entry after the scan: the magnitude's low limb, its bit length and sign (wider magnitudes are
/// recomputed from the scalar when needed).
struct EntryInfo {
  u64 lo;
  uint8_t bits;
  bool neg;
};

}  // namespace

std::vector<G1> msm_rows(const G1Affine* points, const Fr* scalars, size_t rows, size_t cols, unsigned threads, const FixedBase* tail,
                         const Fr* tail_scalars) {
  std::vector<G1> out(rows, G1::identity());
  if (rows == 0) return out;
  if (!tail_scalars) tail = nullptr;
  if (!threads) threads = worker_count();
  const size_t n = rows * cols;
  if (n > ROWS_AT_ONCE && rows > 1) {  // bounds the scan's 16 bytes per entry
    const size_t per = std::max<size_t>(1, ROWS_AT_ONCE / std::max<size_t>(1, cols));
    for (size_t r0 = 0; r0 < rows; r0 += per) {
      const size_t count = std::min(per, rows - r0);
      const std::vector<G1> part = msm_rows(points, scalars + r0 * cols, count, cols, threads, tail, tail ? tail_scalars + r0 : nullptr);
      std::copy(part.begin(), part.end(), out.begin() + r0);
    }
    return out;
  }
  if (n + (tail ? 32 * rows : 0) < 4096) threads = 1;  // below this the thread start-up outweighs the work

  // 1. One scan: signed magnitudes and the histogram of their bit lengths.
  std::vector<EntryInfo> info(n);
  const size_t scan_chunks = chunk_count(n, 4096, threads);
  std::vector<std::array<size_t, 256>> partial_hist(scan_chunks);
  parallel_chunks(n, 4096, [&](size_t chunk, size_t begin, size_t end) {
    std::array<size_t, 256>& hist = partial_hist[chunk];
    hist.fill(0);
    for (size_t e = begin; e < end; ++e) {
      EntryInfo& x = info[e];
      if (points[e % cols].infinity || scalars[e].is_zero()) {
        x = EntryInfo{0, 0, false};
      } else {
        u64 k[4];
        x.neg = signed_magnitude(scalars[e], k);
        x.bits = (uint8_t)bit_length(k);
        x.lo = k[0];
      }
      ++hist[x.bits];
    }
  }, threads);
  std::array<size_t, 256> hist{};
  for (const auto& h : partial_hist)
    for (size_t b = 0; b < 256; ++b) hist[b] += h[b];

  std::shared_ptr<const CombTable> table = cols <= TABLE_MAX_COLS ? cached_comb_table(points, cols) : nullptr;
  RowPlan plan = plan_rows(hist, rows, cols, table != nullptr);
  if (plan.width == 0) {  // all zero: only the tails, if any, in one bucket per row
    if (!tail) return out;
    plan.c = 1, plan.windows = 1, plan.layout = RowLayout::Plain, plan.split = false;
  }
  const bool shifted = plan.layout == RowLayout::Shifted, tabled = plan.layout == RowLayout::Table;
  if (tabled && !table) {
    table = build_comb_table(points, cols, threads);
    cache_comb_table(table);
  }
  const unsigned c = plan.c, windows = plan.windows;
  const size_t buckets = tabled ? 1 : size_t(1) << (c - 1);
  const size_t sets = shifted || tabled ? 1 : windows;  // bucket sets per row

  // 2. The bases: G_i, then φ(G_i) when entries are split; per window 2^(c·w) times them if shifted;
  // or the comb table.
  const size_t nbases = plan.split ? 2 * cols : cols;
  const size_t layers = shifted ? windows : 1;
  std::vector<Aff> bases(tabled ? 0 : nbases * layers);
  const Aff* base_points = tabled ? table->pts.data() : bases.data();
  if (!tabled) {
    const Fq beta = Fq::from_canonical(BETA);
    for (size_t i = 0; i < cols; ++i) {
      bases[i] = points[i].infinity ? Aff{Fq::zero(), Fq::zero()} : Aff{points[i].x, points[i].y};
      if (plan.split) bases[cols + i] = points[i].infinity ? Aff{Fq::zero(), Fq::zero()} : Aff{points[i].x * beta, points[i].y};
    }
    for (size_t w = 1; w < layers; ++w) {
      // 2^c times the previous layer: doublings in Jacobian coordinates, then one shared inversion
      // per range back to affine. No shifted base is the identity (the group has prime order > 2^c·w).
      const Aff* prev = bases.data() + (w - 1) * nbases;
      Aff* cur = bases.data() + w * nbases;
      parallel_for(nbases, 256, [&](size_t begin, size_t end) {
        std::vector<G1> jac(end - begin);
        std::vector<Fq> prefix(end - begin);
        Fq acc = Fq::one();
        for (size_t i = begin; i < end; ++i) {
          G1 p = prev[i].is_identity() ? G1::identity() : G1{prev[i].x, prev[i].y, Fq::one()};
          for (unsigned d = 0; d < c; ++d) p = p.dbl();
          jac[i - begin] = p;
          prefix[i - begin] = acc;
          if (!p.is_identity()) acc = acc * p.Z;
        }
        Fq inv = acc.inv();
        for (size_t i = end; i-- > begin;) {
          const G1& p = jac[i - begin];
          if (p.is_identity()) {
            cur[i] = Aff{Fq::zero(), Fq::zero()};
            continue;
          }
          const Fq zi = inv * prefix[i - begin];
          inv = inv * p.Z;
          const Fq zi2 = zi.sqr();
          cur[i] = Aff{p.X * zi2, p.Y * zi2 * zi};
        }
      }, threads);
    }
  }

  // 3. Groups of rows as tasks. A group's bucket entries are about rows × adds-per-row; groups are
  // sized to share inversions widely while keeping the scratch in cache and the threads busy.
  // A tail adds up to 33 table entries per row, straight into the weight-1 bucket (digit 1 of the
  // lowest window), so that they share the rounds' inversions too.
  const double per_row = std::max(1.0, plan.adds / rows + (tail ? 32.0 : 0.0));
  constexpr double GROUP_TARGET = 1 << 15, GROUP_MIN = 1 << 12;
  size_t group = (size_t)std::max(1.0, GROUP_TARGET / per_row);
  const size_t balanced = (rows + 4 * threads - 1) / (4 * threads);
  group = std::min(group, std::max<size_t>(balanced, (size_t)std::ceil(GROUP_MIN / per_row)));
  group = std::max<size_t>(1, std::min(group, rows));
  const size_t tasks = (rows + group - 1) / group;

  std::atomic<size_t> next_task{0};
  std::vector<std::exception_ptr> errors(threads);
  auto worker = [&](unsigned id) {
    try {
      std::vector<Aff> scratch;
      std::vector<uint32_t> slot_bucket, slot_point, start, len, active, next;
      std::vector<G1Affine> extra_points;
      std::vector<Fr> extra_scalars;
      std::unique_ptr<AffineAdder> adder(new AffineAdder(scratch));
      for (size_t task; (task = next_task.fetch_add(1)) < tasks;) {
        const size_t r0 = task * group, r1 = std::min(rows, r0 + group);
        const size_t nsets = (r1 - r0) * sets;
        slot_bucket.clear();
        slot_point.clear();
        // Bucket entries: (bucket, point), the point an index into the bases or (bit 30) into the
        // tail's table, its sign in bit 31.
        auto emit = [&](size_t row, const u64 k[4], uint32_t base, bool neg) {
          signed_digits(k, c, windows, [&](unsigned w, int64_t d) {
            if (!d) return;
            const size_t mag = (size_t)(d < 0 ? -d : d);
            uint32_t point;
            if (tabled) {
              slot_bucket.push_back((uint32_t)(row - r0));
              point = (uint32_t)(base * TABLE_COLUMN + w * TABLE_DIGITS + mag - 1);
            } else {
              const size_t set = (row - r0) * sets + (shifted ? 0 : w);
              slot_bucket.push_back((uint32_t)(set * buckets + mag - 1));
              point = (uint32_t)((shifted ? w * nbases : 0) + base);
            }
            slot_point.push_back(point | ((neg != (d < 0)) ? NEGATE_POINT : 0u));
          });
        };
        for (size_t row = r0; row < r1; ++row) {
          extra_points.clear();
          extra_scalars.clear();
          for (size_t i = 0; i < cols; ++i) {
            const size_t e = row * cols + i;
            const EntryInfo& x = info[e];
            if (x.bits == 0) continue;
            if (x.bits > plan.width) {
              extra_points.push_back(points[i]);
              extra_scalars.push_back(scalars[e]);
              continue;
            }
            if (x.bits <= 64) {
              const u64 k[4] = {x.lo, 0, 0, 0};
              emit(row, k, (uint32_t)i, x.neg);
              continue;
            }
            u64 k[4];
            signed_magnitude(scalars[e], k);
            if (x.bits <= GLV_BITS) {
              emit(row, k, (uint32_t)i, x.neg);
              continue;
            }
            u64 k1[2], k2[2];
            bool n1, n2;
            glv_split(k, k1, n1, k2, n2);
            const u64 a[4] = {k1[0], k1[1], 0, 0}, b[4] = {k2[0], k2[1], 0, 0};
            if (bit_length(a) > GLV_BITS || bit_length(b) > GLV_BITS) {  // not expected: the split bounds both
              extra_points.push_back(points[i]);
              extra_scalars.push_back(scalars[e]);
              continue;
            }
            emit(row, a, (uint32_t)i, x.neg != n1);
            emit(row, b, (uint32_t)(cols + i), x.neg != n2);
          }
          if (!extra_points.empty()) out[row] = msm(extra_points.data(), extra_scalars.data(), extra_points.size(), 1);
          if (tail) {
            u64 k[4];
            tail_scalars[row].to_canonical(k);
            const uint32_t bucket = (uint32_t)((row - r0) * sets * buckets);  // set 0, digit 1
            tail->digits(k, [&](size_t index, bool negate) {
              slot_bucket.push_back(bucket);
              slot_point.push_back((uint32_t)index | TAIL_POINT | (negate ? NEGATE_POINT : 0u));
            });
          }
        }

        // Counting sort into buckets, then the shared pairwise rounds.
        const size_t nbuckets = nsets * buckets;
        start.assign(nbuckets + 1, 0);
        for (uint32_t b : slot_bucket) ++start[b + 1];
        for (size_t b = 1; b <= nbuckets; ++b) start[b] += start[b - 1];
        len.assign(nbuckets, 0);
        if (scratch.size() < slot_bucket.size()) scratch.resize(slot_bucket.size());
        for (size_t s = 0; s < slot_bucket.size(); ++s) {
          const uint32_t b = slot_bucket[s], sp = slot_point[s];
          Aff& slot = scratch[start[b] + len[b]++];
          if (sp & TAIL_POINT) {
            const G1Affine& p = tail->entry(sp & POINT_INDEX);
            slot.x = p.x;
            slot.y = (sp & NEGATE_POINT) ? -p.y : p.y;
          } else {
            const Aff& p = base_points[sp & POINT_INDEX];
            slot.x = p.x;
            slot.y = (sp & NEGATE_POINT) ? -p.y : p.y;
          }
        }
        reduce_buckets(scratch, start, len, *adder, active, next);

        // Per row: each set's Σ d·bucket_d, then Horner over the windows when they are apart.
        for (size_t row = r0; row < r1; ++row) {
          G1 acc = G1::identity();
          for (size_t s = sets; s-- > 0;) {
            for (unsigned d = 0; d < c && sets > 1; ++d) acc = acc.dbl();
            const size_t set = (row - r0) * sets + s;
            acc = acc.add(bucket_total(scratch, start.data() + set * buckets, len.data() + set * buckets, buckets));
          }
          out[row] = out[row].add(acc);
        }
      }
    } catch (...) {
      errors[id] = std::current_exception();
    }
  };
  const unsigned pool_size = (unsigned)std::min<size_t>(threads, tasks);
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < pool_size; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

}  // namespace zkdl
