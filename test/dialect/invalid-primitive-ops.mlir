// RUN: qn-opt %s --split-input-file --verify-diagnostics

// Tests that binary ops reject shapes that do not broadcast.
func.func @binary_shapes(%a: tensor<4x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error@+1 {{operand shapes 4x3 and 4x5 are not broadcast-compatible}}
  %0 = qn.sub %a, %b : tensor<4x3xf32>, tensor<4x5xf32>
  return
}

// -----

// Tests that binary ops reject mixed element types.
func.func @binary_types(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error@+1 {{operands have different element types: 'f32' vs 'f16'}}
  %0 = qn.add %a, %b : tensor<4xf32>, tensor<4xf16>
  return
}

// -----

// Tests that a binary op's declared result type must be the broadcast one.
func.func @binary_result(%a: tensor<4x1xf32>, %b: tensor<1x5xf32>) {
  // expected-error@+2 {{'qn.mul' op failed to infer returned types}}
  // expected-error@+1 {{'qn.mul' op inferred type(s) 'tensor<4x5xf32>' are incompatible with return type(s) of operation 'tensor<4x4xf32>'}}
  %0 = "qn.mul"(%a, %b) : (tensor<4x1xf32>, tensor<1x5xf32>) -> tensor<4x4xf32>
  return
}

// -----

// Tests that elementwise ops reject integer tensors.
func.func @binary_int(%a: tensor<4xi32>) {
  // expected-error@+1 {{'qn.div' op operand #0 must be ranked tensor of floating-point values}}
  %0 = "qn.div"(%a, %a) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  return
}

// -----

// Tests that unary ops keep their operand type.
func.func @unary_type(%a: tensor<4xf32>) {
  // expected-error@+1 {{'qn.exp' op requires the same type for all operands and results}}
  %0 = "qn.exp"(%a) : (tensor<4xf32>) -> tensor<5xf32>
  return
}

// -----

// Tests that convert keeps the shape.
func.func @convert_shape(%a: tensor<4x8xf32>) {
  // expected-error@+1 {{'qn.convert' op result shape 4x9 differs from input shape 4x8}}
  %0 = qn.convert %a : tensor<4x8xf32> to tensor<4x9xf16>
  return
}

// -----

// Tests that convert keeps the rank.
func.func @convert_rank(%a: tensor<4x8xf32>) {
  // expected-error@+1 {{'qn.convert' op result rank 1 differs from input rank 2}}
  %0 = qn.convert %a : tensor<4x8xf32> to tensor<32xf16>
  return
}

// -----

// Tests that repeat needs one multiple per dimension.
func.func @repeat_count(%a: tensor<4x1xf32>) {
  // expected-error@+1 {{expected 2 multiples (one per dimension), got 1}}
  %0 = qn.repeat %a, [4] : tensor<4x1xf32>
  return
}

// -----

// Tests that repeat multiples are at least 1.
func.func @repeat_zero(%a: tensor<4x1xf32>) {
  // expected-error@+1 {{multiples must be at least 1, got 0}}
  %0 = qn.repeat %a, [1, 0] : tensor<4x1xf32>
  return
}

// -----

// Tests that reshape keeps the element count.
func.func @reshape_count(%a: tensor<4x8xf32>) {
  // expected-error@+1 {{'qn.reshape' op cannot reshape 4x8 (32 elements) into 4x9 (36 elements)}}
  %0 = qn.reshape %a : tensor<4x8xf32> -> tensor<4x9xf32>
  return
}

// -----

// Tests that reshape keeps the element type.
func.func @reshape_type(%a: tensor<4x8xf32>) {
  // expected-error@+1 {{'qn.reshape' op result element type 'f16' differs from input element type 'f32'}}
  %0 = qn.reshape %a : tensor<4x8xf32> -> tensor<32xf16>
  return
}

// -----

// Tests that reshape allows at most one dynamic result dimension.
func.func @reshape_dynamic(%a: tensor<?x8xf32>) {
  // expected-error@+1 {{'qn.reshape' op result may have at most one dynamic dimension, got ?x?x2}}
  %0 = qn.reshape %a : tensor<?x8xf32> -> tensor<?x?x2xf32>
  return
}

// -----

// Tests that permute needs a permutation of the dimensions.
func.func @permute_dup(%a: tensor<4x8x2xf32>) {
  // expected-error@+1 {{permutation must contain each of 0..2 exactly once}}
  %0 = qn.permute %a, [0, 0, 1] : tensor<4x8x2xf32>
  return
}

// -----

// Tests that permute needs one entry per dimension.
func.func @permute_rank(%a: tensor<4x8xf32>) {
  // expected-error@+1 {{permutation has 3 entries but the input has rank 2}}
  %0 = qn.permute %a, [0, 1, 2] : tensor<4x8xf32>
  return
}

// -----

// Tests that slice windows stay inside the input.
func.func @slice_bounds(%a: tensor<4x8xf32>) {
  // expected-error@+1 {{dimension 1: window of 4 elements from offset 6 with stride 1 exceeds the dimension of size 8}}
  %0 = qn.slice %a [0, 6] [4, 4] [1, 1] : tensor<4x8xf32>
  return
}

// -----

// Tests that slice needs one offset/size/stride per dimension.
func.func @slice_rank(%a: tensor<4x8xf32>) {
  // expected-error@+1 {{offsets, sizes and strides need 2 entries each (the input rank), got 2, 1, 2}}
  %0 = qn.slice %a [0, 0] [4] [1, 1] : tensor<4x8xf32>
  return
}

// -----

// Tests that slice rejects a zero stride.
func.func @slice_stride(%a: tensor<4x8xf32>) {
  // expected-error@+1 {{dimension 0: need offset >= 0, stride >= 1 and size >= 1 or -1, got offset 0, size 2, stride 0}}
  %0 = qn.slice %a [0, 0] [2, 8] [0, 1] : tensor<4x8xf32>
  return
}

// -----

// Tests that concat inputs agree outside the concat dimension.
func.func @concat_shape(%a: tensor<3x8xf32>, %b: tensor<?x7xf32>) {
  // expected-error@+1 {{input 1 has size 7 in dimension 1, expected 8}}
  %0 = qn.concat %a, %b along 0 : tensor<3x8xf32>, tensor<?x7xf32>
  return
}

// -----

// Tests that concat inputs have one rank.
func.func @concat_rank(%a: tensor<3x8xf32>, %b: tensor<8xf32>) {
  // expected-error@+1 {{input 1 has rank 1, expected 2}}
  %0 = qn.concat %a, %b along 0 : tensor<3x8xf32>, tensor<8xf32>
  return
}

// -----

// Tests that the concat dimension is in range.
func.func @concat_dim(%a: tensor<3x8xf32>) {
  // expected-error@+1 {{concat dimension 2 is out of range for rank 2}}
  %0 = qn.concat %a, %a along 2 : tensor<3x8xf32>, tensor<3x8xf32>
  return
}

// -----

// Tests that pad amounts are not negative.
func.func @pad_negative(%a: tensor<3x8xf32>) {
  // expected-error@+1 {{padding amounts must be >= 0, got low 0 high -1 in dimension 1}}
  %0 = qn.pad %a low [0, 0] high [0, -1] : tensor<3x8xf32>
  return
}

// -----

// Tests that pad needs one amount per dimension.
func.func @pad_rank(%a: tensor<3x8xf32>) {
  // expected-error@+1 {{low and high need 2 entries each (the input rank), got 1 and 2}}
  %0 = qn.pad %a low [0] high [0, 1] : tensor<3x8xf32>
  return
}

// -----

// Tests that the gather dimension is in range.
func.func @gather_dim(%a: tensor<3x8xf32>, %i: tensor<?xi32>) {
  // expected-error@+1 {{gather dimension 2 is out of range for rank 2}}
  %0 = qn.gather %a[%i] along 2 : tensor<3x8xf32>, tensor<?xi32>
  return
}

// -----

// Tests that gather indices are integers.
func.func @gather_index_type(%a: tensor<3x8xf32>, %i: tensor<4xf32>) {
  // expected-error@+1 {{'qn.gather' op operand #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = "qn.gather"(%a, %i) <{dim = 0 : i64}> : (tensor<3x8xf32>, tensor<4xf32>) -> tensor<4x8xf32>
  return
}

// -----

// Tests that the cumsum dimension is in range.
func.func @cumsum_dim(%a: tensor<3x8xf32>) {
  // expected-error@+1 {{'qn.cumsum' op dimension 2 is out of range for rank 2}}
  %0 = qn.cumsum %a along 2 : tensor<3x8xf32>
  return
}

// -----

// Tests that tri needs a matrix.
func.func @tri_rank(%a: tensor<8xf32>) {
  // expected-error@+1 {{'qn.tri' op input must have rank >= 2 (a matrix in the last two dimensions), got rank 1}}
  %0 = qn.tri lower %a : tensor<8xf32>
  return
}

// -----

// Tests that tri rejects an unknown triangle kind.
func.func @tri_kind(%a: tensor<8x8xf32>) {
  // expected-error@+1 {{expected string or keyword containing one of the following enum values for attribute 'kind' [lower, lower_diag, upper, upper_diag]}}
  %0 = qn.tri diagonal %a : tensor<8x8xf32>
  return
}

// -----

// Tests that the reduction dimension is in range.
func.func @reduce_dim(%a: tensor<3x8xf32>) {
  // expected-error@+1 {{reduction dimension 5 is out of range for rank 2}}
  %0 = qn.reduce sum %a along 5 : tensor<3x8xf32>
  return
}

// -----

// Tests that the softmax dimension is in range.
func.func @softmax_dim(%a: tensor<3x8xf32>) {
  // expected-error@+1 {{'qn.softmax' op dimension 2 is out of range for rank 2}}
  %0 = qn.softmax %a along 2 : tensor<3x8xf32>
  return
}

// -----

// Tests that l2_norm needs a positive epsilon.
func.func @l2_norm_eps(%a: tensor<3x8xf32>) {
  // expected-error@+1 {{'qn.l2_norm' op epsilon must be > 0, got 0}}
  %0 = qn.l2_norm %a {epsilon = 0.0 : f32} : tensor<3x8xf32>
  return
}

// -----

// Tests that top_k's k fits in the last dimension.
func.func @top_k_range(%a: tensor<?x8xf32>) {
  // expected-error@+1 {{k = 9 must be in [1, 8] (the last dimension)}}
  %0, %1 = qn.top_k %a, 9 : tensor<?x8xf32>
  return
}

// -----

// Tests that top_k needs a static last dimension.
func.func @top_k_dynamic(%a: tensor<8x?xf32>) {
  // expected-error@+1 {{the last dimension must be static}}
  %0, %1 = qn.top_k %a, 2 : tensor<8x?xf32>
  return
}

// -----

// Tests that batch_matmul checks the contraction size.
func.func @batch_matmul_k(%a: tensor<2x4x8xf32>, %b: tensor<2x7x3xf32>) {
  // expected-error@+1 {{contraction sizes differ: lhs 2x4x8 has 8, rhs 2x7x3 has 7}}
  %0 = qn.batch_matmul %a, %b : tensor<2x4x8xf32>, tensor<2x7x3xf32>
  return
}

// -----

// Tests that batch_matmul checks the contraction size of a transposed rhs.
func.func @batch_matmul_kt(%a: tensor<2x4x8xf32>, %b: tensor<2x8x3xf32>) {
  // expected-error@+1 {{contraction sizes differ: lhs 2x4x8 has 8, rhs 2x8x3 has 3 (transpose_rhs)}}
  %0 = qn.batch_matmul %a, %b transpose_rhs : tensor<2x4x8xf32>, tensor<2x8x3xf32>
  return
}

// -----

// Tests that batch_matmul batch dimensions broadcast.
func.func @batch_matmul_batch(%a: tensor<2x4x8xf32>, %b: tensor<3x8x3xf32>) {
  // expected-error@+1 {{batch dimensions 2 and 3 are not broadcast-compatible}}
  %0 = qn.batch_matmul %a, %b : tensor<2x4x8xf32>, tensor<3x8x3xf32>
  return
}

// -----

// Tests that batch_matmul needs matrices.
func.func @batch_matmul_rank(%a: tensor<8xf32>, %b: tensor<8x3xf32>) {
  // expected-error@+1 {{operands must have rank >= 2, got 1 and 2}}
  %0 = qn.batch_matmul %a, %b : tensor<8xf32>, tensor<8x3xf32>
  return
}

// -----

// Tests that solve_tri needs a square A.
func.func @solve_tri_square(%a: tensor<4x5xf32>, %b: tensor<4x2xf32>) {
  // expected-error@+1 {{A must be square in its last two dimensions, got 4x5}}
  %0 = qn.solve_tri %a, %b : tensor<4x5xf32>, tensor<4x2xf32>
  return
}

// -----

// Tests that solve_tri needs as many rows in B as A.
func.func @solve_tri_rows(%a: tensor<4x4xf32>, %b: tensor<5x2xf32>) {
  // expected-error@+1 {{B has 5 rows but A is 4x4}}
  %0 = qn.solve_tri %a, %b : tensor<4x4xf32>, tensor<5x2xf32>
  return
}

// -----

// Tests that solve_tri needs equal batch dimensions.
func.func @solve_tri_batch(%a: tensor<2x4x4xf32>, %b: tensor<3x4x2xf32>) {
  // expected-error@+1 {{batch dimensions differ: A 2x4x4, B 3x4x2}}
  %0 = qn.solve_tri %a, %b : tensor<2x4x4xf32>, tensor<3x4x2xf32>
  return
}

// -----

// Tests that dequantize's result is f32 with the weight's shape.
func.func @dequantize_result(%w: !qn.qweight<q8_0, 4x32>) {
  // expected-error@+2 {{'qn.dequantize' op failed to infer returned types}}
  // expected-error@+1 {{'qn.dequantize' op inferred type(s) 'tensor<4x32xf32>' are incompatible with return type(s) of operation 'tensor<32x4xf32>'}}
  %0 = "qn.dequantize"(%w) : (!qn.qweight<q8_0, 4x32>) -> tensor<32x4xf32>
  return
}

// -----

// Tests that rope rotates an even number of dims within the head.
func.func @rope_dims(%q: tensor<?x4x32xf32>, %p: tensor<?xi32>) {
  // expected-error@+1 {{dims = 64 must be even, >= 2 and at most the head size 32}}
  %0 = qn.rope %q, %p dims 64 base 1.0e+04 : tensor<?x4x32xf32>, tensor<?xi32>
  return
}

// -----

// Tests that rope needs one position per token.
func.func @rope_positions(%q: tensor<5x4x32xf32>, %p: tensor<4xi32>) {
  // expected-error@+1 {{positions must be [T] with T = 5, got 4}}
  %0 = qn.rope %q, %p dims 16 base 1.0e+04 : tensor<5x4x32xf32>, tensor<4xi32>
  return
}

// -----

// Tests that pad_to_multiple needs a positive multiple.
func.func @pad_to_multiple_zero(%a: tensor<?x8xf32>) {
  // expected-error@+1 {{multiple must be >= 1, got 0}}
  %0 = qn.pad_to_multiple %a along 0 multiple 0 : tensor<?x8xf32>
  return
}

// -----

// Tests that pad_to_multiple's dimension is in range.
func.func @pad_to_multiple_dim(%a: tensor<?x8xf32>) {
  // expected-error@+1 {{padding dimension 2 is out of range for rank 2}}
  %0 = qn.pad_to_multiple %a along 2 multiple 64 : tensor<?x8xf32>
  return
}

// -----

// Tests that crop cannot grow a dimension.
func.func @crop_grow(%a: tensor<64x8xf32>, %b: tensor<65x8xf32>) {
  // expected-error@+1 {{cannot crop dimension 0 of size 64 to 65}}
  %0 = qn.crop %a to %b along 0 : tensor<64x8xf32>, tensor<65x8xf32>
  return
}

// -----

// Tests that crop's reference has the input's rank.
func.func @crop_rank(%a: tensor<64x8xf32>, %b: tensor<10xf32>) {
  // expected-error@+1 {{like has rank 1, the input has rank 2}}
  %0 = qn.crop %a to %b along 0 : tensor<64x8xf32>, tensor<10xf32>
  return
}

// -----

// Tests that transfer only knows the cpu and cuda backends.
func.func @transfer_backend(%h: tensor<4xf32>) {
  // expected-error@+1 {{'qn.transfer' op attribute 'to' failed to satisfy constraint: string attribute backend name "cpu" or "cuda"}}
  %0 = qn.transfer %h to "tpu" : tensor<4xf32>
  return
}

// -----

// Tests that transfer keeps the type.
func.func @transfer_type(%h: tensor<4xf32>) {
  // expected-error@+1 {{'qn.transfer' op requires the same type for all operands and results}}
  %0 = "qn.transfer"(%h) <{to = "cuda"}> : (tensor<4xf32>) -> tensor<4xf16>
  return
}

// -----

// Tests that sizes computed from attributes cannot overflow.
func.func @repeat_overflow(%a: tensor<4x8xf32>) {
  // expected-error@+1 {{result dimension of 1.844674e+19 elements is too large}}
  %0 = qn.repeat %a, [4611686018427387904, 1] : tensor<4x8xf32>
  return
}

// -----

// Tests that padding cannot overflow a dimension.
func.func @pad_overflow(%a: tensor<4x8xf32>) {
  // expected-error@+1 {{is too large}}
  %0 = qn.pad %a low [0, 9223372036854775807] high [0, 9223372036854775807] : tensor<4x8xf32>
  return
}
