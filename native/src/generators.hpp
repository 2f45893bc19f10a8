// Named generator sets for Pedersen/Hyrax commitments (docs/protocol.md §2.3): G_0, G_1, …, the
// blinding generator H and the scalar base g, all hashed to G1 from the set's label, so nobody knows
// a discrete-log relation between them. G_i does not depend on the set size, so one cached prefix per
// label serves every size.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "g1.hpp"

namespace zkdl {

struct GeneratorSet {
  std::vector<G1Affine> g;  // G_0 … G_{n−1}
  G1Affine h, base;
};

/// The first n generators of `label` (1 to 64 printable ASCII bytes), derived on all cores and cached.
GeneratorSet generators(const std::string& label, size_t n);

/// The set's id: keccak256(uint8(len(label)) ‖ label ‖ uint32_be(n)).
void generator_set_id(const std::string& label, size_t n, uint8_t out[32]);

}  // namespace zkdl
