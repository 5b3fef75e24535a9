# -*- Python -*-
# lit configuration for qn: IR tests (*.mlir), tool tests (*.test) and the
# GoogleTest unit binaries (built into bin/unittests, run by lit's GoogleTest
# format from test/unittests/lit.cfg.py).
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "qn"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "unittests", "lit.cfg.py", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qn_obj_root, "test")

config.substitutions.append(("%shared", config.qn_shared_dir))
config.substitutions.append(("%fixtures", os.path.join(config.qn_shared_dir, "fixtures")))
config.substitutions.append(("%src", config.qn_src_root))
config.substitutions.append(("%qn_bin", config.qn_tools_dir))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.qn_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# Fixture-based tests need ../shared next to the checkout.
if os.path.isdir(os.path.join(config.qn_shared_dir, "fixtures")):
    config.available_features.add("fixtures")

# NVRTC (the CUDA toolkit) compiles generated CUDA C++ without a GPU; tests
# that need it say `REQUIRES: nvrtc` and are skipped where it is missing.
import ctypes.util
if ctypes.util.find_library("nvrtc"):
    config.available_features.add("nvrtc")

# An NVIDIA driver (libcuda.so.1 loadable, as qn-exec opens it): tests of
# what happens without one say `REQUIRES: !cuda-driver`.
import ctypes
try:
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass
