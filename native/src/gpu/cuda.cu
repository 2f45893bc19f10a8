// The CUDA executor for pipeline.hpp and the device probe. Everything algorithmic is in pipeline.hpp
// (shared with the host executor the tests run); this file only moves memory, launches, and sorts.
#include <cuda_runtime.h>

#include <cub/device/device_radix_sort.cuh>
#include <string>
#include <vector>

#include "../errors.hpp"
#include "gpu.hpp"
#include "pipeline.hpp"

namespace zkdl::gpu::cuda {
namespace {

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  if (e == cudaErrorMemoryAllocation) throw InputError("ZKDL_OUT_OF_MEMORY", std::string(what) + ": GPU out of memory");
  throw InputError("ZKDL_CUDA", std::string(what) + ": " + cudaGetErrorString(e));
}

template <class F>
__global__ void for_each_kernel(size_t n, F f) {
  const size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i < n) f(i);
}

class CudaExec {
 public:
  CudaExec() { check(cudaSetDevice(0), "cudaSetDevice"); }
  CudaExec(const CudaExec&) = delete;
  CudaExec& operator=(const CudaExec&) = delete;
  ~CudaExec() {
    for (void* p : arena_) cudaFree(p);
  }

  template <class T>
  T* alloc(size_t n) {
    void* p = nullptr;
    check(cudaMalloc(&p, std::max<size_t>(1, n * sizeof(T))), "cudaMalloc");
    arena_.push_back(p);
    return static_cast<T*>(p);
  }
  template <class T>
  void upload(T* dst, const T* src, size_t n) {
    if (n) check(cudaMemcpy(dst, src, n * sizeof(T), cudaMemcpyHostToDevice), "upload");
  }
  template <class T>
  void download(T* dst, const T* src, size_t n) {
    if (n) check(cudaMemcpy(dst, src, n * sizeof(T), cudaMemcpyDeviceToHost), "download");
  }
  template <class T>
  void zero(T* p, size_t n) {
    if (n) check(cudaMemset(p, 0, n * sizeof(T)), "cudaMemset");
  }

  template <class F>
  void for_each(size_t n, F f) {
    if (!n) return;
    constexpr unsigned threads = 256;
    for_each_kernel<<<(unsigned)((n + threads - 1) / threads), threads>>>(n, f);
    check(cudaGetLastError(), "kernel launch");
  }

  void sort_pairs(uint32_t* keys, uint32_t* values, size_t n, unsigned bits) {
    if (n < 2) return;
    uint32_t* keys_out = alloc<uint32_t>(n);
    uint32_t* values_out = alloc<uint32_t>(n);
    size_t temp_bytes = 0;
    check(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys, keys_out, values, values_out, (int)n, 0, (int)bits), "sort (size)");
    void* temp = alloc<unsigned char>(temp_bytes);
    check(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys, keys_out, values, values_out, (int)n, 0, (int)bits), "sort");
    check(cudaMemcpy(keys, keys_out, n * sizeof(uint32_t), cudaMemcpyDeviceToDevice), "sort copy");
    check(cudaMemcpy(values, values_out, n * sizeof(uint32_t), cudaMemcpyDeviceToDevice), "sort copy");
  }

 private:
  std::vector<void*> arena_;
};

}  // namespace

CudaInfo probe() {
  CudaInfo info;
  info.compiled = true;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    info.reason = std::string("no CUDA driver or device (") + cudaGetErrorString(e) + ")";
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return info;
  }
  info.devices = count;
  if (count == 0) {
    info.reason = "no CUDA device";
    return info;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
    info.reason = "cannot read the properties of device 0";
    return info;
  }
  info.name = prop.name;
  info.major = prop.major;
  info.minor = prop.minor;
  info.memory = prop.totalGlobalMem;
  if (prop.major < 9) {
    info.reason = "device 0 has compute capability " + std::to_string(prop.major) + "." + std::to_string(prop.minor) +
                  "; this build targets 9.0 (Hopper) and newer";
    return info;
  }
  info.available = true;
  return info;
}

std::vector<G1> msm_batch(const G1Affine* points, size_t n, const Fr* scalars, size_t batch) {
  CudaExec ex;
  return gpu::msm_batch(ex, points, n, scalars, batch);
}

std::vector<Fr> elementwise(ElementOp op, const std::vector<Fr>& a, const std::vector<Fr>* b, const Fr& s) {
  CudaExec ex;
  return gpu::elementwise(ex, op, a, b, s);
}

std::vector<Fr> fold(const std::vector<Fr>& a, const Fr& r) {
  CudaExec ex;
  return gpu::fold(ex, a, r);
}

std::vector<Fr> sumcheck_round(const std::vector<const std::vector<Fr>*>& factors) {
  CudaExec ex;
  return gpu::sumcheck_round(ex, factors);
}

}  // namespace zkdl::gpu::cuda
