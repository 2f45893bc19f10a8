#include "generators.hpp"

#include <map>
#include <mutex>

#include "errors.hpp"
#include "hash_to_curve.hpp"
#include "keccak.hpp"
#include "parallel.hpp"

namespace zkdl {
namespace {

const std::string DST = "zkdl-chain/v1/generators";
constexpr size_t MAX_GENERATORS = size_t(1) << 24;

void check_label(const std::string& label) {
  if (label.empty() || label.size() > 64) throw InputError("ZKDL_INVALID_ARGUMENT", "a generator-set label is 1 to 64 bytes");
  for (unsigned char ch : label)
    if (ch < 0x20 || ch > 0x7e) throw InputError("ZKDL_INVALID_ARGUMENT", "a generator-set label is printable ASCII");
}

/// hash_to_g1(DST, label ‖ 0x00 ‖ tag ‖ suffix).
G1Affine derive(const std::string& label, char tag, const uint8_t* suffix, size_t suffix_len) {
  std::vector<uint8_t> msg(label.begin(), label.end());
  msg.push_back(0);
  msg.push_back((uint8_t)tag);
  msg.insert(msg.end(), suffix, suffix + suffix_len);
  return hash_to_g1(reinterpret_cast<const uint8_t*>(DST.data()), DST.size(), msg.data(), msg.size());
}

struct Cached {
  std::vector<G1Affine> g;
  G1Affine h, base;
};

}  // namespace

GeneratorSet generators(const std::string& label, size_t n) {
  check_label(label);
  if (n > MAX_GENERATORS) throw InputError("ZKDL_OUT_OF_RANGE", "at most 2^24 generators per set");
  static std::mutex mutex;
  static std::map<std::string, Cached> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto [it, fresh] = cache.try_emplace(label);
  Cached& c = it->second;
  if (fresh) {
    c.h = derive(label, 'H', nullptr, 0);
    c.base = derive(label, 'g', nullptr, 0);
  }
  if (c.g.size() < n) {
    const size_t from = c.g.size();
    c.g.resize(n);
    parallel_for(n - from, 64, [&](size_t begin, size_t end) {
      for (size_t i = from + begin; i < from + end; ++i) {
        const uint8_t be[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        c.g[i] = derive(label, 'G', be, 4);
      }
    });
  }
  return GeneratorSet{std::vector<G1Affine>(c.g.begin(), c.g.begin() + n), c.h, c.base};
}

void generator_set_id(const std::string& label, size_t n, uint8_t out[32]) {
  check_label(label);
  std::vector<uint8_t> msg;
  msg.push_back((uint8_t)label.size());
  msg.insert(msg.end(), label.begin(), label.end());
  for (int s = 24; s >= 0; s -= 8) msg.push_back((uint8_t)(n >> s));
  keccak256(msg.data(), msg.size(), out);
}

}  // namespace zkdl
