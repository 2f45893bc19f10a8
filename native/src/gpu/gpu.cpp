#include "gpu.hpp"

#include <atomic>
#include <cstdlib>

#include "../errors.hpp"
#include "host_exec.hpp"
#include "pipeline.hpp"

namespace zkdl::gpu {
namespace {

// Below this many elements the transfers cost more than the GPU saves (auto mode only).
constexpr size_t AUTO_THRESHOLD = size_t(1) << 14;

Mode parse(const std::string& name) {
  if (name == "cpu") return Mode::Cpu;
  if (name == "auto") return Mode::Auto;
  if (name == "cuda") return Mode::Cuda;
  if (name == "emulated") return Mode::Emulated;
  throw InputError("ZKDL_INVALID_ARGUMENT", "unknown backend \"" + name + "\" (expected cpu, auto, cuda or emulated)");
}

std::atomic<int>& current() {
  static std::atomic<int> m{[] {
    const char* env = std::getenv("ZKDL_BACKEND");
    Mode m = Mode::Auto;
    try {
      if (env && *env) m = parse(env);
    } catch (const InputError&) {
      m = Mode::Auto;  // a typo in the environment must not take the process down at load time
    }
    if (m == Mode::Cuda && !cuda_info().available) m = Mode::Auto;
    return (int)m;
  }()};
  return m;
}

}  // namespace

const CudaInfo& cuda_info() {
  static const CudaInfo info = cuda::probe();
  return info;
}

Mode mode() { return (Mode)current().load(); }

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::Cpu: return "cpu";
    case Mode::Auto: return "auto";
    case Mode::Cuda: return "cuda";
    default: return "emulated";
  }
}

void set_mode(const std::string& name) {
  const Mode m = parse(name);
  if (m == Mode::Cuda && !cuda_info().available)
    throw InputError("ZKDL_CUDA", "no usable CUDA device: " + cuda_info().reason);
  current().store((int)m);
}

bool offload(size_t n) {
  switch (mode()) {
    case Mode::Cpu: return false;
    case Mode::Auto: return n >= AUTO_THRESHOLD && cuda_info().available;
    default: return true;
  }
}

std::vector<G1> msm_batch(const G1Affine* points, size_t n, const Fr* scalars, size_t batch) {
  if (mode() != Mode::Emulated) return cuda::msm_batch(points, n, scalars, batch);
  HostExec ex;
  return gpu::msm_batch(ex, points, n, scalars, batch);
}

std::vector<Fr> elementwise(ElementOp op, const std::vector<Fr>& a, const std::vector<Fr>* b, const Fr& s) {
  if (mode() != Mode::Emulated) return cuda::elementwise(op, a, b, s);
  HostExec ex;
  return gpu::elementwise(ex, op, a, b, s);
}

std::vector<Fr> fold(const std::vector<Fr>& a, const Fr& r) {
  if (mode() != Mode::Emulated) return cuda::fold(a, r);
  HostExec ex;
  return gpu::fold(ex, a, r);
}

std::vector<Fr> sumcheck_round(const std::vector<const std::vector<Fr>*>& factors) {
  if (mode() != Mode::Emulated) return cuda::sumcheck_round(factors);
  HostExec ex;
  return gpu::sumcheck_round(ex, factors);
}

}  // namespace zkdl::gpu
