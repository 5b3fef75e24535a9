// RUN: qn-opt %s --split-input-file --verify-diagnostics \
// RUN:   --pass-pipeline='builtin.module(func.func(qn-assign-backends{device=cuda max-splits=1}))'
// RUN: not qn-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(qn-assign-backends{device=tpu}))' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=DEV
// RUN: not qn-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(qn-assign-backends{device=cuda override-tensor=(a=cpu}))' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=REGEX
// RUN: not qn-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(qn-assign-backends{unsupported=cpu:matmul,cuda:matmul}))' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NONE
// RUN: not qn-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(qn-assign-backends{unsupported=gpu:matmul}))' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TABLE

// RUN: not qn-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(qn-assign-backends{support-table=%S/Inputs/bad-support.json}))' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=BADTABLE
// RUN: not qn-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(qn-assign-backends{support-table=%t.none.json}))' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NOTABLE

// BADTABLE: error: qn-assign-backends: support table {{.*}}bad-support.json: 'cuda.supported' must be an array of op kinds
// NOTABLE: error: qn-assign-backends: cannot read support table {{.*}}none.json
// DEV: error: qn-assign-backends: device must be cpu or cuda, got 'tpu'
// REGEX: error: qn-assign-backends: bad override '(a=cpu': invalid regex
// NONE: error: qn-assign-backends: cannot place op 'qn.matmul#0': no backend supports 'matmul'
// TABLE: error: qn-assign-backends: bad support-table entry 'gpu:matmul'

// Tests that exceeding max-splits is a diagnostic naming the limit and the
// count, and that the IR is left untouched (no pass crash, no assert).
// expected-error @below {{qn-assign-backends: the placement needs 2 splits, more than max-splits 1 allows}}
func.func @too_many(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {qn.weight = "a.weight"}) -> tensor<4x8xf32> {
  %y = qn.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Tests that a placement within the limit passes (1 split: the input goes up;
// the result is state handed back on the device).
// expected-remark @below {{qn-assign-backends: 1 splits}}
func.func @within(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {qn.weight = "a.weight"})
    -> (tensor<4x8xf32> {qn.state = "s"}) {
  %y = qn.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32>
  return %y : tensor<4x8xf32>
}
