// RUN: qn-opt %s --qn-cpu-pipeline=delta-mode=0 2>/dev/null | FileCheck %s --check-prefix=FUSED
// RUN: qn-opt %s --qn-cpu-pipeline="delta-mode=0 fuse-repeat-broadcast=false" 2>/dev/null | FileCheck %s --check-prefix=KEPT
// RUN: not qn-opt %s --qn-cpu-pipeline=device=cuda 2>&1 | FileCheck %s --check-prefix=CUDA
// RUN: not qn-opt %s --qn-cpu-codegen-pipeline=device=cuda 2>&1 | FileCheck %s --check-prefix=CODEGEN
// RUN: not qn-opt %s --qn-cpu-pipeline=device=tpu 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// Tests the pipeline options: fuse-repeat-broadcast=false keeps mode 0's
// materialized C x C repeats (the baseline the rewrite is measured
// against); a backend that is not built is refused by name.

// FUSED-LABEL: func.func @prefill
// FUSED-NOT: qn.repeat {{.*}}, [1, 1, 1, 64]
// FUSED: qn.sub %{{.*}}, %{{.*}} {{.*}}: tensor<2x2x64x1xf32>, tensor<2x2x1x64xf32>
// KEPT-LABEL: func.func @prefill
// KEPT: qn.repeat {{.*}}, [1, 1, 1, 64] {{.*}}: tensor<2x2x64x1xf32>
// KEPT: qn.sub %{{.*}}, %{{.*}} {{.*}}: tensor<2x2x64x64xf32>, tensor<2x2x64x64xf32>
// CUDA: error: qn-cpu-pipeline: device 'cuda': this qn has no CUDA back end built
// CODEGEN: error: qn-cpu-codegen-pipeline: device 'cuda': this qn has no CUDA back end built
// UNKNOWN: error: qn-cpu-pipeline: unknown device 'tpu' (expected cpu)
func.func @prefill(%q: tensor<100x2x64xf32>, %k: tensor<100x2x64xf32>,
                   %v: tensor<100x2x32xf32>, %g: tensor<100x2xf32>,
                   %b: tensor<100x2xf32>, %s: tensor<2x64x32xf32>)
    -> (tensor<100x2x32xf32>, tensor<2x64x32xf32>) {
  %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %b, %s
      : (tensor<100x2x64xf32>, tensor<100x2x64xf32>, tensor<100x2x32xf32>,
         tensor<100x2xf32>, tensor<100x2xf32>, tensor<2x64x32xf32>)
      -> (tensor<100x2x32xf32>, tensor<2x64x32xf32>)
  return %o, %s1 : tensor<100x2x32xf32>, tensor<2x64x32xf32>
}
