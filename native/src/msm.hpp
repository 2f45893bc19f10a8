// Multi-scalar multiplication sum_i s_i * P_i over G1 (Pippenger, signed-digit windows, multithreaded).
#pragma once
#include <cstddef>
#include <vector>

#include "g1.hpp"

namespace zkdl {

/// Scalars are Fr elements in Montgomery form. threads = 0 uses every hardware thread.
G1 msm(const G1Affine* points, const Fr* scalars, size_t n, unsigned threads = 0);

}  // namespace zkdl
