//===- TokenizeCommand.cpp - `qn-run tokenize`: text to token ids ---------===//
//
//   qn-run tokenize -m MODEL (-p TEXT | -f FILE) [--json | --ids]
//                   [--no-parse-special]
//
// Tokenizes with the model's own vocabulary (its tokenizer.ggml.* keys) and
// prints one `id -> 'piece'` line per token, the ids as a list (--ids), or
// only `{"ids": [...]}` on stdout (--json). `-f -` reads stdin.
//
//===----------------------------------------------------------------------===//
#include "Command.h"

#include "gguf/InputFile.h"
#include "tokenizer/Tokenizer.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace qn::tokenizer;

namespace {
cl::SubCommand tokenizeCmd("tokenize",
                           "print the token ids of a text (model vocabulary)");
cl::OptionCategory tokenizeCat("tokenize options");
cl::opt<std::string> modelPath("m", cl::desc("model GGUF file"),
                               cl::value_desc("file"), cl::sub(tokenizeCmd),
                               cl::cat(tokenizeCat));
cl::opt<std::string> promptText("p", cl::desc("text to tokenize"),
                                cl::value_desc("text"), cl::sub(tokenizeCmd),
                                cl::cat(tokenizeCat));
cl::opt<std::string> textFile("f", cl::desc("file to tokenize ('-': stdin)"),
                              cl::value_desc("file"), cl::sub(tokenizeCmd),
                              cl::cat(tokenizeCat));
cl::opt<bool> jsonOutput("json",
                         cl::desc("print only {\"ids\": [...]} on stdout"),
                         cl::sub(tokenizeCmd), cl::cat(tokenizeCat));
cl::opt<bool> idsOutput("ids", cl::desc("print only the ids, as [1, 2, 3]"),
                        cl::sub(tokenizeCmd), cl::cat(tokenizeCat));
cl::opt<bool> noParseSpecial(
    "no-parse-special",
    cl::desc("treat control tokens written in the text (<|im_start|>, ...) "
             "as plain text"),
    cl::sub(tokenizeCmd), cl::cat(tokenizeCat));

int fail(const Twine &message) {
  errs() << "qn-run tokenize: " << message << "\n";
  return 1;
}

/// A token's bytes for display: printable as is, the rest escaped, so that
/// a piece holding half a UTF-8 character or a newline stays on its line.
std::string displayPiece(StringRef bytes) {
  std::string out;
  raw_string_ostream os(out);
  for (unsigned char c : bytes) {
    if (c == '\n')
      os << "\\n";
    else if (c == '\t')
      os << "\\t";
    else if (c == '\\' || c == '\'')
      os << '\\' << c;
    else if (c < 0x20 || c == 0x7F)
      os << format("\\x%02x", c);
    else
      os << c;
  }
  return out;
}

int runTokenize() {
  if (modelPath.empty())
    return fail("no model given (-m MODEL)");
  if (promptText.getNumOccurrences() && !textFile.empty())
    return fail("give either -p TEXT or -f FILE, not both");
  if (!promptText.getNumOccurrences() && textFile.empty())
    return fail("no text given (-p TEXT or -f FILE)");
  if (jsonOutput && idsOutput)
    return fail("give either --json or --ids, not both");

  std::unique_ptr<MemoryBuffer> fileText;
  StringRef text = promptText;
  if (!textFile.empty()) {
    ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
        qn::getInputFileOrSTDIN(textFile, /*IsText=*/false,
                                /*RequiresNullTerminator=*/false);
    if (!buffer)
      return fail("cannot read '" + textFile +
                  "': " + buffer.getError().message());
    fileText = std::move(*buffer);
    text = fileText->getBuffer();
  }

  Expected<std::unique_ptr<Tokenizer>> tok = Tokenizer::fromFile(modelPath);
  if (!tok)
    return fail(toString(tok.takeError()));
  std::vector<TokenId> ids = (*tok)->encode(text, !noParseSpecial);

  if (jsonOutput) {
    json::Array array;
    for (TokenId id : ids)
      array.push_back(id);
    outs() << json::Value(json::Object{{"ids", std::move(array)}}) << "\n";
  } else if (idsOutput) {
    outs() << "[";
    for (size_t i = 0; i < ids.size(); ++i)
      outs() << (i ? ", " : "") << ids[i];
    outs() << "]\n";
  } else {
    std::string bytes;
    for (TokenId id : ids) {
      bytes.clear();
      (*tok)->appendTokenBytes(id, bytes);
      outs() << format("%6d", id) << " -> '" << displayPiece(bytes) << "'\n";
    }
  }
  outs().flush();
  return 0;
}

qn::run::CommandRegistration reg(&tokenizeCmd, runTokenize);
} // namespace
