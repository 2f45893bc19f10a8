// Deterministic hash to G1 by try-and-increment (docs/protocol.md, "Generators"): nobody knows the
// discrete logarithm of the result, and it is reproducible in TypeScript and in Solidity.
//
//   for ctr = 0, 1, 2, ...:
//     x = uint256(keccak256(uint8(len(dst)) ‖ dst ‖ msg ‖ uint32_be(ctr))) mod q
//     if x^3 + 3 is a square in Fq: y = (x^3 + 3)^((q+1)/4), take the root y <= (q-1)/2; return (x, y)
#pragma once
#include <cstddef>
#include <cstdint>

#include "g1.hpp"

namespace zkdl {

/// dst must be 1 to 255 bytes.
G1Affine hash_to_g1(const uint8_t* dst, size_t dst_len, const uint8_t* msg, size_t msg_len);

}  // namespace zkdl
