// Multi-scalar multiplication sum_i s_i * P_i over G1 (Pippenger, signed-digit windows, multithreaded).
#pragma once
#include <cstddef>
#include <vector>

#include "g1.hpp"

namespace zkdl {

/// Scalars are Fr elements in Montgomery form. threads = 0 uses every hardware thread.
G1 msm(const G1Affine* points, const Fr* scalars, size_t n, unsigned threads = 0);

/// Window width Pippenger uses for n points whose scalars have at most `bits` bits (exposed for tests
/// and benchmarks).
unsigned msm_window_bits(size_t n, unsigned bits);

}  // namespace zkdl
