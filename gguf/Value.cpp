//===- Value.cpp - GGUF metadata values -----------------------------------===//

#include "gguf/GGUFFile.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <limits>

namespace qn::gguf {

llvm::StringRef getValueTypeName(ValueType type) {
  switch (type) {
  case ValueType::UInt8:
    return "u8";
  case ValueType::Int8:
    return "i8";
  case ValueType::UInt16:
    return "u16";
  case ValueType::Int16:
    return "i16";
  case ValueType::UInt32:
    return "u32";
  case ValueType::Int32:
    return "i32";
  case ValueType::Float32:
    return "f32";
  case ValueType::Bool:
    return "bool";
  case ValueType::String:
    return "str";
  case ValueType::Array:
    return "arr";
  case ValueType::UInt64:
    return "u64";
  case ValueType::Int64:
    return "i64";
  case ValueType::Float64:
    return "f64";
  }
  return "unknown";
}

static bool isUnsignedType(ValueType t) {
  return t == ValueType::UInt8 || t == ValueType::UInt16 ||
         t == ValueType::UInt32 || t == ValueType::UInt64;
}

static bool isSignedType(ValueType t) {
  return t == ValueType::Int8 || t == ValueType::Int16 ||
         t == ValueType::Int32 || t == ValueType::Int64;
}

Value Value::makeUInt(ValueType type, uint64_t v) {
  Value value;
  value.kind = isUnsignedType(type) ? type : ValueType::UInt64;
  value.scalar.u = v;
  return value;
}

Value Value::makeInt(ValueType type, int64_t v) {
  Value value;
  value.kind = isSignedType(type) ? type : ValueType::Int64;
  value.scalar.i = v;
  return value;
}

Value Value::makeFloat(ValueType type, double v) {
  Value value;
  value.kind =
      type == ValueType::Float32 ? ValueType::Float32 : ValueType::Float64;
  // A Float32 value holds exactly what a float can hold.
  value.scalar.f = value.kind == ValueType::Float32
                       ? static_cast<double>(static_cast<float>(v))
                       : v;
  return value;
}

Value Value::makeBool(bool v) {
  Value value;
  value.kind = ValueType::Bool;
  value.scalar.u = v ? 1 : 0;
  return value;
}

Value Value::makeString(std::string v) {
  Value value;
  value.kind = ValueType::String;
  value.str = std::move(v);
  return value;
}

Value Value::makeArray(ValueType elementType, std::vector<Value> elements) {
  Value value;
  value.kind = ValueType::Array;
  value.elemKind = elementType;
  value.elements = std::move(elements);
  return value;
}

bool Value::isInteger() const {
  return isUnsignedType(kind) || isSignedType(kind);
}

std::optional<uint64_t> Value::asUInt() const {
  if (isUnsignedType(kind))
    return scalar.u;
  if (isSignedType(kind) && scalar.i >= 0)
    return static_cast<uint64_t>(scalar.i);
  return std::nullopt;
}

std::optional<int64_t> Value::asInt() const {
  if (isSignedType(kind))
    return scalar.i;
  if (isUnsignedType(kind) &&
      scalar.u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return static_cast<int64_t>(scalar.u);
  return std::nullopt;
}

std::optional<double> Value::asFloat() const {
  if (isFloat())
    return scalar.f;
  if (isUnsignedType(kind))
    return static_cast<double>(scalar.u);
  if (isSignedType(kind))
    return static_cast<double>(scalar.i);
  return std::nullopt;
}

std::optional<bool> Value::asBool() const {
  if (kind == ValueType::Bool)
    return scalar.u != 0;
  return std::nullopt;
}

std::optional<llvm::StringRef> Value::asString() const {
  if (kind == ValueType::String)
    return llvm::StringRef(str);
  return std::nullopt;
}

std::string Value::toString(size_t maxElements) const {
  std::string out;
  llvm::raw_string_ostream os(out);
  switch (kind) {
  case ValueType::String:
    os << '"';
    os.write_escaped(str);
    os << '"';
    break;
  case ValueType::Bool:
    os << (scalar.u ? "true" : "false");
    break;
  case ValueType::Float32:
  case ValueType::Float64:
    os << llvm::format("%.9g", scalar.f);
    break;
  case ValueType::Array: {
    os << '[' << getValueTypeName(elemKind) << " x " << elements.size();
    if (!elements.empty() && maxElements > 0) {
      os << ": ";
      for (size_t i = 0; i < elements.size() && i < maxElements; ++i)
        os << (i ? ", " : "") << elements[i].toString(maxElements);
      if (elements.size() > maxElements)
        os << ", ...";
    }
    os << ']';
    break;
  }
  default:
    if (isSignedType(kind))
      os << scalar.i;
    else
      os << scalar.u;
    break;
  }
  return out;
}

} // namespace qn::gguf
