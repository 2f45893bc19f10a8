#include "tensor.hpp"

#include <string>

#include "errors.hpp"
#include "gpu/gpu.hpp"
#include "parallel.hpp"

namespace zkdl {
namespace {

// Element-wise kernels split across threads in ranges of at least this many elements.
constexpr size_t GRAIN = size_t(1) << 13;

/// out[i] = f(i) for every i, across the CPU threads.
template <class F>
FrVec map_indices(size_t n, F f) {
  FrVec out(n);
  parallel_for(n, GRAIN, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) out[i] = f(i);
  });
  return out;
}

/// Σ_i f(i), partial sums per thread.
template <class F>
Fr sum_indices(size_t n, F f) {
  std::vector<Fr> partial(chunk_count(n, GRAIN), Fr::zero());
  parallel_chunks(n, GRAIN, [&](size_t chunk, size_t begin, size_t end) {
    Fr acc = Fr::zero();
    for (size_t i = begin; i < end; ++i) acc = acc + f(i);
    partial[chunk] = acc;
  });
  Fr total = Fr::zero();
  for (const Fr& p : partial) total = total + p;
  return total;
}

void same_length(const FrVec& a, const FrVec& b) {
  if (a.size() != b.size())
    throw InputError("ZKDL_SHAPE_MISMATCH", "tensor lengths differ: " + std::to_string(a.size()) + " and " + std::to_string(b.size()));
}

bool is_power_of_two(size_t n) { return n != 0 && (n & (n - 1)) == 0; }

}  // namespace

FrVec add(const FrVec& a, const FrVec& b) {
  same_length(a, b);
  if (gpu::offload(a.size())) return gpu::elementwise(gpu::ElementOp::Add, a, &b, Fr::zero());
  return map_indices(a.size(), [&](size_t i) { return a[i] + b[i]; });
}

FrVec sub(const FrVec& a, const FrVec& b) {
  same_length(a, b);
  if (gpu::offload(a.size())) return gpu::elementwise(gpu::ElementOp::Sub, a, &b, Fr::zero());
  return map_indices(a.size(), [&](size_t i) { return a[i] - b[i]; });
}

FrVec hadamard(const FrVec& a, const FrVec& b) {
  same_length(a, b);
  if (gpu::offload(a.size())) return gpu::elementwise(gpu::ElementOp::Mul, a, &b, Fr::zero());
  return map_indices(a.size(), [&](size_t i) { return a[i] * b[i]; });
}

FrVec scale(const FrVec& a, const Fr& s) {
  if (gpu::offload(a.size())) return gpu::elementwise(gpu::ElementOp::Scale, a, nullptr, s);
  return map_indices(a.size(), [&](size_t i) { return a[i] * s; });
}

Fr sum(const FrVec& a) {
  return sum_indices(a.size(), [&](size_t i) { return a[i]; });
}

Fr inner_product(const FrVec& a, const FrVec& b) {
  same_length(a, b);
  return sum_indices(a.size(), [&](size_t i) { return a[i] * b[i]; });
}

FrVec fold(const FrVec& a, const Fr& r) {
  if (a.size() % 2 != 0) throw InputError("ZKDL_SHAPE_MISMATCH", "fold needs an even length, got " + std::to_string(a.size()));
  if (gpu::offload(a.size())) return gpu::fold(a, r);
  return map_indices(a.size() / 2, [&](size_t i) { return a[2 * i] + r * (a[2 * i + 1] - a[2 * i]); });
}

static void same_even(const FrVec& p, const FrVec& q, const char* what) {
  if (p.size() != q.size() || p.size() % 2 != 0)
    throw InputError("ZKDL_SHAPE_MISMATCH", std::string(what) + " needs p and q of one even length, got " + std::to_string(p.size()) + " and " + std::to_string(q.size()));
}

void fraction_leaves(const std::vector<const FrVec*>& values, const std::vector<const FrVec*>& numerators, const Fr& beta, size_t length, FrVec& p_out,
                     FrVec& q_out) {
  if (values.size() != numerators.size()) throw InputError("ZKDL_INVALID_ARGUMENT", "fractionLeaves needs one numerator (or null) per block");
  size_t used = 0;
  for (size_t b = 0; b < values.size(); ++b) {
    if (numerators[b] && numerators[b]->size() != values[b]->size())
      throw InputError("ZKDL_SHAPE_MISMATCH", "block " + std::to_string(b) + "'s numerators and values differ in length");
    used += values[b]->size();
  }
  if (used > length) throw InputError("ZKDL_SHAPE_MISMATCH", "the blocks hold " + std::to_string(used) + " entries, more than " + std::to_string(length));
  p_out.resize(length);
  q_out.resize(length);
  size_t at = 0;
  for (size_t b = 0; b < values.size(); ++b) {
    const FrVec& v = *values[b];
    const FrVec* num = numerators[b];
    parallel_for(v.size(), GRAIN, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        q_out[at + i] = beta + v[i];
        p_out[at + i] = num ? (*num)[i] : Fr::one();
      }
    });
    at += v.size();
  }
  parallel_for(length - at, GRAIN, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      p_out[at + i] = Fr::zero();
      q_out[at + i] = Fr::one();
    }
  });
}

void fraction_layer(const FrVec& p, const FrVec& q, FrVec& p_out, FrVec& q_out) {
  same_even(p, q, "fractionLayer");
  const size_t n = p.size() / 2;
  p_out.resize(n);
  q_out.resize(n);
  parallel_for(n, GRAIN, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const Fr &pe = p[2 * i], &po = p[2 * i + 1], &qe = q[2 * i], &qo = q[2 * i + 1];
      p_out[i] = pe * qo + po * qe;
      q_out[i] = qe * qo;
    }
  });
}

void gkr_factors(const FrVec& p, const FrVec& q, const Fr& lambda, FrVec out[4]) {
  same_even(p, q, "gkrFactors");
  const size_t n = p.size() / 2;
  for (int k = 0; k < 4; ++k) out[k].resize(n);
  parallel_for(n, GRAIN, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      out[0][i] = p[2 * i] + lambda * q[2 * i];
      out[1][i] = q[2 * i + 1];
      out[2][i] = p[2 * i + 1];
      out[3][i] = q[2 * i];
    }
  });
}

Fr evaluate(const FrVec& a, const FrVec& z) {
  if (!is_power_of_two(a.size()) || (size_t(1) << z.size()) != a.size())
    throw InputError("ZKDL_SHAPE_MISMATCH", "evaluating a tensor of length " + std::to_string(a.size()) + " needs log2(length) coordinates, got " +
                                              std::to_string(z.size()));
  FrVec cur = a;
  for (const Fr& r : z) cur = fold(cur, r);
  return cur[0];
}

FrVec eq_vector(const FrVec& z) {
  if (z.size() > 40) throw InputError("ZKDL_INVALID_ARGUMENT", "eq vector over more than 40 variables");
  FrVec out(size_t(1) << z.size());
  out[0] = Fr::one();
  for (size_t j = 0, len = 1; j < z.size(); ++j, len <<= 1) {
    // Entries with bit j set are the old ones times z_j; the others times (1 − z_j).
    for (size_t x = 0; x < len; ++x) {
      Fr hi = out[x] * z[j];
      out[x + len] = hi;
      out[x] = out[x] - hi;
    }
  }
  return out;
}

FrVec batch_inverse(const FrVec& a) {
  FrVec prefix(a.size());
  Fr acc = Fr::one();
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].is_zero()) throw InputError("ZKDL_DIVISION_BY_ZERO", "batch inverse of a tensor with a zero at " + std::to_string(i));
    prefix[i] = acc;
    acc = acc * a[i];
  }
  Fr inv = acc.inv();
  FrVec out(a.size());
  for (size_t i = a.size(); i-- > 0;) {
    out[i] = inv * prefix[i];
    inv = inv * a[i];
  }
  return out;
}

FrVec sumcheck_round(const std::vector<const FrVec*>& factors) {
  const size_t d = factors.size();
  if (d == 0 || d > 5) throw InputError("ZKDL_INVALID_ARGUMENT", "a sumcheck round takes 1 to 5 factors, got " + std::to_string(d));
  const size_t n = factors[0]->size();
  for (const FrVec* f : factors) same_length(*factors[0], *f);
  if (n % 2 != 0) throw InputError("ZKDL_SHAPE_MISMATCH", "a sumcheck round needs an even length, got " + std::to_string(n));
  if (gpu::offload(n)) return gpu::sumcheck_round(factors);
  const size_t half = n / 2;
  std::vector<FrVec> partial(chunk_count(half, GRAIN / 4), FrVec(d + 1, Fr::zero()));
  parallel_chunks(half, GRAIN / 4, [&](size_t chunk, size_t begin, size_t end) {
    FrVec& s = partial[chunk];
    Fr value[5], step[5];
    for (size_t i = begin; i < end; ++i) {
      for (size_t j = 0; j < d; ++j) {
        value[j] = (*factors[j])[2 * i];
        step[j] = (*factors[j])[2 * i + 1] - value[j];
      }
      // X = 0, 1, …, d: each factor moves by its step; the product accumulates into s(X).
      for (size_t t = 0; t <= d; ++t) {
        Fr prod = value[0];
        for (size_t j = 1; j < d; ++j) prod = prod * value[j];
        s[t] = s[t] + prod;
        for (size_t j = 0; j < d; ++j) value[j] = value[j] + step[j];
      }
    }
  });
  FrVec s(d + 1, Fr::zero());
  for (const FrVec& p : partial)
    for (size_t t = 0; t <= d; ++t) s[t] = s[t] + p[t];
  return s;
}

FrVec matmul(const FrVec& a, const FrVec& b, size_t m, size_t k, size_t n) { return batched_matmul(a, b, 1, m, k, n, false, false); }

FrVec batched_matmul(const FrVec& a, const FrVec& b, size_t batch, size_t m, size_t k, size_t n, bool a_batched, bool b_batched) {
  const size_t a_stride = a_batched ? m * k : 0, b_stride = b_batched ? k * n : 0;
  if (a.size() != (a_batched ? batch : 1) * m * k || b.size() != (b_batched ? batch : 1) * k * n)
    throw InputError("ZKDL_SHAPE_MISMATCH", "matmul of " + std::to_string(a.size()) + " and " + std::to_string(b.size()) + " elements as " +
                                              (a_batched ? std::to_string(batch) + "×" : "") + "(" + std::to_string(m) + "×" + std::to_string(k) + ")·" +
                                              (b_batched ? std::to_string(batch) + "×" : "") + "(" + std::to_string(k) + "×" + std::to_string(n) + ")");
  FrVec out(batch * m * n, Fr::zero());
  const size_t rows = batch * m;
  if (rows == 0 || n == 0) return out;
  // out_row[j0, j1) += Σ_{y ∈ [y0, y1)} a_row[y]·b_mat[y, j0..j1).
  auto block = [&](size_t row, size_t y0, size_t y1, size_t j0, size_t j1, Fr* dst) {
    const size_t t = row / m, i = row % m;
    const Fr* a_row = a.data() + t * a_stride + i * k;
    const Fr* b_mat = b.data() + t * b_stride;
    for (size_t y = y0; y < y1; ++y) {
      const Fr& x = a_row[y];
      if (x.is_zero()) continue;
      const Fr* b_row = b_mat + y * n;
      for (size_t j = j0; j < j1; ++j) dst[j - j0] = dst[j - j0] + x * b_row[j];
    }
  };
  const unsigned threads = worker_count();
  const size_t work = rows * k * n;  // multiplications
  if (rows >= threads || work < GRAIN) {
    // One work item per output row (batch entry t, row i): rows of all batch entries share the threads,
    // so a batch of single-row products (a vector times each of T matrices) still runs in parallel.
    parallel_for(rows, std::max<size_t>(1, GRAIN / std::max<size_t>(1, k * n)), [&](size_t row_begin, size_t row_end) {
      for (size_t row = row_begin; row < row_end; ++row) block(row, 0, k, 0, n, out.data() + row * n);
    });
    return out;
  }
  // Fewer rows than threads (a vector times a matrix: every Hyrax opening's row fold): split each row's
  // columns across the threads, or, when the rows are too narrow for that, its sum over k.
  constexpr size_t MIN_COLUMNS = 16;
  if (n >= MIN_COLUMNS * threads || n * rows >= MIN_COLUMNS * threads) {
    const size_t per_row = std::max<size_t>(1, std::min<size_t>((threads + rows - 1) / rows, n / MIN_COLUMNS));
    const size_t width = (n + per_row - 1) / per_row;
    parallel_for(rows * per_row, 1, [&](size_t begin, size_t end) {
      for (size_t item = begin; item < end; ++item) {
        const size_t row = item / per_row, j0 = (item % per_row) * width, j1 = std::min(n, j0 + width);
        if (j0 < j1) block(row, 0, k, j0, j1, out.data() + row * n + j0);
      }
    }, threads);
    return out;
  }
  for (size_t row = 0; row < rows; ++row) {
    const size_t chunks = chunk_count(k, std::max<size_t>(1, GRAIN / n), threads);
    std::vector<FrVec> partial(chunks, FrVec(n, Fr::zero()));
    parallel_chunks(k, std::max<size_t>(1, GRAIN / n), [&](size_t chunk, size_t y0, size_t y1) { block(row, y0, y1, 0, n, partial[chunk].data()); }, threads);
    Fr* dst = out.data() + row * n;
    for (const FrVec& p : partial)
      for (size_t j = 0; j < n; ++j) dst[j] = dst[j] + p[j];
  }
  return out;
}

}  // namespace zkdl
