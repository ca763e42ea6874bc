{
  "targets": [
    {
      "target_name": "lbd_native",
      "sources": ["<!@(ls -1 src/*.cc)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "src"],
      "defines": ["NAPI_VERSION=9", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
