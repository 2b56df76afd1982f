// SPDX-License-Identifier: Apache-2.0
// The model graph: building, fusion, float execution, calibration, conversion to int8 operators,
// dynamic quantization and the int8 execution (see model.h and the "model" group of quantkit.h).
#include "model/model.h"

#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/quantize.h"
#include "core/shape.h"
#include "core/threadpool.h"
#include "fusion/fold_batchnorm.h"
#include "ops/dynamic_linear.h"
#include "ops/layout.h"
#include "ops/packed_weights.h"
#include "ops/pooling.h"
#include "ops/qadd.h"
#include "ops/qconv2d.h"
#include "ops/qlinear.h"

namespace qk {
namespace model {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr int64_t kMaxDim = int64_t(1) << 31;

const char* const kOpNames[] = {"",        "conv2d",  "linear",          "batchnorm", "relu",    "hardtanh", "max_pool2d",
                                "avg_pool2d", "global_avg_pool2d", "flatten", "add", "dropout", "softmax",
                                "sigmoid", "hardswish", "concat", "reshape"};
static_assert(sizeof(kOpNames) / sizeof(kOpNames[0]) == kOpCount + 1, "one name per Op");

bool preserves_qparams(Op op) {
  return op == Op::kRelu || op == Op::kHardtanh || op == Op::kMaxPool2d || op == Op::kAvgPool2d ||
         op == Op::kGlobalAvgPool2d || op == Op::kFlatten || op == Op::kDropout || op == Op::kReshape;
}

// Per sample of n: pixel-major (H, W, C) order <-> channel-major (C, H, W) order, for codes (the
// int8 NHWC layout) and floats (NHWC model I/O, pointwise convs run as linears).
template <typename T>
void hwc_to_chw(const T* src, size_t n, size_t C, size_t HW, T* dst) {
  for (size_t b = 0; b < n; ++b, src += C * HW, dst += C * HW)
    for (size_t p = 0; p < HW; ++p)
      for (size_t c = 0; c < C; ++c) dst[c * HW + p] = src[p * C + c];
}
template <typename T>
void chw_to_hwc(const T* src, size_t n, size_t C, size_t HW, T* dst) {
  for (size_t b = 0; b < n; ++b, src += C * HW, dst += C * HW)
    for (size_t p = 0; p < HW; ++p)
      for (size_t c = 0; c < C; ++c) dst[p * C + c] = src[c * HW + p];
}

// The float definitions, shared by the float run and the int8 lookup tables (so an int8 layer is
// exactly quantize(f(dequantize(code))) of these). hardswish(x) = x * relu6(x + 3) / 6.
float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float hardswish(float x) { return x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f; }

// Sigmoid's fixed output qparams (PyTorch's): scale 1/256 over [0, 1), zero point at 0 (u8) or
// -128 (s8), the full code range.
QParams sigmoid_output_qparams(DType dtype) {
  QParams qp;
  qp.dtype = dtype;
  qp.scheme = QScheme::kPerTensorAffine;
  qp.quant_min = dtype == DType::kS8 ? -128 : 0;
  qp.quant_max = dtype == DType::kS8 ? 127 : 255;
  qp.scales = {1.0f / 256.0f};
  qp.zero_points = {qp.quant_min};
  return qp;
}

// "{64, 4, 4}" for messages.
std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "{";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "}";
}

Shape batch_shape(size_t n, const std::vector<int64_t>& sample) {
  int64_t dims[kMaxRank];
  dims[0] = int64_t(n);
  for (size_t i = 0; i < sample.size(); ++i) dims[i + 1] = sample[i];
  return Shape::from(dims, sample.size() + 1, "shape");
}

void check_finite(const float* p, size_t count, const char* what) {
  for (size_t i = 0; i < count; ++i)
    QK_FAIL_IF(!std::isfinite(p[i]), kInvalidArgument, "%s[%zu] is not finite", what, i);
}

int64_t out_dim(int64_t in, int64_t k, int64_t s, int64_t p0, int64_t p1, int64_t d) {
  const int64_t span = d * (k - 1) + 1;
  if (in + p0 + p1 < span) return 0;
  return (in + p0 + p1 - span) / s + 1;
}

}  // namespace

const char* op_name(Op op) {
  const int v = static_cast<int>(op);
  return v >= 1 && v <= kOpCount ? kOpNames[v] : "unknown";
}

bool op_from_name(const std::string& name, Op* op) {
  for (int v = 1; v <= kOpCount; ++v)
    if (name == kOpNames[v]) {
      *op = static_cast<Op>(v);
      return true;
    }
  return false;
}

void validate_name(const std::string& name, const char* what) {
  QK_FAIL_IF(name.empty() || name.size() > 256, kInvalidArgument, "%s must be 1..256 bytes (got %zu)", what,
             name.size());
  for (unsigned char c : name)
    QK_FAIL_IF(c <= 0x20 || c >= 0x7F, kInvalidArgument, "%s '%s' has a byte 0x%02x that is not printable ASCII",
               what, name.c_str(), c);
}

// ------------------------------------------------------------------------------------------
// Building

Model::Model(const std::string& input_name, const int64_t* sample_shape, size_t rank) {
  validate_name(input_name, "input_name");
  QK_FAIL_IF(rank != 1 && rank != 3, kInvalidArgument, "sample shape rank %zu must be 1 ({F}) or 3 ({C, H, W})", rank);
  QK_FAIL_IF(sample_shape == nullptr, kInvalidArgument, "argument 'sample_shape' is NULL");
  TensorInfo t;
  t.name = input_name;
  for (size_t i = 0; i < rank; ++i) {
    QK_FAIL_IF(sample_shape[i] < 1 || sample_shape[i] >= kMaxDim, kInvalidArgument,
               "sample_shape[%zu] = %lld must be in [1, 2^31)", i, (long long)sample_shape[i]);
    t.shape.push_back(sample_shape[i]);
  }
  QK_FAIL_IF(t.count() >= (uint64_t(1) << 40), kInvalidArgument, "sample shape has too many elements");
  tensors_.push_back(t);
  tensor_index_[input_name] = 0;
  output_ = 0;
}

void Model::require_state(State s, const char* what) const {
  static const char* const names[] = {"", "FLOAT", "PREPARED", "CONVERTED", "DYNAMIC"};
  QK_FAIL_IF(state_ != s, kState, "%s needs a %s model (this one is %s)", what, names[int(s)], names[int(state_)]);
}

int Model::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  if (it == tensor_index_.end() || !tensors_[size_t(it->second)].alive) return -1;
  return it->second;
}

int Model::input_tensor(const std::string& name) const {
  validate_name(name, "input tensor name");
  const int id = find_tensor(name);
  QK_FAIL_IF(id < 0, kNotFound, "unknown input tensor '%s'", name.c_str());
  return id;
}

const TensorInfo& Model::tensor(const std::string& name) const {
  const int id = find_tensor(name);
  QK_FAIL_IF(id < 0, kNotFound, "unknown tensor '%s'", name.c_str());
  return tensors_[size_t(id)];
}

void Model::check_new(const std::string& name, const std::string& output) const {
  require_state(State::kFloat, "adding a layer");
  validate_name(name, "layer name");
  validate_name(output, "output tensor name");
  QK_FAIL_IF(name.compare(0, kKindPrefixLength, kKindPrefix) == 0, kInvalidArgument,
             "layer name '%s': names starting with '%s' are reserved for qconfig by layer kind", name.c_str(),
             kKindPrefix);
  for (const Layer& l : layers_)
    QK_FAIL_IF(l.name == name, kInvalidArgument, "duplicate layer name '%s'", name.c_str());
  QK_FAIL_IF(tensor_index_.count(output) != 0, kInvalidArgument, "duplicate tensor name '%s' (tensors are named once)",
             output.c_str());
}

int Model::push_layer(Layer&& l, const std::string& output, std::vector<int64_t> out_shape) {
  uint64_t count = 1;
  for (int64_t d : out_shape) {
    QK_FAIL_IF(d < 1 || d >= kMaxDim, kInvalidArgument, "layer '%s': output dimension %lld out of range",
               l.name.c_str(), (long long)d);
    count *= uint64_t(d);
    QK_FAIL_IF(count >= (uint64_t(1) << 40), kInvalidArgument, "layer '%s': output too large", l.name.c_str());
  }
  TensorInfo t;
  t.name = output;
  t.shape = std::move(out_shape);
  t.producer = int(layers_.size());
  tensors_.push_back(std::move(t));
  const int id = int(tensors_.size() - 1);
  tensor_index_[output] = id;
  l.out = id;
  layers_.push_back(std::move(l));
  if (!output_set_) output_ = id;
  return id;
}

void Model::add_conv2d(const std::string& name, const std::string& input, const std::string& output,
                       const float* weight, const int64_t wshape[4], const float* bias, const int64_t stride[2],
                       const int64_t padding[4], const int64_t dilation[2], int64_t groups) {
  check_new(name, output);
  const int in = input_tensor(input);
  QK_FAIL_IF(weight == nullptr || wshape == nullptr || stride == nullptr || padding == nullptr || dilation == nullptr,
             kInvalidArgument, "conv2d '%s': weight, weight_shape, stride, padding and dilation are required",
             name.c_str());
  const ConvGeometry g = conv_geometry(wshape, stride, padding, dilation, groups);  // validates
  const TensorInfo& x = tensors_[size_t(in)];
  QK_FAIL_IF(x.shape.size() != 3, kInvalidArgument, "conv2d '%s': input '%s' has rank %zu, needs {C, H, W}",
             name.c_str(), input.c_str(), x.shape.size());
  QK_FAIL_IF(x.shape[0] != g.in_c, kInvalidArgument,
             "conv2d '%s': shape mismatch: input '%s' has %lld channels, the weight expects %lld (groups %lld)",
             name.c_str(), input.c_str(), (long long)x.shape[0], (long long)g.in_c, (long long)groups);
  const int64_t oh = out_dim(x.shape[1], g.kh, g.sh, g.pad_top, g.pad_bottom, g.dh);
  const int64_t ow = out_dim(x.shape[2], g.kw, g.sw, g.pad_left, g.pad_right, g.dw);
  QK_FAIL_IF(oh < 1 || ow < 1, kInvalidArgument, "conv2d '%s': the kernel does not fit the %lldx%lld input",
             name.c_str(), (long long)x.shape[1], (long long)x.shape[2]);
  const size_t wcount = size_t(wshape[0] * wshape[1] * wshape[2] * wshape[3]);
  check_finite(weight, wcount, "weight");
  if (bias) check_finite(bias, size_t(wshape[0]), "bias");
  Layer l;
  l.op = Op::kConv2d;
  l.name = name;
  l.in = {in};
  l.w.assign(weight, weight + wcount);
  l.wshape.assign(wshape, wshape + 4);
  if (bias) l.b.assign(bias, bias + wshape[0]);
  l.has_bias = bias != nullptr;
  std::copy(stride, stride + 2, l.stride);
  std::copy(padding, padding + 4, l.pad);
  std::copy(dilation, dilation + 2, l.dil);
  l.groups = groups;
  push_layer(std::move(l), output, {wshape[0], oh, ow});
}

void Model::add_linear(const std::string& name, const std::string& input, const std::string& output,
                       const float* weight, int64_t out_features, int64_t in_features, const float* bias) {
  check_new(name, output);
  const int in = input_tensor(input);
  QK_FAIL_IF(weight == nullptr, kInvalidArgument, "linear '%s': argument 'weight' is NULL", name.c_str());
  QK_FAIL_IF(out_features < 1 || out_features >= kMaxDim || in_features < 1 || in_features > int64_t(kMaxGemmDepth),
             kInvalidArgument, "linear '%s': out_features %lld / in_features %lld out of range", name.c_str(),
             (long long)out_features, (long long)in_features);
  const TensorInfo& x = tensors_[size_t(in)];
  QK_FAIL_IF(x.shape.size() != 1, kInvalidArgument, "linear '%s': input '%s' has rank %zu, needs {F} (add a flatten)",
             name.c_str(), input.c_str(), x.shape.size());
  QK_FAIL_IF(x.shape[0] != in_features, kInvalidArgument,
             "linear '%s': shape mismatch: input '%s' has %lld features, in_features is %lld", name.c_str(),
             input.c_str(), (long long)x.shape[0], (long long)in_features);
  QK_FAIL_IF(uint64_t(out_features) * uint64_t(in_features) >= (uint64_t(1) << 34), kInvalidArgument,
             "linear '%s': weight too large", name.c_str());
  const size_t wcount = size_t(out_features * in_features);
  check_finite(weight, wcount, "weight");
  if (bias) check_finite(bias, size_t(out_features), "bias");
  Layer l;
  l.op = Op::kLinear;
  l.name = name;
  l.in = {in};
  l.w.assign(weight, weight + wcount);
  l.wshape = {out_features, in_features};
  if (bias) l.b.assign(bias, bias + out_features);
  l.has_bias = bias != nullptr;
  push_layer(std::move(l), output, {out_features});
}

void Model::add_batchnorm(const std::string& name, const std::string& input, const std::string& output,
                          int64_t channels, const float* mean, const float* var, const float* gamma,
                          const float* beta, float eps) {
  check_new(name, output);
  const int in = input_tensor(input);
  QK_FAIL_IF(mean == nullptr || var == nullptr, kInvalidArgument, "batchnorm '%s': mean and var are required",
             name.c_str());
  const TensorInfo& x = tensors_[size_t(in)];
  QK_FAIL_IF(channels != x.shape[0], kInvalidArgument,
             "batchnorm '%s': shape mismatch: %lld channels, input '%s' has %lld", name.c_str(), (long long)channels,
             input.c_str(), (long long)x.shape[0]);
  QK_FAIL_IF(!std::isfinite(eps) || eps < 0, kInvalidArgument, "batchnorm '%s': eps must be finite and >= 0",
             name.c_str());
  const size_t c = size_t(channels);
  check_finite(mean, c, "mean");
  check_finite(var, c, "var");
  if (gamma) check_finite(gamma, c, "gamma");
  if (beta) check_finite(beta, c, "beta");
  for (size_t i = 0; i < c; ++i)
    QK_FAIL_IF(!(var[i] + eps > 0), kInvalidArgument, "batchnorm '%s': var[%zu] + eps must be > 0", name.c_str(), i);
  Layer l;
  l.op = Op::kBatchNorm;
  l.name = name;
  l.in = {in};
  l.mean.assign(mean, mean + c);
  l.var.assign(var, var + c);
  l.gamma = gamma ? std::vector<float>(gamma, gamma + c) : std::vector<float>(c, 1.0f);
  l.beta = beta ? std::vector<float>(beta, beta + c) : std::vector<float>(c, 0.0f);
  l.eps = eps;
  push_layer(std::move(l), output, x.shape);
}

void Model::add_simple(Op op, const std::string& name, const std::vector<std::string>& inputs,
                       const std::string& output) {
  check_new(name, output);
  QK_FAIL_IF(inputs.empty(), kInvalidArgument, "%s '%s' has no input", op_name(op), name.c_str());
  std::vector<int> ids;
  for (const std::string& s : inputs) ids.push_back(input_tensor(s));
  const TensorInfo& x = tensors_[size_t(ids[0])];
  std::vector<int64_t> shape = x.shape;
  switch (op) {
    case Op::kRelu:
    case Op::kDropout:
    case Op::kSigmoid:
    case Op::kHardswish:
      break;
    case Op::kConcat: {
      QK_FAIL_IF(ids.size() < 2 || ids.size() > kMaxConcatInputs, kInvalidArgument,
                 "concat '%s' takes 2..%zu inputs (got %zu)", name.c_str(), kMaxConcatInputs, ids.size());
      // Joined along the first per-sample axis (C of {C, H, W}, F of {F}); the rest must agree.
      int64_t joined = 0;
      for (size_t i = 0; i < ids.size(); ++i) {
        const std::vector<int64_t>& si = tensors_[size_t(ids[i])].shape;
        QK_FAIL_IF(si.size() != x.shape.size() || !std::equal(si.begin() + 1, si.end(), x.shape.begin() + 1),
                   kInvalidArgument, "concat '%s': input '%s' has shape %s, '%s' has %s (only dimension 1 may differ)",
                   name.c_str(), inputs[i].c_str(), shape_string(si).c_str(), inputs[0].c_str(),
                   shape_string(x.shape).c_str());
        joined += si[0];
      }
      QK_FAIL_IF(joined >= kMaxDim, kInvalidArgument, "concat '%s': %lld channels is too many", name.c_str(),
                 (long long)joined);
      shape[0] = joined;
      break;
    }
    case Op::kFlatten:
      shape = {int64_t(x.count())};
      break;
    case Op::kGlobalAvgPool2d:
      QK_FAIL_IF(x.shape.size() != 3, kInvalidArgument, "global_avg_pool2d '%s': input '%s' must be {C, H, W}",
                 name.c_str(), inputs[0].c_str());
      shape = {x.shape[0], 1, 1};
      break;
    case Op::kSoftmax:
      QK_FAIL_IF(x.shape.size() != 1, kInvalidArgument, "softmax '%s': input '%s' must be {F}", name.c_str(),
                 inputs[0].c_str());
      break;
    case Op::kAdd:
      QK_FAIL_IF(ids.size() != 2, kInternal, "add needs two inputs");
      QK_FAIL_IF(tensors_[size_t(ids[1])].shape != x.shape, kInvalidArgument,
                 "add '%s': shape mismatch between '%s' and '%s'", name.c_str(), inputs[0].c_str(), inputs[1].c_str());
      break;
    default:
      fail(Status::kInternal, "add_simple: op %d", int(op));
  }
  Layer l;
  l.op = op;
  l.name = name;
  l.in = ids;
  push_layer(std::move(l), output, shape);
}

void Model::add_reshape(const std::string& name, const std::string& input, const std::string& output,
                        const int64_t* shape, size_t rank) {
  check_new(name, output);
  const int in = input_tensor(input);
  const TensorInfo& x = tensors_[size_t(in)];
  QK_FAIL_IF(shape == nullptr, kInvalidArgument, "argument 'shape' is NULL");
  QK_FAIL_IF(rank != 1 && rank != 3, kInvalidArgument,
             "reshape '%s': target rank %zu must be 1 ({F}) or 3 ({C, H, W}); the batch dimension is not included",
             name.c_str(), rank);
  std::vector<int64_t> target(shape, shape + rank);
  int infer = -1;
  uint64_t known = 1;
  for (size_t i = 0; i < rank; ++i) {
    if (target[i] == -1) {
      QK_FAIL_IF(infer >= 0, kInvalidArgument, "reshape '%s': more than one -1 in the target shape", name.c_str());
      infer = int(i);
      continue;
    }
    QK_FAIL_IF(target[i] < 1 || target[i] >= kMaxDim, kInvalidArgument,
               "reshape '%s': target dimension %zu is %lld (must be >= 1, or -1 once)", name.c_str(), i,
               (long long)target[i]);
    known *= uint64_t(target[i]);
  }
  if (infer >= 0) {
    QK_FAIL_IF(known == 0 || x.count() % known != 0, kInvalidArgument,
               "reshape '%s': %llu elements do not divide into %s", name.c_str(), (unsigned long long)x.count(),
               shape_string(target).c_str());
    target[size_t(infer)] = int64_t(x.count() / known);
    known *= uint64_t(target[size_t(infer)]);
  }
  QK_FAIL_IF(known != x.count(), kInvalidArgument, "reshape '%s': input '%s' %s has %llu elements, target %s has %llu",
             name.c_str(), input.c_str(), shape_string(x.shape).c_str(), (unsigned long long)x.count(),
             shape_string(target).c_str(), (unsigned long long)known);
  Layer l;
  l.op = Op::kReshape;
  l.name = name;
  l.in = {in};
  l.target = target;
  push_layer(std::move(l), output, target);
}

void Model::add_hardtanh(const std::string& name, const std::string& input, const std::string& output, float lo,
                         float hi) {
  check_new(name, output);
  const int in = input_tensor(input);
  QK_FAIL_IF(!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi), kInvalidArgument,
             "hardtanh '%s': min %g and max %g must be finite with min < max", name.c_str(), lo, hi);
  Layer l;
  l.op = Op::kHardtanh;
  l.name = name;
  l.in = {in};
  l.lo = lo;
  l.hi = hi;
  push_layer(std::move(l), output, tensors_[size_t(in)].shape);
}

void Model::add_pool(Op op, const std::string& name, const std::string& input, const std::string& output,
                     const int64_t kernel[2], const int64_t stride[2], const int64_t padding[4],
                     const int64_t dilation[2], bool count_include_pad) {
  check_new(name, output);
  const int in = input_tensor(input);
  QK_FAIL_IF(kernel == nullptr || stride == nullptr || padding == nullptr, kInvalidArgument,
             "%s '%s': kernel, stride and padding are required", op_name(op), name.c_str());
  const TensorInfo& x = tensors_[size_t(in)];
  QK_FAIL_IF(x.shape.size() != 3, kInvalidArgument, "%s '%s': input '%s' must be {C, H, W}", op_name(op),
             name.c_str(), input.c_str());
  const int64_t dil[2] = {dilation ? dilation[0] : 1, dilation ? dilation[1] : 1};
  // The operators' own geometry check (every window overlaps the input, ranges), on batch 1.
  const int64_t nhwc[4] = {1, x.shape[1], x.shape[2], x.shape[0]};
  const PoolGeometry g = pool_geometry(nhwc, kernel, stride, padding, dil);
  Layer l;
  l.op = op;
  l.name = name;
  l.in = {in};
  std::copy(kernel, kernel + 2, l.kernel);
  std::copy(stride, stride + 2, l.stride);
  std::copy(padding, padding + 4, l.pad);
  std::copy(dil, dil + 2, l.dil);
  l.count_include_pad = count_include_pad;
  push_layer(std::move(l), output, {x.shape[0], g.out_h, g.out_w});
}

void Model::set_output(const std::string& tensor) {
  require_state(State::kFloat, "set_output");
  validate_name(tensor, "tensor");
  const int id = find_tensor(tensor);
  QK_FAIL_IF(id < 0, kNotFound, "unknown tensor '%s'", tensor.c_str());
  output_ = id;
  output_set_ = true;
}

// ------------------------------------------------------------------------------------------
// Fusion

std::vector<int> Model::consumers(int tensor) const {
  std::vector<int> out;
  for (size_t i = 0; i < layers_.size(); ++i)
    for (int t : layers_[i].in)
      if (t == tensor) {
        out.push_back(int(i));
        break;
      }
  return out;
}

void Model::fuse() {
  require_state(State::kFloat, "fuse");
  std::vector<Layer> layers = layers_;  // work on a copy: nothing changes on error
  std::vector<std::string> fused;
  std::vector<bool> removed(layers.size(), false);
  std::vector<TensorInfo> tensors = tensors_;
  auto sole_consumer = [&](int t) -> int {
    if (t == output_) return -1;
    int found = -1;
    for (size_t i = 0; i < layers.size(); ++i) {
      if (removed[i]) continue;
      for (int x : layers[i].in)
        if (x == t) {
          if (found >= 0 && found != int(i)) return -2;
          found = int(i);
        }
    }
    if (found >= 0 && std::count(layers[size_t(found)].in.begin(), layers[size_t(found)].in.end(), t) > 1) return -2;
    return found;
  };
  for (size_t i = 0; i < layers.size(); ++i) {
    if (removed[i]) continue;
    Layer& l = layers[i];
    // conv/linear(+bn)(+relu), add+relu, and bn+relu (a batch norm no conv/linear absorbed
    // keeps the clamp in its own f32 op: PyTorch's BNReLU2d).
    if (l.op != Op::kConv2d && l.op != Op::kLinear && l.op != Op::kAdd && l.op != Op::kBatchNorm) continue;
    const size_t fused_before = fused.size();
    std::string desc = l.name;
    auto absorb = [&](int j) {
      Layer& m = layers[size_t(j)];
      tensors[size_t(l.out)].alive = false;
      l.out = m.out;
      desc += "+" + m.name;
      removed[size_t(j)] = true;
    };
    // conv/linear + batch norm
    if ((l.op == Op::kConv2d || l.op == Op::kLinear) && std::isinf(l.lo) && std::isinf(l.hi)) {
      const int j = sole_consumer(l.out);
      if (j >= 0 && layers[size_t(j)].op == Op::kBatchNorm) {
        const Layer& bn = layers[size_t(j)];
        BatchNormParams p;
        p.mean = bn.mean.data();
        p.var = bn.var.data();
        p.gamma = bn.gamma.data();
        p.beta = bn.beta.data();
        p.eps = bn.eps;
        p.channels = bn.mean.size();
        const Shape ws = Shape::from(l.wshape.data(), l.wshape.size(), "weight_shape");
        std::vector<float> b(size_t(l.wshape[0]), 0.0f);
        if (l.has_bias) b = l.b;
        fold_batchnorm(l.op == Op::kConv2d ? FoldTarget::kConv : FoldTarget::kLinear, l.w.data(), ws, b.data(), p,
                       l.w.data(), b.data());
        l.b = b;
        l.has_bias = true;
        absorb(j);
      }
    }
    // + relu / hardtanh (possibly several)
    for (;;) {
      const int j = sole_consumer(l.out);
      if (j < 0) break;
      const Layer& m = layers[size_t(j)];
      if (m.op == Op::kRelu) {
        l.lo = std::max(l.lo, 0.0f);
      } else if (m.op == Op::kHardtanh) {
        l.lo = std::max(l.lo, m.lo);
        l.hi = std::min(l.hi, m.hi);
      } else {
        break;
      }
      if (l.lo > l.hi) l.lo = l.hi;
      absorb(j);
    }
    if (fused.size() == fused_before && desc != l.name) {
      fused.push_back(desc);
      l.fused = desc;
    }
  }
  if (fused.empty()) return;
  std::vector<Layer> kept;
  for (size_t i = 0; i < layers.size(); ++i)
    if (!removed[i]) kept.push_back(std::move(layers[i]));
  for (size_t i = 0; i < kept.size(); ++i) tensors[size_t(kept[i].out)].producer = int(i);
  layers_ = std::move(kept);
  tensors_ = std::move(tensors);
  for (const std::string& d : fused) fused_.push_back(d);
}

// ------------------------------------------------------------------------------------------
// qconfig, prepare, calibrate

namespace {

void apply_patch(LayerConfig* cfg, const LayerConfig& patch) {
  if (patch.has_observer) {
    cfg->has_observer = true;
    cfg->observer = patch.observer;
  }
  if (patch.has_dtype) {
    cfg->has_dtype = true;
    cfg->act_dtype = patch.act_dtype;
  }
  if (patch.has_scheme) {
    cfg->has_scheme = true;
    cfg->weight_scheme = patch.weight_scheme;
  }
  if (patch.has_skip) {
    cfg->has_skip = true;
    cfg->skip = patch.skip;
  }
}

void apply_override(LayerConfig* c, const LayerConfig& o) {
  if (o.has_observer) c->observer = o.observer;
  if (o.has_dtype) c->act_dtype = o.act_dtype;
  if (o.has_scheme) c->weight_scheme = o.weight_scheme;
  if (o.has_skip) c->skip = o.skip;
}

}  // namespace

void Model::set_config(const char* layer, const LayerConfig& patch) {
  require_state(State::kFloat, "qconfig");
  if (!layer) {
    apply_patch(&default_cfg_, patch);
    return;
  }
  const std::string name(layer);
  validate_name(name, "layer");
  if (name.compare(0, kKindPrefixLength, kKindPrefix) == 0) {
    Op op;
    QK_FAIL_IF(!op_from_name(name.substr(kKindPrefixLength), &op), kNotFound,
               "unknown layer kind '%s' (e.g. type:conv2d, type:linear)", name.c_str() + kKindPrefixLength);
    apply_patch(&kind_overrides_[op], patch);
    return;
  }
  bool found = false;
  for (const Layer& l : layers_) found = found || l.name == name;
  QK_FAIL_IF(!found, kNotFound, "unknown layer '%s'", layer);
  apply_patch(&overrides_[name], patch);
}

LayerConfig Model::config_for(const Layer& l) const {
  // The model default, then the layer kind's override, then the layer's own.
  LayerConfig c = default_cfg_;
  auto kind = kind_overrides_.find(l.op);
  if (kind != kind_overrides_.end()) apply_override(&c, kind->second);
  auto it = overrides_.find(l.name);
  if (it != overrides_.end()) apply_override(&c, it->second);
  return c;
}

bool Model::needs_observer(const Layer& l) const {
  if (config_for(l).skip) return true;
  // Sigmoid's output range is [0, 1] whatever the input: fixed qparams, as PyTorch's
  // FixedQParamsObserver does, so calibration cannot waste codes on a range it never saw.
  if (l.op == Op::kSigmoid) return false;
  return !preserves_qparams(l.op);
}

void Model::prepare() {
  require_state(State::kFloat, "prepare");
  std::vector<std::unique_ptr<Observer>> obs(tensors_.size());
  auto make = [](const LayerConfig& c) {
    QuantSpec spec = QuantSpec::make(c.act_dtype, QScheme::kPerTensorAffine);
    return make_observer(c.observer, spec);
  };
  obs[0] = make(default_cfg_);
  for (const Layer& l : layers_)
    if (needs_observer(l)) obs[size_t(l.out)] = make(config_for(l));
  observers_ = std::move(obs);
  state_ = State::kPrepared;
}

size_t Model::check_batch(const int64_t* shape, size_t rank, const char* what) const {
  const TensorInfo& x = tensors_[0];
  QK_FAIL_IF(shape == nullptr, kInvalidArgument, "argument 'shape' is NULL");
  QK_FAIL_IF(rank != x.shape.size() + 1, kInvalidArgument, "%s: rank %zu, the model takes {N, %s} (rank %zu)", what,
             rank, x.shape.size() == 3 ? (nhwc_io_ ? "H, W, C" : "C, H, W") : "F", x.shape.size() + 1);
  QK_FAIL_IF(shape[0] < 1 || shape[0] >= kMaxDim, kInvalidArgument, "%s: batch %lld must be >= 1", what,
             (long long)shape[0]);
  // NHWC I/O: the caller's sample is {H, W, C}.
  const bool nhwc = nhwc_io_ && x.shape.size() == 3;
  const int64_t expect[3] = {nhwc ? x.shape[1] : x.shape[0], nhwc ? x.shape[2] : x.shape.size() > 1 ? x.shape[1] : 0,
                             nhwc ? x.shape[0] : x.shape.size() > 2 ? x.shape[2] : 0};
  for (size_t i = 0; i < x.shape.size(); ++i)
    QK_FAIL_IF(shape[i + 1] != expect[i], kInvalidArgument,
               "%s: shape mismatch: dimension %zu is %lld, the model input '%s' (%s) has %lld", what, i + 1,
               (long long)shape[i + 1], x.name.c_str(), nhwc ? "NHWC" : "NCHW", (long long)expect[i]);
  QK_FAIL_IF(uint64_t(shape[0]) * x.count() >= (uint64_t(1) << 40), kInvalidArgument, "%s: batch too large", what);
  return size_t(shape[0]);
}

void Model::calibrate(const float* data, const int64_t* shape, size_t rank) {
  require_state(State::kPrepared, "calibrate");
  QK_FAIL_IF(data == nullptr, kInvalidArgument, "argument 'data' is NULL");
  const size_t n = check_batch(shape, rank, "calibrate");
  check_finite(data, n * tensors_[0].count(), "data");
  std::vector<float> nchw;
  data = input_as_nchw(data, n, &nchw);
  std::vector<std::vector<float>> vals;
  forward_float(data, n, &vals);
  // Validate all first (observers never change on a throw, but several of them must not
  // diverge either): updates only throw on programming errors here, shapes are fixed.
  for (size_t t = 0; t < tensors_.size(); ++t)
    if (observers_[t] && tensors_[t].alive) {
      const Shape s = batch_shape(n, tensors_[t].shape);
      observers_[t]->update(t == 0 ? data : vals[t].data(), s);
    }
}

void Model::set_tensor_qparams(const std::string& name, const QParams& qp) {
  QK_FAIL_IF(state_ != State::kFloat && state_ != State::kPrepared, kState,
             "set_tensor_qparams needs a FLOAT or PREPARED model");
  validate_name(name, "tensor");
  const int id = find_tensor(name);
  QK_FAIL_IF(id < 0, kNotFound, "unknown tensor '%s'", name.c_str());
  QK_FAIL_IF(!is_per_tensor(qp.scheme) || (qp.dtype != DType::kU8 && qp.dtype != DType::kS8), kInvalidArgument,
             "tensor '%s': activation qparams must be per-tensor u8 or s8", name.c_str());
  const TensorInfo& t = tensors_[size_t(id)];
  if (t.producer >= 0) {
    const Layer& l = layers_[size_t(t.producer)];
    QK_FAIL_IF(!needs_observer(l), kInvalidArgument, "tensor '%s' is the output of %s '%s', which %s", name.c_str(),
               op_name(l.op), l.name.c_str(),
               l.op == Op::kSigmoid ? "has fixed qparams (scale 1/256)" : "keeps its input's qparams");
  }
  tensors_[size_t(id)].qp = qp;
  tensors_[size_t(id)].user_qp = true;
}

// ------------------------------------------------------------------------------------------
// Float execution

namespace {

void conv_float(const Layer& l, const std::vector<int64_t>& ishape, const std::vector<int64_t>& oshape,
                const float* x, size_t n, float* y) {
  const int64_t C = ishape[0], H = ishape[1], W = ishape[2];
  const int64_t OC = oshape[0], OH = oshape[1], OW = oshape[2];
  const int64_t G = l.groups, cin_g = C / G, cout_g = OC / G, kh = l.wshape[2], kw = l.wshape[3];
  const int64_t K = cin_g * kh * kw, P = OH * OW;
  std::vector<float> col(size_t(K * P));
  for (size_t b = 0; b < n; ++b) {
    const float* xb = x + b * size_t(C * H * W);
    float* yb = y + b * size_t(OC * P);
    for (int64_t g = 0; g < G; ++g) {
      // im2col: row (c, i, j), column (oy, ox)
      for (int64_t c = 0; c < cin_g; ++c)
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j) {
            float* row = col.data() + ((c * kh + i) * kw + j) * P;
            const float* plane = xb + (g * cin_g + c) * H * W;
            for (int64_t oy = 0; oy < OH; ++oy) {
              const int64_t iy = oy * l.stride[0] - l.pad[0] + i * l.dil[0];
              for (int64_t ox = 0; ox < OW; ++ox) {
                const int64_t ix = ox * l.stride[1] - l.pad[1] + j * l.dil[1];
                row[oy * OW + ox] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? plane[iy * W + ix] : 0.0f;
              }
            }
          }
      Eigen::Map<const RowMat> wm(l.w.data() + g * cout_g * K, cout_g, K);
      Eigen::Map<const RowMat> cm(col.data(), K, P);
      Eigen::Map<RowMat> ym(yb + g * cout_g * P, cout_g, P);
      ym.noalias() = wm * cm;
    }
    for (int64_t o = 0; o < OC; ++o) {
      const float bias = l.has_bias ? l.b[size_t(o)] : 0.0f;
      float* p = yb + o * P;
      for (int64_t i = 0; i < P; ++i) p[i] = std::min(std::max(p[i] + bias, l.lo), l.hi);
    }
  }
}

void linear_float(const Layer& l, const float* x, size_t n, float* y) {
  const int64_t O = l.wshape[0], K = l.wshape[1];
  Eigen::Map<const RowMat> xm(x, int64_t(n), K);
  Eigen::Map<const RowMat> wm(l.w.data(), O, K);
  Eigen::Map<RowMat> ym(y, int64_t(n), O);
  ym.noalias() = xm * wm.transpose();
  for (size_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < O; ++o) {
      float& v = y[b * size_t(O) + size_t(o)];
      v = std::min(std::max(v + (l.has_bias ? l.b[size_t(o)] : 0.0f), l.lo), l.hi);
    }
}

void pool_float(const Layer& l, const std::vector<int64_t>& ishape, const std::vector<int64_t>& oshape, const float* x,
                size_t n, float* y) {
  const int64_t C = ishape[0], H = ishape[1], W = ishape[2], OH = oshape[1], OW = oshape[2];
  const bool is_max = l.op == Op::kMaxPool2d;
  for (size_t b = 0; b < n; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const float* plane = x + (b * size_t(C) + size_t(c)) * size_t(H * W);
      float* out = y + (b * size_t(C) + size_t(c)) * size_t(OH * OW);
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          float acc = is_max ? -INFINITY : 0.0f;
          int64_t valid = 0;
          for (int64_t i = 0; i < l.kernel[0]; ++i)
            for (int64_t j = 0; j < l.kernel[1]; ++j) {
              const int64_t iy = oy * l.stride[0] - l.pad[0] + i * l.dil[0];
              const int64_t ix = ox * l.stride[1] - l.pad[1] + j * l.dil[1];
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              const float v = plane[iy * W + ix];
              acc = is_max ? std::max(acc, v) : acc + v;
              ++valid;
            }
          if (!is_max) {
            int64_t div = valid;
            if (l.count_include_pad) {
              const int64_t y0 = oy * l.stride[0] - l.pad[0], x0 = ox * l.stride[1] - l.pad[1];
              const int64_t y1 = std::min(y0 + l.kernel[0], H + l.pad[2]), x1 = std::min(x0 + l.kernel[1], W + l.pad[3]);
              div = (y1 - y0) * (x1 - x0);
            }
            acc /= float(div);
          }
          out[oy * OW + ox] = acc;
        }
    }
}

}  // namespace

// Runs one layer in f32 (NCHW / {N, F}); used by the float model and for the layers a converted
// model keeps in float.
static void run_float_layer(const Layer& l, const std::vector<const float*>& ins,
                            const std::vector<std::vector<int64_t>>& ishapes, const std::vector<int64_t>& oshape,
                            size_t n, float* y) {
  uint64_t icount = 1, ocount = 1;
  for (int64_t d : ishapes[0]) icount *= uint64_t(d);
  for (int64_t d : oshape) ocount *= uint64_t(d);
  const float* x = ins[0];
  const size_t total = n * size_t(icount);
  switch (l.op) {
    case Op::kConv2d:
      conv_float(l, ishapes[0], oshape, x, n, y);
      break;
    case Op::kLinear:
      linear_float(l, x, n, y);
      break;
    case Op::kBatchNorm: {
      const size_t C = size_t(ishapes[0][0]), inner = size_t(icount) / C;
      for (size_t b = 0; b < n; ++b)
        for (size_t c = 0; c < C; ++c) {
          const float invstd = 1.0f / std::sqrt(l.var[c] + l.eps);
          const float* px = x + (b * C + c) * inner;
          float* py = y + (b * C + c) * inner;
          for (size_t i = 0; i < inner; ++i)
            py[i] = std::min(std::max((px[i] - l.mean[c]) * invstd * l.gamma[c] + l.beta[c], l.lo), l.hi);
        }
      break;
    }
    case Op::kRelu:
      for (size_t i = 0; i < total; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      break;
    case Op::kHardtanh:
      for (size_t i = 0; i < total; ++i) y[i] = std::min(std::max(x[i], l.lo), l.hi);
      break;
    case Op::kMaxPool2d:
    case Op::kAvgPool2d:
      pool_float(l, ishapes[0], oshape, x, n, y);
      break;
    case Op::kGlobalAvgPool2d: {
      const size_t C = size_t(ishapes[0][0]), hw = size_t(icount) / C;
      for (size_t p = 0; p < n * C; ++p) {
        float s = 0.0f;
        for (size_t i = 0; i < hw; ++i) s += x[p * hw + i];
        y[p] = s / float(hw);
      }
      break;
    }
    case Op::kFlatten:
    case Op::kDropout:
    case Op::kReshape:
      std::memcpy(y, x, total * sizeof(float));
      break;
    case Op::kSigmoid:
      for (size_t i = 0; i < total; ++i) y[i] = sigmoid(x[i]);
      break;
    case Op::kHardswish:
      for (size_t i = 0; i < total; ++i) y[i] = hardswish(x[i]);
      break;
    case Op::kConcat: {
      // Per sample, the inputs one after the other: C-major {C, H, W} blocks (or {F}) join along C.
      float* py = y;
      for (size_t b = 0; b < n; ++b)
        for (size_t k = 0; k < ins.size(); ++k) {
          uint64_t c = 1;
          for (int64_t d : ishapes[k]) c *= uint64_t(d);
          std::memcpy(py, ins[k] + b * size_t(c), size_t(c) * sizeof(float));
          py += c;
        }
      break;
    }
    case Op::kAdd:
      for (size_t i = 0; i < total; ++i) y[i] = std::min(std::max(x[i] + ins[1][i], l.lo), l.hi);
      break;
    case Op::kSoftmax: {
      const size_t F = size_t(icount);
      for (size_t b = 0; b < n; ++b) {
        const float* px = x + b * F;
        float* py = y + b * F;
        float m = -INFINITY;
        for (size_t i = 0; i < F; ++i) m = std::max(m, px[i]);
        float s = 0.0f;
        for (size_t i = 0; i < F; ++i) s += (py[i] = std::exp(px[i] - m));
        for (size_t i = 0; i < F; ++i) py[i] /= s;
      }
      break;
    }
  }
  (void)ocount;
}

void Model::forward_float(const float* input, size_t n, std::vector<std::vector<float>>* vals) const {
  vals->assign(tensors_.size(), {});
  for (const Layer& l : layers_) {
    QK_FAIL_IF(!l.has_float_weights, kState, "layer '%s' has no float weights (model loaded quantized)",
               l.name.c_str());
    std::vector<const float*> ins;
    std::vector<std::vector<int64_t>> ishapes;
    for (int t : l.in) {
      ins.push_back(t == 0 ? input : (*vals)[size_t(t)].data());
      ishapes.push_back(tensors_[size_t(t)].shape);
    }
    const TensorInfo& o = tensors_[size_t(l.out)];
    (*vals)[size_t(l.out)].resize(n * size_t(o.count()));
    run_float_layer(l, ins, ishapes, o.shape, n, (*vals)[size_t(l.out)].data());
  }
}

// ------------------------------------------------------------------------------------------
// Conversion

void Model::quantize_weights(Layer& l, QScheme scheme) {
  QuantSpec spec = QuantSpec::make(DType::kS8, scheme);
  spec.axis = 0;
  const Shape ws = Shape::from(l.wshape.data(), l.wshape.size(), "weight_shape");
  QParams qp = qparams_from_tensor(spec, l.w.data(), ws, nullptr);
  std::vector<int8_t> q(l.w.size());
  quantize(qp, l.w.data(), ws, q.data(), q.size());
  l.wq = std::move(q);
  l.wqp = std::move(qp);
  l.has_wq = true;
}

void Model::build_operator(Layer& l) {
  const float* bias = l.has_bias ? l.b.data() : nullptr;
  if (state_ == State::kDynamic || (l.op == Op::kLinear && !l.quant && l.has_wq)) {
    auto pw = make_packed_weights(l.wq.data(), size_t(l.wshape[0]), size_t(l.wshape[1]), size_t(l.wshape[1]), l.wqp,
                                  bias, DType::kF32);
    l.dlin = std::make_shared<DynamicLinear>(pw, DType::kU8, false);
    return;
  }
  const QParams& in_qp = tensors_[size_t(l.in[0])].qp;
  const QParams& out_qp = tensors_[size_t(l.out)].qp;
  if (l.op == Op::kConv2d) {
    const ConvGeometry g = conv_geometry(l.wshape.data(), l.stride, l.pad, l.dil, l.groups);
    l.qconv = std::make_shared<QConv2d>(l.wq.data(), g, l.wqp, bias, in_qp, out_qp, l.lo, l.hi, false);
  } else if (l.op == Op::kLinear) {
    auto pw = make_packed_weights(l.wq.data(), size_t(l.wshape[0]), size_t(l.wshape[1]), size_t(l.wshape[1]), l.wqp,
                                  bias, DType::kF32);
    l.qlin = std::make_shared<QLinear>(pw, in_qp, GemmOutput::kQuantized, &out_qp, l.lo, l.hi, false);
  }
}

void Model::convert() {
  require_state(State::kPrepared, "convert");
  std::vector<TensorInfo> tensors = tensors_;
  std::vector<Layer> layers = layers_;
  for (size_t t = 0; t < tensors.size(); ++t) {
    TensorInfo& ti = tensors[t];
    if (!ti.alive) continue;
    if (ti.user_qp) {
      ti.has_qp = true;
      continue;
    }
    if (observers_[t]) {
      QK_FAIL_IF(!observers_[t]->has_data(), kState, "tensor '%s' saw no calibration data (call qk_model_calibrate)",
                 ti.name.c_str());
      ti.qp = observers_[t]->compute_qparams();
      ti.has_qp = true;
      continue;
    }
    const Layer& l = layers[size_t(ti.producer)];
    QK_FAIL_IF(!tensors[size_t(l.in[0])].has_qp, kInternal, "tensor '%s' has no qparams", ti.name.c_str());
    ti.qp = l.op == Op::kSigmoid ? sigmoid_output_qparams(tensors[size_t(l.in[0])].qp.dtype)
                                 : tensors[size_t(l.in[0])].qp;
    ti.has_qp = true;
  }
  std::swap(tensors, tensors_);  // build_operator reads tensors_
  try {
    for (Layer& l : layers) {
      const LayerConfig c = config_for(l);
      l.quant = !c.skip && l.op != Op::kBatchNorm && l.op != Op::kSoftmax;
      if (l.quant && (l.op == Op::kConv2d || l.op == Op::kLinear)) {
        quantize_weights(l, c.weight_scheme);
        build_operator(l);
      }
    }
  } catch (...) {
    std::swap(tensors, tensors_);
    throw;
  }
  layers_ = std::move(layers);
  observers_.clear();
  state_ = State::kConverted;
}

void Model::quantize_dynamic() {
  require_state(State::kFloat, "quantize_dynamic");
  std::vector<Layer> layers = layers_;
  const State saved = state_;
  state_ = State::kDynamic;  // build_operator builds dynamic linears
  try {
    for (Layer& l : layers) {
      const LayerConfig c = config_for(l);
      l.quant = false;
      if ((l.op == Op::kLinear || is_pointwise_conv(l)) && !c.skip) {
        quantize_weights(l, c.weight_scheme);
        build_operator(l);
      }
    }
  } catch (...) {
    state_ = saved;
    throw;
  }
  layers_ = std::move(layers);
}

// ------------------------------------------------------------------------------------------
// Quantized execution

struct Model::Values {
  struct V {
    bool has_q = false, has_f = false;
    std::vector<uint8_t> q;  // NHWC (rank 3) or {N, F}
    std::vector<float> f;    // NCHW or {N, F}
  };
  std::vector<V> v;
  size_t n = 0;
};

namespace {

void to_quant(const TensorInfo& t, size_t n, const std::vector<float>& f,
              std::vector<uint8_t>* q) {
  q->resize(n * size_t(t.count()));
  if (t.shape.size() == 3) {
    const int64_t nchw[4] = {int64_t(n), t.shape[0], t.shape[1], t.shape[2]};
    quantize_nchw_to_nhwc(t.qp, f.data(), nchw, q->data(), q->size());
  } else {
    quantize(t.qp, f.data(), batch_shape(n, t.shape), q->data(), q->size());
  }
}

// lut[code index] = quantize(out_qp, f(dequantize(in_qp, code))), index = the code's byte
// (u8) or byte ^ 0x80 (s8: index 0 is -128). Uses the library's own quantize/dequantize.
void code_lut(const QParams& in_qp, const QParams& out_qp, float (*f)(float), uint8_t lut[256]) {
  uint8_t codes[256];
  for (int i = 0; i < 256; ++i) codes[i] = in_qp.dtype == DType::kS8 ? uint8_t(i ^ 0x80) : uint8_t(i);
  float vals[256];
  const int64_t dim = 256;
  const Shape shape = Shape::from(&dim, 1, "lut");
  dequantize(in_qp, codes, 256, shape, vals);
  for (float& v : vals) v = f(v);
  quantize(out_qp, vals, shape, lut, 256);
}

void to_float(const TensorInfo& t, size_t n, const std::vector<uint8_t>& q, std::vector<float>* f) {
  f->resize(n * size_t(t.count()));
  if (t.shape.size() == 3) {
    const int64_t nchw[4] = {int64_t(n), t.shape[0], t.shape[1], t.shape[2]};
    dequantize_nhwc_to_nchw(t.qp, q.data(), q.size(), nchw, f->data());
  } else {
    dequantize(t.qp, q.data(), q.size(), batch_shape(n, t.shape), f->data());
  }
}

}  // namespace

void Model::forward_quant(const float* input, size_t n, Values* vals, ThreadPool* pool) const {
  vals->v.assign(tensors_.size(), {});
  vals->n = n;
  auto& v = vals->v;
  v[0].f.assign(input, input + n * size_t(tensors_[0].count()));
  v[0].has_f = true;
  auto get_q = [&](int id) -> const std::vector<uint8_t>& {
    auto& x = v[size_t(id)];
    if (!x.has_q) {
      to_quant(tensors_[size_t(id)], n, x.f, &x.q);
      x.has_q = true;
    }
    return x.q;
  };
  auto get_f = [&](int id) -> const std::vector<float>& {
    auto& x = v[size_t(id)];
    if (!x.has_f) {
      to_float(tensors_[size_t(id)], n, x.q, &x.f);
      x.has_f = true;
    }
    return x.f;
  };
  for (const Layer& l : layers_) {
    const TensorInfo& ot = tensors_[size_t(l.out)];
    const TensorInfo& it = tensors_[size_t(l.in[0])];
    auto& out = v[size_t(l.out)];
    const size_t ocount = n * size_t(ot.count());
    if (!l.quant) {
      std::vector<const float*> ins;
      std::vector<std::vector<int64_t>> ishapes;
      for (int t : l.in) {
        ins.push_back(get_f(t).data());
        ishapes.push_back(tensors_[size_t(t)].shape);
      }
      out.f.resize(ocount);
      if (l.dlin && l.op == Op::kConv2d) {
        // pointwise conv: one row of C_in per pixel (NHWC), out back to NCHW
        const size_t cin = size_t(l.wshape[1]), cout = size_t(l.wshape[0]),
                     hw = size_t(ishapes[0][1] * ishapes[0][2]);
        std::vector<float> rows(n * hw * cin), res(n * hw * cout);
        chw_to_hwc(ins[0], n, cin, hw, rows.data());
        l.dlin->run(n * hw, rows.data(), cin, res.data(), cout, pool);
        hwc_to_chw(res.data(), n, cout, hw, out.f.data());
        for (float& y : out.f) y = std::min(std::max(y, l.lo), l.hi);
      } else if (l.dlin) {
        l.dlin->run(n, ins[0], size_t(l.wshape[1]), out.f.data(), size_t(l.wshape[0]), pool);
        for (float& y : out.f) y = std::min(std::max(y, l.lo), l.hi);
      } else {
        run_float_layer(l, ins, ishapes, ot.shape, n, out.f.data());
      }
      out.has_f = true;
      continue;
    }
    const std::vector<uint8_t>& in = get_q(l.in[0]);
    out.q.resize(ocount);
    switch (l.op) {
      case Op::kConv2d:
        l.qconv->run(int64_t(n), it.shape[1], it.shape[2], in.data(), in.size(), out.q.data(), out.q.size(), pool);
        break;
      case Op::kLinear:
        l.qlin->run(n, in.data(), size_t(l.wshape[1]), out.q.data(), size_t(l.wshape[0]), pool);
        break;
      case Op::kAdd: {
        const std::vector<uint8_t>& b = get_q(l.in[1]);
        qadd(it.qp, in.data(), tensors_[size_t(l.in[1])].qp, b.data(), ot.qp, ocount, l.lo, l.hi, out.q.data());
        break;
      }
      case Op::kMaxPool2d:
      case Op::kAvgPool2d: {
        const int64_t nhwc[4] = {int64_t(n), it.shape[1], it.shape[2], it.shape[0]};
        const PoolGeometry g = pool_geometry(nhwc, l.kernel, l.stride, l.pad, l.dil);
        if (l.op == Op::kMaxPool2d)
          max_pool2d(it.qp.dtype, in.data(), in.size(), g, out.q.data(), out.q.size());
        else
          avg_pool2d(it.qp, ot.qp, in.data(), in.size(), g, l.count_include_pad, out.q.data(), out.q.size());
        break;
      }
      case Op::kGlobalAvgPool2d: {
        const int64_t nhwc[4] = {int64_t(n), it.shape[1], it.shape[2], it.shape[0]};
        global_avg_pool2d(it.qp, ot.qp, in.data(), in.size(), nhwc, out.q.data(), out.q.size());
        break;
      }
      case Op::kFlatten:
        if (it.shape.size() == 3 && it.shape[1] * it.shape[2] > 1) {
          // NHWC codes -> C, H, W order (torch.flatten of NCHW)
          hwc_to_chw(in.data(), n, size_t(it.shape[0]), size_t(it.shape[1] * it.shape[2]), out.q.data());
        } else {
          std::memcpy(out.q.data(), in.data(), in.size());
        }
        break;
      case Op::kDropout:
        std::memcpy(out.q.data(), in.data(), in.size());
        break;
      case Op::kReshape: {
        // Codes of {C, H, W} tensors are NHWC: reorder through C, H, W order (the float layout).
        std::vector<uint8_t> chw;
        const std::vector<uint8_t>* src = &in;
        if (it.shape.size() == 3 && it.shape[1] * it.shape[2] > 1) {
          chw.resize(in.size());
          hwc_to_chw(in.data(), n, size_t(it.shape[0]), size_t(it.shape[1] * it.shape[2]), chw.data());
          src = &chw;
        }
        if (ot.shape.size() == 3 && ot.shape[1] * ot.shape[2] > 1)
          chw_to_hwc(src->data(), n, size_t(ot.shape[0]), size_t(ot.shape[1] * ot.shape[2]), out.q.data());
        else
          std::memcpy(out.q.data(), src->data(), src->size());
        break;
      }
      case Op::kSigmoid:
      case Op::kHardswish: {
        // 256 codes in, so a table of quantize(f(dequantize(code))) is the exact int8 operator.
        uint8_t lut[256];
        code_lut(it.qp, ot.qp, l.op == Op::kSigmoid ? sigmoid : hardswish, lut);
        const bool s8 = it.qp.dtype == DType::kS8;
        for (size_t i = 0; i < ocount; ++i) out.q[i] = lut[s8 ? size_t(uint8_t(in[i] ^ 0x80)) : size_t(in[i])];
        break;
      }
      case Op::kConcat: {
        // PyTorch's quantized cat: each input is requantized to the output's qparams, i.e.
        // quantize(dequantize(x)); done on the float (C, H, W) view, then stored as codes.
        std::vector<float> joined(ocount);
        float* py = joined.data();
        for (size_t b = 0; b < n; ++b)
          for (int t : l.in) {
            const size_t c = size_t(tensors_[size_t(t)].count());
            std::memcpy(py, get_f(t).data() + b * c, c * sizeof(float));
            py += c;
          }
        to_quant(ot, n, joined, &out.q);
        break;
      }
      case Op::kRelu:
      case Op::kHardtanh: {
        const ActivationQuant aq = activation_quant(it.qp, "input qparams");
        int32_t lo = 0, hi = 0;
        output_clamp(aq, l.op == Op::kRelu ? 0.0f : l.lo, l.op == Op::kRelu ? INFINITY : l.hi, &lo, &hi);
        for (size_t i = 0; i < ocount; ++i) {
          const int32_t c = aq.is_signed ? int32_t(int8_t(in[i])) : int32_t(in[i]);
          const int32_t r = std::min(std::max(c, lo), hi);
          out.q[i] = uint8_t(aq.is_signed ? uint8_t(int8_t(r)) : uint8_t(r));
        }
        break;
      }
      default:
        fail(Status::kInternal, "layer '%s' (%s) has no int8 operator", l.name.c_str(), op_name(l.op));
    }
    out.has_q = true;
  }
  get_f(output_);
}

void Model::run(const float* input, const int64_t* shape, size_t rank, float* output, size_t output_count,
                ThreadPool* pool) const {
  QK_FAIL_IF(input == nullptr, kInvalidArgument, "argument 'input' is NULL");
  QK_FAIL_IF(output == nullptr, kInvalidArgument, "argument 'output' is NULL");
  const size_t n = check_batch(shape, rank, "run");
  const size_t need = n * size_t(tensors_[size_t(output_)].count());
  QK_FAIL_IF(output_count != need, kInvalidArgument, "output_count %zu, the output needs %zu floats", output_count,
             need);
  std::vector<float> nchw;
  input = input_as_nchw(input, n, &nchw);
  if (state_ == State::kFloat || state_ == State::kPrepared) {
    std::vector<std::vector<float>> vals;
    forward_float(input, n, &vals);
    const float* src = output_ == 0 ? input : vals[size_t(output_)].data();
    output_from_nchw(src, n, output);
    return;
  }
  Values v;
  forward_quant(input, n, &v, pool);
  output_from_nchw(v.v[size_t(output_)].f.data(), n, output);
}

const float* Model::input_as_nchw(const float* input, size_t n, std::vector<float>* tmp) const {
  const std::vector<int64_t>& s = tensors_[0].shape;
  if (!nhwc_io_ || s.size() != 3) return input;
  tmp->resize(n * size_t(tensors_[0].count()));
  hwc_to_chw(input, n, size_t(s[0]), size_t(s[1] * s[2]), tmp->data());
  return tmp->data();
}

void Model::output_from_nchw(const float* src, size_t n, float* output) const {
  const std::vector<int64_t>& s = tensors_[size_t(output_)].shape;
  const size_t count = size_t(tensors_[size_t(output_)].count());
  if (!nhwc_io_ || s.size() != 3) {
    std::memcpy(output, src, n * count * sizeof(float));
    return;
  }
  chw_to_hwc(src, n, size_t(s[0]), size_t(s[1] * s[2]), output);
}

void Model::set_nhwc_io(bool nhwc) {
  require_state(State::kFloat, "set_io_layout");
  nhwc_io_ = nhwc;
}

void Model::layer_sqnr(const float* input, const int64_t* shape, size_t rank, double* out, size_t capacity) const {
  QK_FAIL_IF(out == nullptr, kInvalidArgument, "argument 'sqnr_out' is NULL");
  layer_report(input, shape, rank, out, nullptr, capacity);
}

void Model::layer_report(const float* input, const int64_t* shape, size_t rank, double* sqnr_out,
                         double* max_error_out, size_t capacity) const {
  require_state(State::kConverted, "layer_report");
  QK_FAIL_IF(input == nullptr, kInvalidArgument, "argument 'input' is NULL");
  QK_FAIL_IF(sqnr_out == nullptr && max_error_out == nullptr, kInvalidArgument,
             "arguments 'sqnr_out' and 'max_error_out' are both NULL");
  const size_t n = check_batch(shape, rank, "layer_sqnr");
  QK_FAIL_IF(capacity < layers_.size(), kBufferTooSmall, "capacity %zu < %zu layers", capacity, layers_.size());
  std::vector<float> nchw;
  input = input_as_nchw(input, n, &nchw);
  std::vector<std::vector<float>> ref;
  forward_float(input, n, &ref);
  Values v;
  forward_quant(input, n, &v, nullptr);
  std::vector<double> result(layers_.size()), max_err(layers_.size());
  for (size_t i = 0; i < layers_.size(); ++i) {
    const int t = layers_[i].out;
    auto& x = v.v[size_t(t)];
    if (!x.has_f) {
      to_float(tensors_[size_t(t)], n, x.q, &x.f);
      x.has_f = true;
    }
    double s = 0, e = 0, m = 0;
    const std::vector<float>& r = ref[size_t(t)];
    for (size_t k = 0; k < r.size(); ++k) {
      const double d = double(r[k]) - double(x.f[k]);
      s += double(r[k]) * double(r[k]);
      e += d * d;
      m = std::max(m, std::fabs(d));
    }
    result[i] = e == 0 ? INFINITY : 10.0 * std::log10(s / e);
    max_err[i] = m;
  }
  if (sqnr_out) std::copy(result.begin(), result.end(), sqnr_out);
  if (max_error_out) std::copy(max_err.begin(), max_err.end(), max_error_out);
}

}  // namespace model
}  // namespace qk
