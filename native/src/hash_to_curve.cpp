#include "hash_to_curve.hpp"

#include <vector>

#include "keccak.hpp"

namespace zkdl {
namespace {

// (q + 1) / 4 and (q - 1) / 2 for the base field modulus q.
constexpr u64 SQRT_EXP[4] = {0x4f082305b61f3f52ULL, 0x65e05aa45a1c72a3ULL, 0x6e14116da0605617ULL, 0x0c19139cb84c680aULL};
constexpr u64 HALF_Q[4] = {0x9e10460b6c3e7ea3ULL, 0xcbc0b548b438e546ULL, 0xdc2822db40c0ac2eULL, 0x183227397098d014ULL};

}  // namespace

G1Affine hash_to_g1(const uint8_t* dst, size_t dst_len, const uint8_t* msg, size_t msg_len) {
  if (dst_len == 0 || dst_len > 255) throw InputError("ZKDL_INVALID_ARGUMENT", "hash-to-curve domain tag must be 1 to 255 bytes");
  std::vector<uint8_t> buf(1 + dst_len + msg_len + 4);
  buf[0] = (uint8_t)dst_len;
  std::copy(dst, dst + dst_len, buf.begin() + 1);
  std::copy(msg, msg + msg_len, buf.begin() + 1 + dst_len);
  uint8_t* ctr_bytes = buf.data() + 1 + dst_len + msg_len;
  // Each try succeeds with probability ~1/2; 2^32 tries cannot all fail in practice.
  for (uint64_t ctr = 0; ctr < (1ULL << 32); ++ctr) {
    for (int k = 0; k < 4; ++k) ctr_bytes[k] = (uint8_t)(ctr >> (24 - 8 * k));
    uint8_t h[32];
    keccak256(buf.data(), buf.size(), h);
    Fq x = Fq::from_bytes_reduce(h);
    Fq rhs = x.sqr() * x + curve_b();
    Fq y = rhs.pow(SQRT_EXP);
    if (y.sqr() != rhs) continue;
    u64 yc[4];
    y.to_canonical(yc);
    if (!geq256(HALF_Q, yc)) y = -y;  // the root that is at most (q-1)/2
    return {x, y, false};
  }
  throw InputError("ZKDL_INTERNAL", "hash-to-curve found no point");
}

}  // namespace zkdl
