//===- ChatFormatTest.cpp - the built-in Qwen chat template ---------------===//
//
// Expected strings are written out by hand from Qwen3's chat template.
//
//===----------------------------------------------------------------------===//
#include "tokenizer/ChatFormat.h"

#include "gtest/gtest.h"

using namespace qn::tokenizer;

namespace {

TEST(QwenChat, OneUserTurn) {
  // The prompt text of the fixtures' greedy cases (manifest.json).
  EXPECT_EQ(formatQwenChat({{"user", "Write a function that adds two "
                                     "numbers."}}),
            "<|im_start|>user\nWrite a function that adds two "
            "numbers.<|im_end|>\n<|im_start|>assistant\n");
}

TEST(QwenChat, SystemAndNoGenerationPrompt) {
  ChatOptions options;
  options.addGenerationPrompt = false;
  EXPECT_EQ(formatQwenChat({{"system", "Be brief."}, {"user", "Hi!"}}, options),
            "<|im_start|>system\nBe brief.<|im_end|>\n"
            "<|im_start|>user\nHi!<|im_end|>\n");
}

TEST(QwenChat, ThinkingDisabledAddsAnEmptyThinkBlock) {
  ChatOptions options;
  options.enableThinking = false;
  EXPECT_EQ(formatQwenChat({{"user", "2+2?"}}, options),
            "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
            "<think>\n\n</think>\n\n");
  options.enableThinking = true;
  EXPECT_EQ(formatQwenChat({{"user", "2+2?"}}, options),
            "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n");
}

TEST(QwenChat, EarlierReasoningIsDropped) {
  std::vector<ChatMessage> chat = {
      {"user", "a?"},
      {"assistant", "<think>\nfirst thoughts\n</think>\n\nA."},
      {"user", "b?"},
  };
  EXPECT_EQ(formatQwenChat(chat), "<|im_start|>user\na?<|im_end|>\n"
                                  "<|im_start|>assistant\nA.<|im_end|>\n"
                                  "<|im_start|>user\nb?<|im_end|>\n"
                                  "<|im_start|>assistant\n");
}

TEST(QwenChat, ReasoningAfterTheLastQueryIsKept) {
  ChatOptions options;
  options.addGenerationPrompt = false;
  std::vector<ChatMessage> chat = {
      {"user", "a?"},
      {"assistant", "<think>\n\nstep\n\n</think>\n\n\nA."},
  };
  EXPECT_EQ(formatQwenChat(chat, options),
            "<|im_start|>user\na?<|im_end|>\n"
            "<|im_start|>assistant\n<think>\nstep\n</think>\n\nA.<|im_end|>\n");
  // The last assistant turn gets an (empty) think block even without one.
  EXPECT_EQ(formatQwenChat({{"user", "a?"}, {"assistant", "A."}}, options),
            "<|im_start|>user\na?<|im_end|>\n"
            "<|im_start|>assistant\n<think>\n\n</think>\n\nA.<|im_end|>\n");
  // A middle assistant turn after the last query keeps only real
  // reasoning.
  EXPECT_EQ(
      formatQwenChat({{"user", "a?"}, {"assistant", "A."}, {"assistant", "B."}},
                     options),
      "<|im_start|>user\na?<|im_end|>\n"
      "<|im_start|>assistant\nA.<|im_end|>\n"
      "<|im_start|>assistant\n<think>\n\n</think>\n\nB.<|im_end|>\n");
}

TEST(QwenChat, NoMessages) {
  EXPECT_EQ(formatQwenChat({}), "<|im_start|>assistant\n");
  ChatOptions options;
  options.addGenerationPrompt = false;
  EXPECT_EQ(formatQwenChat({}, options), "");
}

} // namespace
