# -*- Python -*-
# Runs every GoogleTest binary under <build>/unittests as lit tests, one lit
# test per gtest case.
import os

import lit.formats

config.name = "qn-unit"
config.test_format = lit.formats.GoogleTest(".", "Tests")
config.test_source_root = os.path.join(config.qn_obj_root, "unittests")
config.test_exec_root = config.test_source_root
config.environment["QN_SHARED_DIR"] = config.qn_shared_dir
