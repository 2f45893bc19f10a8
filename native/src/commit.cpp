#include "commit.hpp"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include "errors.hpp"
#include "gpu/gpu.hpp"
#include "msm.hpp"

namespace zkdl {

std::vector<G1> hyrax_commit_rows(const std::vector<Fr>& t, size_t rows, size_t cols, const std::vector<G1Affine>& generators,
                                  const G1Affine& h, const std::vector<Fr>& blindings) {
  if (t.size() != rows * cols) throw InputError("ZKDL_SHAPE_MISMATCH", "tensor is not rows×cols");
  if (generators.size() != cols)
    throw InputError("ZKDL_SHAPE_MISMATCH", std::to_string(cols) + " columns but " + std::to_string(generators.size()) + " generators");
  if (blindings.size() != rows)
    throw InputError("ZKDL_SHAPE_MISMATCH", std::to_string(rows) + " rows but " + std::to_string(blindings.size()) + " blinding factors");

  // Each row is one MSM over (G_0..G_{cols-1}, H) with scalars (row, ρ_j).
  std::vector<G1Affine> bases(generators);
  bases.push_back(h);
  if (gpu::offload(rows * cols)) {  // all rows as one batched MSM
    std::vector<Fr> scalars(rows * (cols + 1));
    for (size_t j = 0; j < rows; ++j) {
      std::copy(t.begin() + j * cols, t.begin() + (j + 1) * cols, scalars.begin() + j * (cols + 1));
      scalars[j * (cols + 1) + cols] = blindings[j];
    }
    return gpu::msm_batch(bases.data(), bases.size(), scalars.data(), rows);
  }
  std::vector<G1> out(rows);
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  auto commit_row = [&](size_t j, unsigned threads) {
    std::vector<Fr> scalars(t.begin() + j * cols, t.begin() + (j + 1) * cols);
    scalars.push_back(blindings[j]);
    out[j] = msm(bases.data(), scalars.data(), bases.size(), threads);
  };
  if (rows < hw) {
    for (size_t j = 0; j < rows; ++j) commit_row(j, 0);  // few rows: each MSM uses every core
    return out;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < hw; ++w)
    pool.emplace_back([&] {
      for (size_t j; (j = next.fetch_add(1)) < rows;) commit_row(j, 1);
    });
  for (auto& th : pool) th.join();
  return out;
}

}  // namespace zkdl
