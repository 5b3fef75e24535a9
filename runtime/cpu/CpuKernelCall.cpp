//===- CpuKernelCall.cpp - call a generated kernel -----------------------===//
//
// Elementwise and loop kernels come from codegen (ElementwiseKernel.h,
// LoopKernel.h) with MLIR's C
// interface: `_mlir_ciface_<name>(desc *arg0, ..., desc *result)`, one
// pointer per argument to a memref descriptor of that argument's rank:
// {void *allocated, void *aligned, int64 offset, int64 sizes[r],
// int64 strides[r]}. On the 64-bit targets qn runs on, that is 3 + 2r
// consecutive 64-bit words, so descriptors are built in one reused array.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/CpuBackend.h"
#include "runtime/cpu/KernelCall.h"
#include "runtime/plan/Bindings.h"

#include "llvm/Support/ErrorHandling.h"

#include <array>
#include <cstring>
#include <utility>

namespace qn::runtime::cpu {

using namespace plan;

namespace {

static_assert(sizeof(void *) == sizeof(int64_t),
              "memref descriptors are built as 64-bit words");

template <size_t... I>
void callWith(void *fn, void **args, std::index_sequence<I...>) {
  using Fn = void (*)(decltype((void)I, static_cast<void *>(nullptr))...);
  reinterpret_cast<Fn>(fn)(args[I]...);
}

template <size_t N> void call(void *fn, void **args) {
  callWith(fn, args, std::make_index_sequence<N>{});
}

template <size_t... N>
constexpr std::array<void (*)(void *, void **), sizeof...(N)>
callTable(std::index_sequence<N...>) {
  return {&call<N>...};
}

/// callers[n] calls a kernel of n arguments.
constexpr auto callers =
    callTable(std::make_index_sequence<kMaxKernelArgs + 1>{});

/// The group's memory of state `v`: only delta states, whose slot layout
/// [Hv, dk, dv] is the IR's (Check refuses the others).
void *stateOf(SequenceSlot &slot, const Value &v) {
  return slot.delta[v.layer].data();
}

/// Writes the descriptor of `id` (row-major: every operand is contiguous)
/// at `words`; returns the number of words written. With `group`, a
/// token-major value is the group's rows and a state the group's slot.
size_t describe(const Bindings &b, int32_t id, int64_t *words,
                const SeqGroup *group = nullptr) {
  const Value &v = b.value(id);
  const std::vector<int64_t> &shape = v.shape;
  const size_t r = shape.size();
  void *data = b.values[id].data;
  int64_t outer = r ? b.dim(shape[0]) : 1;
  if (group && v.kind == ValueKind::State) {
    data = stateOf(*group->slot, v);
  } else if (group && r && shape[0] == kTokens) {
    int64_t row = 1;
    for (size_t k = 1; k < r; ++k)
      row *= shape[k];
    data = b.f32(id) + group->begin * row;
    outer = group->count;
  }
  std::memcpy(&words[0], &data, sizeof(void *));
  std::memcpy(&words[1], &data, sizeof(void *));
  words[2] = 0;
  int64_t stride = 1;
  for (size_t k = r; k-- > 0;) {
    const int64_t n = k == 0 ? outer : b.dim(shape[k]);
    words[3 + k] = n;
    words[3 + r + k] = stride;
    stride *= n;
  }
  return 3 + 2 * r;
}

} // namespace

// One descriptor per operand, then one per result (`group`: see describe).
void CpuBackend::callKernel(Bindings &b, const Dispatch &d,
                            const SeqGroup *group) {
  int64_t *words = descriptors.data();
  size_t n = 0, used = 0;
  for (const std::vector<int32_t> *ids : {&d.operands, &d.results})
    for (int32_t id : *ids) {
      kernelArgs[n++] = words + used;
      used += describe(b, id, words + used, group);
    }
  callers[n](d.get<KernelParams>().kernel, kernelArgs.data());
}

void callGeneratedKernel(void *kernel, llvm::ArrayRef<KernelArray> arrays) {
  if (arrays.size() > kMaxKernelArgs)
    llvm::reportFatalUsageError("a generated kernel takes at most 16 "
                                "arguments");
  std::vector<std::vector<int64_t>> words(arrays.size());
  std::vector<void *> args(arrays.size());
  for (size_t i = 0; i < arrays.size(); ++i) {
    const std::vector<int64_t> &shape = arrays[i].shape;
    const size_t r = shape.size();
    std::vector<int64_t> &w = words[i];
    w.assign(3 + 2 * r, 0);
    std::memcpy(&w[0], &arrays[i].data, sizeof(void *));
    std::memcpy(&w[1], &arrays[i].data, sizeof(void *));
    int64_t stride = 1;
    for (size_t k = r; k-- > 0;) {
      w[3 + k] = shape[k];
      w[3 + r + k] = stride;
      stride *= shape[k];
    }
    args[i] = w.data();
  }
  callers[arrays.size()](kernel, args.data());
}

} // namespace qn::runtime::cpu
