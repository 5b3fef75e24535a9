//===- GGMLType.cpp - ggml tensor element types ---------------------------===//

#include "gguf/GGMLType.h"

#include "llvm/ADT/ArrayRef.h"

namespace qn::gguf {
namespace {

struct TypeEntry {
  GGMLType type;
  GGMLTypeInfo info;
};

// Block geometry as the formats declare it (ggml-common.h block structs; the
// peer's type traits for row metadata and rows per group). The _r4/_r8 types
// count a block as one row's share of an interleaved block, as the peer's
// type_size does, so rowBytes is the same per-row size as the base type's.
constexpr int64_t kQK = 32;   // QK4_0, QK8_0, ...
constexpr int64_t kQKK = 256; // QK_K super-blocks
using F = TypeFamily;

const TypeEntry kTypes[] = {
    {GGMLType::F32, {"f32", 1, 4, F::Float}},
    {GGMLType::F16, {"f16", 1, 2, F::Float}},
    {GGMLType::Q4_0, {"q4_0", kQK, 18, F::Legacy}},
    {GGMLType::Q4_1, {"q4_1", kQK, 20, F::Legacy}},
    {GGMLType::Q5_0, {"q5_0", kQK, 22, F::Legacy}},
    {GGMLType::Q5_1, {"q5_1", kQK, 24, F::Legacy}},
    {GGMLType::Q8_0, {"q8_0", kQK, 34, F::Legacy}},
    {GGMLType::Q8_1, {"q8_1", kQK, 36, F::Legacy}},
    {GGMLType::Q2_K, {"q2_K", kQKK, 84, F::KQuant}},
    {GGMLType::Q3_K, {"q3_K", kQKK, 110, F::KQuant}},
    {GGMLType::Q4_K, {"q4_K", kQKK, 144, F::KQuant}},
    {GGMLType::Q5_K, {"q5_K", kQKK, 176, F::KQuant}},
    {GGMLType::Q6_K, {"q6_K", kQKK, 210, F::KQuant}},
    {GGMLType::Q8_K, {"q8_K", kQKK, 292, F::KQuant}},
    {GGMLType::IQ2_XXS, {"iq2_xxs", kQKK, 66, F::MainlineIQuant}},
    {GGMLType::IQ2_XS, {"iq2_xs", kQKK, 74, F::MainlineIQuant}},
    {GGMLType::IQ3_XXS, {"iq3_xxs", kQKK, 98, F::MainlineIQuant}},
    {GGMLType::IQ1_S, {"iq1_s", kQKK, 50, F::MainlineIQuant}},
    {GGMLType::IQ4_NL, {"iq4_nl", kQK, 18, F::MainlineIQuant}},
    {GGMLType::IQ3_S, {"iq3_s", kQKK, 110, F::MainlineIQuant}},
    {GGMLType::IQ2_S, {"iq2_s", kQKK, 82, F::MainlineIQuant}},
    {GGMLType::IQ4_XS, {"iq4_xs", kQKK, 136, F::MainlineIQuant}},
    {GGMLType::I8, {"i8", 1, 1, F::Integer}},
    {GGMLType::I16, {"i16", 1, 2, F::Integer}},
    {GGMLType::I32, {"i32", 1, 4, F::Integer}},
    {GGMLType::I64, {"i64", 1, 8, F::Integer}},
    {GGMLType::F64, {"f64", 1, 8, F::Float}},
    {GGMLType::IQ1_M, {"iq1_m", kQKK, 56, F::MainlineIQuant}},
    {GGMLType::BF16, {"bf16", 1, 2, F::Float}},
    {GGMLType::TQ1_0, {"tq1_0", kQKK, 54, F::Ternary}},
    {GGMLType::TQ2_0, {"tq2_0", kQKK, 66, F::Ternary}},
    {GGMLType::MXFP4, {"mxfp4", kQK, 17, F::Microscaling}},
    {GGMLType::Q1_0_G128, {"q1_0_g128", 128, 18, F::Ternary}},
    {GGMLType::Q8_0_X4, {"q8_0_x4", kQK, 34, F::Activation}},
    {GGMLType::Q8_1_X4, {"q8_1_x4", kQK, 36, F::Activation}},
    {GGMLType::Q8_2_X4, {"q8_2_x4", kQK, 36, F::Activation}},
    {GGMLType::Q6_0, {"q6_0", kQK, 26, F::IK}},
    {GGMLType::IQ1_BN, {"iq1_bn", 64, 13, F::Ternary, 2}},
    {GGMLType::IQ2_BN, {"iq2_bn", 64, 16, F::Ternary, 4}},
    {GGMLType::Q8_K64, {"q8_K64", 64, 68, F::Activation}},
    {GGMLType::IQ2_K, {"iq2_k", kQKK, 76, F::IK}},
    {GGMLType::IQ3_K, {"iq3_k", kQKK, 110, F::IK}},
    {GGMLType::IQ4_K, {"iq4_k", kQKK, 144, F::IK}},
    {GGMLType::IQ5_K, {"iq5_k", kQKK, 176, F::IK}},
    {GGMLType::IQ6_K, {"iq6_k", kQKK, 212, F::IK}},
    {GGMLType::IQ4_KS, {"iq4_ks", kQKK, 136, F::IK, 4}},
    {GGMLType::IQ2_KS, {"iq2_ks", kQKK, 70, F::IK, 2}},
    {GGMLType::IQ4_KSS, {"iq4_kss", kQKK, 128, F::IK, 4}},
    {GGMLType::Q8_K16, {"q8_K16", 64, 64, F::Activation, 20}},
    {GGMLType::Q8_K32, {"q8_K32", kQKK, 292, F::Activation}},
    {GGMLType::Q8_KR8, {"q8_KR8", kQKK, 292, F::Activation}},
    {GGMLType::Q8_K128, {"q8_K128", 128, 140, F::Activation}},
    {GGMLType::Q8_KV, {"q8_KV", kQK, 32, F::IK, 8}},
    {GGMLType::IQ5_KS, {"iq5_ks", kQKK, 168, F::IK, 4}},
    {GGMLType::IQ2_KT, {"iq2_kt", kQKK, 68, F::IKTrellis, 4}},
    {GGMLType::IQ3_KT, {"iq3_kt", kQKK, 100, F::IKTrellis, 4}},
    {GGMLType::IQ4_KT, {"iq4_kt", kQKK, 128, F::IKTrellis, 4}},
    {GGMLType::IQ3_KS, {"iq3_ks", kQKK, 102, F::IK, 2}},
    {GGMLType::IQ2_KL, {"iq2_kl", kQKK, 86, F::IK, 2}},
    {GGMLType::IQ1_KT, {"iq1_kt", kQKK, 56, F::IKTrellis, 4}},
    {GGMLType::Q4_0_R8, {"q4_0_r8", kQK, 18, F::IKRepacked, 0, 8}},
    {GGMLType::Q5_0_R4, {"q5_0_r4", kQK, 22, F::IKRepacked, 0, 4}},
    {GGMLType::Q8_0_R8, {"q8_0_r8", kQK, 34, F::IKRepacked, 0, 8}},
    {GGMLType::Q2_K_R4, {"q2_k_r4", kQKK, 84, F::IKRepacked, 0, 4}},
    {GGMLType::Q3_K_R4, {"q3_k_r4", kQKK, 110, F::IKRepacked, 0, 4}},
    {GGMLType::Q4_K_R4, {"q4_k_r4", kQKK, 144, F::IKRepacked, 0, 4}},
    {GGMLType::Q5_K_R4, {"q5_k_r4", kQKK, 176, F::IKRepacked, 0, 4}},
    {GGMLType::Q6_K_R4, {"q6_k_r4", kQKK, 210, F::IKRepacked, 0, 4}},
    {GGMLType::IQ2_XXS_R4, {"iq2_xxs_r4", kQKK, 66, F::IKRepacked, 0, 4}},
    {GGMLType::IQ2_XS_R4, {"iq2_xs_r4", kQKK, 74, F::IKRepacked, 0, 4}},
    {GGMLType::IQ3_XXS_R4, {"iq3_xxs_r4", kQKK, 98, F::IKRepacked, 0, 4}},
    {GGMLType::IQ1_S_R4, {"iq1_s_r4", kQK, 6, F::IKRepacked, 2, 4}},
    {GGMLType::IQ4_NL_R4, {"iq4_nl_r4", kQK, 18, F::IKRepacked, 0, 4}},
    {GGMLType::IQ3_S_R4, {"iq3_s_r4", kQKK, 110, F::IKRepacked, 0, 4}},
    {GGMLType::IQ2_S_R4, {"iq2_s_r4", kQKK, 82, F::IKRepacked, 0, 4}},
    {GGMLType::IQ4_XS_R8, {"iq4_xs_r8", kQKK, 136, F::IKRepacked, 0, 8}},
    {GGMLType::IQ1_M_R4, {"iq1_m_r4", kQK, 7, F::IKRepacked, 2, 4}},
    {GGMLType::BF16_R16, {"bf16_r16", 1, 2, F::IKRepacked, 0, 16}},
    {GGMLType::Q6_0_R4, {"q6_0_r4", kQK, 26, F::IKRepacked, 0, 4}},
    {GGMLType::IQ2_BN_R4, {"iq2_bn_r4", 64, 16, F::IKRepacked, 4, 4}},
    {GGMLType::IQ2_K_R4, {"iq2_k_r4", kQKK, 76, F::IKRepacked, 0, 4}},
    {GGMLType::IQ3_K_R4, {"iq3_k_r4", kQKK, 110, F::IKRepacked, 0, 4}},
    {GGMLType::IQ4_K_R4, {"iq4_k_r4", kQKK, 144, F::IKRepacked, 0, 4}},
    {GGMLType::IQ5_K_R4, {"iq5_k_r4", kQKK, 176, F::IKRepacked, 0, 4}},
    {GGMLType::IQ4_KS_R4, {"iq4_ks_r4", kQKK, 136, F::IKRepacked, 4, 4}},
    {GGMLType::IQ5_KS_R4, {"iq5_ks_r4", kQKK, 168, F::IKRepacked, 4, 4}},
    {GGMLType::MXFP4_R8, {"mxfp4_r8", kQK, 17, F::IKRepacked, 0, 8}},
    {GGMLType::Q8_K_R16, {"q8_k_r16", kQKK, 258, F::IKRepacked, 0, 16}},
    {GGMLType::Q8_KV_R8, {"q8_KV_r8", kQK, 32, F::IKRepacked, 4, 8}},
    {GGMLType::Q8_K_R8, {"q8_k_r8", kQKK, 258, F::IKRepacked, 0, 8}},
};

} // namespace

llvm::StringRef getFamilyName(TypeFamily family) {
  switch (family) {
  case TypeFamily::Float:
    return "float";
  case TypeFamily::Integer:
    return "integer";
  case TypeFamily::Legacy:
    return "legacy";
  case TypeFamily::KQuant:
    return "k-quant";
  case TypeFamily::MainlineIQuant:
    return "mainline-iquant";
  case TypeFamily::Ternary:
    return "ternary";
  case TypeFamily::Microscaling:
    return "microscaling";
  case TypeFamily::IK:
    return "ik";
  case TypeFamily::IKTrellis:
    return "ik-trellis";
  case TypeFamily::IKRepacked:
    return "ik-repacked";
  case TypeFamily::Activation:
    return "activation";
  }
  return "";
}

const GGMLTypeInfo *getTypeInfo(GGMLType type) {
  for (const TypeEntry &entry : kTypes)
    if (entry.type == type)
      return &entry.info;
  return nullptr;
}

llvm::StringRef getUnsupportedTypeNote(uint32_t id) {
  switch (id) {
  case 31:
  case 32:
  case 33:
    return "ik_llama.cpp's q4_0_4x4/q4_0_4x8/q4_0_8x8 (runtime repacks, "
           "removed from mainline; no reference decoder)";
  case 36:
    return "ik_llama.cpp's i2_s (MS BitNet)";
  case 40:
    return "mainline llama.cpp's NVFP4";
  case 42:
    return "mainline llama.cpp's Q2_0";
  default:
    return "";
  }
}

double bitsPerWeight(GGMLType type) {
  const GGMLTypeInfo *info = getTypeInfo(type);
  return info ? 8.0 * static_cast<double>(info->blockBytes) /
                    static_cast<double>(info->blockSize)
              : 0.0;
}

std::string listKnownTypeNames() {
  std::string names;
  for (const TypeEntry &entry : kTypes) {
    if (!names.empty())
      names += ", ";
    names += entry.info.name.str();
  }
  return names;
}

std::optional<GGMLType> parseTypeName(llvm::StringRef name) {
  for (const TypeEntry &entry : kTypes)
    if (entry.info.name.equals_insensitive(name))
      return entry.type;
  // Mainline's name for the same 128-element 1-bit block.
  if (name.equals_insensitive("q1_0"))
    return GGMLType::Q1_0_G128;
  return std::nullopt;
}

llvm::StringRef getTypeName(GGMLType type) {
  const GGMLTypeInfo *info = getTypeInfo(type);
  return info ? info->name : llvm::StringRef();
}

bool isValidRowLength(GGMLType type, int64_t n) {
  const GGMLTypeInfo *info = getTypeInfo(type);
  return info && n >= 0 && n % info->blockSize == 0;
}

uint64_t rowBytes(GGMLType type, int64_t n) {
  const GGMLTypeInfo *info = getTypeInfo(type);
  if (!info || n < 0)
    return 0;
  return static_cast<uint64_t>(info->rowMetaBytes) +
         static_cast<uint64_t>(n / info->blockSize) *
             static_cast<uint64_t>(info->blockBytes);
}

int64_t rowsPerGroup(GGMLType type) {
  const GGMLTypeInfo *info = getTypeInfo(type);
  return info ? info->rowsPerGroup : 1;
}

bool canDequantize(GGMLType type) {
  switch (type) {
  case GGMLType::F32:
  case GGMLType::F16:
  case GGMLType::BF16:
  // Legacy and k-quants.
  case GGMLType::Q4_0:
  case GGMLType::Q4_1:
  case GGMLType::Q5_0:
  case GGMLType::Q5_1:
  case GGMLType::Q8_0:
  case GGMLType::Q2_K:
  case GGMLType::Q3_K:
  case GGMLType::Q4_K:
  case GGMLType::Q5_K:
  case GGMLType::Q6_K:
  case GGMLType::Q8_K:
  case GGMLType::MXFP4:
  // Mainline i-quants (DequantizeIQ.cpp).
  case GGMLType::IQ4_NL:
  case GGMLType::IQ4_XS:
  case GGMLType::IQ2_XXS:
  case GGMLType::IQ2_XS:
  case GGMLType::IQ2_S:
  case GGMLType::IQ3_XXS:
  case GGMLType::IQ3_S:
  case GGMLType::IQ1_S:
  case GGMLType::IQ1_M:
  // The 1-bit class (DequantizeTernary.cpp).
  case GGMLType::Q1_0_G128:
  case GGMLType::TQ1_0:
  case GGMLType::TQ2_0:
  // ik types (DequantizeIK.cpp, DequantizeTrellis.cpp).
  case GGMLType::Q6_0:
  case GGMLType::IQ2_K:
  case GGMLType::IQ3_K:
  case GGMLType::IQ4_K:
  case GGMLType::IQ5_K:
  case GGMLType::IQ6_K:
  case GGMLType::IQ2_KS:
  case GGMLType::IQ3_KS:
  case GGMLType::IQ2_KL:
  case GGMLType::IQ4_KS:
  case GGMLType::IQ5_KS:
  case GGMLType::IQ4_KSS:
  case GGMLType::Q8_KV:
  case GGMLType::IQ1_KT:
  case GGMLType::IQ2_KT:
  case GGMLType::IQ3_KT:
  case GGMLType::IQ4_KT:
  // Row-interleaved layouts (DequantizeRepacked.cpp).
  case GGMLType::Q4_0_R8:
  case GGMLType::Q5_0_R4:
  case GGMLType::Q8_0_R8:
  case GGMLType::Q2_K_R4:
  case GGMLType::Q3_K_R4:
  case GGMLType::Q4_K_R4:
  case GGMLType::Q5_K_R4:
  case GGMLType::Q6_K_R4:
  case GGMLType::IQ2_XXS_R4:
  case GGMLType::IQ2_XS_R4:
  case GGMLType::IQ3_XXS_R4:
  case GGMLType::IQ1_S_R4:
  case GGMLType::IQ4_NL_R4:
  case GGMLType::IQ3_S_R4:
  case GGMLType::IQ2_S_R4:
  case GGMLType::IQ4_XS_R8:
  case GGMLType::IQ1_M_R4:
  case GGMLType::Q6_0_R4:
  case GGMLType::IQ2_BN_R4:
  case GGMLType::IQ2_K_R4:
  case GGMLType::IQ3_K_R4:
  case GGMLType::IQ4_K_R4:
  case GGMLType::IQ5_K_R4:
  case GGMLType::IQ4_KS_R4:
  case GGMLType::IQ5_KS_R4:
  case GGMLType::Q8_KV_R8:
  case GGMLType::Q8_K_R8:
    return true;
  default:
    return false;
  }
}

} // namespace qn::gguf
