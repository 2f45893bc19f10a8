#include "parallel.hpp"

#include <cstdlib>

namespace zkdl {

unsigned worker_count() {
  static const unsigned count = [] {
    unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    if (const char* cap = std::getenv("ZKDL_THREADS")) {
      const long v = std::strtol(cap, nullptr, 10);
      if (v > 0) hw = std::min<unsigned>(hw, (unsigned)v);
    }
    return hw;
  }();
  return count;
}

}  // namespace zkdl
