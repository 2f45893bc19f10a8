{
  "variables": {
    "with_cuda%": "<!(node cuda-config.js enabled)",
    "nvcc%": "<!(node cuda-config.js nvcc)",
    "cuda_root%": "<!(node cuda-config.js root)"
  },
  "targets": [
    {
      "target_name": "zkdl_native",
      "sources": [
        "src/addon.cpp",
        "src/commit.cpp",
        "src/fixed_base.cpp",
        "src/g1.cpp",
        "src/generators.cpp",
        "src/gpu/gpu.cpp",
        "src/hash_to_curve.cpp",
        "src/keccak.cpp",
        "src/msm.cpp",
        "src/parallel.cpp",
        "src/tensor.cpp"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-Wall", "-Wextra"],
      "ldflags": ["-pthread"],
      "conditions": [
        ["'<!(node -p \"process.env.ZKDL_MARCH_NATIVE || ''\")'=='1'", {"cflags_cc": ["-march=native"]}],
        ["'<(with_cuda)'=='1'", {
          "sources": ["src/gpu/cuda.cu"],
          "rules": [{
            "rule_name": "nvcc",
            "extension": "cu",
            "inputs": ["<(RULE_INPUT_PATH)", "src/gpu/pipeline.hpp", "src/field.hpp", "src/g1.hpp", "src/hd.hpp"],
            "outputs": ["<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).o"],
            "message": "nvcc <(RULE_INPUT_PATH) (sm_90 cubin + compute_90 PTX)",
            "process_outputs_as_sources": 1,
            "action": ["<(nvcc)", "-std=c++17", "-O3", "--extended-lambda", "-Xcompiler", "-fPIC",
                       "-gencode", "arch=compute_90,code=sm_90", "-gencode", "arch=compute_90,code=compute_90",
                       "-c", "<(RULE_INPUT_PATH)", "-o", "<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).o"]
          }],
          "libraries": ["-L<(cuda_root)/lib64", "-lcudart_static", "-ldl", "-lrt"]
        }, {
          "sources": ["src/gpu/cuda_stub.cpp"]
        }]
      ]
    }
  ]
}
