// SPDX-License-Identifier: Apache-2.0
// Model <-> .qkw file. The graph is line-based text under metadata key "model.graph":
//
//   qkmodel 1
//   state float|converted|dynamic
//   input NAME RANK D0 [D1 D2]
//   layer op=conv2d name=conv1 in=x out=c1 [key=value ...]     (one per layer, execution order)
//   tensor name=T dtype=5 scale=HEX zp=Z qmin=A qmax=B          (converted: qparams of every tensor)
//   output NAME
//   fused DESC                                                  (qk_model_fused_name list)
//
// Floats are C99 hex floats (exact). Weights are tensors "<layer>.weight" / ".bias" /
// ".running_mean" / ".running_var": int8 codes with their qparams (qk_qkw_writer_add_quantized)
// for quantized conv/linear layers, raw f32 otherwise. Loading rebuilds the graph through the
// same validated builder calls, so a hostile graph fails like a bad API call would; every such
// failure is reported as QK_ERR_CORRUPT with the line number. The weight file is used through
// the public qk_qkw_* API; every handle it gets from that API is owned from the call that makes
// it (c_handles.h), so a hostile graph that fails half-way leaks nothing.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <sstream>

#include "core/error.h"
#include "model/c_handles.h"
#include "model/model.h"
#include "ops/qadd.h"
#include "quantkit/quantkit.h"

namespace qk {
namespace model {

namespace {

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
  QK_FAIL_IF(r.ec != std::errc() || r.ptr != s.data() + s.size() || std::isnan(v), kCorrupt, "bad float '%s'",
             s.c_str());
  return v;
}

int64_t parse_int(const std::string& s) {
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  QK_FAIL_IF(r.ec != std::errc() || r.ptr != s.data() + s.size(), kCorrupt, "bad integer '%s'", s.c_str());
  return v;
}

std::vector<int64_t> parse_ints(const std::string& s, size_t count) {
  std::vector<int64_t> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    out.push_back(parse_int(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  QK_FAIL_IF(out.size() != count, kCorrupt, "'%s' needs %zu integers", s.c_str(), count);
  return out;
}

std::string join(const int64_t* v, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= line.size()) {
    const size_t sp = line.find(' ', start);
    const std::string tok = line.substr(start, sp == std::string::npos ? std::string::npos : sp - start);
    QK_FAIL_IF(tok.empty(), kCorrupt, "empty token");
    out.push_back(tok);
    if (sp == std::string::npos) break;
    start = sp + 1;
  }
  return out;
}

struct KeyValues {
  std::map<std::string, std::string> kv;
  const std::string& get(const char* key) const {
    auto it = kv.find(key);
    QK_FAIL_IF(it == kv.end(), kCorrupt, "missing key '%s'", key);
    return it->second;
  }
  bool has(const char* key) const { return kv.count(key) != 0; }
};

KeyValues parse_kv(const std::vector<std::string>& toks, size_t first) {
  KeyValues k;
  for (size_t i = first; i < toks.size(); ++i) {
    const size_t eq = toks[i].find('=');
    QK_FAIL_IF(eq == std::string::npos || eq == 0, kCorrupt, "token '%s' is not key=value", toks[i].c_str());
    QK_FAIL_IF(!k.kv.emplace(toks[i].substr(0, eq), toks[i].substr(eq + 1)).second, kCorrupt, "duplicate key in '%s'",
               toks[i].c_str());
  }
  return k;
}

class Writer {
 public:
  explicit Writer(const char* path) { ck(qk_qkw_writer_create(path, out_ptr(w_)), "qk_qkw_writer_create"); }
  void raw(const std::string& name, const std::vector<float>& v, const std::vector<int64_t>& shape) {
    ck(qk_qkw_writer_add_raw(w_.get(), name.c_str(), v.data(), v.size() * sizeof(float), QK_DTYPE_F32, shape.data(),
                             shape.size()),
       name.c_str());
  }
  qk_qkw_writer* get() const { return w_.get(); }

 private:
  QkwWriterPtr w_;
};

}  // namespace

void Model::save(const char* path) const {
  QK_FAIL_IF(path == nullptr, kInvalidArgument, "argument 'path' is NULL");
  QK_FAIL_IF(state_ == State::kPrepared, kState, "a PREPARED model cannot be saved (convert it first)");
  std::ostringstream g;
  g << "qkmodel 1\n";
  g << "state " << (state_ == State::kFloat ? "float" : state_ == State::kConverted ? "converted" : "dynamic") << "\n";
  g << "input " << tensors_[0].name << " " << tensors_[0].shape.size();
  for (int64_t d : tensors_[0].shape) g << " " << d;
  g << "\n";
  if (nhwc_io_) g << "io_layout nhwc\n";
  Writer w(path);
  for (const Layer& l : layers_) {
    g << "layer op=" << op_name(l.op) << " name=" << l.name << " in=" << tensors_[size_t(l.in[0])].name;
    for (size_t i = 1; i < l.in.size(); ++i) g << " in" << i + 1 << "=" << tensors_[size_t(l.in[i])].name;
    if (l.op == Op::kReshape) g << " shape=" << join(l.target.data(), l.target.size());
    g << " out=" << tensors_[size_t(l.out)].name << " quant=" << (l.quant ? 1 : 0);
    if (!std::isinf(l.lo) || l.lo > 0) g << " lo=" << hexf(l.lo);
    if (!std::isinf(l.hi) || l.hi < 0) g << " hi=" << hexf(l.hi);
    if (!l.fused.empty()) g << " fused=" << l.fused;
    switch (l.op) {
      case Op::kConv2d:
      case Op::kLinear: {
        g << " wshape=" << join(l.wshape.data(), l.wshape.size()) << " bias=" << (l.has_bias ? 1 : 0);
        if (l.op == Op::kConv2d)
          g << " stride=" << join(l.stride, 2) << " pad=" << join(l.pad, 4) << " dil=" << join(l.dil, 2)
            << " groups=" << l.groups;
        const std::string wname = l.name + ".weight";
        if (l.has_wq) {
          g << " wq=1 wscheme=" << int(l.wqp.scheme) << " wrange=" << l.wqp.quant_min << "," << l.wqp.quant_max;
          QParamsPtr qp;
          ck(qk_qparams_create(QK_DTYPE_S8, static_cast<qk_qscheme>(l.wqp.scheme), 0, 1, l.wqp.scales.data(),
                               l.wqp.zero_points.data(), nullptr, l.wqp.count(), l.wqp.quant_min, l.wqp.quant_max,
                               out_ptr(qp)),
             "weight qparams");
          ck(qk_qkw_writer_add_quantized(w.get(), wname.c_str(), l.wq.data(), l.wq.size(), l.wshape.data(),
                                         l.wshape.size(), qp.get(), l.has_float_weights ? l.w.data() : nullptr),
             wname.c_str());
        } else {
          w.raw(wname, l.w, l.wshape);
        }
        if (l.has_bias) w.raw(l.name + ".bias", l.b, {l.wshape[0]});
        break;
      }
      case Op::kBatchNorm: {
        const std::vector<int64_t> c = {int64_t(l.mean.size())};
        g << " channels=" << l.mean.size() << " eps=" << hexf(l.eps);
        w.raw(l.name + ".running_mean", l.mean, c);
        w.raw(l.name + ".running_var", l.var, c);
        w.raw(l.name + ".weight", l.gamma, c);
        w.raw(l.name + ".bias", l.beta, c);
        break;
      }
      case Op::kMaxPool2d:
      case Op::kAvgPool2d:
        g << " kernel=" << join(l.kernel, 2) << " stride=" << join(l.stride, 2) << " pad=" << join(l.pad, 4)
          << " dil=" << join(l.dil, 2) << " count_include_pad=" << (l.count_include_pad ? 1 : 0);
        break;
      default:
        break;
    }
    g << "\n";
  }
  if (state_ == State::kConverted)
    for (const TensorInfo& t : tensors_) {
      if (!t.alive) continue;
      g << "tensor name=" << t.name << " dtype=" << int(t.qp.dtype) << " scale=" << hexf(t.qp.scales[0])
        << " zp=" << t.qp.zero_points[0] << " qmin=" << t.qp.quant_min << " qmax=" << t.qp.quant_max << "\n";
    }
  g << "output " << tensors_[size_t(output_)].name << "\n";
  for (const std::string& f : fused_) g << "fused " << f << "\n";
  const std::string text = g.str();
  QK_FAIL_IF(text.size() > 65536, kUnsupported, "the graph text is %zu bytes, the metadata limit is 65536",
             text.size());
  ck(qk_qkw_writer_set_metadata(w.get(), "model.graph", text.c_str()), "model.graph");
  ck(qk_qkw_writer_finish(w.get()), "qk_qkw_writer_finish");
}

namespace {

// Tensor lookups for the loader on a reader it does not own.
struct Reader {
  const qk_qkw_reader* r;
  size_t find(const std::string& name, const std::vector<int64_t>& shape) const {
    size_t idx = 0;
    const qk_status s = qk_qkw_find(r, name.c_str(), &idx);
    QK_FAIL_IF(s == QK_ERR_NOT_FOUND, kCorrupt, "tensor '%s' missing from the file", name.c_str());
    ck(s, name.c_str());
    int64_t dims[QK_MAX_RANK];
    size_t rank = 0;
    ck(qk_qkw_tensor_shape(r, idx, dims, QK_MAX_RANK, &rank), name.c_str());
    QK_FAIL_IF(rank != shape.size() || !std::equal(shape.begin(), shape.end(), dims), kCorrupt,
               "tensor '%s' has a shape the graph does not expect", name.c_str());
    return idx;
  }
  std::vector<float> f32(const std::string& name, const std::vector<int64_t>& shape) const {
    const size_t idx = find(name, shape);
    uint64_t count = 1;
    for (int64_t d : shape) count *= uint64_t(d);
    std::vector<float> v(count);
    ck(qk_qkw_decode_f32(r, idx, v.data(), v.size()), name.c_str());
    return v;
  }
};

}  // namespace

std::unique_ptr<Model> Model::load(const char* path) {
  QK_FAIL_IF(path == nullptr, kInvalidArgument, "argument 'path' is NULL");
  QkwReaderPtr r;
  ck(qk_qkw_open_file(path, QK_VERIFY_FULL, 0, out_ptr(r)), "qk_qkw_open_file");
  return load_from(r.get());
}

std::unique_ptr<Model> Model::load_memory(const void* data, size_t size) {
  QK_FAIL_IF(data == nullptr, kInvalidArgument, "argument 'bytes' is NULL");
  // The same full verification as a file: the two loads differ only in where the bytes come from.
  QkwReaderPtr r;
  ck(qk_qkw_open_memory(data, size, QK_VERIFY_FULL, 0, out_ptr(r)), "qk_qkw_open_memory");
  return load_from(r.get());
}

std::unique_ptr<Model> Model::load_from(const qk_qkw_reader* reader) {
  const Reader rd{reader};
  const char* text = nullptr;
  const qk_status ms = qk_qkw_metadata_get(rd.r, "model.graph", &text);
  QK_FAIL_IF(ms == QK_ERR_NOT_FOUND, kCorrupt, "the file has no 'model.graph' metadata (not a model file)");
  ck(ms, "model.graph");
  std::istringstream in{std::string(text)};
  std::string line;
  size_t lineno = 0;
  std::unique_ptr<Model> m;
  State state = State::kFloat;
  try {
    while (std::getline(in, line)) {
      ++lineno;
      const std::vector<std::string> t = split(line);
      if (lineno == 1) {
        QK_FAIL_IF(t.size() != 2 || t[0] != "qkmodel", kCorrupt, "expected 'qkmodel 1'");
        QK_FAIL_IF(t[1] != "1", kUnsupported, "model graph version %s is not supported", t[1].c_str());
        continue;
      }
      if (lineno == 2) {
        QK_FAIL_IF(t.size() != 2 || t[0] != "state", kCorrupt, "expected 'state ...'");
        if (t[1] == "float") state = State::kFloat;
        else if (t[1] == "converted") state = State::kConverted;
        else if (t[1] == "dynamic") state = State::kDynamic;
        else fail(Status::kCorrupt, "unknown state '%s'", t[1].c_str());
        continue;
      }
      if (lineno == 3) {
        QK_FAIL_IF(t.size() < 3 || t.size() > 6 || t[0] != "input", kCorrupt, "expected 'input NAME RANK DIMS'");
        const int64_t rank = parse_int(t[2]);
        QK_FAIL_IF(rank != 1 && rank != 3, kCorrupt, "input rank %lld", (long long)rank);
        QK_FAIL_IF(t.size() != size_t(3 + rank), kCorrupt, "input needs %lld dimensions", (long long)rank);
        std::vector<int64_t> dims;
        for (int64_t i = 0; i < rank; ++i) dims.push_back(parse_int(t[size_t(3 + i)]));
        m.reset(new Model(t[1], dims.data(), dims.size()));
        continue;
      }
      QK_FAIL_IF(!m, kCorrupt, "the header is incomplete");
      if (t[0] == "layer") {
        const KeyValues k = parse_kv(t, 1);
        Op op;
        QK_FAIL_IF(!op_from_name(k.get("op"), &op), kCorrupt, "unknown op '%s'", k.get("op").c_str());
        const std::string& name = k.get("name");
        const std::string& x = k.get("in");
        const std::string& out = k.get("out");
        const bool quant = parse_int(k.get("quant")) != 0;
        switch (op) {
          case Op::kConv2d:
          case Op::kLinear: {
            const size_t wrank = op == Op::kConv2d ? 4 : 2;
            const std::vector<int64_t> ws = parse_ints(k.get("wshape"), wrank);
            for (int64_t d : ws) QK_FAIL_IF(d < 1 || d >= (int64_t(1) << 31), kCorrupt, "bad weight shape");
            QK_FAIL_IF(uint64_t(ws[0]) * uint64_t(ws[1]) * (wrank == 4 ? uint64_t(ws[2]) * uint64_t(ws[3]) : 1) >=
                           (uint64_t(1) << 32),
                       kCorrupt, "weight too large");
            const bool has_bias = parse_int(k.get("bias")) != 0;
            const bool wq = k.has("wq") && parse_int(k.get("wq")) != 0;
            const std::vector<float> w = rd.f32(name + ".weight", ws);
            std::vector<float> b;
            if (has_bias) b = rd.f32(name + ".bias", {ws[0]});
            if (op == Op::kConv2d) {
              const auto st = parse_ints(k.get("stride"), 2), pd = parse_ints(k.get("pad"), 4),
                         dl = parse_ints(k.get("dil"), 2);
              m->add_conv2d(name, x, out, w.data(), ws.data(), has_bias ? b.data() : nullptr, st.data(), pd.data(),
                            dl.data(), parse_int(k.get("groups")));
            } else {
              m->add_linear(name, x, out, w.data(), ws[0], ws[1], has_bias ? b.data() : nullptr);
            }
            Layer& l = m->layers_.back();
            if (wq) {
              QK_FAIL_IF(state == State::kFloat, kCorrupt, "quantized weights in a float model");
              const size_t idx = rd.find(name + ".weight", ws);
              std::vector<int8_t> codes(w.size());
              ck(qk_qkw_read_codes(rd.r, idx, codes.data(), codes.size()), "weight codes");
              QParams wqp;
              wqp.dtype = DType::kS8;
              // Compared as an integer: casting an arbitrary value to the enum first would be UB.
              const int64_t scheme = parse_int(k.get("wscheme"));
              QK_FAIL_IF(scheme != int64_t(QScheme::kPerChannelSymmetric) &&
                             scheme != int64_t(QScheme::kPerTensorSymmetric) &&
                             scheme != int64_t(QScheme::kPerTensorAffine),
                         kCorrupt, "bad weight scheme wscheme=%lld", (long long)scheme);
              wqp.scheme = static_cast<QScheme>(scheme);
              wqp.axis = 0;
              const auto range = parse_ints(k.get("wrange"), 2);
              wqp.quant_min = int32_t(std::max<int64_t>(-128, std::min<int64_t>(127, range[0])));
              wqp.quant_max = int32_t(std::max<int64_t>(-128, std::min<int64_t>(127, range[1])));
              QParamsPtr qp;
              ck(qk_qkw_tensor_qparams(rd.r, idx, out_ptr(qp)), "weight qparams");
              size_t count = 0;
              ck(qk_qparams_get_count(qp.get(), &count), "weight qparams");
              wqp.scales.resize(count);
              wqp.zero_points.resize(count);
              ck(qk_qparams_get_scales(qp.get(), wqp.scales.data(), count), "weight qparams");
              ck(qk_qparams_get_zero_points(qp.get(), wqp.zero_points.data(), count), "weight qparams");
              QK_FAIL_IF(count != (is_per_tensor(wqp.scheme) ? 1 : size_t(ws[0])), kCorrupt,
                         "weight qparams count %zu does not fit the scheme", count);
              wqp.validate();
              for (int8_t c : codes)
                QK_FAIL_IF(c < wqp.quant_min || c > wqp.quant_max, kCorrupt, "weight code outside the range");
              l.wq = std::move(codes);
              l.wqp = std::move(wqp);
              l.has_wq = true;
              l.has_float_weights = false;
              l.w.clear();
              l.w.shrink_to_fit();
            }
            QK_FAIL_IF(quant && !wq, kCorrupt, "quantized layer without quantized weights");
            QK_FAIL_IF(state == State::kDynamic && quant, kCorrupt, "dynamic models run linears in float mode");
            QK_FAIL_IF(state == State::kDynamic && wq && op != Op::kLinear && !is_pointwise_conv(m->layers_.back()),
                       kCorrupt, "dynamic conv that is not 1x1 pointwise");
            QK_FAIL_IF(state == State::kConverted && wq && !quant, kCorrupt, "quantized weights on a float layer");
            break;
          }
          case Op::kBatchNorm: {
            const int64_t c = parse_int(k.get("channels"));
            QK_FAIL_IF(c < 1 || c >= (int64_t(1) << 31), kCorrupt, "bad channel count");
            const auto mean = rd.f32(name + ".running_mean", {c}), var = rd.f32(name + ".running_var", {c}),
                       gamma = rd.f32(name + ".weight", {c}), beta = rd.f32(name + ".bias", {c});
            m->add_batchnorm(name, x, out, c, mean.data(), var.data(), gamma.data(), beta.data(),
                             parse_float(k.get("eps")));
            break;
          }
          case Op::kHardtanh:
            m->add_hardtanh(name, x, out, parse_float(k.get("lo")), parse_float(k.get("hi")));
            break;
          case Op::kMaxPool2d:
          case Op::kAvgPool2d: {
            const auto kr = parse_ints(k.get("kernel"), 2), st = parse_ints(k.get("stride"), 2),
                       pd = parse_ints(k.get("pad"), 4), dl = parse_ints(k.get("dil"), 2);
            m->add_pool(op, name, x, out, kr.data(), st.data(), pd.data(), dl.data(),
                        parse_int(k.get("count_include_pad")) != 0);
            break;
          }
          case Op::kAdd:
            m->add_simple(op, name, {x, k.get("in2")}, out);
            break;
          case Op::kConcat: {
            std::vector<std::string> ins = {x};
            for (size_t i = 2; i <= kMaxConcatInputs + 1; ++i) {
              const std::string key = "in" + std::to_string(i);
              if (!k.has(key.c_str())) break;
              ins.push_back(k.get(key.c_str()));
            }
            m->add_simple(op, name, ins, out);
            break;
          }
          case Op::kReshape: {
            const std::string& text = k.get("shape");
            const size_t rank = size_t(std::count(text.begin(), text.end(), ',')) + 1;
            QK_FAIL_IF(rank != 1 && rank != 3, kCorrupt, "reshape rank %zu", rank);
            const std::vector<int64_t> target = parse_ints(text, rank);
            m->add_reshape(name, x, out, target.data(), target.size());
            break;
          }
          default:
            m->add_simple(op, name, {x}, out);
            break;
        }
        Layer& l = m->layers_.back();
        if (op != Op::kHardtanh) {
          if (k.has("lo")) l.lo = parse_float(k.get("lo"));
          if (k.has("hi")) l.hi = parse_float(k.get("hi"));
          QK_FAIL_IF((k.has("lo") || k.has("hi")) && op != Op::kConv2d && op != Op::kLinear && op != Op::kAdd &&
                         op != Op::kBatchNorm,
                     kCorrupt, "a clamp on a %s layer", op_name(op));
          QK_FAIL_IF(!(l.lo <= l.hi), kCorrupt, "clamp min > max");
        }
        if (k.has("fused")) l.fused = k.get("fused");
        QK_FAIL_IF(quant && state != State::kConverted, kCorrupt, "int8 layer in a non-converted model");
        QK_FAIL_IF(quant && (op == Op::kBatchNorm || op == Op::kSoftmax), kCorrupt, "%s cannot run in int8",
                   op_name(op));
        l.quant = quant;
        continue;
      }
      if (t[0] == "tensor") {
        QK_FAIL_IF(state != State::kConverted, kCorrupt, "qparams in a non-converted model");
        const KeyValues k = parse_kv(t, 1);
        const int id = m->find_tensor(k.get("name"));
        QK_FAIL_IF(id < 0, kCorrupt, "qparams for unknown tensor '%s'", k.get("name").c_str());
        TensorInfo& ti = m->tensors_[size_t(id)];
        QK_FAIL_IF(ti.has_qp, kCorrupt, "duplicate qparams for tensor '%s'", ti.name.c_str());
        const int64_t dt = parse_int(k.get("dtype"));
        QK_FAIL_IF(dt != int64_t(DType::kU8) && dt != int64_t(DType::kS8), kCorrupt, "activation dtype %lld",
                   (long long)dt);
        QParams qp;
        qp.dtype = static_cast<DType>(dt);
        qp.scheme = QScheme::kPerTensorAffine;
        qp.axis = 0;
        const int64_t zp = parse_int(k.get("zp")), qmin = parse_int(k.get("qmin")), qmax = parse_int(k.get("qmax"));
        QK_FAIL_IF(qmin < -128 || qmax > 255 || qmin > qmax || zp < qmin || zp > qmax, kCorrupt, "bad qparams range");
        qp.quant_min = int32_t(qmin);
        qp.quant_max = int32_t(qmax);
        qp.scales = {parse_float(k.get("scale"))};
        qp.zero_points = {int32_t(zp)};
        qp.validate();
        ti.qp = qp;
        ti.has_qp = true;
        continue;
      }
      if (t[0] == "io_layout") {
        QK_FAIL_IF(t.size() != 2 || (t[1] != "nhwc" && t[1] != "nchw"), kCorrupt, "expected 'io_layout nhwc|nchw'");
        m->nhwc_io_ = t[1] == "nhwc";
        continue;
      }
      if (t[0] == "output") {
        QK_FAIL_IF(t.size() != 2, kCorrupt, "expected 'output NAME'");
        m->set_output(t[1]);
        continue;
      }
      if (t[0] == "fused") {
        QK_FAIL_IF(t.size() != 2, kCorrupt, "expected 'fused DESC'");
        m->fused_.push_back(t[1]);
        continue;
      }
      fail(Status::kCorrupt, "unknown line kind '%s'", t[0].c_str());
    }
    QK_FAIL_IF(!m, kCorrupt, "the graph is truncated");
    ++lineno;
    if (state == State::kConverted) {
      for (const TensorInfo& ti : m->tensors_)
        QK_FAIL_IF(ti.alive && !ti.has_qp, kCorrupt, "tensor '%s' has no qparams", ti.name.c_str());
      m->state_ = State::kConverted;
      for (Layer& l : m->layers_) {
        for (int id : l.in)
          QK_FAIL_IF(l.quant && m->tensors_[size_t(id)].qp.dtype != m->tensors_[size_t(l.in[0])].qp.dtype &&
                         (l.op == Op::kMaxPool2d || l.op == Op::kAvgPool2d),
                     kCorrupt, "pool dtype mismatch");
        if (l.quant && (l.op == Op::kConv2d || l.op == Op::kLinear)) m->build_operator(l);
        // An int8 add's requantization must be computable (qadd checks it before any element:
        // scales whose ratio overflows, say), or the model would load and then fail every run.
        if (l.quant && l.op == Op::kAdd)
          qadd(m->tensors_[size_t(l.in[0])].qp, nullptr, m->tensors_[size_t(l.in[1])].qp, nullptr,
               m->tensors_[size_t(l.out)].qp, 0, l.lo, l.hi, nullptr);
        if (l.quant && (l.op == Op::kRelu || l.op == Op::kHardtanh || l.op == Op::kMaxPool2d ||
                        l.op == Op::kAvgPool2d || l.op == Op::kGlobalAvgPool2d || l.op == Op::kFlatten ||
                        l.op == Op::kDropout || l.op == Op::kReshape)) {
          const QParams& a = m->tensors_[size_t(l.in[0])].qp;
          const QParams& b = m->tensors_[size_t(l.out)].qp;
          QK_FAIL_IF(a.dtype != b.dtype || a.scales != b.scales || a.zero_points != b.zero_points, kCorrupt,
                     "layer '%s' must keep its input's qparams", l.name.c_str());
        }
      }
    } else if (state == State::kDynamic) {
      m->state_ = State::kDynamic;
      for (Layer& l : m->layers_)
        if (l.has_wq) m->build_operator(l);
    }
  } catch (const Error& e) {
    if (e.status() == Status::kOutOfMemory || e.status() == Status::kIo || e.status() == Status::kUnsupported)
      throw;
    throw Error(Status::kCorrupt, format("model.graph line %zu: %s", lineno, e.what()));
  }
  return m;
}

}  // namespace model
}  // namespace qk
