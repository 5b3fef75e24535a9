//===- JinjaAST.h - values and syntax trees of the Jinja subset -*- C++ -*-===//
//
// Internal to ChatTemplate: the parser (JinjaParser.cpp) builds these, the
// evaluator (ChatTemplate.cpp) walks them.
//
//===----------------------------------------------------------------------===//
#ifndef QN_TOKENIZER_JINJAAST_H
#define QN_TOKENIZER_JINJAAST_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace qn::tokenizer::jinja {

/// A Jinja value. Lists and mappings are shared (Python reference
/// semantics), which `namespace()` objects rely on.
struct Value {
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Map };
  using List = std::vector<Value>;
  using Map = std::vector<std::pair<std::string, Value>>; // insertion order

  Kind kind = Kind::Undefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::shared_ptr<List> list;
  std::shared_ptr<Map> map;

  static Value none() { return make(Kind::None); }
  static Value boolean(bool v) {
    Value r = make(Kind::Bool);
    r.b = v;
    return r;
  }
  static Value integer(int64_t v) {
    Value r = make(Kind::Int);
    r.i = v;
    return r;
  }
  static Value real(double v) {
    Value r = make(Kind::Float);
    r.f = v;
    return r;
  }
  static Value string(std::string v) {
    Value r = make(Kind::String);
    r.s = std::move(v);
    return r;
  }
  static Value newList() {
    Value r = make(Kind::List);
    r.list = std::make_shared<List>();
    return r;
  }
  static Value newMap() {
    Value r = make(Kind::Map);
    r.map = std::make_shared<Map>();
    return r;
  }

  bool isDefined() const { return kind != Kind::Undefined; }
  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }
  bool truthy() const;
  /// Mapping lookup; nullptr if absent or not a mapping.
  const Value *find(llvm::StringRef key) const;
  void set(llvm::StringRef key, Value v);
  /// Python's str() of the value as Jinja prints it ("None" for none, ""
  /// for undefined, "True"/"False").
  std::string str() const;
  /// JSON text (tojson).
  std::string json() const;

private:
  static Value make(Kind k) {
    Value r;
    r.kind = k;
    return r;
  }
};

bool equal(const Value &a, const Value &b);

struct Expr {
  enum class Kind {
    Literal, // value
    Name,    // name
    Attr,    // args[0].name
    Index,   // args[0][args[1]]
    Slice,   // args[0][args[1]:args[2]:args[3]] (null parts: Literal undef)
    Call,    // args[0](args[1..]) ; kwNames for trailing keyword args
    Filter,  // args[0] | name(args[1..])
    Test,    // args[0] is [not] name(args[1..])
    Unary,   // name: "not" / "-"
    Binary,  // args[0] name args[1]
    Cond,    // args[1] if args[0] else args[2]
    ListLit, // [args...]
    DictLit, // {kwNames[i]: args[i]}
  };
  Kind kind;
  Value value;
  std::string name;
  std::vector<std::unique_ptr<Expr>> args;
  std::vector<std::string> kwNames; // Call: names of the last kwNames.size()
  bool negated = false;             // Test: `is not`
  int line = 0;
};

struct Node {
  enum class Kind { Block, Text, Output, If, For, Set };
  Kind kind;
  std::string text;           // Text
  std::unique_ptr<Expr> expr; // Output, If condition, For iterable, Set
  std::vector<std::unique_ptr<Node>> children; // Block; If: then, else;
                                               // For: body, else
  std::string var;                             // For loop variable, Set target
  std::string attr;                            // Set target attribute (ns.attr)
  int line = 0;
};

/// Parses template source (trim_blocks and lstrip_blocks as HF sets them).
llvm::Expected<std::unique_ptr<Node>> parseTemplate(llvm::StringRef source);

} // namespace qn::tokenizer::jinja

#endif // QN_TOKENIZER_JINJAAST_H
