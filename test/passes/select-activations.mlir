// RUN: qn-opt %s --split-input-file --qn-form-dispatches --qn-select-activations | FileCheck %s
// RUN: qn-opt %s --split-input-file --qn-form-dispatches "--qn-select-activations=mode=f32" | FileCheck %s --check-prefix=F32
// RUN: qn-opt %s --split-input-file --qn-form-dispatches "--qn-select-activations=mode=q8prefill" | FileCheck %s --check-prefix=PREFILL
// RUN: qn-opt %s --split-input-file --qn-form-dispatches | FileCheck %s --check-prefix=NONE
// RUN: not qn-opt %s --split-input-file --qn-form-dispatches "--qn-select-activations=mode=int4" 2>&1 | FileCheck %s --check-prefix=BAD

// Tests the choice per weight format: q8_0 and q4_k have int8 kernels and
// get the mode; f32 and f16 weights have none, so they stay f32 whatever the
// mode; without the pass there is no attribute.
// CHECK-LABEL: func.func @formats
// CHECK: qn.dispatch.matmul {{.*}} weights(q8_0:rows) activations q8 {qn.name = "a"}
// CHECK: qn.dispatch.matmul {{.*}} weights(q4_k:rows) activations q8 {qn.name = "b"}
// CHECK: qn.dispatch.matmul {{.*}} weights(f32:rows) activations f32 {qn.name = "c"}
// CHECK: qn.dispatch.matmul {{.*}} weights(f16:rows) activations f32 {qn.name = "d"}
// F32-LABEL: func.func @formats
// F32-COUNT-4: activations f32
// F32-NOT: activations q8
// PREFILL-LABEL: func.func @formats
// PREFILL: weights(q8_0:rows) activations q8prefill
// PREFILL: weights(q4_k:rows) activations q8prefill
// PREFILL: weights(f32:rows) activations f32
// PREFILL: weights(f16:rows) activations f32
// NONE-LABEL: func.func @formats
// NONE-NOT: activations
// BAD: qn-select-activations: mode must be f32, q8 or q8prefill, got 'int4'
func.func @formats(%x: tensor<?x64xf32>, %wa: !qn.qweight<q8_0, 32x64>,
                   %wb: !qn.qweight<q4_k, 32x256>, %wc: tensor<32x64xf32>,
                   %wd: tensor<32x64xf16>, %xb: tensor<?x256xf32>)
    -> (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %a = qn.matmul %x, %wa {qn.name = "a"} : tensor<?x64xf32>, !qn.qweight<q8_0, 32x64>
  %b = qn.matmul %xb, %wb {qn.name = "b"} : tensor<?x256xf32>, !qn.qweight<q4_k, 32x256>
  %c = qn.matmul %x, %wc {qn.name = "c"} : tensor<?x64xf32>, tensor<32x64xf32>
  %d = qn.matmul %x, %wd {qn.name = "d"} : tensor<?x64xf32>, tensor<32x64xf16>
  return %a, %b, %c, %d : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// Tests a MoE: its expert stacks have int8 kernels, so it gets the mode
// (the f32 router inside is multiplied in f32 by the kernel); an attribute
// written by hand is kept.
// CHECK-LABEL: func.func @moe_and_kept
// CHECK: qn.dispatch.moe {{.*}} weights(f32:rows, q4_k:rows, q4_k:rows, q6_k:rows) activations q8
// CHECK: qn.dispatch.matmul {{.*}} weights(q8_0:rows) activations f32 {qn.name = "kept"}
// F32-LABEL: func.func @moe_and_kept
// F32: qn.dispatch.moe {{.*}} activations f32
// NONE-LABEL: func.func @moe_and_kept
// NONE: qn.dispatch.moe {{.*}} weights(f32:rows, q4_k:rows, q4_k:rows, q6_k:rows) :
func.func @moe_and_kept(%x: tensor<?x256xf32>, %r: tensor<4x256xf32>,
                        %g: !qn.qweight<q4_k, 4x256x256>,
                        %d: !qn.qweight<q6_k, 4x256x256>,
                        %w: !qn.qweight<q8_0, 32x256>)
    -> (tensor<?x256xf32>, tensor<?x32xf32>) {
  %y = qn.dispatch.moe %x, %r, %g, %g, %d on cpu top_k 2
      weights(f32:rows, q4_k:rows, q4_k:rows, q6_k:rows)
      : (tensor<?x256xf32>, tensor<4x256xf32>, !qn.qweight<q4_k, 4x256x256>,
         !qn.qweight<q4_k, 4x256x256>, !qn.qweight<q6_k, 4x256x256>)
      -> tensor<?x256xf32>
  %k = qn.dispatch.matmul %x, %w on cpu weights(q8_0:rows) activations f32
      {qn.name = "kept"}
      : (tensor<?x256xf32>, !qn.qweight<q8_0, 32x256>) -> tensor<?x32xf32>
  return %y, %k : tensor<?x256xf32>, tensor<?x32xf32>
}
