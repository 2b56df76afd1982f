// SPDX-License-Identifier: Apache-2.0
// MaxPool: the graph op; the optional Indices output may not be read. ceil_mode = 1 (SqueezeNet,
// GoogLeNet exports) becomes floor mode with extra end padding: padded positions never win a max,
// so the windows are the same. PyTorch's and ONNX Runtime's rule holds: the last window must
// start inside the input or its begin padding. Needs the spatial dims known at import.
// storage_order only says how Indices are numbered (row- or column-major): with Indices never
// read it cannot change the output, so it is not passed on (the graph op rejects 1).
#include <algorithm>

#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_MaxPool(ImportContext& ctx) {
  QK_FAIL_IF(ctx.output_used(1), kUnsupported, "the Indices output is read");
  graph::Attributes a = ctx.copy_attrs({"ceil_mode", "storage_order"});
  if (ctx.attr_int("ceil_mode", 0) != 0) {
    const graph::TensorType* t = ctx.type(0);
    const std::vector<int64_t> k = ctx.attr_ints("kernel_shape");
    const size_t n = k.size();
    QK_FAIL_IF(!t || t->dims.size() != n + 2 || n == 0, kUnsupported, "ceil_mode with an input of unknown rank");
    QK_FAIL_IF(ctx.attr_string("auto_pad", "NOTSET") != "NOTSET", kUnsupported, "ceil_mode with auto_pad");
    std::vector<int64_t> s = ctx.attr_ints("strides"), d = ctx.attr_ints("dilations"), p = ctx.attr_ints("pads");
    if (s.empty()) s.assign(n, 1);
    if (d.empty()) d.assign(n, 1);
    if (p.empty()) p.assign(2 * n, 0);
    QK_FAIL_IF(s.size() != n || d.size() != n || p.size() != 2 * n, kInvalidArgument, "strides / dilations / pads");
    const int64_t limit = int64_t(1) << 31;  // the arithmetic below stays far from int64 overflow
    for (size_t i = 0; i < n; ++i)
      QK_FAIL_IF(k[i] >= limit || s[i] >= limit || d[i] >= limit || p[i] < 0 || p[i] >= limit || p[n + i] < 0 ||
                     p[n + i] >= limit,
                 kInvalidArgument, "kernel, strides, dilations and pads must be below 2^31 (pads >= 0)");
    for (size_t i = 0; i < n; ++i) {
      const graph::Dim& dim = t->dims[2 + i];
      QK_FAIL_IF(!dim.known(), kUnsupported, "ceil_mode on a symbolic spatial dim");
      QK_FAIL_IF(s[i] < 1 || d[i] < 1 || k[i] < 1, kInvalidArgument, "kernel, stride and dilation must be >= 1");
      const int64_t span = d[i] * (k[i] - 1) + 1, padded = dim.size + p[i] + p[n + i];
      if (padded < span) continue;  // the graph op reports it
      int64_t out = (padded - span + s[i] - 1) / s[i] + 1;
      if ((out - 1) * s[i] >= dim.size + p[i]) --out;
      p[n + i] += std::max<int64_t>(0, (out - 1) * s[i] + span - padded);
    }
    a.set_ints("pads", p);
  }
  ctx.emit("MaxPool", {ctx.input(0)}, {0}, a);
}

}  // namespace onnx
}  // namespace qk
