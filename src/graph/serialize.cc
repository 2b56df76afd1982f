// SPDX-License-Identifier: Apache-2.0
// Graph text v2 (docs/MODEL_GRAPH.md):
//
//   qkmodel 2
//   state float|converted|dynamic
//   layers nhwc=0|1                           a layer-API model (qk_model_create): per-sample shapes
//   config * | node NAME | type OP   [observer=K] [dtype=D] [scheme=S] [skip=0|1]
//   input NAME DTYPE RANK DIM...              DIM: a size, or ?SYMBOL
//   const NAME DTYPE [from=SRC]               data: tensor "const/NAME" (bool stored as u8); from:
//                                             int8 codes of the f32 constant SRC (when it is saved)
//   cqparams NAME DTYPE SCHEME AXIS QMIN QMAX (converted / dynamic) constant NAME is int8 codes:
//                                             "const/NAME" is a quantized .qkw tensor whose own
//                                             qparams give the scales and zero points (weights:
//                                             per channel along AXIS)
//   node OP NAME MODE in=A,,C out=Y,Z [@ATTR=T:VALUE ...]     MODE: f (float), q (int8), d (dynamic)
//   qparams VALUE DTYPE SCALE ZP QMIN QMAX LAYOUT USER        (converted: every value with qparams;
//                                             constants' before the nodes)
//   fused NODE DESC
//   output NAME
//
// Attribute values: i:INT, f:HEXFLOAT, s:HEXBYTES, I:INT,INT,..., F:HEX,HEX,... Floats are C99
// hex floats (exact). Converted and dynamic graphs store weights as the s8 codes convert made
// (passes/quantize_weights.cc), not their f32 originals: the kernels pack from the same codes
// at load, so a loaded model runs bit-identically. Files whose q / d nodes still read f32
// weights (saved before the codes existed) are quantized at load by the same pass.
#include "graph/serialize.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>

#include "core/error.h"
#include "graph/passes/passes.h"
#include "capi/capi_common.h"
#include "model/c_handles.h"

namespace qk {
namespace graph {

namespace {

constexpr const char* kGraphTensor = "model.graph.v2";
constexpr const char* kConstPrefix = "const/";

void ck(qk_status s, const char* what) {
  if (s != QK_OK) throw Error(static_cast<Status>(s), format("%s: %s", what, qk_last_error()));
}

std::string hexf(float v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::hex);
  return std::string(buf, r.ptr);
}
float parse_float(const std::string& s) {
  float v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::hex);
  QK_FAIL_IF(r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v), kCorrupt, "bad float '%s'",
             s.c_str());
  return v;
}
int64_t parse_int(const std::string& s) {
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  QK_FAIL_IF(r.ec != std::errc() || r.ptr != s.data() + s.size(), kCorrupt, "bad integer '%s'", s.c_str());
  return v;
}
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}
std::string hex_bytes(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) h += {d[c >> 4], d[c & 15]};
  return h;
}
std::string unhex(const std::string& h) {
  QK_FAIL_IF(h.size() % 2 != 0 || h.size() > 2 * kMaxAttrStringLength, kCorrupt, "bad hex string");
  std::string s;
  for (size_t i = 0; i < h.size(); i += 2) {
    int v = 0;
    auto r = std::from_chars(h.data() + i, h.data() + i + 2, v, 16);
    QK_FAIL_IF(r.ec != std::errc() || r.ptr != h.data() + i + 2, kCorrupt, "bad hex string");
    s += char(v);
  }
  return s;
}

std::string attr_text(const Attr& a) {
  std::string s;
  switch (a.type) {
    case AttrType::kInt: return "i:" + std::to_string(a.i);
    case AttrType::kFloat: return "f:" + hexf(a.f);
    case AttrType::kString: return "s:" + hex_bytes(a.s);
    case AttrType::kInts:
      s = "I:";
      for (size_t i = 0; i < a.ints.size(); ++i) s += (i ? "," : "") + std::to_string(a.ints[i]);
      return s;
    case AttrType::kFloats:
      s = "F:";
      for (size_t i = 0; i < a.floats.size(); ++i) s += (i ? "," : "") + hexf(a.floats[i]);
      return s;
  }
  return s;
}

void parse_attr(Attributes& attrs, const std::string& name, const std::string& v) {
  QK_FAIL_IF(v.size() < 2 || v[1] != ':', kCorrupt, "attribute '%s': bad value", name.c_str());
  const std::string body = v.substr(2);
  switch (v[0]) {
    case 'i': attrs.set_int(name, parse_int(body)); return;
    case 'f': attrs.set_float(name, parse_float(body)); return;
    case 's': attrs.set_string(name, unhex(body)); return;
    case 'I': {
      std::vector<int64_t> xs;
      if (!body.empty())
        for (const std::string& t : split(body, ',')) xs.push_back(parse_int(t));
      QK_FAIL_IF(xs.size() > kMaxAttrListLength, kCorrupt, "attribute '%s' is too long", name.c_str());
      attrs.set_ints(name, std::move(xs));
      return;
    }
    case 'F': {
      std::vector<float> xs;
      if (!body.empty())
        for (const std::string& t : split(body, ',')) xs.push_back(parse_float(t));
      QK_FAIL_IF(xs.size() > kMaxAttrListLength, kCorrupt, "attribute '%s' is too long", name.c_str());
      attrs.set_floats(name, std::move(xs));
      return;
    }
    default: fail(Status::kCorrupt, "attribute '%s': unknown type '%c'", name.c_str(), v[0]);
  }
}

std::string config_text(const NodeConfig& c) {
  std::string s;
  if (c.has_observer) s += " observer=" + std::to_string(int(c.observer));
  if (c.has_dtype) s += " dtype=" + std::to_string(int(c.act_dtype));
  if (c.has_scheme) s += " scheme=" + std::to_string(int(c.weight_scheme));
  if (c.has_skip) s += std::string(" skip=") + (c.skip ? "1" : "0");
  return s;
}

NodeConfig parse_config(const std::vector<std::string>& toks, size_t first) {
  NodeConfig c;
  for (size_t i = first; i < toks.size(); ++i) {
    const size_t eq = toks[i].find('=');
    QK_FAIL_IF(eq == std::string::npos, kCorrupt, "bad config token '%s'", toks[i].c_str());
    const std::string k = toks[i].substr(0, eq);
    const int64_t v = parse_int(toks[i].substr(eq + 1));
    if (k == "observer") {
      QK_FAIL_IF(!is_valid_observer_kind(int(v)), kCorrupt, "bad observer kind %lld", (long long)v);
      c.has_observer = true, c.observer = ObserverKind(v);
    } else if (k == "dtype") {
      QK_FAIL_IF(v != int(DType::kU8) && v != int(DType::kS8), kCorrupt, "bad activation dtype %lld", (long long)v);
      c.has_dtype = true, c.act_dtype = DType(v);
    } else if (k == "scheme") {
      QK_FAIL_IF(v != int(QScheme::kPerChannelSymmetric) && v != int(QScheme::kPerTensorSymmetric) &&
                     v != int(QScheme::kPerTensorAffine),
                 kCorrupt, "bad weight scheme %lld", (long long)v);
      c.has_scheme = true, c.weight_scheme = QScheme(v);
    } else if (k == "skip") {
      QK_FAIL_IF(v != 0 && v != 1, kCorrupt, "bad skip %lld", (long long)v);
      c.has_skip = true, c.skip = v == 1;
    } else {
      fail(Status::kCorrupt, "unknown config key '%s'", k.c_str());
    }
  }
  return c;
}

// cqparams NAME DTYPE SCHEME AXIS QMIN QMAX: the qparams of a constant's codes, with the scales
// and zero points of its quantized tensor (`stored`).
QParams parse_constant_qparams(const std::vector<std::string>& t, const Tensor& codes, const QParams& stored) {
  QParams qp;
  const int64_t dtype = parse_int(t[2]), scheme = parse_int(t[3]), axis = parse_int(t[4]);
  const int64_t lo = parse_int(t[5]), hi = parse_int(t[6]);
  QK_FAIL_IF(dtype != int(DType::kU8) && dtype != int(DType::kS8), kCorrupt, "qparams dtype must be u8 or s8");
  QK_FAIL_IF(scheme != int(QScheme::kPerTensorAffine) && scheme != int(QScheme::kPerTensorSymmetric) &&
                 scheme != int(QScheme::kPerChannelAffine) && scheme != int(QScheme::kPerChannelSymmetric),
             kCorrupt, "bad qparams scheme %lld", (long long)scheme);
  QK_FAIL_IF(codes.dtype != DType(dtype), kCorrupt, "codes are %s, their qparams %s", dtype_name(codes.dtype),
             dtype_name(DType(dtype)));
  // Per-tensor qparams name axis 0 whatever the rank (a scalar constant has rank 0).
  const bool per_tensor = scheme == int(QScheme::kPerTensorAffine) || scheme == int(QScheme::kPerTensorSymmetric);
  QK_FAIL_IF(per_tensor ? axis != 0 : (axis < 0 || axis >= int64_t(codes.shape.size())), kCorrupt, "bad qparams axis");
  QK_FAIL_IF(lo < -128 || hi > 255 || lo >= hi, kCorrupt, "bad qparams range");
  qp.dtype = DType(dtype);
  qp.scheme = QScheme(scheme);
  qp.axis = int32_t(axis);
  qp.quant_min = int32_t(lo);
  qp.quant_max = int32_t(hi);
  const Shape shape = Shape::from(codes.shape.data(), codes.shape.size(), "constant");
  QK_FAIL_IF(stored.scales.size() != qp.expected_count(shape) || stored.zero_points.size() != stored.scales.size(),
             kCorrupt, "%zu scales and %zu zero points for %llu channels", stored.scales.size(),
             stored.zero_points.size(), (unsigned long long)qp.expected_count(shape));
  qp.scales = stored.scales;
  qp.zero_points = stored.zero_points;
  qp.validate();
  // Every code inside the range (the kernels' exactness arguments assume it).
  for (uint64_t i = 0, n = codes.count(); i < n; ++i) {
    const int32_t c = code_at(codes, size_t(i));
    QK_FAIL_IF(c < qp.quant_min || c > qp.quant_max, kCorrupt, "code %d outside [%d, %d]", c, qp.quant_min,
               qp.quant_max);
  }
  return qp;
}

DType parse_dtype(const std::string& s) {
  const int64_t v = parse_int(s);
  QK_FAIL_IF(v < 1 || v > 10 || v == int(DType::kBF16) || v == int(DType::kS4) || v == int(DType::kU4), kCorrupt,
             "bad dtype %lld", (long long)v);
  return DType(v);
}

}  // namespace

// The constants a file keeps: those a node reads or the graph outputs (not the f32 sources of
// int8 weights, kept in memory for the report's float view only).
std::vector<bool> saved_constants(const Graph& g) {
  std::vector<bool> saved(g.values().size(), false);
  for (const Node& n : g.nodes())
    for (int id : n.inputs)
      if (id >= 0 && g.values()[size_t(id)].is_constant()) saved[size_t(id)] = true;
  for (int id : g.outputs())
    if (g.values()[size_t(id)].is_constant()) saved[size_t(id)] = true;
  return saved;
}

std::string graph_text(const Graph& g) {
  static const char* const states[] = {"", "float", "prepared", "converted", "dynamic"};
  const std::vector<bool> saved = saved_constants(g);
  std::ostringstream t;
  t << "qkmodel 2\nstate " << states[int(g.state())] << "\n";
  if (g.layer_api()) t << "layers nhwc=" << (g.nhwc_io() ? 1 : 0) << "\n";
  const std::string d = config_text(g.default_config());
  if (!d.empty()) t << "config *" << d << "\n";
  for (const auto& kv : g.type_overrides()) t << "config type " << kv.first << config_text(kv.second) << "\n";
  std::vector<bool> declared(g.values().size(), false);
  for (int id : g.inputs()) {
    const Value& v = g.values()[size_t(id)];
    t << "input " << v.name << " " << int(v.type.dtype) << " " << v.type.dims.size();
    for (const Dim& x : v.type.dims) t << " " << (x.known() ? std::to_string(x.size) : "?" + x.symbol);
    t << "\n";
  }
  for (size_t i = 0; i < g.values().size(); ++i) {
    const Value& v = g.values()[i];
    if (!saved[i]) continue;
    const int src = v.quantized_from.empty() ? -1 : g.find_value(v.quantized_from);
    t << "const " << v.name << " " << int(v.constant->dtype)
      << (src >= 0 && saved[size_t(src)] ? " from=" + v.quantized_from : "") << "\n";
  }
  // qparams of constants (quantized operands) before the nodes that read them, the rest after.
  auto qparams_line = [&](const Value& v) {
    QK_FAIL_IF(!is_per_tensor(v.qp.scheme) || v.qp.scales.size() != 1, kInternal, "value '%s': qparams not per tensor",
               v.name.c_str());
    t << "qparams " << v.name << " " << int(v.qp.dtype) << " " << hexf(v.qp.scales[0]) << " " << v.qp.zero_points[0]
      << " " << v.qp.quant_min << " " << v.qp.quant_max << " " << (v.layout == Layout::kNHWC ? "nhwc" : "nchw") << " "
      << (v.user_qp ? 1 : 0) << "\n";
  };
  for (size_t i = 0; i < g.values().size(); ++i) {
    const Value& v = g.values()[i];
    if (!saved[i] || !v.has_qp) continue;
    t << "cqparams " << v.name << " " << int(v.qp.dtype) << " " << int(v.qp.scheme) << " " << v.qp.axis << " "
      << v.qp.quant_min << " " << v.qp.quant_max << "\n";
  }
  for (const Node& n : g.nodes()) {
    t << "node " << n.op->name << " " << n.name << " "
      << (n.mode == NodeMode::kInt8 ? "q" : n.mode == NodeMode::kDynamic ? "d" : "f") << " in=";
    for (size_t i = 0; i < n.inputs.size(); ++i)
      t << (i ? "," : "") << (n.inputs[i] >= 0 ? g.values()[size_t(n.inputs[i])].name : "");
    t << " out=";
    for (size_t i = 0; i < n.outputs.size(); ++i) t << (i ? "," : "") << g.values()[size_t(n.outputs[i])].name;
    for (const auto& kv : n.attrs.items()) t << " @" << kv.first << "=" << attr_text(kv.second);
    t << "\n";
  }
  // Node overrides after the nodes (they must name existing nodes).
  for (const auto& kv : g.node_overrides()) t << "config node " << kv.first << config_text(kv.second) << "\n";
  for (const Value& v : g.values())
    if (v.has_qp && !v.is_constant()) qparams_line(v);
  for (const Node& n : g.nodes())
    if (!n.fused.empty()) t << "fused " << n.name << " " << n.fused << "\n";
  for (int id : g.outputs()) t << "output " << g.values()[size_t(id)].name << "\n";
  return t.str();
}

void save_graph(const Graph& g, const char* path) {
  QK_FAIL_IF(g.state() == GraphState::kPrepared, kState, "a PREPARED model cannot be saved (convert it first)");
  const std::string text = graph_text(g);
  QkwWriterPtr w;
  ck(qk_qkw_writer_create(path, out_ptr(w)), "qk_qkw_writer_create");
  const int64_t len = int64_t(text.size());
  ck(qk_qkw_writer_add_raw(w.get(), kGraphTensor, text.data(), text.size(), QK_DTYPE_U8, &len, 1), kGraphTensor);
  const std::vector<bool> saved = saved_constants(g);
  for (size_t i = 0; i < g.values().size(); ++i) {
    const Value& v = g.values()[i];
    if (!saved[i]) continue;
    const Tensor& c = *v.constant;
    const std::string name = kConstPrefix + v.name;
    if (v.has_qp) {
      // Codes with their qparams, as any .qkw reader expects quantized tensors. No f32 source
      // for the SQNR: a reloaded model (which has none) must save to the same bytes.
      QParamsPtr qp;
      ck(qk_qparams_create(static_cast<qk_dtype>(v.qp.dtype), static_cast<qk_qscheme>(v.qp.scheme), v.qp.axis, 1,
                           v.qp.scales.data(), v.qp.zero_points.data(), nullptr, v.qp.count(), v.qp.quant_min,
                           v.qp.quant_max, out_ptr(qp)),
         name.c_str());
      ck(qk_qkw_writer_add_quantized(w.get(), name.c_str(), c.storage.get(), c.bytes, c.shape.data(), c.shape.size(),
                                     qp.get(), nullptr),
         name.c_str());
      continue;
    }
    const qk_dtype dt = c.dtype == DType::kBool ? QK_DTYPE_U8 : static_cast<qk_dtype>(c.dtype);
    ck(qk_qkw_writer_add_raw(w.get(), name.c_str(), c.storage.get(), c.bytes, dt, c.shape.data(), c.shape.size()),
       name.c_str());
  }
  if (g.layer_api()) {
    // Layer-API files keep the "model.graph" key the v1 files had: readers find a model by it,
    // and a library that only knows v1 reports "qkmodel 2" as an unsupported version.
    ck(qk_qkw_writer_set_metadata(w.get(), "model.graph", "qkmodel 2\n"), "model.graph");
  }
  ck(qk_qkw_writer_set_metadata(w.get(), "model.format", "quantkit-graph-v2"), "model.format");
  ck(qk_qkw_writer_finish(w.get()), "qk_qkw_writer_finish");
}

namespace {

// A constant's tensor "const/NAME": raw data, or int8 codes stored as a quantized tensor (then
// *codes_qp receives the tensor's qparams: scales and zero points for the cqparams line).
Tensor read_constant(const qk_qkw_reader* r, const std::string& name, DType dtype, std::unique_ptr<QParams>* codes_qp) {
  size_t index = 0;
  const std::string key = kConstPrefix + name;
  QK_FAIL_IF(qk_qkw_find(r, key.c_str(), &index) != QK_OK, kCorrupt, "constant '%s' has no tensor '%s'", name.c_str(),
             key.c_str());
  qk_qkw_tensor_info info;
  ck(qk_qkw_tensor_info_get(r, index, &info), key.c_str());
  const qk_dtype want = dtype == DType::kBool ? QK_DTYPE_U8 : static_cast<qk_dtype>(dtype);
  const bool codes = info.codec == QK_CODEC_SYMMETRIC || info.codec == QK_CODEC_AFFINE;
  QK_FAIL_IF(codes ? (dtype != DType::kS8 && dtype != DType::kU8) : (info.codec != QK_CODEC_RAW || info.dtype != want),
             kCorrupt, "tensor '%s' is not a raw %s tensor or 8-bit codes", key.c_str(), dtype_name(dtype));
  QK_FAIL_IF(info.code_bytes != storage_size(dtype, info.element_count), kCorrupt,
             "tensor '%s': %llu bytes for %llu elements of %s", key.c_str(), (unsigned long long)info.code_bytes,
             (unsigned long long)info.element_count, dtype_name(dtype));
  int64_t shape[8];
  size_t rank = 0;
  ck(qk_qkw_tensor_shape(r, index, shape, 8, &rank), key.c_str());
  Tensor t = Tensor::allocate(dtype, std::vector<int64_t>(shape, shape + rank));
  QK_FAIL_IF(info.code_bytes != t.bytes, kCorrupt, "tensor '%s': %llu bytes, expected %zu", key.c_str(),
             (unsigned long long)info.code_bytes, t.bytes);
  ck(qk_qkw_read_codes(r, index, t.storage.get(), t.bytes), key.c_str());
  if (codes) {
    QParamsPtr qp;
    ck(qk_qkw_tensor_qparams(r, index, out_ptr(qp)), key.c_str());
    *codes_qp = std::make_unique<QParams>(qp->qp);
  }
  if (dtype == DType::kBool)
    for (size_t i = 0; i < t.bytes; ++i)
      QK_FAIL_IF(t.data<uint8_t>()[i] > 1, kCorrupt, "bool constant '%s' holds %u", name.c_str(), t.data<uint8_t>()[i]);
  return t;
}

// A converted (or dynamic) graph from a file must obey what convert guarantees, or a kernel would
// read codes that are not there: int8 nodes read quantized values, int8 and dynamic weighted
// nodes read s8 weight codes (other float inputs: f32 constants), float nodes read f32 values,
// rank-4 codes are stored as their readers and writers expect.
void validate_converted(const Graph& g) {
  const std::vector<Value>& values = g.values();
  for (const Value& v : values) {
    if (v.layout == Layout::kNHWC)
      QK_FAIL_IF(!v.has_qp || v.type.dims.size() != 4, kCorrupt, "value '%s': NHWC storage needs rank-4 codes",
                 v.name.c_str());
    if (v.has_qp && v.is_constant())
      QK_FAIL_IF(v.constant->dtype != v.qp.dtype && v.constant->dtype != DType::kF32, kCorrupt,
                 "constant '%s' codes are %s, its qparams %s", v.name.c_str(), dtype_name(v.constant->dtype),
                 dtype_name(v.qp.dtype));
    if (v.has_qp) QK_FAIL_IF(v.type.dtype != DType::kF32 && !v.is_constant(), kCorrupt, "value '%s' is %s and quantized", v.name.c_str(), dtype_name(v.type.dtype));
  }
  for (const Node& n : g.nodes()) {
    const bool int8 = n.mode == NodeMode::kInt8;
    const bool weighted = n.mode != NodeMode::kFloat && n.op->weight_input != 0;
    const std::string op = n.op->name;
    std::vector<TensorType> in_types;
    for (int id : n.inputs) in_types.push_back(id >= 0 ? values[size_t(id)].type : TensorType{});
    const Int8Layout want = n.op->layout ? n.op->layout(n, in_types) : Int8Layout::kNCHW;
    bool have_layout = false;
    Layout common = Layout::kNCHW;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const int id = n.inputs[i];
      if (id < 0) continue;
      const Value& v = values[size_t(id)];
      const bool q = stored_quantized(g, id);
      if (weighted && i == n.op->weight_input && v.is_constant()) {  // its codes (weight_codes checks them)
        QK_FAIL_IF(!q || v.constant->dtype != DType::kS8, kCorrupt, "node '%s': weight '%s' is not s8 codes",
                   n.name.c_str(), v.name.c_str());
        continue;
      }
      if (!int8) {
        QK_FAIL_IF(q, kCorrupt, "float node '%s' reads int8 value '%s'", n.name.c_str(), v.name.c_str());
        continue;
      }
      if (op == "qk.Quantize") {  // the one int8 node that reads f32
        QK_FAIL_IF(q || v.type.dtype != DType::kF32, kCorrupt, "quantize '%s' reads '%s', which is not f32",
                   n.name.c_str(), v.name.c_str());
        continue;
      }
      if (takes_float_input(*n.op, i, v.is_constant())) {  // MatMul: only a constant B
        QK_FAIL_IF(!v.is_constant() || v.constant->dtype != DType::kF32, kCorrupt,
                   "int8 node '%s': input %zu must be an f32 constant", n.name.c_str(), i);
        continue;
      }
      QK_FAIL_IF(!q, kCorrupt, "int8 node '%s' reads '%s', which is not int8", n.name.c_str(), v.name.c_str());
      if (v.type.dims.size() != 4) continue;
      QK_FAIL_IF(want == Int8Layout::kNHWC && v.layout != Layout::kNHWC, kCorrupt, "node '%s' needs NHWC input",
                 n.name.c_str());
      QK_FAIL_IF(want == Int8Layout::kNCHW && v.layout != Layout::kNCHW && op != "qk.Reorder", kCorrupt,
                 "node '%s' needs NCHW input", n.name.c_str());
      QK_FAIL_IF(have_layout && v.layout != common, kCorrupt, "node '%s' reads mixed layouts", n.name.c_str());
      have_layout = true;
      common = v.layout;
    }
    if (!int8) continue;
    for (int id : n.outputs) {
      const Value& v = values[size_t(id)];
      QK_FAIL_IF(v.has_qp == (op == "qk.Dequantize"), kCorrupt, "int8 node '%s': output '%s' %s qparams",
                 n.name.c_str(), v.name.c_str(), v.has_qp ? "has" : "lacks");
      if (v.type.dims.size() != 4 || !v.has_qp) continue;
      if (op == "qk.Quantize") {
        // writes whichever storage its readers want (layout_nhwc.cc)
      } else if (op == "qk.Reorder") {
        QK_FAIL_IF(!have_layout || v.layout == common, kCorrupt, "reorder '%s' to the same layout", n.name.c_str());
      } else if (want == Int8Layout::kAny && have_layout) {
        QK_FAIL_IF(v.layout != common, kCorrupt, "node '%s' writes another layout than it reads", n.name.c_str());
      } else {
        QK_FAIL_IF((v.layout == Layout::kNHWC) != (want != Int8Layout::kNCHW), kCorrupt,
                   "node '%s' writes the wrong layout", n.name.c_str());
      }
    }
  }
}

}  // namespace

std::unique_ptr<Graph> load_graph(const qk_qkw_reader* r) {
  size_t index = 0;
  if (qk_qkw_find(r, kGraphTensor, &index) != QK_OK) return nullptr;
  qk_qkw_tensor_info info;
  ck(qk_qkw_tensor_info_get(r, index, &info), kGraphTensor);
  QK_FAIL_IF(info.codec != QK_CODEC_RAW || info.dtype != QK_DTYPE_U8 || info.rank != 1, kCorrupt,
             "'%s' is not raw u8 text", kGraphTensor);
  std::string text(size_t(info.code_bytes), '\0');
  ck(qk_qkw_read_codes(r, index, &text[0], text.size()), kGraphTensor);

  auto g = std::make_unique<Graph>();
  GraphState state = GraphState::kFloat;
  std::map<std::string, NodeMode> modes;
  NodeConfig dflt;
  std::map<std::string, NodeConfig> by_node, by_type;
  struct QP {
    QParams qp;
    Layout layout;
    bool user;
  };
  std::map<std::string, QP> qps;
  std::map<std::string, std::string> fused;
  std::map<std::string, QParams> stored_qp;  // qparams of the constants stored as quantized tensors
  std::vector<std::string> lines = split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  for (size_t ln = 0; ln < lines.size(); ++ln) {
    try {
      QK_FAIL_IF(lines[ln].empty(), kCorrupt, "empty line");
      const std::vector<std::string> t = split(lines[ln], ' ');
      for (const std::string& tok : t) QK_FAIL_IF(tok.empty(), kCorrupt, "empty token");
      const std::string& kw = t[0];
      if (ln == 0) {
        QK_FAIL_IF(lines[0] != "qkmodel 2", kCorrupt, "expected 'qkmodel 2'");
      } else if (kw == "state" && t.size() == 2) {
        if (t[1] == "float") state = GraphState::kFloat;
        else if (t[1] == "converted") state = GraphState::kConverted;
        else if (t[1] == "dynamic") state = GraphState::kDynamic;
        else fail(Status::kCorrupt, "bad state '%s'", t[1].c_str());
      } else if (kw == "layers" && t.size() == 2 && (t[1] == "nhwc=0" || t[1] == "nhwc=1")) {
        g->set_layer_api(t[1] == "nhwc=1");
      } else if (kw == "config" && t.size() >= 2 && t[1] == "*") {
        dflt = parse_config(t, 2);
      } else if (kw == "config" && t.size() >= 3 && t[1] == "type") {
        QK_FAIL_IF(!find_op(t[2]), kCorrupt, "unknown op type '%s'", t[2].c_str());
        by_type[t[2]] = parse_config(t, 3);
      } else if (kw == "config" && t.size() >= 3 && t[1] == "node") {
        by_node[t[2]] = parse_config(t, 3);
      } else if (kw == "input" && t.size() >= 4) {
        const int64_t rank = parse_int(t[3]);
        QK_FAIL_IF(rank < 0 || rank > int64_t(kMaxGraphRank) || size_t(rank) + 4 != t.size(), kCorrupt,
                   "bad input rank");
        Dims dims;
        for (size_t i = 4; i < t.size(); ++i) {
          if (t[i][0] == '?')
            dims.push_back(Dim::sym(t[i].substr(1)));
          else {
            const int64_t n = parse_int(t[i]);
            QK_FAIL_IF(n < 0, kCorrupt, "negative dimension");
            dims.push_back(Dim::of(n));
          }
        }
        g->add_input(t[1], parse_dtype(t[2]), dims);
      } else if (kw == "const" && (t.size() == 3 || t.size() == 4)) {
        validate_value_name(t[1], "constant name");
        std::unique_ptr<QParams> codes_qp;
        g->add_constant(t[1], read_constant(r, t[1], parse_dtype(t[2]), &codes_qp));
        if (codes_qp) stored_qp[t[1]] = std::move(*codes_qp);
        if (t.size() == 4) {
          QK_FAIL_IF(t[3].compare(0, 5, "from=") != 0, kCorrupt, "expected from=");
          const int src = g->find_value(t[3].substr(5));
          QK_FAIL_IF(src < 0 || !g->values()[size_t(src)].is_constant() ||
                         g->values()[size_t(src)].constant->shape != g->value(t[1]).constant->shape,
                     kCorrupt, "'%s' is not a constant of the same shape", t[3].c_str() + 5);
          g->mutable_values()[size_t(g->find_value(t[1]))].quantized_from = t[3].substr(5);
        }
      } else if (kw == "node" && t.size() >= 6) {
        QK_FAIL_IF(t[3] != "f" && t[3] != "q" && t[3] != "d", kCorrupt, "bad node mode '%s'", t[3].c_str());
        QK_FAIL_IF(t[4].compare(0, 3, "in=") != 0 || t[5].compare(0, 4, "out=") != 0, kCorrupt, "expected in= out=");
        std::vector<std::string> in = t[4].size() > 3 ? split(t[4].substr(3), ',') : std::vector<std::string>{};
        std::vector<std::string> out = split(t[5].substr(4), ',');
        Attributes attrs;
        for (size_t i = 6; i < t.size(); ++i) {
          const size_t eq = t[i].find('=');
          QK_FAIL_IF(t[i][0] != '@' || eq == std::string::npos || eq < 2, kCorrupt, "bad attribute '%s'", t[i].c_str());
          const std::string name = t[i].substr(1, eq - 1);
          QK_FAIL_IF(attrs.has(name), kCorrupt, "attribute '%s' twice", name.c_str());
          parse_attr(attrs, name, t[i].substr(eq + 1));
        }
        QK_FAIL_IF(t[3] != "f" && state == GraphState::kFloat, kCorrupt, "a float model has an int8 node");
        g->add_node(t[1], t[2], in, out, attrs, state == GraphState::kConverted);
        modes[t[2]] = t[3] == "q" ? NodeMode::kInt8 : t[3] == "d" ? NodeMode::kDynamic : NodeMode::kFloat;
      } else if (kw == "qparams" && t.size() == 9) {
        QK_FAIL_IF(g->find_value(t[1]) < 0, kCorrupt, "qparams of unknown value '%s'", t[1].c_str());
        QK_FAIL_IF(qps.count(t[1]), kCorrupt, "qparams of '%s' twice", t[1].c_str());
        QP q;
        q.qp.dtype = parse_dtype(t[2]);
        QK_FAIL_IF(q.qp.dtype != DType::kU8 && q.qp.dtype != DType::kS8, kCorrupt, "qparams dtype must be u8 or s8");
        q.qp.scheme = QScheme::kPerTensorAffine;
        q.qp.scales = {parse_float(t[3])};
        const int64_t zp = parse_int(t[4]), lo = parse_int(t[5]), hi = parse_int(t[6]);
        QK_FAIL_IF(lo < -128 || hi > 255 || lo >= hi || zp < lo || zp > hi, kCorrupt, "bad qparams range");
        q.qp.zero_points = {int32_t(zp)};
        q.qp.quant_min = int32_t(lo);
        q.qp.quant_max = int32_t(hi);
        q.qp.validate();
        QK_FAIL_IF(t[7] != "nchw" && t[7] != "nhwc", kCorrupt, "bad layout '%s'", t[7].c_str());
        q.layout = t[7] == "nhwc" ? Layout::kNHWC : Layout::kNCHW;
        QK_FAIL_IF(t[8] != "0" && t[8] != "1", kCorrupt, "bad user flag");
        q.user = t[8] == "1";
        qps[t[1]] = q;
        // A quantized constant's qparams apply at once: the nodes after this line read it as f32.
        Value& v = g->mutable_values()[size_t(g->find_value(t[1]))];
        if (v.is_constant()) {
          QK_FAIL_IF(state != GraphState::kConverted, kCorrupt, "qparams in a model that is not converted");
          v.qp = q.qp;
          v.has_qp = true;
          v.layout = q.layout;
        }
      } else if (kw == "cqparams" && t.size() == 7) {
        const int id = g->find_value(t[1]);
        QK_FAIL_IF(id < 0 || !g->values()[size_t(id)].is_constant(), kCorrupt, "cqparams of '%s', not a constant",
                   t[1].c_str());
        QK_FAIL_IF(state == GraphState::kFloat, kCorrupt, "qparams in a float model");
        Value& v = g->mutable_values()[size_t(id)];
        QK_FAIL_IF(v.has_qp, kCorrupt, "qparams of '%s' twice", t[1].c_str());
        auto sq = stored_qp.find(t[1]);
        QK_FAIL_IF(sq == stored_qp.end(), kCorrupt, "constant '%s' is not stored as a quantized tensor", t[1].c_str());
        v.qp = parse_constant_qparams(t, *v.constant, sq->second);
        v.has_qp = true;
      } else if (kw == "fused" && t.size() == 3) {
        fused[t[1]] = t[2];
      } else if (kw == "output" && t.size() == 2) {
        g->add_output(t[1]);
      } else {
        fail(Status::kCorrupt, "unknown line");
      }
    } catch (const Error& e) {
      throw Error(Status::kCorrupt, format("model graph line %zu: %s", ln + 1, e.what()));
    }
  }
  QK_FAIL_IF(lines.empty(), kCorrupt, "empty model graph");
  // Configs, then the converted state: modes, qparams and layouts exactly as saved, each int8 and
  // dynamic node prepared again from its constants.
  for (const auto& kv : by_node) QK_FAIL_IF(modes.count(kv.first) == 0, kCorrupt, "config of unknown node '%s'", kv.first.c_str());
  g->restore_config(dflt, by_node, by_type);
  for (Node& n : g->mutable_nodes()) {
    n.mode = modes[n.name];
    auto f = fused.find(n.name);
    if (f != fused.end()) n.fused = f->second;
    QK_FAIL_IF(n.mode == NodeMode::kInt8 && !n.op->run_int8, kCorrupt, "node '%s' (%s) has no int8 form",
               n.name.c_str(), n.op->name);
    QK_FAIL_IF(n.mode == NodeMode::kDynamic && !n.op->run_dynamic, kCorrupt, "node '%s' (%s) has no dynamic form",
               n.name.c_str(), n.op->name);
    QK_FAIL_IF(n.mode == NodeMode::kDynamic && state != GraphState::kDynamic, kCorrupt, "dynamic node in a %s model",
               state == GraphState::kConverted ? "converted" : "float");
  }
  for (const auto& kv : qps) {
    QK_FAIL_IF(state != GraphState::kConverted, kCorrupt, "qparams in a model that is not converted");
    Value& v = g->mutable_values()[size_t(g->find_value(kv.first))];
    v.qp = kv.second.qp;
    v.has_qp = true;
    v.layout = kv.second.layout;
    v.user_qp = kv.second.user;
  }
  g->set_state(state);
  try {
    if (state != GraphState::kFloat) quantize_weights_pass(*g);  // files with f32 weights
  } catch (const Error& e) {
    throw Error(Status::kCorrupt, format("model graph: %s", e.what()));
  }
  if (state != GraphState::kFloat) validate_converted(*g);
  try {
    prepare_nodes(*g);
  } catch (const Error& e) {
    throw Error(Status::kCorrupt, format("model graph: %s", e.what()));
  }
  return g;
}

}  // namespace graph
}  // namespace qk
