// SPDX-License-Identifier: Apache-2.0
// Graph passes, one per file. Each takes the graph to rewrite (callers pass a copy and swap it
// in on success, so a failing pass changes nothing).
#pragma once

#include "graph/graph.h"

namespace qk {
namespace graph {

// constant_fold.cc: nodes whose inputs are all constants run once and become constants.
void fold_constants_pass(Graph& g);
// fuse.cc: Conv/Linear + BatchNorm (folded into the weights), then + Relu / Clip into the
// node's own clamp; Add + Relu. Returns the fused descriptions ("conv1+bn1+relu1").
std::vector<std::string> fuse_pass(Graph& g);
// fuse_decomposed.cc: the GELU, LayerNorm and HardSwish that exporters write out as elementary
// ops become one op each. Returns the descriptions.
std::vector<std::string> fuse_decomposed_pass(Graph& g);
// insert_qdq.cc: after modes are set, makes every int8 node read quantized values and every
// float node read f32 values (qk.Quantize / qk.Dequantize nodes, quantized constants).
void insert_qdq_pass(Graph& g);
// quantize_weights.cc: the constant weight of each int8 / dynamic weighted node becomes s8
// codes with per-channel qparams (OpDef::weight_input), quantized once with the node's scheme.
void quantize_weights_pass(Graph& g);
// layout_nhwc.cc: rank-4 int8 codes are stored NHWC where the ops take it; qk.Reorder nodes
// where a consumer needs the other layout.
void layout_pass(Graph& g);

// True when value `id` is stored as int8 codes at run time (made by an int8 node, or a
// quantized constant).
bool stored_quantized(const Graph& g, int id);

}  // namespace graph
}  // namespace qk
