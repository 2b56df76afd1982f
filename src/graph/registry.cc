// SPDX-License-Identifier: Apache-2.0
// The op registry: one row per op file of src/graph/ops/. Adding an op is its file, its row
// here and its test (tests/graph/ops/).
#include <cstring>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {

// One row per op: the OpDef each op file defines as `const OpDef k<Name>`.
#define QK_GRAPH_OPS(X)                                                                                 \
  /* inserted by convert */                                                                             \
  X(kQuantize) X(kDequantize) X(kReorder)                                                               \
  /* element-wise */                                                                                    \
  X(kRelu)                                                                                              \
  X(kAdd)                                                                                               \
  X(kSub)                                                                                               \
  X(kMul)                                                                                               \
  X(kDiv)                                                                                               \
  X(kPow)                                                                                               \
  X(kSqrt)                                                                                              \
  X(kExp)                                                                                               \
  X(kErf)                                                                                               \
  X(kClip)                                                                                              \
  X(kLeakyRelu)                                                                                         \
  X(kSigmoid)                                                                                           \
  X(kHardSigmoid)                                                                                       \
  X(kHardSwish)                                                                                         \
  X(kTanh)                                                                                              \
  X(kGelu)                                                                                              \
  X(kIdentity)                                                                                          \
  X(kDropout)                                                                                           \
  /* data movement */                                                                                   \
  X(kReshape)                                                                                           \
  X(kFlatten)                                                                                           \
  X(kTranspose)                                                                                         \
  X(kSqueeze)                                                                                           \
  X(kUnsqueeze)                                                                                         \
  X(kSlice)                                                                                             \
  X(kGather)                                                                                            \
  X(kConcat)                                                                                            \
  X(kPad)                                                                                               \
  X(kResize)                                                                                            \
  /* weighted */                                                                                        \
  X(kConv)                                                                                              \
  X(kConvTranspose)                                                                                     \
  X(kLinear)                                                                                            \
  X(kMatMul)                                                                                            \
  X(kLSTM)                                                                                              \
  X(kGRU)                                                                                               \
  /* pooling */                                                                                         \
  X(kMaxPool)                                                                                           \
  X(kAveragePool)                                                                                       \
  X(kGlobalAveragePool)                                                                                 \
  X(kGlobalMaxPool)                                                                                     \
  /* normalization and reductions (float) */                                                            \
  X(kBatchNormalization)                                                                                \
  X(kSoftmax)                                                                                           \
  X(kLayerNormalization)                                                                                \
  X(kReduceMean)

#define QK_DECLARE_OP(name) extern const OpDef name;
QK_GRAPH_OPS(QK_DECLARE_OP)
#undef QK_DECLARE_OP

}  // namespace ops

namespace {
#define QK_OP_ROW(name) &ops::name,
const OpDef* const kAllOps[] = {QK_GRAPH_OPS(QK_OP_ROW)};
#undef QK_OP_ROW
}  // namespace

const OpDef* find_op(const std::string& name) {
  for (const OpDef* op : kAllOps)
    if (name == op->name) return op;
  return nullptr;
}

const OpDef* const* all_ops(size_t* count) {
  *count = sizeof(kAllOps) / sizeof(kAllOps[0]);
  return kAllOps;
}

}  // namespace graph
}  // namespace qk
