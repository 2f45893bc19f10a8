// Where the heavy kernels run: the CPU kernels, the CUDA pipeline (cuda.cu), or the same pipeline
// executed on the host ("emulated", for checking it without a GPU). ZKDL_BACKEND=cpu|auto|cuda|emulated
// sets the mode at start-up; the addon's setBackend() changes it at run time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../g1.hpp"

namespace zkdl::gpu {

enum class Mode { Cpu, Auto, Cuda, Emulated };
enum class ElementOp : uint8_t { Add, Sub, Mul, Scale };

struct CudaInfo {
  bool compiled = false;   // the addon was built with nvcc
  bool available = false;  // a usable device (compute capability ≥ 9.0) was found at run time
  int devices = 0;
  std::string name;        // device 0
  int major = 0, minor = 0;
  size_t memory = 0;       // bytes
  std::string reason;      // why CUDA is not available
};

/// Probes the driver once (never throws: no driver or no device reads as unavailable).
const CudaInfo& cuda_info();

Mode mode();
const char* mode_name(Mode m);
/// Throws ZKDL_INVALID_ARGUMENT for an unknown name and ZKDL_CUDA for "cuda" without a device.
void set_mode(const std::string& name);

/// Whether a kernel over n elements goes to the GPU pipeline in the current mode. In auto mode only
/// work large enough to pay for the transfers does.
bool offload(size_t n);

// The GPU pipeline, on CUDA or emulated per the mode (call only when offload() said so).
std::vector<G1> msm_batch(const G1Affine* points, size_t n, const Fr* scalars, size_t batch);
std::vector<Fr> elementwise(ElementOp op, const std::vector<Fr>& a, const std::vector<Fr>* b, const Fr& s);
std::vector<Fr> fold(const std::vector<Fr>& a, const Fr& r);
std::vector<Fr> sumcheck_round(const std::vector<const std::vector<Fr>*>& factors);

namespace cuda {  // cuda.cu, or cuda_stub.cpp when built without nvcc
CudaInfo probe();
std::vector<G1> msm_batch(const G1Affine* points, size_t n, const Fr* scalars, size_t batch);
std::vector<Fr> elementwise(ElementOp op, const std::vector<Fr>& a, const std::vector<Fr>* b, const Fr& s);
std::vector<Fr> fold(const std::vector<Fr>& a, const Fr& r);
std::vector<Fr> sumcheck_round(const std::vector<const std::vector<Fr>*>& factors);
}  // namespace cuda

}  // namespace zkdl::gpu
