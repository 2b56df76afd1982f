// SPDX-License-Identifier: Apache-2.0
// GRU: the graph op of the same name (float; dynamic int8 weights under quantize_dynamic), with
// linear_before_reset (PyTorch exports 1). ONNX's defaults only for the rest: activations Sigmoid /
// Tanh, no clip, layout 0, no sequence_lens. A zero initial state of a batch-sized symbolic shape
// (torch's export) is left out, as for LSTM.
#include <algorithm>

#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_GRU(ImportContext& ctx) {
  if (const Onnx__AttributeProto* a = ctx.attr("activations"))
    for (size_t i = 0; i < a->n_strings; ++i) {
      const std::string act(reinterpret_cast<const char*>(a->strings[i].data), a->strings[i].len);
      QK_FAIL_IF(act != (i % 2 == 0 ? "Sigmoid" : "Tanh"), kUnsupported, "activation %zu is %s (only Sigmoid, Tanh)",
                 i, act.c_str());
    }
  QK_FAIL_IF(ctx.attr("clip") != nullptr, kUnsupported, "clip");
  QK_FAIL_IF(ctx.attr_int("layout", 0) != 0, kUnsupported, "layout 1 (batch first)");
  QK_FAIL_IF(ctx.has_input(4) && !ctx.zeros(4), kUnsupported, "sequence_lens");
  std::vector<std::string> in;
  for (size_t i = 0; i < std::min<size_t>(ctx.input_count(), 6); ++i)
    in.push_back(i == 4 || ctx.zeros(i) ? std::string() : ctx.input(i));
  while (!in.empty() && in.back().empty()) in.pop_back();
  graph::Attributes a;
  a.set_int("hidden_size", ctx.attr_int("hidden_size", 0));
  a.set_string("direction", ctx.attr_string("direction", "forward"));
  a.set_int("linear_before_reset", ctx.attr_int("linear_before_reset", 0));
  std::vector<size_t> outs;
  for (size_t i = 0; i < ctx.output_count(); ++i) outs.push_back(i);
  ctx.emit("GRU", in, outs, a);
}

}  // namespace onnx
}  // namespace qk
