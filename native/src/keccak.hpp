// Keccak-256 as Ethereum uses it (original Keccak padding 0x01, not SHA-3's 0x06).
#pragma once
#include <cstddef>
#include <cstdint>

namespace zkdl {

void keccak256(const uint8_t* data, size_t len, uint8_t out[32]);

}  // namespace zkdl
