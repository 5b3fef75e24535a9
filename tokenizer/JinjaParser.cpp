//===- JinjaParser.cpp - source text to Jinja syntax trees ----------------===//
//
// Two stages: the source is cut into text, {{ expression }} and
// {% statement %} segments (applying '-' whitespace control, trim_blocks and
// lstrip_blocks), then each tag's contents is tokenized and parsed by
// recursive descent.
//
//===----------------------------------------------------------------------===//
#include "tokenizer/JinjaAST.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace qn::tokenizer::jinja;
using llvm::StringRef;

namespace {

llvm::Error syntaxError(int line, const llvm::Twine &msg) {
  return llvm::createStringError(
      llvm::formatv("chat template line {0}: {1}", line, msg.str()).str());
}

/// Templates come from model files: bound the nesting so a hostile one
/// cannot exhaust the stack of the recursive-descent parser (or of the
/// evaluator, which recurses as deep as the tree).
constexpr int kMaxNesting = 256;

struct DepthGuard {
  int &depth;
  explicit DepthGuard(int &depth) : depth(++depth) {}
  ~DepthGuard() { --depth; }
  bool tooDeep() const { return depth > kMaxNesting; }
};

//===----------------------------------------------------------------------===//
// Segments
//===----------------------------------------------------------------------===//

struct Segment {
  enum class Kind { Text, Output, Statement } kind;
  std::string text;
  int line;
};

bool isSpaceOrTab(char c) { return c == ' ' || c == '\t'; }

llvm::Expected<std::vector<Segment>> segment(StringRef src) {
  std::vector<Segment> out;
  bool stripNextText = false;   // previous tag ended with '-'
  bool trimNextNewline = false; // previous tag was a block (trim_blocks)
  size_t pos = 0;
  auto lineAt = [&](size_t p) {
    return 1 + static_cast<int>(src.take_front(p).count('\n'));
  };
  while (pos <= src.size()) {
    size_t open = StringRef::npos;
    for (size_t p = src.find('{', pos); p != StringRef::npos;
         p = src.find('{', p + 1))
      if (p + 1 < src.size() &&
          (src[p + 1] == '{' || src[p + 1] == '%' || src[p + 1] == '#')) {
        open = p;
        break;
      }
    size_t textEnd = open == StringRef::npos ? src.size() : open;
    std::string text = src.slice(pos, textEnd).str();
    char tagKind = open == StringRef::npos ? 0 : src[open + 1];
    bool stripBefore = tagKind && open + 2 < src.size() && src[open + 2] == '-';
    bool keepBefore = tagKind && open + 2 < src.size() && src[open + 2] == '+';

    // lstrip_blocks: spaces and tabs between a line start and a block or
    // comment tag go.
    if ((tagKind == '%' || tagKind == '#') && !stripBefore && !keepBefore) {
      size_t lastNewline = text.rfind('\n');
      bool lineStart =
          lastNewline != std::string::npos || pos == 0 || src[pos - 1] == '\n';
      size_t from = lastNewline == std::string::npos ? 0 : lastNewline + 1;
      if (lineStart &&
          std::all_of(text.begin() + from, text.end(), isSpaceOrTab))
        text.erase(from);
    }
    if (stripNextText)
      text = StringRef(text).ltrim().str();
    else if (trimNextNewline && StringRef(text).starts_with("\n"))
      text.erase(0, 1);
    else if (trimNextNewline && StringRef(text).starts_with("\r\n"))
      text.erase(0, 2);
    if (stripBefore)
      text = StringRef(text).rtrim().str();
    if (!text.empty())
      out.push_back({Segment::Kind::Text, text, lineAt(pos)});
    if (!tagKind)
      break;

    // The tag: find its end outside string literals.
    char closeChar = tagKind == '{' ? '}' : tagKind;
    size_t p = open + 2 + ((stripBefore || keepBefore) ? 1 : 0);
    size_t close = StringRef::npos;
    char quote = 0;
    for (; p + 1 < src.size(); ++p) {
      char c = src[p];
      if (tagKind != '#' && quote) {
        if (c == '\\')
          ++p;
        else if (c == quote)
          quote = 0;
      } else if (tagKind != '#' && (c == '\'' || c == '"')) {
        quote = c;
      } else if (c == closeChar && src[p + 1] == '}') {
        close = p;
        break;
      }
    }
    if (close == StringRef::npos)
      return syntaxError(lineAt(open), "unclosed tag");
    size_t bodyStart = open + 2 + ((stripBefore || keepBefore) ? 1 : 0);
    bool stripAfter = close > bodyStart && src[close - 1] == '-';
    size_t bodyEnd = stripAfter ? close - 1 : close;
    if (tagKind != '#')
      out.push_back(
          {tagKind == '{' ? Segment::Kind::Output : Segment::Kind::Statement,
           src.slice(bodyStart, bodyEnd).trim().str(), lineAt(open)});
    stripNextText = stripAfter;
    trimNextNewline = tagKind != '{';
    pos = close + 2;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Expression tokens and parser
//===----------------------------------------------------------------------===//

struct Token {
  enum class Kind { Name, String, Number, Op, End } kind;
  std::string text;
  Value number;
};

llvm::Expected<std::vector<Token>> tokenize(StringRef s, int line) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (llvm::isSpace(c)) {
      ++i;
    } else if (llvm::isAlpha(c) || c == '_') {
      size_t j = i;
      while (j < s.size() && (llvm::isAlnum(s[j]) || s[j] == '_'))
        ++j;
      out.push_back({Token::Kind::Name, s.slice(i, j).str(), {}});
      i = j;
    } else if (llvm::isDigit(c)) {
      size_t j = i;
      while (j < s.size() && llvm::isDigit(s[j]))
        ++j;
      bool isFloat = j + 1 < s.size() && s[j] == '.' && llvm::isDigit(s[j + 1]);
      if (isFloat) {
        ++j;
        while (j < s.size() && llvm::isDigit(s[j]))
          ++j;
      }
      StringRef digits = s.slice(i, j);
      Token t{Token::Kind::Number, digits.str(), {}};
      if (isFloat) {
        double v;
        if (digits.getAsDouble(v))
          return syntaxError(line, "bad number '" + digits + "'");
        t.number = Value::real(v);
      } else {
        int64_t v;
        if (digits.getAsInteger(10, v))
          return syntaxError(line, "bad number '" + digits + "'");
        t.number = Value::integer(v);
      }
      out.push_back(std::move(t));
      i = j;
    } else if (c == '\'' || c == '"') {
      std::string text;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] != '\\' || j + 1 >= s.size()) {
          text.push_back(s[j]);
          continue;
        }
        char e = s[++j];
        switch (e) {
        case 'n':
          text.push_back('\n');
          break;
        case 't':
          text.push_back('\t');
          break;
        case 'r':
          text.push_back('\r');
          break;
        default:
          text.push_back(e); // \\ \' \" and anything else: the character
        }
      }
      if (j >= s.size())
        return syntaxError(line, "unterminated string");
      out.push_back({Token::Kind::String, text, {}});
      i = j + 1;
    } else {
      static const char *twoChar[] = {"==", "!=", "<=", ">=", "//", "**"};
      std::string op(1, c);
      for (const char *t : twoChar)
        if (s.substr(i).starts_with(t))
          op = t;
      if (StringRef("()[]{}.,:|~+-*/%<>=!").find(c) == StringRef::npos)
        return syntaxError(line,
                           "unexpected character '" + std::string(1, c) + "'");
      out.push_back({Token::Kind::Op, op, {}});
      i += op.size();
    }
  }
  out.push_back({Token::Kind::End, "", {}});
  return out;
}

class ExprParser {
public:
  ExprParser(std::vector<Token> tokens, int line)
      : toks(std::move(tokens)), line(line) {}

  llvm::Expected<std::unique_ptr<Expr>> parseExpression() {
    return parseConditional();
  }
  bool atEnd() const { return peek().kind == Token::Kind::End; }
  const Token &peek(size_t ahead = 0) const {
    return toks[std::min(pos + ahead, toks.size() - 1)];
  }
  bool isName(StringRef n, size_t ahead = 0) const {
    return peek(ahead).kind == Token::Kind::Name && peek(ahead).text == n;
  }
  bool isOp(StringRef o) const {
    return peek().kind == Token::Kind::Op && peek().text == o;
  }
  bool acceptName(StringRef n) {
    if (!isName(n))
      return false;
    ++pos;
    return true;
  }
  bool acceptOp(StringRef o) {
    if (!isOp(o))
      return false;
    ++pos;
    return true;
  }
  llvm::Error expectOp(StringRef o) {
    if (acceptOp(o))
      return llvm::Error::success();
    return syntaxError(line,
                       "expected '" + o + "' but found '" + peek().text + "'");
  }
  llvm::Expected<std::string> expectName() {
    if (peek().kind != Token::Kind::Name)
      return syntaxError(line,
                         "expected a name but found '" + peek().text + "'");
    return toks[pos++].text;
  }
  llvm::Error expectEnd() {
    if (atEnd())
      return llvm::Error::success();
    return syntaxError(line, "unexpected '" + peek().text + "'");
  }

private:
  using ExprPtr = std::unique_ptr<Expr>;
  ExprPtr make(Expr::Kind kind, std::string name = "") {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->name = std::move(name);
    e->line = line;
    return e;
  }
  ExprPtr binary(std::string op, ExprPtr lhs, ExprPtr rhs) {
    ExprPtr e = make(Expr::Kind::Binary, std::move(op));
    e->args.push_back(std::move(lhs));
    e->args.push_back(std::move(rhs));
    return e;
  }

  llvm::Expected<ExprPtr> parseConditional() {
    DepthGuard guard(depth);
    if (guard.tooDeep())
      return syntaxError(line, "expression nested too deeply");
    auto value = parseOr();
    if (!value || !isName("if"))
      return value;
    ++pos;
    auto cond = parseOr();
    if (!cond)
      return cond.takeError();
    ExprPtr otherwise = make(Expr::Kind::Literal); // undefined
    if (acceptName("else")) {
      auto e = parseConditional();
      if (!e)
        return e.takeError();
      otherwise = std::move(*e);
    }
    ExprPtr e = make(Expr::Kind::Cond);
    e->args.push_back(std::move(*cond));
    e->args.push_back(std::move(*value));
    e->args.push_back(std::move(otherwise));
    return e;
  }
  llvm::Expected<ExprPtr> parseOr() {
    auto lhs = parseAnd();
    while (lhs && isName("or")) {
      ++pos;
      auto rhs = parseAnd();
      if (!rhs)
        return rhs.takeError();
      lhs = binary("or", std::move(*lhs), std::move(*rhs));
    }
    return lhs;
  }
  llvm::Expected<ExprPtr> parseAnd() {
    auto lhs = parseNot();
    while (lhs && isName("and")) {
      ++pos;
      auto rhs = parseNot();
      if (!rhs)
        return rhs.takeError();
      lhs = binary("and", std::move(*lhs), std::move(*rhs));
    }
    return lhs;
  }
  llvm::Expected<ExprPtr> parseNot() {
    if (!acceptName("not"))
      return parseCompare();
    DepthGuard guard(depth);
    if (guard.tooDeep())
      return syntaxError(line, "expression nested too deeply");
    auto operand = parseNot();
    if (!operand)
      return operand.takeError();
    ExprPtr e = make(Expr::Kind::Unary, "not");
    e->args.push_back(std::move(*operand));
    return e;
  }
  llvm::Expected<ExprPtr> parseCompare() {
    auto lhs = parseConcat();
    while (lhs) {
      std::string op;
      if (peek().kind == Token::Kind::Op &&
          (isOp("==") || isOp("!=") || isOp("<") || isOp(">") || isOp("<=") ||
           isOp(">="))) {
        op = toks[pos++].text;
      } else if (isName("in")) {
        ++pos;
        op = "in";
      } else if (isName("not") && isName("in", 1)) {
        pos += 2;
        op = "not in";
      } else if (isName("is")) {
        ++pos;
        ExprPtr test = make(Expr::Kind::Test);
        test->negated = acceptName("not");
        auto name = expectName();
        if (!name)
          return name.takeError();
        // `is none`, `is true`: literal names of tests.
        test->name = *name;
        test->args.push_back(std::move(*lhs));
        if (isOp("(")) {
          if (llvm::Error err = parseArgs(*test))
            return std::move(err);
        }
        lhs = std::move(test);
        continue;
      } else {
        break;
      }
      auto rhs = parseConcat();
      if (!rhs)
        return rhs.takeError();
      lhs = binary(op, std::move(*lhs), std::move(*rhs));
    }
    return lhs;
  }
  llvm::Expected<ExprPtr> parseConcat() {
    auto lhs = parseAdditive();
    while (lhs && isOp("~")) {
      ++pos;
      auto rhs = parseAdditive();
      if (!rhs)
        return rhs.takeError();
      lhs = binary("~", std::move(*lhs), std::move(*rhs));
    }
    return lhs;
  }
  llvm::Expected<ExprPtr> parseAdditive() {
    auto lhs = parseMultiplicative();
    while (lhs && (isOp("+") || isOp("-"))) {
      std::string op = toks[pos++].text;
      auto rhs = parseMultiplicative();
      if (!rhs)
        return rhs.takeError();
      lhs = binary(op, std::move(*lhs), std::move(*rhs));
    }
    return lhs;
  }
  llvm::Expected<ExprPtr> parseMultiplicative() {
    auto lhs = parseUnary();
    while (lhs && (isOp("*") || isOp("/") || isOp("//") || isOp("%"))) {
      std::string op = toks[pos++].text;
      auto rhs = parseUnary();
      if (!rhs)
        return rhs.takeError();
      lhs = binary(op, std::move(*lhs), std::move(*rhs));
    }
    return lhs;
  }
  llvm::Expected<ExprPtr> parseUnary() {
    if (acceptOp("-")) {
      DepthGuard guard(depth);
      if (guard.tooDeep())
        return syntaxError(line, "expression nested too deeply");
      auto operand = parseUnary();
      if (!operand)
        return operand.takeError();
      ExprPtr e = make(Expr::Kind::Unary, "-");
      e->args.push_back(std::move(*operand));
      return e;
    }
    return parsePostfix();
  }
  /// (args) after a callee, filter or test: positional then name=value.
  llvm::Error parseArgs(Expr &call) {
    if (llvm::Error err = expectOp("("))
      return err;
    while (!acceptOp(")")) {
      if (peek().kind == Token::Kind::Name && peek(1).kind == Token::Kind::Op &&
          peek(1).text == "=") {
        call.kwNames.push_back(toks[pos].text);
        pos += 2;
      } else if (!call.kwNames.empty()) {
        return syntaxError(line, "positional argument after keyword argument");
      }
      auto arg = parseExpression();
      if (!arg)
        return arg.takeError();
      call.args.push_back(std::move(*arg));
      if (!isOp(")"))
        if (llvm::Error err = expectOp(","))
          return err;
    }
    return llvm::Error::success();
  }
  llvm::Expected<ExprPtr> parsePostfix() {
    auto base = parsePrimary();
    if (!base)
      return base;
    ExprPtr e = std::move(*base);
    while (true) {
      if (acceptOp(".")) {
        auto name = expectName();
        if (!name)
          return name.takeError();
        ExprPtr attr = make(Expr::Kind::Attr, *name);
        attr->args.push_back(std::move(e));
        e = std::move(attr);
      } else if (isOp("(")) {
        ExprPtr call = make(Expr::Kind::Call);
        call->args.push_back(std::move(e));
        if (llvm::Error err = parseArgs(*call))
          return std::move(err);
        e = std::move(call);
      } else if (acceptOp("[")) {
        auto sub = parseSubscript(std::move(e));
        if (!sub)
          return sub.takeError();
        e = std::move(*sub);
      } else if (acceptOp("|")) {
        auto name = expectName();
        if (!name)
          return name.takeError();
        ExprPtr filter = make(Expr::Kind::Filter, *name);
        filter->args.push_back(std::move(e));
        if (isOp("("))
          if (llvm::Error err = parseArgs(*filter))
            return std::move(err);
        e = std::move(filter);
      } else {
        return e;
      }
    }
  }
  /// After '[': an index or a slice a:b:c (any part may be empty).
  llvm::Expected<ExprPtr> parseSubscript(ExprPtr object) {
    ExprPtr parts[3];
    int part = 0;
    bool slice = false;
    while (!acceptOp("]")) {
      if (acceptOp(":")) {
        slice = true;
        if (++part > 2)
          return syntaxError(line, "too many ':' in a slice");
        continue;
      }
      auto e = parseExpression();
      if (!e)
        return e.takeError();
      if (parts[part])
        return syntaxError(line, "expected ':' or ']' in a subscript");
      parts[part] = std::move(*e);
    }
    if (!slice) {
      if (!parts[0])
        return syntaxError(line, "empty subscript");
      ExprPtr e = make(Expr::Kind::Index);
      e->args.push_back(std::move(object));
      e->args.push_back(std::move(parts[0]));
      return e;
    }
    ExprPtr e = make(Expr::Kind::Slice);
    e->args.push_back(std::move(object));
    for (ExprPtr &p : parts)
      e->args.push_back(p ? std::move(p) : make(Expr::Kind::Literal));
    return e;
  }
  llvm::Expected<ExprPtr> parsePrimary() {
    const Token &t = peek();
    switch (t.kind) {
    case Token::Kind::String: {
      ExprPtr e = make(Expr::Kind::Literal);
      e->value = Value::string(t.text);
      ++pos;
      // Adjacent literals concatenate, as in Python.
      while (peek().kind == Token::Kind::String)
        e->value.s += toks[pos++].text;
      return e;
    }
    case Token::Kind::Number: {
      ExprPtr e = make(Expr::Kind::Literal);
      e->value = t.number;
      ++pos;
      return e;
    }
    case Token::Kind::Name: {
      ExprPtr e = make(Expr::Kind::Literal);
      if (t.text == "true" || t.text == "True")
        e->value = Value::boolean(true);
      else if (t.text == "false" || t.text == "False")
        e->value = Value::boolean(false);
      else if (t.text == "none" || t.text == "None")
        e->value = Value::none();
      else
        e = make(Expr::Kind::Name, t.text);
      ++pos;
      return e;
    }
    case Token::Kind::Op:
      if (acceptOp("(")) {
        auto inner = parseExpression();
        if (!inner)
          return inner;
        if (llvm::Error err = expectOp(")"))
          return std::move(err);
        return inner;
      }
      if (acceptOp("[")) {
        ExprPtr e = make(Expr::Kind::ListLit);
        while (!acceptOp("]")) {
          auto item = parseExpression();
          if (!item)
            return item.takeError();
          e->args.push_back(std::move(*item));
          if (!isOp("]"))
            if (llvm::Error err = expectOp(","))
              return std::move(err);
        }
        return e;
      }
      if (acceptOp("{")) {
        ExprPtr e = make(Expr::Kind::DictLit);
        while (!acceptOp("}")) {
          if (peek().kind != Token::Kind::String)
            return syntaxError(line, "dict keys must be string literals");
          e->kwNames.push_back(toks[pos++].text);
          if (llvm::Error err = expectOp(":"))
            return std::move(err);
          auto item = parseExpression();
          if (!item)
            return item.takeError();
          e->args.push_back(std::move(*item));
          if (!isOp("}"))
            if (llvm::Error err = expectOp(","))
              return std::move(err);
        }
        return e;
      }
      return syntaxError(line, "unexpected '" + t.text + "'");
    case Token::Kind::End:
      return syntaxError(line, "expression expected");
    }
    return syntaxError(line, "expression expected");
  }

  std::vector<Token> toks;
  size_t pos = 0;
  int line;
  int depth = 0;
};

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

class TemplateParser {
public:
  explicit TemplateParser(std::vector<Segment> segments)
      : segs(std::move(segments)) {}

  llvm::Expected<std::unique_ptr<Node>> parse() {
    std::string end;
    auto block = parseBlock({}, end);
    if (!block)
      return block;
    return block;
  }

private:
  static std::unique_ptr<Node> makeNode(Node::Kind kind, int line) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->line = line;
    return n;
  }

  /// Nodes until a statement whose keyword is in `ends` (returned in
  /// `endKeyword` with its parser positioned after the keyword), or the end
  /// of the template if `ends` is empty.
  llvm::Expected<std::unique_ptr<Node>>
  parseBlock(std::initializer_list<StringRef> ends, std::string &endKeyword) {
    DepthGuard guard(depth);
    if (guard.tooDeep())
      return syntaxError(idx < segs.size() ? segs[idx].line : 0,
                         "blocks nested too deeply");
    auto block =
        makeNode(Node::Kind::Block, idx < segs.size() ? segs[idx].line : 0);
    while (idx < segs.size()) {
      const Segment &seg = segs[idx++];
      if (seg.kind == Segment::Kind::Text) {
        auto n = makeNode(Node::Kind::Text, seg.line);
        n->text = seg.text;
        block->children.push_back(std::move(n));
        continue;
      }
      auto toks = tokenize(seg.text, seg.line);
      if (!toks)
        return toks.takeError();
      current = std::make_unique<ExprParser>(std::move(*toks), seg.line);
      if (seg.kind == Segment::Kind::Output) {
        auto e = current->parseExpression();
        if (!e)
          return e.takeError();
        if (llvm::Error err = current->expectEnd())
          return std::move(err);
        auto n = makeNode(Node::Kind::Output, seg.line);
        n->expr = std::move(*e);
        block->children.push_back(std::move(n));
        continue;
      }
      auto keyword = current->expectName();
      if (!keyword)
        return keyword.takeError();
      for (StringRef end : ends)
        if (*keyword == end) {
          endKeyword = *keyword;
          return block;
        }
      auto n = parseStatement(*keyword, seg.line);
      if (!n)
        return n.takeError();
      if (*n)
        block->children.push_back(std::move(*n));
    }
    if (ends.size())
      return syntaxError(segs.empty() ? 0 : segs.back().line,
                         "missing {% " + *(ends.end() - 1) + " %}");
    return block;
  }

  llvm::Expected<std::unique_ptr<Node>> parseIf(int line) {
    auto cond = current->parseExpression();
    if (!cond)
      return cond.takeError();
    if (llvm::Error err = current->expectEnd())
      return std::move(err);
    auto n = makeNode(Node::Kind::If, line);
    n->expr = std::move(*cond);
    std::string end;
    auto then = parseBlock({"elif", "else", "endif"}, end);
    if (!then)
      return then.takeError();
    n->children.push_back(std::move(*then));
    if (end == "elif") {
      auto elseBlock = makeNode(Node::Kind::Block, line);
      auto nested = parseIf(line);
      if (!nested)
        return nested.takeError();
      elseBlock->children.push_back(std::move(*nested));
      n->children.push_back(std::move(elseBlock));
      return n;
    }
    if (end == "else") {
      if (llvm::Error err = current->expectEnd())
        return std::move(err);
      auto elseBlock = parseBlock({"endif"}, end);
      if (!elseBlock)
        return elseBlock.takeError();
      n->children.push_back(std::move(*elseBlock));
    }
    return n;
  }

  llvm::Expected<std::unique_ptr<Node>> parseStatement(StringRef keyword,
                                                       int line) {
    if (keyword == "if")
      return parseIf(line);
    if (keyword == "for") {
      auto var = current->expectName();
      if (!var)
        return var.takeError();
      std::string vars = *var;
      while (current->acceptOp(",")) { // for key, value in ...
        auto more = current->expectName();
        if (!more)
          return more.takeError();
        vars += "," + *more;
      }
      if (!current->acceptName("in"))
        return syntaxError(line, "expected 'in' in a for loop");
      auto iterable = current->parseExpression();
      if (!iterable)
        return iterable.takeError();
      if (llvm::Error err = current->expectEnd())
        return std::move(err);
      auto n = makeNode(Node::Kind::For, line);
      n->var = vars;
      n->expr = std::move(*iterable);
      std::string end;
      auto body = parseBlock({"else", "endfor"}, end);
      if (!body)
        return body.takeError();
      n->children.push_back(std::move(*body));
      if (end == "else") {
        auto elseBlock = parseBlock({"endfor"}, end);
        if (!elseBlock)
          return elseBlock.takeError();
        n->children.push_back(std::move(*elseBlock));
      }
      return n;
    }
    if (keyword == "set") {
      auto var = current->expectName();
      if (!var)
        return var.takeError();
      auto n = makeNode(Node::Kind::Set, line);
      n->var = *var;
      if (current->acceptOp(".")) {
        auto attr = current->expectName();
        if (!attr)
          return attr.takeError();
        n->attr = *attr;
      }
      if (!current->acceptOp("="))
        return syntaxError(line, "block {% set %} is not supported");
      auto value = current->parseExpression();
      if (!value)
        return value.takeError();
      if (llvm::Error err = current->expectEnd())
        return std::move(err);
      n->expr = std::move(*value);
      return n;
    }
    if (keyword == "generation" || keyword == "endgeneration")
      return nullptr; // HF's assistant-mask markers: no output of their own
    return syntaxError(line, "unsupported or misplaced tag '" + keyword + "'");
  }

  std::vector<Segment> segs;
  size_t idx = 0;
  int depth = 0;
  std::unique_ptr<ExprParser> current;
};

} // namespace

llvm::Expected<std::unique_ptr<Node>>
qn::tokenizer::jinja::parseTemplate(StringRef source) {
  auto segments = segment(source);
  if (!segments)
    return segments.takeError();
  TemplateParser parser(std::move(*segments));
  return parser.parse();
}
