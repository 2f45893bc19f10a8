#include "commit.hpp"

#include <algorithm>
#include <string>

#include <map>
#include <memory>
#include <mutex>

#include "errors.hpp"
#include "fixed_base.hpp"
#include "gpu/gpu.hpp"
#include "msm.hpp"
#include "parallel.hpp"

namespace zkdl {
namespace {

/// The fixed-base table of a blinding generator, built once per point (it is the same H for every
/// commitment of a run) and shared by every thread.
std::shared_ptr<const FixedBase> blinding_table(const G1Affine& h) {
  static std::mutex lock;
  static std::map<std::vector<uint8_t>, std::shared_ptr<const FixedBase>> tables;
  std::vector<uint8_t> key(64);
  h.to_bytes(key.data());
  std::lock_guard<std::mutex> guard(lock);
  auto& table = tables[key];
  if (!table) table = std::make_shared<const FixedBase>(h);
  return table;
}

}  // namespace

std::vector<G1> hyrax_commit_rows(const std::vector<Fr>& t, size_t rows, size_t cols, const std::vector<G1Affine>& generators,
                                  const G1Affine& h, const std::vector<Fr>& blindings) {
  if (t.size() != rows * cols) throw InputError("ZKDL_SHAPE_MISMATCH", "tensor is not rows×cols");
  if (generators.size() != cols)
    throw InputError("ZKDL_SHAPE_MISMATCH", std::to_string(cols) + " columns but " + std::to_string(generators.size()) + " generators");
  if (blindings.size() != rows)
    throw InputError("ZKDL_SHAPE_MISMATCH", std::to_string(rows) + " rows but " + std::to_string(blindings.size()) + " blinding factors");

  if (gpu::offload(rows * cols)) {  // all rows as one batched MSM over (G_0..G_{cols-1}, H)
    std::vector<G1Affine> bases(generators);
    bases.push_back(h);
    std::vector<Fr> scalars(rows * (cols + 1));
    for (size_t j = 0; j < rows; ++j) {
      std::copy(t.begin() + j * cols, t.begin() + (j + 1) * cols, scalars.begin() + j * (cols + 1));
      scalars[j * (cols + 1) + cols] = blindings[j];
    }
    return gpu::msm_batch(bases.data(), bases.size(), scalars.data(), rows);
  }
  // On the CPU the row's entries and its blinding are apart: entries are mostly small (limbs,
  // remainders, bits), and an MSM's cost follows its widest scalar, so one full-width ρ_j among them
  // would make every row pay for 254-bit windows. ρ_j·H comes from H's fixed-base table instead.
  const std::shared_ptr<const FixedBase> h_table = blinding_table(h);
  const unsigned threads = worker_count();
  if (rows < threads && cols >= 4096) {
    // Few wide rows: each MSM splits its own windows over every core.
    std::vector<G1> out(rows);
    for (size_t j = 0; j < rows; ++j) {
      u64 rho[4];
      blindings[j].to_canonical(rho);
      out[j] = msm(generators.data(), t.data() + j * cols, cols, threads).add(h_table->mul(rho));
    }
    return out;
  }
  // Many rows: all at once over the shared generators, the rows split over the cores, the table
  // entries of ρ_j·H added among the row's own (msm_rows).
  return msm_rows(generators.data(), t.data(), rows, cols, threads, h_table.get(), blindings.data());
}

}  // namespace zkdl
