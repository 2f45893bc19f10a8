// Fixed-base scalar multiplication, for a point multiplied on its own over and over: the blinding
// generator H behind every Σ-protocol commitment (a membership answer's Schnorr proof costs one k·H).
#pragma once
#include <vector>

#include "g1.hpp"

namespace zkdl {

/// The affine multiples d·256^w·P for the 33 byte positions w of a scalar and the digits d = 1…128.
/// A scalar recoded into signed bytes (digits in [−127, 128]) then costs at most 33 mixed additions,
/// against 256 doublings and ~128 additions for double-and-add. 33 × 128 points, 4224 × 72 bytes.
class FixedBase {
 public:
  explicit FixedBase(const G1Affine& base);
  /// k·P for a canonical scalar k < 2^256 (limbs, little-endian).
  G1 mul(const u64 k[4]) const;

  /// The table entries whose sum is k·P, for callers that add them up in their own way: calls
  /// emit(index, negate) per nonzero signed byte digit of k, and k·P = Σ ±entry(index).
  template <class Emit>
  void digits(const u64 k[4], Emit emit) const {
    if (table_.empty()) return;
    int carry = 0;
    for (int w = 0; w < kWindows; ++w) {
      int digit = carry + (w < 32 ? (int)((k[w / 8] >> (8 * (w % 8))) & 0xff) : 0);
      carry = digit > kDigits ? 1 : 0;
      if (carry) digit -= 256;
      if (digit == 0) continue;
      emit((size_t)(w * kDigits + (digit > 0 ? digit : -digit) - 1), digit < 0);
    }
  }
  const G1Affine& entry(size_t index) const { return table_[index]; }

  static constexpr int kWindows = 33;
  static constexpr int kDigits = 128;

 private:
  std::vector<G1Affine> table_;  // table_[w * kDigits + d − 1] = d·256^w·P; empty for the identity
};

}  // namespace zkdl
