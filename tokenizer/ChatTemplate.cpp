//===- ChatTemplate.cpp - evaluating the Jinja subset ---------------------===//
#include "tokenizer/ChatTemplate.h"
#include "tokenizer/JinjaAST.h"
#include "tokenizer/Tokenizer.h"

#include "gguf/GGUFFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <map>

using namespace qn::tokenizer;
using namespace qn::tokenizer::jinja;
using llvm::StringRef;

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

bool Value::truthy() const {
  switch (kind) {
  case Kind::Undefined:
  case Kind::None:
    return false;
  case Kind::Bool:
    return b;
  case Kind::Int:
    return i != 0;
  case Kind::Float:
    return f != 0;
  case Kind::String:
    return !s.empty();
  case Kind::List:
    return !list->empty();
  case Kind::Map:
    return !map->empty();
  }
  return false;
}

const Value *Value::find(StringRef key) const {
  if (kind != Kind::Map)
    return nullptr;
  for (const auto &[k, v] : *map)
    if (k == key)
      return &v;
  return nullptr;
}

void Value::set(StringRef key, Value v) {
  for (auto &[k, old] : *map)
    if (k == key) {
      old = std::move(v);
      return;
    }
  map->emplace_back(key.str(), std::move(v));
}

std::string Value::str() const {
  switch (kind) {
  case Kind::Undefined:
    return "";
  case Kind::None:
    return "None";
  case Kind::Bool:
    return b ? "True" : "False";
  case Kind::Int:
    return std::to_string(i);
  case Kind::Float: {
    std::string out = llvm::formatv("{0}", f).str();
    if (std::isfinite(f) && out.find_first_of(".eE") == std::string::npos)
      out += ".0";
    return out;
  }
  case Kind::String:
    return s;
  case Kind::List:
  case Kind::Map:
    return json();
  }
  return "";
}

static void writeJson(const Value &v, llvm::raw_ostream &os) {
  switch (v.kind) {
  case Value::Kind::Undefined:
  case Value::Kind::None:
    os << "null";
    return;
  case Value::Kind::Bool:
    os << (v.b ? "true" : "false");
    return;
  case Value::Kind::Int:
  case Value::Kind::Float:
    os << v.str();
    return;
  case Value::Kind::String:
    os << llvm::json::Value(llvm::json::fixUTF8(v.s));
    return;
  case Value::Kind::List: {
    os << "[";
    for (size_t k = 0; k < v.list->size(); ++k) {
      if (k)
        os << ", ";
      writeJson((*v.list)[k], os);
    }
    os << "]";
    return;
  }
  case Value::Kind::Map: {
    os << "{";
    bool first = true;
    for (const auto &[key, item] : *v.map) {
      if (!first)
        os << ", ";
      first = false;
      os << llvm::json::Value(llvm::json::fixUTF8(key)) << ": ";
      writeJson(item, os);
    }
    os << "}";
    return;
  }
  }
}

std::string Value::json() const {
  std::string out;
  llvm::raw_string_ostream os(out);
  writeJson(*this, os);
  return out;
}

bool qn::tokenizer::jinja::equal(const Value &a, const Value &b) {
  if (a.isNumber() && b.isNumber())
    return (a.kind == Value::Kind::Int ? double(a.i) : a.f) ==
           (b.kind == Value::Kind::Int ? double(b.i) : b.f);
  if (a.kind == Value::Kind::Bool && b.kind == Value::Kind::Bool)
    return a.b == b.b;
  if (a.kind != b.kind)
    return false;
  switch (a.kind) {
  case Value::Kind::Undefined:
  case Value::Kind::None:
    return true;
  case Value::Kind::String:
    return a.s == b.s;
  case Value::Kind::List:
    if (a.list->size() != b.list->size())
      return false;
    for (size_t k = 0; k < a.list->size(); ++k)
      if (!equal((*a.list)[k], (*b.list)[k]))
        return false;
    return true;
  case Value::Kind::Map:
    if (a.map->size() != b.map->size())
      return false;
    for (const auto &[key, item] : *a.map) {
      const Value *other = b.find(key);
      if (!other || !equal(item, *other))
        return false;
    }
    return true;
  default:
    return false;
  }
}

//===----------------------------------------------------------------------===//
// Evaluation
//===----------------------------------------------------------------------===//

namespace {

llvm::Error evalError(int line, const llvm::Twine &msg) {
  return llvm::createStringError(
      llvm::formatv("chat template line {0}: {1}", line, msg.str()).str());
}

const char *kindName(const Value &v) {
  switch (v.kind) {
  case Value::Kind::Undefined:
    return "undefined";
  case Value::Kind::None:
    return "none";
  case Value::Kind::Bool:
    return "boolean";
  case Value::Kind::Int:
    return "integer";
  case Value::Kind::Float:
    return "float";
  case Value::Kind::String:
    return "string";
  case Value::Kind::List:
    return "list";
  case Value::Kind::Map:
    return "mapping";
  }
  return "?";
}

double asDouble(const Value &v) {
  return v.kind == Value::Kind::Int ? double(v.i) : v.f;
}

/// Python's strip family: `chars` of none means whitespace.
std::string stripChars(StringRef s, const Value *chars, bool left, bool right) {
  StringRef set = chars && chars->kind == Value::Kind::String
                      ? StringRef(chars->s)
                      : StringRef(" \t\n\r\f\v");
  if (left)
    s = s.ltrim(set);
  if (right)
    s = s.rtrim(set);
  return s.str();
}

/// Python slice indices for a sequence of `n`.
std::vector<size_t> sliceIndices(int64_t n, const Value &start,
                                 const Value &stop, const Value &step, int line,
                                 llvm::Error &err) {
  int64_t st = step.isDefined() && step.kind != Value::Kind::None ? step.i : 1;
  std::vector<size_t> out;
  if (st == 0) {
    err = evalError(line, "slice step cannot be zero");
    return out;
  }
  auto clamp = [&](const Value &v, int64_t dflt, int64_t lo, int64_t hi) {
    if (!v.isDefined() || v.kind == Value::Kind::None)
      return dflt;
    int64_t x = v.i < 0 ? v.i + n : v.i;
    return std::max(lo, std::min(hi, x));
  };
  if (st > 0) {
    int64_t a = clamp(start, 0, 0, n), b = clamp(stop, n, 0, n);
    for (int64_t k = a; k < b; k += st)
      out.push_back(static_cast<size_t>(k));
  } else {
    int64_t a = clamp(start, n - 1, -1, n - 1), b = clamp(stop, -1, -1, n - 1);
    for (int64_t k = a; k > b; k += st)
      out.push_back(static_cast<size_t>(k));
  }
  return out;
}

class Evaluator {
public:
  Evaluator(Value globals, uint64_t maxSteps) : maxSteps(maxSteps) {
    scopes.push_back(std::move(globals));
  }

  llvm::Error render(const Node &node, std::string &out);

private:
  llvm::Expected<Value> eval(const Expr &e);
  llvm::Expected<Value> call(const Expr &e);
  llvm::Expected<Value> method(const Value &self, StringRef name,
                               const std::vector<Value> &args, int line);
  llvm::Expected<Value> filter(const Expr &e);
  llvm::Expected<Value> test(const Expr &e);
  llvm::Expected<Value> binary(const Expr &e);

  Value lookup(StringRef name) const {
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it)
      if (const Value *v = it->find(name))
        return *v;
    return Value();
  }
  Value *lookupMutable(StringRef name) {
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it)
      for (auto &[k, v] : *it->map)
        if (k == name)
          return &v;
    return nullptr;
  }

  /// Counts evaluation steps: a template that loops (nearly) forever is
  /// stopped with an error instead of hanging the caller.
  llvm::Error countStep(int line, uint64_t n = 1) {
    steps += n;
    if (steps <= maxSteps)
      return llvm::Error::success();
    return evalError(line, "the template takes too many steps");
  }
  static constexpr size_t kMaxSize = 1 << 24; // list and string results

  std::vector<Value> scopes; // each a Map
  uint64_t steps = 0;
  uint64_t maxSteps;
};

llvm::Error Evaluator::render(const Node &node, std::string &out) {
  if (llvm::Error err = countStep(node.line))
    return err;
  if (out.size() > kMaxSize)
    return evalError(node.line, "the output grows beyond 16 MiB");
  switch (node.kind) {
  case Node::Kind::Block:
    for (const auto &child : node.children)
      if (llvm::Error err = render(*child, out))
        return err;
    return llvm::Error::success();
  case Node::Kind::Text:
    out += node.text;
    return llvm::Error::success();
  case Node::Kind::Output: {
    auto v = eval(*node.expr);
    if (!v)
      return v.takeError();
    out += v->str();
    return llvm::Error::success();
  }
  case Node::Kind::If: {
    auto cond = eval(*node.expr);
    if (!cond)
      return cond.takeError();
    if (cond->truthy())
      return render(*node.children[0], out);
    if (node.children.size() > 1)
      return render(*node.children[1], out);
    return llvm::Error::success();
  }
  case Node::Kind::For: {
    auto iterable = eval(*node.expr);
    if (!iterable)
      return iterable.takeError();
    std::vector<Value> items;
    if (iterable->kind == Value::Kind::List) {
      items = *iterable->list;
    } else if (iterable->kind == Value::Kind::Map) {
      for (const auto &kv : *iterable->map)
        items.push_back(Value::string(kv.first));
    } else if (iterable->kind == Value::Kind::String) {
      for (char c : iterable->s)
        items.push_back(Value::string(std::string(1, c)));
    } else if (iterable->isDefined() && iterable->kind != Value::Kind::None) {
      return evalError(node.line, llvm::Twine("cannot iterate over a ") +
                                      kindName(*iterable));
    }
    if (items.empty())
      return node.children.size() > 1 ? render(*node.children[1], out)
                                      : llvm::Error::success();
    for (size_t k = 0; k < items.size(); ++k) {
      Value scope = Value::newMap();
      if (node.var.find(',') == std::string::npos) {
        scope.set(node.var, items[k]);
      } else { // unpack a pair (or longer list) into the names
        llvm::SmallVector<StringRef, 4> names;
        StringRef(node.var).split(names, ',');
        if (items[k].kind != Value::Kind::List ||
            items[k].list->size() != names.size())
          return evalError(node.line,
                           llvm::formatv("cannot unpack a {0} into {1} names",
                                         kindName(items[k]), names.size())
                               .str());
        for (size_t n = 0; n < names.size(); ++n)
          scope.set(names[n], (*items[k].list)[n]);
      }
      Value loop = Value::newMap();
      int64_t n = static_cast<int64_t>(items.size());
      int64_t idx = static_cast<int64_t>(k);
      loop.set("index0", Value::integer(idx));
      loop.set("index", Value::integer(idx + 1));
      loop.set("revindex0", Value::integer(n - 1 - idx));
      loop.set("revindex", Value::integer(n - idx));
      loop.set("first", Value::boolean(k == 0));
      loop.set("last", Value::boolean(k + 1 == items.size()));
      loop.set("length", Value::integer(n));
      loop.set("previtem", k ? items[k - 1] : Value());
      loop.set("nextitem", k + 1 < items.size() ? items[k + 1] : Value());
      scope.set("loop", loop);
      scopes.push_back(std::move(scope));
      llvm::Error err = render(*node.children[0], out);
      scopes.pop_back();
      if (err)
        return err;
    }
    return llvm::Error::success();
  }
  case Node::Kind::Set: {
    auto v = eval(*node.expr);
    if (!v)
      return v.takeError();
    if (node.attr.empty()) {
      scopes.back().set(node.var, std::move(*v));
      return llvm::Error::success();
    }
    Value *target = lookupMutable(node.var);
    if (!target || target->kind != Value::Kind::Map)
      return evalError(node.line, "cannot set an attribute of '" + node.var +
                                      "', which is not a namespace");
    target->set(node.attr, std::move(*v)); // shared: visible in all scopes
    return llvm::Error::success();
  }
  }
  return llvm::Error::success();
}

llvm::Expected<Value> Evaluator::eval(const Expr &e) {
  if (llvm::Error err = countStep(e.line))
    return std::move(err);
  switch (e.kind) {
  case Expr::Kind::Literal:
    return e.value;
  case Expr::Kind::Name:
    return lookup(e.name);
  case Expr::Kind::Attr: {
    auto obj = eval(*e.args[0]);
    if (!obj)
      return obj.takeError();
    const Value *v = obj->find(e.name);
    return v ? *v : Value();
  }
  case Expr::Kind::Index: {
    auto obj = eval(*e.args[0]);
    if (!obj)
      return obj.takeError();
    auto key = eval(*e.args[1]);
    if (!key)
      return key.takeError();
    if (obj->kind == Value::Kind::Map && key->kind == Value::Kind::String) {
      const Value *v = obj->find(key->s);
      return v ? *v : Value();
    }
    if ((obj->kind == Value::Kind::List || obj->kind == Value::Kind::String) &&
        key->kind == Value::Kind::Int) {
      int64_t n = obj->kind == Value::Kind::List
                      ? static_cast<int64_t>(obj->list->size())
                      : static_cast<int64_t>(obj->s.size());
      int64_t k = key->i < 0 ? key->i + n : key->i;
      if (k < 0 || k >= n)
        return Value();
      if (obj->kind == Value::Kind::List)
        return (*obj->list)[k];
      return Value::string(std::string(1, obj->s[k]));
    }
    if (!obj->isDefined())
      return Value();
    return evalError(e.line, llvm::Twine("cannot index a ") + kindName(*obj) +
                                 " with a " + kindName(*key));
  }
  case Expr::Kind::Slice: {
    auto obj = eval(*e.args[0]);
    if (!obj)
      return obj.takeError();
    Value parts[3];
    for (int k = 0; k < 3; ++k) {
      auto p = eval(*e.args[1 + k]);
      if (!p)
        return p.takeError();
      if (p->isDefined() && p->kind != Value::Kind::None &&
          p->kind != Value::Kind::Int)
        return evalError(e.line, "slice bounds must be integers");
      parts[k] = std::move(*p);
    }
    bool isList = obj->kind == Value::Kind::List;
    if (!isList && obj->kind != Value::Kind::String)
      return evalError(e.line, llvm::Twine("cannot slice a ") + kindName(*obj));
    int64_t n = isList ? static_cast<int64_t>(obj->list->size())
                       : static_cast<int64_t>(obj->s.size());
    llvm::Error err = llvm::Error::success();
    std::vector<size_t> idx =
        sliceIndices(n, parts[0], parts[1], parts[2], e.line, err);
    if (err)
      return std::move(err);
    if (isList) {
      Value out = Value::newList();
      for (size_t k : idx)
        out.list->push_back((*obj->list)[k]);
      return out;
    }
    std::string s;
    for (size_t k : idx)
      s.push_back(obj->s[k]);
    return Value::string(std::move(s));
  }
  case Expr::Kind::Call:
    return call(e);
  case Expr::Kind::Filter:
    return filter(e);
  case Expr::Kind::Test:
    return test(e);
  case Expr::Kind::Unary: {
    auto v = eval(*e.args[0]);
    if (!v)
      return v.takeError();
    if (e.name == "not")
      return Value::boolean(!v->truthy());
    if (v->kind == Value::Kind::Int)
      return Value::integer(-v->i);
    if (v->kind == Value::Kind::Float)
      return Value::real(-v->f);
    return evalError(e.line, llvm::Twine("cannot negate a ") + kindName(*v));
  }
  case Expr::Kind::Binary:
    return binary(e);
  case Expr::Kind::Cond: {
    auto cond = eval(*e.args[0]);
    if (!cond)
      return cond.takeError();
    return eval(*e.args[cond->truthy() ? 1 : 2]);
  }
  case Expr::Kind::ListLit: {
    Value out = Value::newList();
    for (const auto &item : e.args) {
      auto v = eval(*item);
      if (!v)
        return v.takeError();
      out.list->push_back(std::move(*v));
    }
    return out;
  }
  case Expr::Kind::DictLit: {
    Value out = Value::newMap();
    for (size_t k = 0; k < e.args.size(); ++k) {
      auto v = eval(*e.args[k]);
      if (!v)
        return v.takeError();
      out.set(e.kwNames[k], std::move(*v));
    }
    return out;
  }
  }
  return Value();
}

llvm::Expected<Value> Evaluator::binary(const Expr &e) {
  const std::string &op = e.name;
  auto lhs = eval(*e.args[0]);
  if (!lhs)
    return lhs.takeError();
  if (op == "and")
    return lhs->truthy() ? eval(*e.args[1]) : std::move(*lhs);
  if (op == "or")
    return lhs->truthy() ? std::move(*lhs) : eval(*e.args[1]);
  auto rhs = eval(*e.args[1]);
  if (!rhs)
    return rhs.takeError();
  const Value &a = *lhs, &b = *rhs;
  if (a.s.size() + b.s.size() > kMaxSize ||
      (a.kind == Value::Kind::List && b.kind == Value::Kind::List &&
       a.list->size() + b.list->size() > kMaxSize))
    return evalError(e.line, "a value grows beyond 16 Mi");
  if (op == "~")
    return Value::string(a.str() + b.str());
  if (op == "==")
    return Value::boolean(equal(a, b));
  if (op == "!=")
    return Value::boolean(!equal(a, b));
  if (op == "in" || op == "not in") {
    bool found = false;
    if (b.kind == Value::Kind::String && a.kind == Value::Kind::String)
      found = b.s.find(a.s) != std::string::npos;
    else if (b.kind == Value::Kind::List)
      found = llvm::any_of(*b.list,
                           [&](const Value &item) { return equal(a, item); });
    else if (b.kind == Value::Kind::Map && a.kind == Value::Kind::String)
      found = b.find(a.s) != nullptr;
    else if (b.isDefined() && b.kind != Value::Kind::None)
      return evalError(e.line, llvm::Twine("'in' needs a string, list or "
                                           "mapping on the right, not a ") +
                                   kindName(b));
    return Value::boolean(op == "in" ? found : !found);
  }
  if (op == "+" && a.kind == Value::Kind::String &&
      b.kind == Value::Kind::String)
    return Value::string(a.s + b.s);
  if (op == "+" && a.kind == Value::Kind::List && b.kind == Value::Kind::List) {
    Value out = Value::newList();
    *out.list = *a.list;
    out.list->insert(out.list->end(), b.list->begin(), b.list->end());
    return out;
  }
  if (op == "*" && a.kind == Value::Kind::String &&
      b.kind == Value::Kind::Int) {
    if (b.i > 0 && double(a.s.size()) * double(b.i) > double(kMaxSize))
      return evalError(e.line, "string repetition too large");
    std::string out;
    for (int64_t k = 0; k < b.i; ++k)
      out += a.s;
    return Value::string(std::move(out));
  }
  if (a.isNumber() && b.isNumber()) {
    bool ints = a.kind == Value::Kind::Int && b.kind == Value::Kind::Int;
    double x = asDouble(a), y = asDouble(b);
    if (op == "<")
      return Value::boolean(x < y);
    if (op == ">")
      return Value::boolean(x > y);
    if (op == "<=")
      return Value::boolean(x <= y);
    if (op == ">=")
      return Value::boolean(x >= y);
    if (op == "+")
      return ints ? Value::integer(a.i + b.i) : Value::real(x + y);
    if (op == "-")
      return ints ? Value::integer(a.i - b.i) : Value::real(x - y);
    if (op == "*")
      return ints ? Value::integer(a.i * b.i) : Value::real(x * y);
    if ((op == "/" || op == "//" || op == "%") && y == 0)
      return evalError(e.line, "division by zero");
    if (op == "/")
      return Value::real(x / y);
    if (op == "//")
      return ints ? Value::integer(static_cast<int64_t>(std::floor(x / y)))
                  : Value::real(std::floor(x / y));
    if (op == "%")
      return ints ? Value::integer(((a.i % b.i) + b.i) % b.i)
                  : Value::real(x - y * std::floor(x / y));
  }
  if (a.kind == Value::Kind::String && b.kind == Value::Kind::String) {
    if (op == "<")
      return Value::boolean(a.s < b.s);
    if (op == ">")
      return Value::boolean(a.s > b.s);
    if (op == "<=")
      return Value::boolean(a.s <= b.s);
    if (op == ">=")
      return Value::boolean(a.s >= b.s);
  }
  return evalError(e.line, llvm::Twine("cannot apply '") + op + "' to a " +
                               kindName(a) + " and a " + kindName(b));
}

llvm::Expected<Value> Evaluator::call(const Expr &e) {
  const Expr &callee = *e.args[0];
  std::vector<Value> args;
  Value kwargs = Value::newMap();
  size_t positional = e.args.size() - 1 - e.kwNames.size();
  for (size_t k = 1; k < e.args.size(); ++k) {
    auto v = eval(*e.args[k]);
    if (!v)
      return v.takeError();
    if (k - 1 < positional)
      args.push_back(std::move(*v));
    else
      kwargs.set(e.kwNames[k - 1 - positional], std::move(*v));
  }
  if (callee.kind == Expr::Kind::Attr) {
    auto self = eval(*callee.args[0]);
    if (!self)
      return self.takeError();
    return method(*self, callee.name, args, e.line);
  }
  if (callee.kind == Expr::Kind::Name) {
    if (callee.name == "namespace") {
      Value ns = Value::newMap();
      for (const auto &[k, v] : *kwargs.map)
        ns.set(k, v);
      return ns;
    }
    if (callee.name == "raise_exception")
      return evalError(e.line,
                       "the template raised: " +
                           (args.empty() ? std::string() : args[0].str()));
    if (callee.name == "range") {
      int64_t from = 0, to = 0, step = 1;
      if (args.size() == 1)
        to = args[0].i;
      else if (args.size() >= 2)
        from = args[0].i, to = args[1].i;
      if (args.size() == 3)
        step = args[2].i;
      if (step == 0)
        return evalError(e.line, "range() step cannot be zero");
      double count = (double(to) - double(from)) / double(step);
      if (count > double(kMaxSize))
        return evalError(e.line, "range() too large");
      if (llvm::Error err = countStep(e.line, count > 0 ? uint64_t(count) : 0))
        return std::move(err);
      Value out = Value::newList();
      for (int64_t k = from; step > 0 ? k < to : k > to; k += step)
        out.list->push_back(Value::integer(k));
      return out;
    }
  }
  return evalError(e.line, "unsupported function call");
}

llvm::Expected<Value> Evaluator::method(const Value &self, StringRef name,
                                        const std::vector<Value> &args,
                                        int line) {
  auto arg = [&](size_t k) -> const Value * {
    return k < args.size() ? &args[k] : nullptr;
  };
  if (self.kind == Value::Kind::String) {
    StringRef s = self.s;
    if (name == "strip")
      return Value::string(stripChars(s, arg(0), true, true));
    if (name == "lstrip")
      return Value::string(stripChars(s, arg(0), true, false));
    if (name == "rstrip")
      return Value::string(stripChars(s, arg(0), false, true));
    if (name == "upper")
      return Value::string(s.upper());
    if (name == "lower")
      return Value::string(s.lower());
    if ((name == "startswith" || name == "endswith") && arg(0) &&
        arg(0)->kind == Value::Kind::String)
      return Value::boolean(name == "startswith" ? s.starts_with(arg(0)->s)
                                                 : s.ends_with(arg(0)->s));
    if (name == "split") {
      Value out = Value::newList();
      if (!arg(0) || arg(0)->kind == Value::Kind::None) {
        llvm::SmallVector<StringRef, 8> parts;
        llvm::SplitString(s, parts);
        for (StringRef p : parts)
          out.list->push_back(Value::string(p.str()));
        return out;
      }
      if (arg(0)->kind != Value::Kind::String || arg(0)->s.empty())
        return evalError(line, "split() needs a non-empty separator");
      llvm::SmallVector<StringRef, 8> parts;
      s.split(parts, arg(0)->s);
      for (StringRef p : parts)
        out.list->push_back(Value::string(p.str()));
      return out;
    }
    if (name == "replace" && arg(0) && arg(1) &&
        arg(0)->kind == Value::Kind::String &&
        arg(1)->kind == Value::Kind::String && !arg(0)->s.empty()) {
      std::string out;
      StringRef rest = s;
      for (size_t p; (p = rest.find(arg(0)->s)) != StringRef::npos;) {
        out += rest.take_front(p);
        out += arg(1)->s;
        rest = rest.drop_front(p + arg(0)->s.size());
      }
      out += rest;
      return Value::string(std::move(out));
    }
  }
  if (self.kind == Value::Kind::Map) {
    if (name == "items" || name == "keys" || name == "values") {
      Value out = Value::newList();
      for (const auto &[k, v] : *self.map) {
        if (name == "keys") {
          out.list->push_back(Value::string(k));
        } else if (name == "values") {
          out.list->push_back(v);
        } else {
          Value pair = Value::newList();
          pair.list->push_back(Value::string(k));
          pair.list->push_back(v);
          out.list->push_back(pair);
        }
      }
      return out;
    }
    if (name == "get" && arg(0) && arg(0)->kind == Value::Kind::String) {
      const Value *v = self.find(arg(0)->s);
      return v ? *v : (arg(1) ? *arg(1) : Value::none());
    }
  }
  return evalError(line,
                   "unsupported method '" + name + "' of a " + kindName(self));
}

llvm::Expected<Value> Evaluator::filter(const Expr &e) {
  auto v = eval(*e.args[0]);
  if (!v)
    return v.takeError();
  std::vector<Value> args;
  for (size_t k = 1; k < e.args.size(); ++k) {
    auto a = eval(*e.args[k]);
    if (!a)
      return a.takeError();
    args.push_back(std::move(*a));
  }
  const std::string &name = e.name;
  if (name == "length" || name == "count") {
    if (v->kind == Value::Kind::String)
      return Value::integer(static_cast<int64_t>(v->s.size()));
    if (v->kind == Value::Kind::List)
      return Value::integer(static_cast<int64_t>(v->list->size()));
    if (v->kind == Value::Kind::Map)
      return Value::integer(static_cast<int64_t>(v->map->size()));
    return evalError(e.line,
                     llvm::Twine("a ") + kindName(*v) + " has no length");
  }
  if (name == "items" && v->kind == Value::Kind::Map)
    return method(*v, "items", {}, e.line);
  if (name == "tojson")
    return Value::string(v->json());
  if (name == "string")
    return Value::string(v->str());
  if (name == "trim")
    return Value::string(StringRef(v->str()).trim().str());
  if (name == "upper")
    return Value::string(StringRef(v->str()).upper());
  if (name == "lower")
    return Value::string(StringRef(v->str()).lower());
  if (name == "default" || name == "d")
    return v->isDefined() ? std::move(*v)
                          : (args.empty() ? Value::string("") : args[0]);
  if ((name == "first" || name == "last") && v->kind == Value::Kind::List) {
    if (v->list->empty())
      return Value();
    return name == "first" ? v->list->front() : v->list->back();
  }
  if (name == "join" && v->kind == Value::Kind::List) {
    std::string sep = args.empty() ? "" : args[0].str(), out;
    for (size_t k = 0; k < v->list->size(); ++k)
      out += (k ? sep : "") + (*v->list)[k].str();
    return Value::string(std::move(out));
  }
  return evalError(e.line,
                   "unsupported filter '" + name + "' on a " + kindName(*v));
}

llvm::Expected<Value> Evaluator::test(const Expr &e) {
  auto v = eval(*e.args[0]);
  if (!v)
    return v.takeError();
  const std::string &name = e.name;
  bool result;
  if (name == "defined")
    result = v->isDefined();
  else if (name == "undefined")
    result = !v->isDefined();
  else if (name == "none")
    result = v->kind == Value::Kind::None;
  else if (name == "string")
    result = v->kind == Value::Kind::String;
  else if (name == "number")
    result = v->isNumber();
  else if (name == "integer")
    result = v->kind == Value::Kind::Int;
  else if (name == "boolean")
    result = v->kind == Value::Kind::Bool;
  else if (name == "mapping")
    result = v->kind == Value::Kind::Map;
  else if (name == "iterable" || name == "sequence")
    result = v->kind == Value::Kind::List || v->kind == Value::Kind::String ||
             (name == "iterable" && v->kind == Value::Kind::Map);
  else if (name == "true")
    result = v->kind == Value::Kind::Bool && v->b;
  else if (name == "false")
    result = v->kind == Value::Kind::Bool && !v->b;
  else
    return evalError(e.line, "unsupported test '" + name + "'");
  return Value::boolean(e.negated ? !result : result);
}

} // namespace

//===----------------------------------------------------------------------===//
// ChatTemplate
//===----------------------------------------------------------------------===//

ChatTemplate::ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate &&) noexcept = default;
ChatTemplate &ChatTemplate::operator=(ChatTemplate &&) noexcept = default;
ChatTemplate::~ChatTemplate() = default;

llvm::Expected<ChatTemplate> ChatTemplate::parse(StringRef source) {
  auto root = parseTemplate(source);
  if (!root)
    return root.takeError();
  ChatTemplate t;
  t.root = std::move(*root);
  return std::move(t);
}

llvm::Expected<std::string>
ChatTemplate::apply(llvm::ArrayRef<ChatMessage> messages,
                    const ChatOptions &options, StringRef bosToken,
                    StringRef eosToken) const {
  Value globals = Value::newMap();
  Value list = Value::newList();
  for (const ChatMessage &m : messages) {
    Value message = Value::newMap();
    message.set("role", Value::string(m.role));
    message.set("content", Value::string(m.content));
    list.list->push_back(std::move(message));
  }
  globals.set("messages", std::move(list));
  globals.set("add_generation_prompt",
              Value::boolean(options.addGenerationPrompt));
  if (options.enableThinking)
    globals.set("enable_thinking", Value::boolean(*options.enableThinking));
  globals.set("bos_token", Value::string(bosToken.str()));
  globals.set("eos_token", Value::string(eosToken.str()));
  Evaluator evaluator(std::move(globals), stepLimit);
  std::string out;
  if (llvm::Error err = evaluator.render(*root, out))
    return std::move(err);
  return out;
}

llvm::Expected<std::string> qn::tokenizer::applyModelChatTemplate(
    const gguf::GGUFFile &file, const Tokenizer *tok,
    llvm::ArrayRef<ChatMessage> messages, const ChatOptions &options) {
  if (!file.find("tokenizer.chat_template"))
    return formatQwenChat(messages, options);
  auto fail = [&](llvm::Error err) -> llvm::Error {
    return llvm::createStringError(
        (file.bufferIdentifier() +
         ": tokenizer.chat_template: " + llvm::toString(std::move(err)))
            .str());
  };
  llvm::Expected<StringRef> source = file.getString("tokenizer.chat_template");
  if (!source)
    return source.takeError();
  llvm::Expected<ChatTemplate> t = ChatTemplate::parse(*source);
  if (!t)
    return fail(t.takeError());
  std::string bos, eos;
  if (tok && tok->bos())
    tok->appendTokenBytes(*tok->bos(), bos);
  if (tok && tok->eos())
    tok->appendTokenBytes(*tok->eos(), eos);
  llvm::Expected<std::string> out = t->apply(messages, options, bos, eos);
  if (!out)
    return fail(out.takeError());
  return out;
}
