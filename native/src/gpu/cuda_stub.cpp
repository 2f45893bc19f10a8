// Built instead of cuda.cu when nvcc is absent or WITH_CUDA=0: CUDA reads as not compiled, and the
// mode logic never routes work here.
#include "../errors.hpp"
#include "gpu.hpp"

namespace zkdl::gpu::cuda {
namespace {
[[noreturn]] void unavailable() { throw InputError("ZKDL_CUDA", "this build has no CUDA support (rebuild with nvcc on PATH)"); }
}  // namespace

CudaInfo probe() {
  CudaInfo info;
  info.reason = "built without CUDA";
  return info;
}
std::vector<G1> msm_batch(const G1Affine*, size_t, const Fr*, size_t) { unavailable(); }
std::vector<Fr> elementwise(ElementOp, const std::vector<Fr>&, const std::vector<Fr>*, const Fr&) { unavailable(); }
std::vector<Fr> fold(const std::vector<Fr>&, const Fr&) { unavailable(); }
std::vector<Fr> sumcheck_round(const std::vector<const std::vector<Fr>*>&) { unavailable(); }

}  // namespace zkdl::gpu::cuda
