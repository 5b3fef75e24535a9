//===- QNTypes.cpp - qn types: parsing, printing, verification --*- C++ -*-===//

#include "dialect/QNTypes.h"
#include "dialect/QNDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qn;

#include "dialect/QNEnums.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialect/QNOpsTypes.cpp.inc"

void QNDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialect/QNOpsTypes.cpp.inc"
      >();
}

int64_t QWeightType::getBlockSize(QuantFormat format) {
  switch (format) {
  case QuantFormat::f32:
  case QuantFormat::f16:
  case QuantFormat::bf16:
    return 1;
  case QuantFormat::q4_0:
  case QuantFormat::q4_1:
  case QuantFormat::q5_0:
  case QuantFormat::q5_1:
  case QuantFormat::q8_0:
  case QuantFormat::iq4_nl:
  case QuantFormat::mxfp4:
  case QuantFormat::q6_0:
  case QuantFormat::q8_kv:
    return 32;
  case QuantFormat::q1_0_g128:
    return 128;
  case QuantFormat::q2_k:
  case QuantFormat::q3_k:
  case QuantFormat::q4_k:
  case QuantFormat::q5_k:
  case QuantFormat::q6_k:
  case QuantFormat::iq4_xs:
  case QuantFormat::iq2_xxs:
  case QuantFormat::iq2_xs:
  case QuantFormat::iq2_s:
  case QuantFormat::iq3_xxs:
  case QuantFormat::iq3_s:
  case QuantFormat::iq1_s:
  case QuantFormat::iq1_m:
  case QuantFormat::iq2_k:
  case QuantFormat::iq3_k:
  case QuantFormat::iq4_k:
  case QuantFormat::iq5_k:
  case QuantFormat::iq6_k:
  case QuantFormat::iq2_ks:
  case QuantFormat::iq3_ks:
  case QuantFormat::iq2_kl:
  case QuantFormat::iq4_ks:
  case QuantFormat::iq5_ks:
  case QuantFormat::iq4_kss:
  case QuantFormat::iq1_kt:
  case QuantFormat::iq2_kt:
  case QuantFormat::iq3_kt:
  case QuantFormat::iq4_kt:
    return 256;
  }
  return 1;
}

int64_t QWeightType::getNumElements() const {
  int64_t n = 1;
  for (int64_t d : getShape())
    n *= d;
  return n;
}

LogicalResult QWeightType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  QuantFormat format, ArrayRef<int64_t> shape) {
  if (shape.empty() || shape.size() > 3)
    return emitError() << "qweight must have rank 1 to 3, got rank "
                       << shape.size();
  for (int64_t d : shape)
    if (d <= 0)
      return emitError() << "qweight dimensions must be static and positive, "
                            "got "
                         << (ShapedType::isDynamic(d) ? std::string("?")
                                                      : std::to_string(d));
  int64_t block = getBlockSize(format);
  if (shape.back() % block != 0)
    return emitError() << "qweight innermost dimension " << shape.back()
                       << " is not a multiple of the " << stringifyEnum(format)
                       << " block size " << block;
  return success();
}

// !qn.qweight<q4_k, 512x2048>
Type QWeightType::parse(AsmParser &parser) {
  StringRef keyword;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  std::optional<QuantFormat> format = symbolizeQuantFormat(keyword);
  if (!format) {
    parser.emitError(loc) << "unknown weight format '" << keyword << "'";
    return {};
  }
  SmallVector<int64_t> shape;
  if (parser.parseComma() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/false) ||
      parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    *format, shape);
}

void QWeightType::print(AsmPrinter &printer) const {
  printer << "<" << stringifyEnum(getFormat()) << ", ";
  llvm::interleave(getShape(), printer, "x");
  printer << ">";
}
