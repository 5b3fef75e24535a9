// RUN: qn-opt %s --split-input-file --qn-select-delta-path=mode=0 | FileCheck %s --check-prefix=M0
// RUN: qn-opt %s --split-input-file --qn-select-delta-path=mode=1 | FileCheck %s --check-prefix=M1
// RUN: qn-opt %s --split-input-file --qn-select-delta-path=mode=2 | FileCheck %s --check-prefix=M2
// RUN: qn-opt %s --split-input-file --qn-select-delta-path=mode=auto | FileCheck %s --check-prefix=AUTO
// RUN: qn-opt %s --split-input-file --qn-select-delta-path="mode=auto target=cuda" | FileCheck %s --check-prefix=CUDA
// RUN: qn-opt %s --split-input-file --qn-select-delta-path=mode=0 --qn-fuse-repeat-broadcast | FileCheck %s --check-prefix=FUSED
// RUN: not qn-opt %s --split-input-file --qn-select-delta-path=mode=3 2>&1 | FileCheck %s --check-prefix=BADMODE
// RUN: not qn-opt %s --split-input-file --qn-select-delta-path="mode=auto target=tpu" 2>&1 | FileCheck %s --check-prefix=BADTARGET

// BADMODE: unknown mode '3' (expected 0, 1, 2 or auto)
// BADTARGET: unknown target 'tpu' (expected cpu or cuda)

// Prefill of 100 tokens (two chunks, the second padded), 2 key heads
// interleaved over 4 value heads.

// M0-LABEL: func.func @prefill
// M0-NOT: qn.gated_delta_net
// q and k repeated to the value heads (h reads h / 2), q scaled by 1/sqrt(64).
// M0: %[[QR:.*]] = qn.reshape %arg0 : tensor<100x2x64xf32> -> tensor<100x2x1x64xf32>
// M0: qn.repeat %[[QR]], [1, 1, 2, 1] : tensor<100x2x1x64xf32>
// M0: qn.scale {{.*}}, 1.250000e-01 : tensor<100x4x64xf32>
// Padding to whole chunks, chunk-major layout.
// M0: qn.pad_to_multiple {{.*}} along 0 multiple 64 : tensor<100x4x64xf32>
// M0: qn.reshape {{.*}} : tensor<128x4x64xf32> -> tensor<2x64x4x64xf32>
// M0: qn.permute {{.*}}, [0, 2, 1, 3] : tensor<2x64x4x64xf32>
// The decay matrix D[i][j] = G[i] - G[j] from two materialized C x C repeats.
// M0: %[[G:.*]] = qn.cumsum %{{.*}} along 2 : tensor<2x4x64xf32>
// M0: %[[COL:.*]] = qn.reshape %[[G]] : tensor<2x4x64xf32> -> tensor<2x4x64x1xf32>
// M0: %[[GI:.*]] = qn.repeat %[[COL]], [1, 1, 1, 64] : tensor<2x4x64x1xf32>
// M0: %[[ROW:.*]] = qn.reshape %[[G]] : tensor<2x4x64xf32> -> tensor<2x4x1x64xf32>
// M0: %[[GJ:.*]] = qn.repeat %[[ROW]], [1, 1, 64, 1] : tensor<2x4x1x64xf32>
// M0: %[[D:.*]] = qn.sub %[[GI]], %[[GJ]] : tensor<2x4x64x64xf32>, tensor<2x4x64x64xf32>
// Masked before exp and after.
// M0: %[[DM:.*]] = qn.tri lower_diag %[[D]] : tensor<2x4x64x64xf32>
// M0: %[[E:.*]] = qn.exp %[[DM]] : tensor<2x4x64x64xf32>
// M0: %[[GAMMA:.*]] = qn.tri lower_diag %[[E]] : tensor<2x4x64x64xf32>
// L strictly lower; (I + L)^-1 through unit-diagonal solves.
// M0: %[[L:.*]] = qn.tri lower %{{.*}} : tensor<2x4x64x64xf32>
// M0: qn.solve_tri %[[L]], %{{.*}} {unit_diagonal} : tensor<2x4x64x64xf32>, tensor<2x4x64x32xf32>
// M0: qn.solve_tri %[[L]], %{{.*}} {unit_diagonal} : tensor<2x4x64x64xf32>, tensor<2x4x64x64xf32>
// G_last (row 63 of each chunk) repeated over the chunk for the key decay.
// M0: %[[LAST:.*]] = qn.slice %[[G]] [0, 0, 63] [-1, 4, 1] [1, 1, 1] : tensor<2x4x64xf32>
// M0: qn.repeat %[[LAST]], [1, 1, 64] : tensor<2x4x1xf32>
// The running state across the chunks.
// M0: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[M:.*]] = %arg5, %{{.*}} = %{{.*}}) -> (tensor<4x64x32xf32>, tensor<2x4x64x32xf32>)
// M0: qn.batch_matmul %{{.*}}, %[[M]] : tensor<4x64x64xf32>, tensor<4x64x32xf32>
// M0: scf.yield
// Padded rows dropped.
// M0: qn.reshape {{.*}} : tensor<2x64x4x32xf32> -> tensor<128x4x32xf32>
// M0: qn.crop {{.*}} to %arg2 along 0 : tensor<128x4x32xf32>, tensor<100x4x32xf32>

// M1-LABEL: func.func @prefill
// M1: qn.gated_delta_net {{.*}} impl fused
// M2-LABEL: func.func @prefill
// M2: qn.gated_delta_net {{.*}} impl fused
// AUTO-LABEL: func.func @prefill
// AUTO: qn.gated_delta_net {{.*}} impl fused
// CUDA-LABEL: func.func @prefill
// CUDA: qn.gated_delta_net {{.*}} impl fused

// After the repeat fusion no C x C operand is materialized: D is one
// broadcast subtract of the two views, the key decay broadcasts G_last;
// only the q/k head repeats (not C x C) remain.
// FUSED-LABEL: func.func @prefill
// FUSED-NOT: qn.repeat {{.*}}, [1, 1, 1, 64]
// FUSED-NOT: qn.repeat {{.*}}, [1, 1, 64, 1]
// FUSED-NOT: qn.repeat {{.*}}, [1, 1, 64]
// FUSED-NOT: tensor<2x4x64x64xf32>, tensor<2x4x64x64xf32>
// FUSED: qn.sub %{{.*}}, %{{.*}} : tensor<2x4x64x1xf32>, tensor<2x4x1x64xf32>
// FUSED: qn.sub %{{.*}}, %{{.*}} : tensor<2x4x1xf32>, tensor<2x4x64xf32>
// FUSED-NOT: qn.repeat {{.*}}, [1, 1, 1, 64]
// FUSED-NOT: qn.repeat {{.*}}, [1, 1, 64, 1]
// FUSED: return
func.func @prefill(%q: tensor<100x2x64xf32>, %k: tensor<100x2x64xf32>,
                   %v: tensor<100x4x32xf32>, %g: tensor<100x4xf32>,
                   %b: tensor<100x4xf32>, %s: tensor<4x64x32xf32>)
    -> (tensor<100x4x32xf32>, tensor<4x64x32xf32>) {
  %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %b, %s
      : (tensor<100x2x64xf32>, tensor<100x2x64xf32>, tensor<100x4x32xf32>,
         tensor<100x4xf32>, tensor<100x4xf32>, tensor<4x64x32xf32>)
      -> (tensor<100x4x32xf32>, tensor<4x64x32xf32>)
  return %o, %s1 : tensor<100x4x32xf32>, tensor<4x64x32xf32>
}

// -----

// Decode (one token): every mode but 2 keeps the recurrent form.

// M0-LABEL: func.func @decode
// M0-NOT: scf.for
// M0: qn.gated_delta_net {{.*}} impl recurrent
// M1-LABEL: func.func @decode
// M1: qn.gated_delta_net {{.*}} impl recurrent
// M2-LABEL: func.func @decode
// M2: qn.gated_delta_net {{.*}} impl fused
// AUTO-LABEL: func.func @decode
// AUTO: qn.gated_delta_net {{.*}} impl recurrent
// CUDA-LABEL: func.func @decode
// CUDA: qn.gated_delta_net {{.*}} impl fused
func.func @decode(%q: tensor<1x2x64xf32>, %k: tensor<1x2x64xf32>,
                  %v: tensor<1x2x64xf32>, %g: tensor<1x2xf32>,
                  %b: tensor<1x2xf32>, %s: tensor<2x64x64xf32>)
    -> (tensor<1x2x64xf32>, tensor<2x64x64xf32>) {
  %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %b, %s
      : (tensor<1x2x64xf32>, tensor<1x2x64xf32>, tensor<1x2x64xf32>,
         tensor<1x2xf32>, tensor<1x2xf32>, tensor<2x64x64xf32>)
      -> (tensor<1x2x64xf32>, tensor<2x64x64xf32>)
  return %o, %s1 : tensor<1x2x64xf32>, tensor<2x64x64xf32>
}

// -----

// A dynamic token count: the choice is made in the IR on tensor.dim %v, 0.

// M0-LABEL: func.func @dynamic
// M0: %[[T:.*]] = tensor.dim %arg2, %{{.*}} : tensor<?x2x64xf32>
// M0: %[[C2:.*]] = arith.constant 2 : index
// M0: %[[ONE:.*]] = arith.cmpi slt, %[[T]], %[[C2]] : index
// M0: scf.if %[[ONE]] -> (tensor<?x2x64xf32>, tensor<2x64x64xf32>) {
// M0: qn.gated_delta_net {{.*}} impl recurrent
// M0: } else {
// M0: qn.pad_to_multiple {{.*}} along 0 multiple 64 : tensor<?x2x64xf32>
// M0: qn.repeat {{.*}}, [1, 1, 1, 64] : tensor<?x2x64x1xf32>
// M0: tensor.empty(%{{.*}}) : tensor<?x2x64x64xf32>
// M0: scf.for
// M0: qn.crop {{.*}} to %arg2 along 0 : tensor<?x2x64xf32>, tensor<?x2x64xf32>

// Kernels for every token count: the whole choice is on the op, no guard.
// M1-LABEL: func.func @dynamic
// M1-NOT: scf.if
// M1-NOT: tensor.dim
// M1: qn.gated_delta_net {{.*}} impl fused recurrent_below 2 :

// M2-LABEL: func.func @dynamic
// M2-NOT: scf.if
// M2-NOT: tensor.dim
// M2: qn.gated_delta_net {{.*}} impl fused

// The CPU cost table switches to the fused kernel at 3 tokens.
// AUTO-LABEL: func.func @dynamic
// AUTO-NOT: scf.if
// AUTO: qn.gated_delta_net {{.*}} impl fused recurrent_below 3 :

// CUDA-LABEL: func.func @dynamic
// CUDA-NOT: scf.if
// CUDA: impl fused

// With a dynamic T too, the repeat fusion leaves no C x C repeat.
// FUSED-LABEL: func.func @dynamic
// FUSED-NOT: qn.repeat {{.*}}, [1, 1, 1, 64]
// FUSED-NOT: qn.repeat {{.*}}, [1, 1, 64, 1]
// FUSED-NOT: qn.repeat {{.*}}, [1, 1, 64]
// FUSED: qn.sub %{{.*}}, %{{.*}} : tensor<?x2x64x1xf32>, tensor<?x2x1x64xf32>
// FUSED-NOT: qn.repeat {{.*}}, [1, 1, 1, 64]
// FUSED-NOT: qn.repeat {{.*}}, [1, 1, 64, 1]
// FUSED-NOT: qn.repeat {{.*}}, [1, 1, 64]
// FUSED-LABEL: func.func @decided
func.func @dynamic(%q: tensor<?x2x64xf32>, %k: tensor<?x2x64xf32>,
                   %v: tensor<?x2x64xf32>, %g: tensor<?x2xf32>,
                   %b: tensor<?x2xf32>, %s: tensor<2x64x64xf32>)
    -> (tensor<?x2x64xf32>, tensor<2x64x64xf32>) {
  %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %b, %s
      : (tensor<?x2x64xf32>, tensor<?x2x64xf32>, tensor<?x2x64xf32>,
         tensor<?x2xf32>, tensor<?x2xf32>, tensor<2x64x64xf32>)
      -> (tensor<?x2x64xf32>, tensor<2x64x64xf32>)
  return %o, %s1 : tensor<?x2x64xf32>, tensor<2x64x64xf32>
}

// -----

// An op already decided is left alone (the pass is idempotent).

// M0-LABEL: func.func @decided
// M0-NOT: scf.for
// M0: qn.gated_delta_net {{.*}} impl fused
// M2-LABEL: func.func @decided
// M2: qn.gated_delta_net {{.*}} head_mapping tile impl recurrent
func.func @decided(%q: tensor<8x1x16xf32>, %k: tensor<8x1x16xf32>,
                   %v: tensor<8x2x16xf32>, %g: tensor<8x2xf32>,
                   %b: tensor<8x2xf32>, %s: tensor<2x16x16xf32>)
    -> (tensor<8x2x16xf32>, tensor<2x16x16xf32>) {
  %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %b, %s impl fused
      : (tensor<8x1x16xf32>, tensor<8x1x16xf32>, tensor<8x2x16xf32>,
         tensor<8x2xf32>, tensor<8x2xf32>, tensor<2x16x16xf32>)
      -> (tensor<8x2x16xf32>, tensor<2x16x16xf32>)
  %o2, %s2 = qn.gated_delta_net %q, %k, %v, %g, %b, %s1 head_mapping tile impl recurrent
      : (tensor<8x1x16xf32>, tensor<8x1x16xf32>, tensor<8x2x16xf32>,
         tensor<8x2xf32>, tensor<8x2xf32>, tensor<2x16x16xf32>)
      -> (tensor<8x2x16xf32>, tensor<2x16x16xf32>)
  return %o2, %s2 : tensor<8x2x16xf32>, tensor<2x16x16xf32>
}

// -----

// The tile head mapping repeats the key heads the other way (h mod Hk).

// M0-LABEL: func.func @tile
// M0: %[[QR:.*]] = qn.reshape %arg0 : tensor<8x2x16xf32> -> tensor<8x1x2x16xf32>
// M0: qn.repeat %[[QR]], [1, 3, 1, 1] : tensor<8x1x2x16xf32>
func.func @tile(%q: tensor<8x2x16xf32>, %k: tensor<8x2x16xf32>,
                %v: tensor<8x6x16xf32>, %g: tensor<8x6xf32>,
                %b: tensor<8x6xf32>, %s: tensor<6x16x16xf32>)
    -> (tensor<8x6x16xf32>, tensor<6x16x16xf32>) {
  %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %b, %s head_mapping tile
      : (tensor<8x2x16xf32>, tensor<8x2x16xf32>, tensor<8x6x16xf32>,
         tensor<8x6xf32>, tensor<8x6xf32>, tensor<6x16x16xf32>)
      -> (tensor<8x6x16xf32>, tensor<6x16x16xf32>)
  return %o, %s1 : tensor<8x6x16xf32>, tensor<6x16x16xf32>
}
