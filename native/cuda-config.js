// Answers binding.gyp's questions about CUDA: `node cuda-config.js enabled|nvcc|root`.
// WITH_CUDA=auto (default) builds the CUDA kernels when nvcc is found (NVCC, PATH, /usr/local/cuda);
// WITH_CUDA=0 never does; WITH_CUDA=1 requires nvcc and fails the build without it.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

function findNvcc() {
  const candidates = [];
  if (process.env.NVCC) candidates.push(process.env.NVCC);
  for (const dir of (process.env.PATH || "").split(path.delimiter)) if (dir) candidates.push(path.join(dir, "nvcc"));
  if (process.env.CUDA_HOME) candidates.push(path.join(process.env.CUDA_HOME, "bin", "nvcc"));
  candidates.push("/usr/local/cuda/bin/nvcc");
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return fs.realpathSync(c);
    } catch {
      /* next */
    }
  }
  return null;
}

/** The toolkit root: the first candidate holding the headers and the static runtime we link. */
function findRoot(nvcc) {
  const candidates = [process.env.CUDA_HOME, path.dirname(path.dirname(nvcc)), "/usr/local/cuda"].filter(Boolean);
  return (
    candidates.find(
      (r) => fs.existsSync(path.join(r, "include", "cuda_runtime.h")) && fs.existsSync(path.join(r, "lib64", "libcudart_static.a")),
    ) || null
  );
}

const mode = (process.env.WITH_CUDA || "auto").toLowerCase();
if (!["auto", "0", "1"].includes(mode)) {
  console.error(`WITH_CUDA must be auto, 0 or 1 (got "${process.env.WITH_CUDA}")`);
  process.exit(1);
}
const found = mode === "0" ? null : findNvcc();
const root = found ? findRoot(found) : null;
const nvcc = root ? found : null;
if (mode === "1" && !nvcc) {
  console.error(
    found
      ? `WITH_CUDA=1 but no CUDA toolkit (include/cuda_runtime.h, lib64/libcudart_static.a) next to ${found}; set CUDA_HOME`
      : "WITH_CUDA=1 but nvcc was not found (set NVCC or CUDA_HOME, or put nvcc on PATH)",
  );
  process.exit(1);
}
const what = process.argv[2];
if (what === "enabled") console.log(nvcc ? "1" : "0");
else if (what === "nvcc") console.log(nvcc || "nvcc");
else if (what === "root") console.log(root || "");
else {
  console.error("usage: node cuda-config.js enabled|nvcc|root");
  process.exit(1);
}
