// Hyrax row commitments: a rows×cols matrix T commits row by row as C_j = Σ_i T[j,i]·G_i + ρ_j·H.
#pragma once
#include <vector>

#include "g1.hpp"

namespace zkdl {

/// T is row-major rows×cols; generators has cols points; blindings has rows scalars.
std::vector<G1> hyrax_commit_rows(const std::vector<Fr>& t, size_t rows, size_t cols, const std::vector<G1Affine>& generators,
                                  const G1Affine& h, const std::vector<Fr>& blindings);

}  // namespace zkdl
