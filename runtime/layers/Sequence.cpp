//===- Sequence.cpp - per-sequence state ---------------------------------===//

#include "runtime/layers/Sequence.h"

#include <algorithm>

namespace qn::runtime {

void SequenceSlot::reset() {
  length = 0;
  for (auto &c : conv)
    std::fill(c.begin(), c.end(), 0.0f);
  for (auto &d : delta)
    std::fill(d.begin(), d.end(), 0.0f);
}

} // namespace qn::runtime
