// RUN: qn-opt %s --split-input-file --qn-assign-buffers --verify-diagnostics | FileCheck %s

// Views, copies and slots worked out by hand. Live ranges over the plan's
// dispatches (0 h, 1 s.copy, 2 y, 3 t.copy, 4 a, 5 b, 6 d; y is the logits):
// h [0,6], s.copy [1,2], y [2,end], t.copy [3,5], a [4], b [5], d [6].
// Sizes at T = 1024 (KiB): h 96, s.copy 48, y 32, t.copy 16, a 16, b 16,
// d 96. Slots in order of first use: h 0; s.copy 1 (0 busy); y 2 (1 busy
// until 2 inclusive); t.copy 1 (free, fits); a 3; b 3 (a ended); d: 0 is
// busy to 6, of the free ones neither fits, so the largest, 1.
// CHECK-LABEL: func.func @views
// CHECK-SAME: attributes {qn.num_slots = 4 : i64}
// CHECK: qn.dispatch.l2_norm {{.*}} {qn.name = "h", qn.slots = array<i64: 0>}
// r is contiguous: a view of h, read in place by d.
// CHECK: %[[R:.*]] = qn.reshape {{.*}} {qn.name = "r", qn.offset = 0 : i64, qn.strides = array<i64: 24, 6, 1>}
// CHECK: %[[S:.*]] = qn.slice %[[R]] {{.*}} {qn.name = "s", qn.offset = 0 : i64, qn.strides = array<i64: 24, 6, 1>}
// Merging dims 4 and 3 of s (strides 6, 1) is not a view: f views a copy.
// CHECK: %[[SC:.*]] = qn.dispatch.copy %[[S]] on cpu {qn.name = "s.copy", qn.slots = array<i64: 1>}
// CHECK: %[[F:.*]] = qn.reshape %[[SC]] {qn.name = "f", qn.offset = 0 : i64, qn.strides = array<i64: 12, 1>}
// CHECK: qn.dispatch.matmul %[[F]], {{.*}} {qn.name = "y", qn.slots = array<i64: 2>}
// t starts at row 1, column 2: offset 1*6 + 2, strides times the steps.
// CHECK: %[[T:.*]] = qn.slice %[[R]] {{.*}} {qn.name = "t", qn.offset = 8 : i64, qn.strides = array<i64: 24, 12, 2>}
// One copy for both readers.
// CHECK: %[[TC:.*]] = qn.dispatch.copy %[[T]] on cpu {qn.name = "t.copy", qn.slots = array<i64: 1>}
// CHECK-NOT: qn.dispatch.copy
// CHECK: qn.dispatch.l2_norm %[[TC]] {{.*}} {qn.name = "a", qn.slots = array<i64: 3>}
// CHECK: qn.dispatch.l2_norm %[[TC]] {{.*}} {qn.name = "b", qn.slots = array<i64: 3>}
// CHECK: qn.dispatch.l2_norm %[[R]] {{.*}} {qn.name = "d", qn.slots = array<i64: 1>}
func.func @views(%x: tensor<?x24xf32>, %w: tensor<8x12xf32>)
    -> (tensor<?x8xf32>, tensor<?x2x2xf32>, tensor<?x2x2xf32>, tensor<?x4x6xf32>) {
  %h = qn.dispatch.l2_norm %x on cpu epsilon 1.0e-06 {qn.name = "h"}
      : (tensor<?x24xf32>) -> tensor<?x24xf32>
  %r = qn.reshape %h {qn.name = "r"} : tensor<?x24xf32> -> tensor<?x4x6xf32>
  %s = qn.slice %r [0, 0, 0] [-1, 4, 3] [1, 1, 1] {qn.name = "s"} : tensor<?x4x6xf32>
  %f = qn.reshape %s {qn.name = "f"} : tensor<?x4x3xf32> -> tensor<?x12xf32>
  %y = qn.dispatch.matmul %f, %w on cpu weights(f32:rows) {qn.name = "y"}
      : (tensor<?x12xf32>, tensor<8x12xf32>) -> tensor<?x8xf32>
  %t = qn.slice %r [0, 1, 2] [-1, 2, 2] [1, 2, 2] {qn.name = "t"} : tensor<?x4x6xf32>
  %a = qn.dispatch.l2_norm %t on cpu epsilon 1.0e-06 {qn.name = "a"}
      : (tensor<?x2x2xf32>) -> tensor<?x2x2xf32>
  %b = qn.dispatch.l2_norm %t on cpu epsilon 1.0e-06 {qn.name = "b"}
      : (tensor<?x2x2xf32>) -> tensor<?x2x2xf32>
  %d = qn.dispatch.l2_norm %r on cpu epsilon 1.0e-06 {qn.name = "d"}
      : (tensor<?x4x6xf32>) -> tensor<?x4x6xf32>
  return %y, %a, %b, %d : tensor<?x8xf32>, tensor<?x2x2xf32>, tensor<?x2x2xf32>, tensor<?x4x6xf32>
}

// -----

// A view of a state is copied by each reader (the in-place update would
// change a shared copy); the new conv state is the state's memory (-1).
// Ranges: win.copy [0,1], a [1], y [2,end], win.copy [3,4], b [4]; y takes
// the larger of two free 64-byte slots (the first on a tie).
// CHECK-LABEL: func.func @state_views
// CHECK-SAME: attributes {qn.num_slots = 3 : i64}
// CHECK: qn.dispatch.copy {{.*}} {qn.name = "win.copy", qn.slots = array<i64: 0>}
// CHECK: qn.dispatch.l2_norm {{.*}} {qn.name = "a", qn.slots = array<i64: 1>}
// CHECK: qn.dispatch.conv1d_causal {{.*}} {qn.name = "conv", qn.slots = array<i64: 0, -1>}
// CHECK: qn.dispatch.copy {{.*}} {qn.name = "win.copy", qn.slots = array<i64: 1>}
// CHECK: qn.dispatch.l2_norm {{.*}} {qn.name = "b", qn.slots = array<i64: 2>}
func.func @state_views(%u: tensor<?x8xf32>, %cw: tensor<8x4xf32>,
                       %cs: tensor<8x3xf32> {qn.state = "conv_state-0"})
    -> (tensor<?x8xf32>, tensor<8x3xf32> {qn.state = "conv_state-0"},
        tensor<8x2xf32>, tensor<8x2xf32>) {
  %win = qn.slice %cs [0, 0] [8, 2] [1, 1] {qn.name = "win"} : tensor<8x3xf32>
  %a = qn.dispatch.l2_norm %win on cpu epsilon 1.0e-06 {qn.name = "a"}
      : (tensor<8x2xf32>) -> tensor<8x2xf32>
  %y, %cs1 = qn.dispatch.conv1d_causal %u, %cw, %cs on cpu {qn.name = "conv"}
      : (tensor<?x8xf32>, tensor<8x4xf32>, tensor<8x3xf32>)
      -> (tensor<?x8xf32>, tensor<8x3xf32>)
  %b = qn.dispatch.l2_norm %win on cpu epsilon 1.0e-06 {qn.name = "b"}
      : (tensor<8x2xf32>) -> tensor<8x2xf32>
  return %y, %cs1, %a, %b : tensor<?x8xf32>, tensor<8x3xf32>, tensor<8x2xf32>, tensor<8x2xf32>
}

// -----

// A loop's result the entry returns as a state is written over that state
// operand: qn.in_place names it, the slot is -1.
// CHECK-LABEL: func.func @loop_state
// CHECK-SAME: attributes {qn.num_slots = 1 : i64}
// CHECK: qn.dispatch.loop({{.*}}) on cpu kernel "k" {qn.in_place = array<i64: -1, 1>, qn.name = "l", qn.slots = array<i64: 0, -1>}
func.func @loop_state(%x: tensor<?x4xf32>,
                      %s: tensor<4x4xf32> {qn.state = "delta_state-0"})
    -> (tensor<?x4xf32>, tensor<4x4xf32> {qn.state = "delta_state-0"}) {
  %o, %s1 = qn.dispatch.loop(%x, %s) on cpu kernel "k" {qn.name = "l"}
      : (tensor<?x4xf32>, tensor<4x4xf32>) -> (tensor<?x4xf32>, tensor<4x4xf32>) {
  ^bb0(%a: tensor<?x4xf32>, %b: tensor<4x4xf32>):
    qn.dispatch.yield %a, %b : tensor<?x4xf32>, tensor<4x4xf32>
  }
  return %o, %s1 : tensor<?x4xf32>, tensor<4x4xf32>
}

// -----

// Not copied: a contiguous view at an offset (a slice of whole rows), a
// size-1 dimension with any stride, an argument.
// CHECK-LABEL: func.func @no_copies
// CHECK-SAME: attributes {qn.num_slots = 2 : i64}
// CHECK-NOT: qn.dispatch.copy
// CHECK: qn.slice {{.*}} {qn.name = "rows", qn.offset = 24 : i64, qn.strides = array<i64: 6, 1>}
// CHECK: qn.slice {{.*}} {qn.name = "one", qn.offset = 12 : i64, qn.strides = array<i64: 18, 1>}
// CHECK-NOT: qn.dispatch.copy
// CHECK: return
func.func @no_copies(%x: tensor<8x6xf32>)
    -> (tensor<4x6xf32>, tensor<1x6xf32>, tensor<8x6xf32>) {
  %rows = qn.slice %x [4, 0] [4, 6] [1, 1] {qn.name = "rows"} : tensor<8x6xf32>
  %a = qn.dispatch.l2_norm %rows on cpu epsilon 1.0e-06 {qn.name = "a"}
      : (tensor<4x6xf32>) -> tensor<4x6xf32>
  %one = qn.slice %x [2, 0] [1, 6] [3, 1] {qn.name = "one"} : tensor<8x6xf32>
  %b = qn.dispatch.l2_norm %one on cpu epsilon 1.0e-06 {qn.name = "b"}
      : (tensor<1x6xf32>) -> tensor<1x6xf32>
  %c = qn.dispatch.l2_norm %x on cpu epsilon 1.0e-06 {qn.name = "c"}
      : (tensor<8x6xf32>) -> tensor<8x6xf32>
  return %a, %b, %c : tensor<4x6xf32>, tensor<1x6xf32>, tensor<8x6xf32>
}

// -----

func.func @not_formed(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{qn-assign-buffers: not a dispatch or a view (run qn-form-dispatches first)}}
  %y = qn.l2_norm %x {qn.name = "y"} : tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @slice_of_tokens(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{qn-assign-buffers: a slice of the dynamic outermost dimension must start at 0 with step 1}}
  %s = qn.slice %x [1, 0] [-1, 4] [1, 1] {qn.name = "s"} : tensor<?x4xf32>
  %y = qn.dispatch.l2_norm %s on cpu epsilon 1.0e-06 : (tensor<?x4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @loop_writes_unread_state(%x: tensor<?x4xf32>, %w: tensor<4x4xf32>,
                                    %s: tensor<4x4xf32> {qn.state = "delta_state-0"})
    -> (tensor<?x4xf32>, tensor<4x4xf32> {qn.state = "delta_state-0"}) {
  // expected-error @+1 {{qn-assign-buffers: writes the state "delta_state-0" without reading it}}
  %o, %s1 = qn.dispatch.loop(%x, %w) on cpu kernel "k" {qn.name = "l"}
      : (tensor<?x4xf32>, tensor<4x4xf32>) -> (tensor<?x4xf32>, tensor<4x4xf32>) {
  ^bb0(%a: tensor<?x4xf32>, %b: tensor<4x4xf32>):
    qn.dispatch.yield %a, %b : tensor<?x4xf32>, tensor<4x4xf32>
  }
  return %o, %s1 : tensor<?x4xf32>, tensor<4x4xf32>
}
