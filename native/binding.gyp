{
  "targets": [
    {
      "target_name": "zkdl_native",
      "sources": [
        "src/addon.cpp",
        "src/commit.cpp",
        "src/g1.cpp",
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
        ["'<!(node -p \"process.env.ZKDL_MARCH_NATIVE || ''\")'=='1'", {"cflags_cc": ["-march=native"]}]
      ]
    }
  ]
}
