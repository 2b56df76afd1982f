// SPDX-License-Identifier: Apache-2.0
// qk::model::Model: the layer graph behind qk_model. Build (validated, SSA tensor names), fuse,
// float run, prepare/calibrate (observers), convert (int8 operators), dynamic quantization, int8
// run, numeric report, and the .qkw save/load (model_io.cc). Throws qk::Error; the C shim
// (capi/capi_model.cc) is the firewall.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/qparams.h"
#include "core/quant_spec.h"
#include "observers/observer.h"

struct qk_qkw_reader;  // the public reader handle (quantkit.h); the loader reads through the C API

namespace qk {

class ThreadPool;
class QConv2d;
class QLinear;
class DynamicLinear;

namespace model {

// Values mirror qk_layer_kind.
enum class Op : int {
  kConv2d = 1,
  kLinear = 2,
  kBatchNorm = 3,
  kRelu = 4,
  kHardtanh = 5,
  kMaxPool2d = 6,
  kAvgPool2d = 7,
  kGlobalAvgPool2d = 8,
  kFlatten = 9,
  kAdd = 10,
  kDropout = 11,
  kSoftmax = 12,
  kSigmoid = 13,
  kHardswish = 14,
  kConcat = 15,
  kReshape = 16,
};
constexpr int kOpCount = 16;
// A concat takes 2..64 inputs (a bound for hostile graph files, far above real networks).
constexpr size_t kMaxConcatInputs = 64;
// qconfig overrides by layer kind are addressed as "type:conv2d"; layer names cannot start so.
constexpr const char* kKindPrefix = "type:";
constexpr size_t kKindPrefixLength = 5;
const char* op_name(Op op);
bool op_from_name(const std::string& name, Op* op);

// Values mirror qk_model_state.
enum class State : int { kFloat = 1, kPrepared = 2, kConverted = 3, kDynamic = 4 };

struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // per sample: {F} or {C, H, W}
  int producer = -1;           // layer index; -1: the model input
  bool alive = true;           // false once fused away
  bool has_qp = false;         // converted: qparams known
  QParams qp;
  bool user_qp = false;        // set by set_tensor_qparams (QAT), wins over the observer
  uint64_t count() const {
    uint64_t c = 1;
    for (int64_t d : shape) c *= uint64_t(d);
    return c;
  }
};

struct LayerConfig {
  bool has_observer = false, has_dtype = false, has_scheme = false, has_skip = false;
  ObserverKind observer = ObserverKind::kHistogram;
  DType act_dtype = DType::kU8;
  QScheme weight_scheme = QScheme::kPerChannelSymmetric;
  bool skip = false;
};

struct Layer {
  Op op = Op::kRelu;
  std::string name;
  std::vector<int> in;  // tensor ids
  int out = -1;
  // conv / linear: weight (OIHW or [out][in]), bias
  std::vector<float> w;
  std::vector<int64_t> wshape;
  std::vector<float> b;
  bool has_bias = false;
  bool has_float_weights = true;  // false when loaded from a converted file
  int64_t stride[2] = {1, 1}, pad[4] = {0, 0, 0, 0}, dil[2] = {1, 1}, kernel[2] = {1, 1}, groups = 1;
  bool count_include_pad = true;
  // batch norm
  std::vector<float> mean, var, gamma, beta;
  float eps = 1e-5f;
  // fused clamp (conv/linear/add) or the hardtanh range
  float lo = -INFINITY, hi = INFINITY;
  std::string fused;  // "conv1+bn1+relu1" when fused
  // reshape: the per-sample output shape (also in the output tensor's info; kept for saving)
  std::vector<int64_t> target;
  // converted / dynamic
  bool quant = false;       // runs as an int8 operator
  bool has_wq = false;      // quantized weights present
  std::vector<int8_t> wq;   // same layout as w
  QParams wqp;
  std::shared_ptr<const QConv2d> qconv;
  std::shared_ptr<const QLinear> qlin;
  std::shared_ptr<const DynamicLinear> dlin;
};

// A 1x1, stride-1, unpadded, undilated, ungrouped conv: a linear over the channels of every
// pixel, which dynamic quantization runs as one (PyTorch's quantize_dynamic covers Linear only).
inline bool is_pointwise_conv(const Layer& l) {
  return l.op == Op::kConv2d && l.wshape.size() == 4 && l.wshape[2] == 1 && l.wshape[3] == 1 && l.groups == 1 &&
         l.stride[0] == 1 && l.stride[1] == 1 && l.dil[0] == 1 && l.dil[1] == 1 && l.pad[0] == 0 && l.pad[1] == 0 &&
         l.pad[2] == 0 && l.pad[3] == 0;
}

class Model {
 public:
  Model(const std::string& input_name, const int64_t* sample_shape, size_t rank);

  // Building (FLOAT only). Validates everything before changing anything.
  void add_conv2d(const std::string& name, const std::string& input, const std::string& output, const float* weight,
                  const int64_t wshape[4], const float* bias, const int64_t stride[2], const int64_t padding[4],
                  const int64_t dilation[2], int64_t groups);
  void add_linear(const std::string& name, const std::string& input, const std::string& output, const float* weight,
                  int64_t out_features, int64_t in_features, const float* bias);
  void add_batchnorm(const std::string& name, const std::string& input, const std::string& output, int64_t channels,
                     const float* mean, const float* var, const float* gamma, const float* beta, float eps);
  // Shape-preserving element-wise layers, flatten, global pool, softmax, add (two inputs) and
  // concat (two or more inputs, joined along C of {C, H, W} or F of {F}).
  void add_simple(Op op, const std::string& name, const std::vector<std::string>& inputs, const std::string& output);
  // Per-sample target shape of rank 1 or 3 with the input's element count; one dim may be -1.
  void add_reshape(const std::string& name, const std::string& input, const std::string& output,
                   const int64_t* shape, size_t rank);
  void add_hardtanh(const std::string& name, const std::string& input, const std::string& output, float lo, float hi);
  void add_pool(Op op, const std::string& name, const std::string& input, const std::string& output,
                const int64_t kernel[2], const int64_t stride[2], const int64_t padding[4], const int64_t dilation[2],
                bool count_include_pad);
  void set_output(const std::string& tensor);

  // Transformations.
  void fuse();
  // qconfig: `layer` NULL (model default), a layer name, or "type:<op name>" (every layer of that
  // kind, also layers added later). Precedence: layer name > kind > default.
  void set_config(const char* layer, const LayerConfig& patch);
  void prepare();
  void calibrate(const float* data, const int64_t* shape, size_t rank);
  // Observer statistics of a PREPARED model (model_observers.cc): saved, and merged from a model
  // with the same graph and qconfig (all or nothing).
  std::vector<uint8_t> save_observers() const;
  void merge_observers(const uint8_t* data, size_t size);
  uint64_t observed_count() const;  // live tensors with an observer
  void set_tensor_qparams(const std::string& tensor, const QParams& qp);
  void convert();
  void quantize_dynamic();

  // Channels-last I/O (FLOAT only; saved with the model): run/calibrate/report take {N, H, W, C}
  // samples and run returns a {C, H, W} output as {N, H, W, C}. Reported shapes stay {C, H, W}.
  void set_nhwc_io(bool nhwc);
  bool nhwc_io() const { return nhwc_io_; }

  // Running (const: thread-safe once CONVERTED / DYNAMIC).
  void run(const float* input, const int64_t* shape, size_t rank, float* output, size_t output_count,
           ThreadPool* pool) const;
  void layer_sqnr(const float* input, const int64_t* shape, size_t rank, double* out, size_t capacity) const;
  // Per layer: SQNR (dB) and max |float - int8| of its output; either output may be null.
  void layer_report(const float* input, const int64_t* shape, size_t rank, double* sqnr_out, double* max_error_out,
                    size_t capacity) const;

  // Introspection.
  State state() const { return state_; }
  const std::vector<Layer>& layers() const { return layers_; }
  const std::vector<std::string>& fused_names() const { return fused_; }
  const TensorInfo& tensor(const std::string& name) const;
  int output() const { return output_; }
  const TensorInfo& tensor_at(int id) const { return tensors_[size_t(id)]; }

  // .qkw (model_io.cc). load_memory borrows [data, data + size) only during the call and
  // accepts exactly what load accepts from a file with those bytes.
  void save(const char* path) const;
  static std::unique_ptr<Model> load(const char* path);
  static std::unique_ptr<Model> load_memory(const void* data, size_t size);

 private:
  struct Values;
  int find_tensor(const std::string& name) const;  // -1 if absent or dead
  int input_tensor(const std::string& name) const;  // throws kNotFound
  void check_new(const std::string& name, const std::string& output) const;
  int push_layer(Layer&& l, const std::string& output, std::vector<int64_t> out_shape);
  void require_state(State s, const char* what) const;
  LayerConfig config_for(const Layer& l) const;
  std::vector<int> consumers(int tensor) const;
  bool needs_observer(const Layer& l) const;
  void forward_float(const float* input, size_t n, std::vector<std::vector<float>>* vals) const;
  void build_operator(Layer& l);  // from l.wq/l.wqp and tensor qparams
  void quantize_weights(Layer& l, QScheme scheme);
  void forward_quant(const float* input, size_t n, Values* v, ThreadPool* pool) const;
  size_t check_batch(const int64_t* shape, size_t rank, const char* what) const;
  const float* input_as_nchw(const float* input, size_t n, std::vector<float>* tmp) const;
  static std::unique_ptr<Model> load_from(const qk_qkw_reader* reader);  // both loads, after open
  void output_from_nchw(const float* src, size_t n, float* output) const;

  std::vector<TensorInfo> tensors_;
  std::map<std::string, int> tensor_index_;
  std::vector<Layer> layers_;
  std::vector<std::string> fused_;
  LayerConfig default_cfg_;
  std::map<std::string, LayerConfig> overrides_;
  std::map<Op, LayerConfig> kind_overrides_;  // "type:conv2d" etc.
  std::vector<std::unique_ptr<Observer>> observers_;  // per tensor id (null: none)
  int output_ = -1;
  State state_ = State::kFloat;
  bool output_set_ = false;
  bool nhwc_io_ = false;
};

void validate_name(const std::string& name, const char* what);

}  // namespace model
}  // namespace qk
