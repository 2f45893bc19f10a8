// Multi-scalar multiplication sum_i s_i * P_i over G1 (Pippenger, signed-digit windows, multithreaded).
#pragma once
#include <cstddef>
#include <vector>

#include "g1.hpp"

namespace zkdl {

/// Scalars are Fr elements in Montgomery form. threads = 0 uses every hardware thread.
G1 msm(const G1Affine* points, const Fr* scalars, size_t n, unsigned threads = 0);

class FixedBase;

/// One MSM per row of a row-major rows×cols matrix, all over the same cols points:
/// out[j] = Σ_i scalars[j·cols + i]·points[i], plus tail_scalars[j]·P when `tail` is P's fixed-base
/// table (a Hyrax blinding ρ_j·H). threads = 0 uses every hardware thread.
std::vector<G1> msm_rows(const G1Affine* points, const Fr* scalars, size_t rows, size_t cols, unsigned threads = 0,
                         const FixedBase* tail = nullptr, const Fr* tail_scalars = nullptr);

}  // namespace zkdl
