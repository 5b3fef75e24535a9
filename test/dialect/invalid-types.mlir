// RUN: qn-opt %s --split-input-file --verify-diagnostics

// Tests that an unknown block format is rejected.
// expected-error@+1 {{unknown weight format 'q4_9'}}
func.func @bad_format(%w: !qn.qweight<q4_9, 32x32>) {
  return
}

// -----

// Tests that the innermost dimension must hold whole blocks.
// expected-error@+1 {{qweight innermost dimension 100 is not a multiple of the q4_k block size 256}}
func.func @partial_block(%w: !qn.qweight<q4_k, 4x100>) {
  return
}

// -----

// Tests the 32-value block formats.
// expected-error@+1 {{qweight innermost dimension 48 is not a multiple of the q8_0 block size 32}}
func.func @partial_block32(%w: !qn.qweight<q8_0, 48>) {
  return
}

// -----

// Tests that qweight dimensions are static.
// expected-error@+1 {{expected static shape}}
func.func @dynamic_weight(%w: !qn.qweight<f32, ?x32>) {
  return
}

// -----

// Tests that qweight dimensions are positive.
// expected-error@+1 {{qweight dimensions must be static and positive, got 0}}
func.func @zero_weight(%w: !qn.qweight<f32, 0x32>) {
  return
}

// -----

// Tests that qweight has rank 1 to 3.
// expected-error@+1 {{qweight must have rank 1 to 3, got rank 4}}
func.func @rank4_weight(%w: !qn.qweight<f32, 2x2x2x32>) {
  return
}
