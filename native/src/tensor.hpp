// Kernels over vectors of Fr (the tensor library's CPU path). A tensor is a flat vector; its MLE puts
// bit k of the flat index on variable k, so variable 0 pairs neighbours (2i, 2i+1).
#pragma once
#include <cstddef>
#include <vector>

#include "field.hpp"

namespace zkdl {

using FrVec = std::vector<Fr>;

FrVec add(const FrVec& a, const FrVec& b);
FrVec sub(const FrVec& a, const FrVec& b);
FrVec hadamard(const FrVec& a, const FrVec& b);
FrVec scale(const FrVec& a, const Fr& s);
Fr sum(const FrVec& a);
Fr inner_product(const FrVec& a, const FrVec& b);

/// Binds variable 0 to r: out[i] = a[2i] + r·(a[2i+1] − a[2i]). The length must be even.
FrVec fold(const FrVec& a, const Fr& r);

/// The leaves of a GKR tree of fractions p/q (logUp) of `length` entries, in one pass: block b's
/// entries in order, q = β + values[b][i] and p = numerators[b][i] (1 where numerators[b] is null),
/// then (p, q) = (0, 1) up to `length`.
void fraction_leaves(const std::vector<const FrVec*>& values, const std::vector<const FrVec*>& numerators, const Fr& beta, size_t length, FrVec& p_out,
                     FrVec& q_out);

/// One layer of a GKR tree of fractions p/q (logUp): neighbours summed in one pass,
/// p'[i] = p[2i]·q[2i+1] + p[2i+1]·q[2i] and q'[i] = q[2i]·q[2i+1]. Same even lengths.
void fraction_layer(const FrVec& p, const FrVec& q, FrVec& p_out, FrVec& q_out);

/// The factors of a GKR layer's sumcheck from the layer below, in one pass (E, O: the even and odd
/// entries): out = [pE + λ·qE, qO, pO, qE]. Same even lengths.
void gkr_factors(const FrVec& p, const FrVec& q, const Fr& lambda, FrVec out[4]);

/// The MLE of a (length 2^k) at point z (k coordinates).
Fr evaluate(const FrVec& a, const FrVec& z);

/// eq(z, x) for every x in {0,1}^k, indexed by x with bit j of x the j-th coordinate.
FrVec eq_vector(const FrVec& z);

/// Every element inverted (Montgomery's trick: one inversion). Throws on a zero element.
FrVec batch_inverse(const FrVec& a);

/// Sumcheck round polynomial over variable 0 of Σ_x Π_j f_j(x): the evaluations at X = 0, 1, …, D of
/// s(X) = Σ_i Π_j ((1 − X)·f_j[2i] + X·f_j[2i+1]), D = the number of factors (1 to 5: up to four MLEs and
/// an eq factor, which is just another multilinear factor). All factors have the same even length.
FrVec sumcheck_round(const std::vector<const FrVec*>& factors);

/// Row-major (m×k) · (k×n).
FrVec matmul(const FrVec& a, const FrVec& b, size_t m, size_t k, size_t n);

/// `batch` row-major products (m×k)·(k×n), out [batch][m][n]. a is [batch][m][k] when a_batched, else
/// one m×k matrix shared by every batch entry; b likewise ([batch][k][n] or one k×n). With batch = 1
/// and neither batched it is matmul.
FrVec batched_matmul(const FrVec& a, const FrVec& b, size_t batch, size_t m, size_t k, size_t n, bool a_batched, bool b_batched);

}  // namespace zkdl
