// Functions marked ZKDL_HD compile for the host and, under nvcc, for the GPU too: the field and curve
// arithmetic is written once and shared by the CPU kernels and the CUDA kernels.
#pragma once

#if defined(__CUDACC__)
#define ZKDL_HD __host__ __device__ inline
#else
#define ZKDL_HD inline
#endif
