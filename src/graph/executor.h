// SPDX-License-Identifier: Apache-2.0
// The graph executor: binds inputs (resolving symbolic dims), runs the nodes in order with each
// node's mode (float reference, int8, dynamic), frees every intermediate after its last use and
// returns the graph outputs as f32. Stateless: one graph may run on many threads at once.
#pragma once

#include <functional>

#include "graph/graph.h"

namespace qk {
namespace graph {

// Called with every value a run computes (and each bound input) when set: calibration.
using ValueObserver = std::function<void(int value, const std::shared_ptr<const Tensor>& t)>;

NamedTensors execute(const Graph& g, const NamedTensors& inputs, ThreadPool* pool, const ValueObserver& observe);

// The f32 NCHW view of a quantized tensor (dequantized, NHWC codes reordered), for outputs and
// reports.
Tensor dequantized(const Tensor& t, const QParams& qp);

}  // namespace graph
}  // namespace qk
