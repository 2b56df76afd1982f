// SPDX-License-Identifier: Apache-2.0
// LSTM: the graph op of the same name (float; dynamic int8 weights under quantize_dynamic).
// ONNX's defaults only for what the graph op does not take: activations Sigmoid / Tanh / Tanh,
// no clip, input_forget 0, layout 0, no sequence_lens, no peepholes. Initial states that are
// zeros of a batch-sized symbolic shape (torch's export builds them with ConstantOfShape) are
// left out: an absent initial state is zeros.
#include <algorithm>

#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_LSTM(ImportContext& ctx) {
  const std::vector<std::string> acts = [&] {
    std::vector<std::string> v;
    if (const Onnx__AttributeProto* a = ctx.attr("activations"))
      for (size_t i = 0; i < a->n_strings; ++i)
        v.emplace_back(reinterpret_cast<const char*>(a->strings[i].data), a->strings[i].len);
    return v;
  }();
  for (size_t i = 0; i < acts.size(); ++i) {
    const char* want = i % 3 == 0 ? "Sigmoid" : "Tanh";
    QK_FAIL_IF(acts[i] != want, kUnsupported, "activation %zu is %s (only Sigmoid, Tanh, Tanh)", i, acts[i].c_str());
  }
  QK_FAIL_IF(ctx.attr("clip") != nullptr, kUnsupported, "clip");
  QK_FAIL_IF(ctx.attr_int("input_forget", 0) != 0, kUnsupported, "input_forget");
  QK_FAIL_IF(ctx.attr_int("layout", 0) != 0, kUnsupported, "layout 1 (batch first)");
  QK_FAIL_IF(ctx.has_input(4) && !ctx.zeros(4), kUnsupported, "sequence_lens");
  QK_FAIL_IF(ctx.has_input(7), kUnsupported, "peepholes (P)");
  std::vector<std::string> in;
  for (size_t i = 0; i < std::min<size_t>(ctx.input_count(), 7); ++i)
    in.push_back(i == 4 || ctx.zeros(i) ? std::string() : ctx.input(i));
  while (!in.empty() && in.back().empty()) in.pop_back();
  graph::Attributes a;
  a.set_int("hidden_size", ctx.attr_int("hidden_size", 0));
  a.set_string("direction", ctx.attr_string("direction", "forward"));
  std::vector<size_t> outs;
  for (size_t i = 0; i < ctx.output_count(); ++i) outs.push_back(i);
  ctx.emit("LSTM", in, outs, a);
}

}  // namespace onnx
}  // namespace qk
