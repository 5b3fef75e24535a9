//===- GGMLType.cpp - ggml tensor element types ---------------------------===//

#include "gguf/GGMLType.h"

#include "llvm/ADT/ArrayRef.h"

namespace qn::gguf {
namespace {

struct TypeEntry {
  GGMLType type;
  GGMLTypeInfo info;
};

// Block geometry as ggml declares it (ggml-common.h block structs).
constexpr int64_t kQK = 32;   // QK4_0, QK8_0, ...
constexpr int64_t kQKK = 256; // QK_K super-blocks

const TypeEntry kTypes[] = {
    {GGMLType::F32, {"f32", 1, 4}},
    {GGMLType::F16, {"f16", 1, 2}},
    {GGMLType::Q4_0, {"q4_0", kQK, 18}},
    {GGMLType::Q4_1, {"q4_1", kQK, 20}},
    {GGMLType::Q5_0, {"q5_0", kQK, 22}},
    {GGMLType::Q5_1, {"q5_1", kQK, 24}},
    {GGMLType::Q8_0, {"q8_0", kQK, 34}},
    {GGMLType::Q8_1, {"q8_1", kQK, 36}},
    {GGMLType::Q2_K, {"q2_K", kQKK, 84}},
    {GGMLType::Q3_K, {"q3_K", kQKK, 110}},
    {GGMLType::Q4_K, {"q4_K", kQKK, 144}},
    {GGMLType::Q5_K, {"q5_K", kQKK, 176}},
    {GGMLType::Q6_K, {"q6_K", kQKK, 210}},
    {GGMLType::Q8_K, {"q8_K", kQKK, 292}},
    {GGMLType::IQ2_XXS, {"iq2_xxs", kQKK, 66}},
    {GGMLType::IQ2_XS, {"iq2_xs", kQKK, 74}},
    {GGMLType::IQ3_XXS, {"iq3_xxs", kQKK, 98}},
    {GGMLType::IQ1_S, {"iq1_s", kQKK, 50}},
    {GGMLType::IQ4_NL, {"iq4_nl", kQK, 18}},
    {GGMLType::IQ3_S, {"iq3_s", kQKK, 110}},
    {GGMLType::IQ2_S, {"iq2_s", kQKK, 82}},
    {GGMLType::IQ4_XS, {"iq4_xs", kQKK, 136}},
    {GGMLType::I8, {"i8", 1, 1}},
    {GGMLType::I16, {"i16", 1, 2}},
    {GGMLType::I32, {"i32", 1, 4}},
    {GGMLType::I64, {"i64", 1, 8}},
    {GGMLType::F64, {"f64", 1, 8}},
    {GGMLType::IQ1_M, {"iq1_m", kQKK, 56}},
    {GGMLType::BF16, {"bf16", 1, 2}},
    {GGMLType::TQ1_0, {"tq1_0", kQKK, 54}},
    {GGMLType::TQ2_0, {"tq2_0", kQKK, 66}},
    {GGMLType::MXFP4, {"mxfp4", kQK, 17}},
};

} // namespace

const GGMLTypeInfo *getTypeInfo(GGMLType type) {
  for (const TypeEntry &entry : kTypes)
    if (entry.type == type)
      return &entry.info;
  return nullptr;
}

std::optional<GGMLType> parseTypeName(llvm::StringRef name) {
  for (const TypeEntry &entry : kTypes)
    if (entry.info.name.equals_insensitive(name))
      return entry.type;
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
  return static_cast<uint64_t>(n / info->blockSize) *
         static_cast<uint64_t>(info->blockBytes);
}

bool canDequantize(GGMLType type) {
  switch (type) {
  case GGMLType::F32:
  case GGMLType::F16:
  case GGMLType::BF16:
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
  case GGMLType::IQ4_NL:
  case GGMLType::IQ4_XS:
  case GGMLType::MXFP4:
    return true;
  default:
    return false;
  }
}

} // namespace qn::gguf
