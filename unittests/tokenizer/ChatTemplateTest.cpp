//===- ChatTemplateTest.cpp - the Jinja subset of chat templates ----------===//
//
// Expected outputs are worked out by hand from Jinja2's semantics (with
// trim_blocks and lstrip_blocks, as HF's apply_chat_template sets them).
//
//===----------------------------------------------------------------------===//
#include "tokenizer/ChatTemplate.h"

#include "gtest/gtest.h"

using namespace qn::tokenizer;

namespace {

/// Renders `source` over `messages`; the error text on failure.
std::string render(llvm::StringRef source,
                   std::vector<ChatMessage> messages = {},
                   ChatOptions options = {}) {
  llvm::Expected<ChatTemplate> t = ChatTemplate::parse(source);
  if (!t)
    return "ERROR: " + llvm::toString(t.takeError());
  llvm::Expected<std::string> out =
      t->apply(messages, options, "<bos>", "<eos>");
  if (!out)
    return "ERROR: " + llvm::toString(out.takeError());
  return *out;
}

TEST(ChatTemplate, TextAndExpressions) {
  EXPECT_EQ(render("plain text"), "plain text");
  EXPECT_EQ(render("{{ 'a' + \"b\" }}{{ 1 + 2 * 3 }}{{ 7 // 2 }}{{ -7 % 3 }}"),
            "ab732"); // -7 % 3 is (-7) % 3 = 2, as in Python
  EXPECT_EQ(render("{{ 'x' ~ 1 ~ none ~ true }}"), "x1NoneTrue");
  EXPECT_EQ(render("{{ bos_token }}|{{ eos_token }}"), "<bos>|<eos>");
  EXPECT_EQ(render("{{ 'yes' if 1 > 0 else 'no' }}{{ 'y' if false }}"), "yes");
  EXPECT_EQ(render("{{ [1, 2, 3][-1] }}{{ 'abc'[1] }}{{ {'k': 'v'}['k'] }}"),
            "3bv");
  EXPECT_EQ(render("{{ 'abcdef'[::-1] }} {{ 'abcdef'[1:4] }} {{ [1,2,3,4][::2] "
                   "| join(',') }}"),
            "fedcba bcd 1,3");
  EXPECT_EQ(render("{{ 'ab' in 'cabd' }}{{ 3 not in [1, 2] }}{{ 'k' in "
                   "{'k': 1} }}"),
            "TrueTrueTrue");
  EXPECT_EQ(render("{{ not 0 and (1 or x) }}{{ 0 or '' or 'last' }}"),
            "1last"); // and/or return an operand, as in Python
}

TEST(ChatTemplate, WhitespaceControl) {
  // '-' strips all whitespace on its side, newlines included.
  EXPECT_EQ(render("a  \n  {{- 'b' -}}  \n  c"), "abc");
  // trim_blocks drops the newline after a block tag; lstrip_blocks the
  // indentation before it. Expression tags keep both.
  EXPECT_EQ(render("x\n    {% if true %}\n    y\n    {% endif %}\nz"),
            "x\n    y\nz");
  EXPECT_EQ(render("  {{ 'e' }}\n"), "  e\n");
  EXPECT_EQ(render("a{# a comment #}\nb"), "ab");
}

TEST(ChatTemplate, LoopsAndScopes) {
  EXPECT_EQ(render("{% for x in ['a', 'b', 'c'] %}{{ loop.index0 }}{{ x }}"
                   "{% if loop.first %}F{% endif %}{% if not loop.last %},"
                   "{% endif %}{% endfor %}"),
            "0aF,1b,2c");
  EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  // A plain set inside a loop does not leak; a namespace attribute does.
  EXPECT_EQ(render("{% set n = 0 %}{% set ns = namespace(n=0) %}"
                   "{% for x in [1, 2, 3] %}{% set n = n + x %}"
                   "{% set ns.n = ns.n + x %}{% endfor %}{{ n }},{{ ns.n }}"),
            "0,6");
  EXPECT_EQ(render("{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}"
                   "{% for p in {'a': 1}.items() %}{{ p[0] }}={{ p[1] }}"
                   "{% endfor %}"),
            "aba=1");
  EXPECT_EQ(render("{% for i in range(3) %}{{ i }}{% endfor %}"), "012");
  EXPECT_EQ(render("{% for k, v in {'a': 1, 'b': 2} | items %}{{ k }}{{ v }}"
                   "{% endfor %}"),
            "a1b2");
  EXPECT_EQ(render("{% for a, b in [[1, 2, 3]] %}{% endfor %}"),
            "ERROR: chat template line 1: cannot unpack a list into 2 names");
}

TEST(ChatTemplate, IfElifElse) {
  const char *source = "{% for x in [1, 2, 3] %}{% if x == 1 %}one"
                       "{% elif x == 2 %}two{% else %}many{% endif %} "
                       "{% endfor %}";
  EXPECT_EQ(render(source), "one two many ");
}

TEST(ChatTemplate, FiltersTestsAndMethods) {
  EXPECT_EQ(render("{{ [1, 2] | length }}{{ 'abc' | length }}{{ ' x ' | trim "
                   "}}{{ 'Ab' | upper }}{{ 'Ab' | lower }}{{ u | default('d') "
                   "}}"),
            "23xABabd");
  EXPECT_EQ(render("{{ {'a': [1, 'x\"y', none, true]} | tojson }}"),
            "{\"a\": [1, \"x\\\"y\", null, true]}");
  EXPECT_EQ(render("{{ u is defined }}{{ none is none }}{{ 'a' is string }}"
                   "{{ 1 is number }}{{ false is false }}{{ u is not defined "
                   "}}{{ {} is mapping }}"),
            "FalseTrueTrueTrueTrueTrueTrue");
  EXPECT_EQ(render("{{ '\\n\\nab\\n'.strip('\\n') }}|{{ '  ab '.lstrip() }}|"
                   "{{ 'xxabx'.rstrip('x') }}|{{ 'a</t>b</t>c'.split('</t>')"
                   "[-1] }}|{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith('b') "
                   "}}|{{ 'aXbX'.replace('X', '-') }}|{{ 'a b  c'.split() | "
                   "join('+') }}"),
            "ab|ab |xxab|c|TrueFalse|a-b-|a+b+c");
}

TEST(ChatTemplate, MessagesAndOptions) {
  const char *source =
      "{% for m in messages %}[{{ m.role }}:{{ m['content'] }}]{% endfor %}"
      "{% if add_generation_prompt %}>{% endif %}"
      "{% if enable_thinking is defined %}{{ enable_thinking }}{% endif %}";
  ChatOptions options;
  EXPECT_EQ(render(source, {{"user", "hi"}, {"assistant", "yo"}}, options),
            "[user:hi][assistant:yo]>");
  options.addGenerationPrompt = false;
  options.enableThinking = false;
  EXPECT_EQ(render(source, {{"user", "hi"}}, options), "[user:hi]False");
}

TEST(ChatTemplate, Errors) {
  EXPECT_EQ(render("{% if true %}x"),
            "ERROR: chat template line 1: missing {% endif %}");
  EXPECT_EQ(render("a\n{{ 'x' "), "ERROR: chat template line 2: unclosed tag");
  EXPECT_EQ(render("{% macro m() %}{% endmacro %}"),
            "ERROR: chat template line 1: unsupported or misplaced tag "
            "'macro'");
  EXPECT_EQ(render("{{ raise_exception('no tools here') }}"),
            "ERROR: chat template line 1: the template raised: no tools here");
  EXPECT_EQ(render("{{ 1 | frobnicate }}"),
            "ERROR: chat template line 1: unsupported filter 'frobnicate' on "
            "a integer");
  EXPECT_EQ(render("{{ 'a' + 1 }}"),
            "ERROR: chat template line 1: cannot apply '+' to a string and a "
            "integer");
  EXPECT_EQ(render("{% endfor %}"),
            "ERROR: chat template line 1: unsupported or misplaced tag "
            "'endfor'");
  EXPECT_EQ(render("{{ 'abc'[::0] }}"),
            "ERROR: chat template line 1: slice step cannot be zero");
}

/// A Qwen3-style template (written for this test): system first, reasoning
/// of assistant turns before the last user turn dropped, the last turn's
/// reasoning in a <think> block, enable_thinking=false -> empty block.
const char *kQwenStyle = R"JINJA({%- if messages[0].role == 'system' %}
    {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
{%- endif %}
{%- set ns = namespace(last_user=messages|length - 1, found=false) %}
{%- for m in messages[::-1] %}
    {%- if not ns.found and m.role == 'user' %}
        {%- set ns.last_user = (messages|length - 1) - loop.index0 %}
        {%- set ns.found = true %}
    {%- endif %}
{%- endfor %}
{%- for m in messages %}
    {%- if m.role == 'user' or (m.role == 'system' and not loop.first) %}
        {{- '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n' }}
    {%- elif m.role == 'assistant' %}
        {%- set answer = m.content %}
        {%- set thought = '' %}
        {%- if '</think>' in m.content %}
            {%- set answer = m.content.split('</think>')[-1].lstrip('\n') %}
            {%- set thought = m.content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
        {%- endif %}
        {%- if loop.index0 > ns.last_user and (loop.last or thought) %}
            {{- '<|im_start|>assistant\n<think>\n' + thought.strip('\n') + '\n</think>\n\n' + answer.lstrip('\n') }}
        {%- else %}
            {{- '<|im_start|>assistant\n' + answer }}
        {%- endif %}
        {{- '<|im_end|>\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\n\n</think>\n\n' }}
    {%- endif %}
{%- endif %})JINJA";

TEST(ChatTemplate, QwenStyleTemplateMatchesTheBuiltInFormat) {
  std::vector<std::vector<ChatMessage>> chats = {
      {{"user", "Write a function that adds two numbers."}},
      {{"system", "Be brief."}, {"user", "Hi!"}},
      {{"user", "a?"},
       {"assistant", "<think>\nfirst\n</think>\n\nA."},
       {"user", "b?"}},
      {{"user", "a?"}, {"assistant", "<think>\n\nstep\n\n</think>\n\n\nA."}},
      {{"user", "a?"}, {"assistant", "A."}, {"assistant", "B."}},
      {{"system", "s"}, {"user", "u"}, {"system", "s2"}, {"assistant", "x"}},
      {},
  };
  for (bool generationPrompt : {true, false})
    for (std::optional<bool> thinking :
         {std::optional<bool>(), std::optional<bool>(true),
          std::optional<bool>(false)})
      for (const std::vector<ChatMessage> &chat : chats) {
        ChatOptions options;
        options.addGenerationPrompt = generationPrompt;
        options.enableThinking = thinking;
        if (chat.empty())
          continue; // the template indexes messages[0]
        EXPECT_EQ(render(kQwenStyle, chat, options),
                  formatQwenChat(chat, options))
            << "conversation of " << chat.size() << " messages";
      }
}

} // namespace

namespace {

TEST(ChatTemplate, HostileTemplatesFailCleanly) {
  std::string deep =
      "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  EXPECT_EQ(render(deep),
            "ERROR: chat template line 1: expression nested too deeply");
  std::string nots = "{{ " + std::string(5000, '-') + "1 }}";
  EXPECT_EQ(render(nots),
            "ERROR: chat template line 1: expression nested too deeply");
  std::string blocks;
  for (int k = 0; k < 1000; ++k)
    blocks += "{% if true %}";
  EXPECT_EQ(render(blocks),
            "ERROR: chat template line 1: blocks nested too deeply");
  llvm::Expected<ChatTemplate> loops =
      ChatTemplate::parse("{% for i in range(100000) %}{% for j in "
                          "range(100000) %}{% endfor %}{% endfor %}");
  ASSERT_TRUE(static_cast<bool>(loops)) << llvm::toString(loops.takeError());
  loops->setStepLimit(1'000'000);
  llvm::Expected<std::string> out = loops->apply({}, {});
  ASSERT_FALSE(static_cast<bool>(out));
  EXPECT_EQ(llvm::toString(out.takeError()),
            "chat template line 1: the template takes too many steps");
  EXPECT_EQ(render("{{ 'x' * 100000000000 }}"),
            "ERROR: chat template line 1: string repetition too large");
  EXPECT_EQ(render("{{ range(1000000000) }}"),
            "ERROR: chat template line 1: range() too large");
}

} // namespace
