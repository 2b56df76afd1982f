/* SPDX-License-Identifier: Apache-2.0 */
/* Part 3 of bindings/quantkit.i (included there, in order): Model and the module-level helpers. */

/* ---- Model ------------------------------------------------------------------------- */
%newobject qk_model::_load_memory;
/* Layer methods copy every array. A `layer` argument that may be null means the model default. */
%extend qk_model {
  /* sample_shape: per-sample input shape, {C, H, W} or {F}. */
  qk_model(const char* input_name, const int64_t* dims, size_t ndims) {
    qk_model* m = NULL;
    QK_CHECK(qk_model_create(input_name, dims, ndims, &m), NULL);
    return m;
  }
  ~qk_model() { qk_model_destroy(self); }
  /* weight OIHW f32; bias null or out_channels floats; stride {sh, sw}, padding {top, left,
   * bottom, right}, dilation {dh, dw}. */
  void _add_conv2d(const char* name, const char* input, const char* output, const float* f32, size_t f32_len,
                   const int64_t* shape, size_t rank, const float* opt_f32, size_t opt_f32_len, const int64_t* dims,
                   size_t ndims, const int64_t* dims_b, size_t ndims_b, const int64_t* dims_c, size_t ndims_c,
                   int64_t groups) {
    uint64_t n;
    QK_SELF("Model", );
    if (qk_swig_tensor("Model.add_conv2d", "weight", f32, f32_len, shape, rank, &n)) return;
    if (rank != 4) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.add_conv2d: weight must be 4-D OIHW, got rank %zu", rank);
      return;
    }
    if (opt_f32 != NULL && opt_f32_len != (size_t)shape[0]) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.add_conv2d: bias has %zu values, expected %lld", opt_f32_len,
                   (long long)shape[0]);
      return;
    }
    if (qk_swig_len("Model.add_conv2d", "stride", dims, ndims, 2) ||
        qk_swig_len("Model.add_conv2d", "padding", dims_b, ndims_b, 4) ||
        qk_swig_len("Model.add_conv2d", "dilation", dims_c, ndims_c, 2))
      return;
    QK_CHECK(qk_model_add_conv2d(self, name, input, output, f32, shape, opt_f32, dims, dims_b, dims_c, groups), );
  }
  /* weight [out_features, in_features] f32; bias null or out_features floats. */
  void _add_linear(const char* name, const char* input, const char* output, const float* f32, size_t f32_len,
                   const int64_t* shape, size_t rank, const float* opt_f32, size_t opt_f32_len) {
    uint64_t n;
    QK_SELF("Model", );
    if (qk_swig_tensor("Model.add_linear", "weight", f32, f32_len, shape, rank, &n)) return;
    if (rank != 2) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.add_linear: weight must be 2-D [out, in], got rank %zu", rank);
      return;
    }
    if (opt_f32 != NULL && opt_f32_len != (size_t)shape[0]) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.add_linear: bias has %zu values, expected %lld", opt_f32_len,
                   (long long)shape[0]);
      return;
    }
    QK_CHECK(qk_model_add_linear(self, name, input, output, f32, shape[0], shape[1], opt_f32), );
  }
  /* Inference batch norm: running mean and var (one per channel), gamma/beta null (1 / 0). */
  void _add_batchnorm(const char* name, const char* input, const char* output, const float* f32, size_t f32_len,
                      const float* f32b, size_t f32b_len, const float* opt_f32, size_t opt_f32_len,
                      const float* opt_f32b, size_t opt_f32b_len, float eps = 1e-5f) {
    QK_SELF("Model", );
    if (f32 == NULL) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.add_batchnorm: mean is null");
      return;
    }
    if (qk_swig_len("Model.add_batchnorm", "var", f32b, f32b_len, f32_len)) return;
    if ((opt_f32 != NULL && opt_f32_len != f32_len) || (opt_f32b != NULL && opt_f32b_len != f32_len)) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.add_batchnorm: gamma and beta need %zu values", f32_len);
      return;
    }
    QK_CHECK(qk_model_add_batchnorm(self, name, input, output, (int64_t)f32_len, f32, f32b, opt_f32, opt_f32b, eps), );
  }
  void _add_relu(const char* name, const char* input, const char* output) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_relu(self, name, input, output), );
  }
  void _add_hardtanh(const char* name, const char* input, const char* output, float min_value, float max_value) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_hardtanh(self, name, input, output, min_value, max_value), );
  }
  /* kernel {kh, kw}, stride {sh, sw}, padding {top, left, bottom, right}, dilation {dh, dw}. */
  void _add_max_pool2d(const char* name, const char* input, const char* output, const int64_t* dims, size_t ndims,
                       const int64_t* dims_b, size_t ndims_b, const int64_t* dims_c, size_t ndims_c,
                       const int64_t* dims_d, size_t ndims_d) {
    QK_SELF("Model", );
    if (qk_swig_len("Model.add_max_pool2d", "kernel", dims, ndims, 2) ||
        qk_swig_len("Model.add_max_pool2d", "stride", dims_b, ndims_b, 2) ||
        qk_swig_len("Model.add_max_pool2d", "padding", dims_c, ndims_c, 4) ||
        qk_swig_len("Model.add_max_pool2d", "dilation", dims_d, ndims_d, 2))
      return;
    QK_CHECK(qk_model_add_max_pool2d(self, name, input, output, dims, dims_b, dims_c, dims_d), );
  }
  void _add_avg_pool2d(const char* name, const char* input, const char* output, const int64_t* dims, size_t ndims,
                       const int64_t* dims_b, size_t ndims_b, const int64_t* dims_c, size_t ndims_c,
                       bool count_include_pad) {
    QK_SELF("Model", );
    if (qk_swig_len("Model.add_avg_pool2d", "kernel", dims, ndims, 2) ||
        qk_swig_len("Model.add_avg_pool2d", "stride", dims_b, ndims_b, 2) ||
        qk_swig_len("Model.add_avg_pool2d", "padding", dims_c, ndims_c, 4))
      return;
    QK_CHECK(qk_model_add_avg_pool2d(self, name, input, output, dims, dims_b, dims_c, count_include_pad ? 1 : 0), );
  }
  void _add_global_avg_pool2d(const char* name, const char* input, const char* output) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_global_avg_pool2d(self, name, input, output), );
  }
  void _add_flatten(const char* name, const char* input, const char* output) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_flatten(self, name, input, output), );
  }
  void _add_add(const char* name, const char* input_a, const char* input_b, const char* output) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_add(self, name, input_a, input_b, output), );
  }
  void _add_dropout(const char* name, const char* input, const char* output) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_dropout(self, name, input, output), );
  }
  void _add_softmax(const char* name, const char* input, const char* output) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_softmax(self, name, input, output), );
  }
  void _add_sigmoid(const char* name, const char* input, const char* output) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_sigmoid(self, name, input, output), );
  }
  void _add_hardswish(const char* name, const char* input, const char* output) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_hardswish(self, name, input, output), );
  }
  /* inputs: the tensor names separated by spaces (names never contain one), so no language
   * needs a string-array type. */
  void _add_concat(const char* name, const char* inputs, const char* output) {
    const char* names[64];
    char *copy, *p;
    size_t n = 0;
    QK_SELF("Model", );
    if (inputs == NULL) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.add_concat: inputs is null");
      return;
    }
    copy = qk_swig_strdup(inputs);
    if (copy == NULL) {
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "Model.add_concat: out of memory");
      return;
    }
    for (p = copy; *p != '\0';) {
      if (*p == ' ') {
        *p++ = '\0';
        continue;
      }
      if (n == 64) {
        free(copy);
        qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.add_concat: more than 64 inputs");
        return;
      }
      names[n++] = p;
      while (*p != '\0' && *p != ' ') p++;
    }
    qk_swig_check(qk_model_add_concat(self, name, names, n, output));
    free(copy);
  }
  /* shape: per-sample, rank 1 or 3, one dimension may be -1. */
  void _add_reshape(const char* name, const char* input, const int64_t* dims, size_t ndims, const char* output) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_reshape(self, name, input, dims, ndims, output), );
  }
  /* QK_LAYOUT_NCHW (default) or QK_LAYOUT_NHWC for run/calibrate/report data (FLOAT models). */
  void _set_io_layout(qk_layout layout) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_set_io_layout(self, layout), );
  }
  qk_layout _get_io_layout() {
    qk_layout v = QK_LAYOUT_NCHW;
    QK_SELF("Model", v);
    QK_CHECK(qk_model_get_io_layout(self, &v), v);
    return v;
  }
  void _set_output(const char* tensor) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_set_output(self, tensor), );
  }
  qk_model_state _get_state() {
    qk_model_state v = QK_MODEL_FLOAT;
    QK_SELF("Model", v);
    QK_CHECK(qk_model_get_state(self, &v), v);
    return v;
  }
  size_t _get_layer_count() {
    size_t n = 0;
    QK_SELF("Model", 0);
    QK_CHECK(qk_model_layer_count(self, &n), 0);
    return n;
  }
  const char* _layer_name(size_t index) {
    const char* s = NULL;
    QK_SELF("Model", NULL);
    QK_CHECK(qk_model_layer_name(self, index, &s), NULL);
    return s;
  }
  qk_layer_kind _layer_kind(size_t index) {
    qk_layer_kind k = QK_LAYER_CONV2D;
    QK_SELF("Model", k);
    QK_CHECK(qk_model_layer_kind(self, index, &k), k);
    return k;
  }
  /* Per-sample shape of a tensor, as rank + dim(i) (the output: the same with no name). */
  size_t _tensor_rank(const char* tensor) {
    int64_t s[QK_MAX_RANK];
    size_t r = 0;
    QK_SELF("Model", 0);
    QK_CHECK(qk_model_tensor_shape(self, tensor, s, QK_MAX_RANK, &r), 0);
    return r;
  }
  int64_t _tensor_dim(const char* tensor, size_t i) {
    int64_t s[QK_MAX_RANK];
    size_t r = 0;
    QK_SELF("Model", 0);
    QK_CHECK(qk_model_tensor_shape(self, tensor, s, QK_MAX_RANK, &r), 0);
    if (i >= r) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.tensor_dim: %zu out of range (rank %zu)", i, r);
      return 0;
    }
    return s[i];
  }
  size_t _get_output_rank() {
    int64_t s[QK_MAX_RANK];
    size_t r = 0;
    QK_SELF("Model", 0);
    QK_CHECK(qk_model_output_shape(self, s, QK_MAX_RANK, &r), 0);
    return r;
  }
  int64_t _output_dim(size_t i) {
    int64_t s[QK_MAX_RANK];
    size_t r = 0;
    QK_SELF("Model", 0);
    QK_CHECK(qk_model_output_shape(self, s, QK_MAX_RANK, &r), 0);
    if (i >= r) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.output_dim: %zu out of range (rank %zu)", i, r);
      return 0;
    }
    return s[i];
  }
  void _fuse() {
    QK_SELF("Model", );
    QK_CHECK(qk_model_fuse(self), );
  }
  size_t _get_fused_count() {
    size_t n = 0;
    QK_SELF("Model", 0);
    QK_CHECK(qk_model_fused_count(self, &n), 0);
    return n;
  }
  const char* _fused_name(size_t index) {
    const char* s = NULL;
    QK_SELF("Model", NULL);
    QK_CHECK(qk_model_fused_name(self, index, &s), NULL);
    return s;
  }
  void _set_activation_observer(const char* layer, qk_observer_kind kind) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_set_activation_observer(self, layer, kind), );
  }
  void _set_activation_dtype(const char* layer, qk_dtype dtype) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_set_activation_dtype(self, layer, dtype), );
  }
  void _set_weight_scheme(const char* layer, qk_qscheme scheme) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_set_weight_scheme(self, layer, scheme), );
  }
  void _set_layer_skip(const char* layer, bool skip) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_set_layer_skip(self, layer, skip ? 1 : 0), );
  }
  /* "x86"/"fbgemm" or "qnnpack"; layer null = the default, or a name or "type:<kind>". */
  void _set_qconfig_preset(const char* layer, const char* preset) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_set_qconfig_preset(self, layer, preset), );
  }
  /* The observers of a PREPARED model, serialized (versioned, checksummed). */
  qk_swig_bytes _save_observers() {
    qk_swig_buf b = qk_swig_buf_none();
    size_t size = 0;
    int64_t dim;
    QK_SELF("Model", b);
    QK_CHECK(qk_model_save_observers(self, NULL, 0, &size), b);
    dim = (int64_t)size;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_U8, size, &dim, 1)) return b;
    if (qk_swig_check(qk_model_save_observers(self, b.data, size, &size))) qk_swig_buf_free(&b);
    return b;
  }
  /* Folds another copy's save_observers() state into this PREPARED model (all or nothing). */
  void _merge_observers(const void* raw, size_t raw_len) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_merge_observers(self, raw, raw_len), );
  }
  void _prepare() {
    QK_SELF("Model", );
    QK_CHECK(qk_model_prepare(self), );
  }
  /* One calibration batch {N, sample...} through the float model (observers updated). */
  void _calibrate(const float* f32, size_t f32_len, const int64_t* shape, size_t rank) {
    uint64_t n;
    QK_SELF("Model", );
    if (qk_swig_tensor("Model.calibrate", "batch", f32, f32_len, shape, rank, &n)) return;
    QK_CHECK(qk_model_calibrate(self, f32, shape, rank), );
  }
  /* Per-tensor qparams (e.g. learnt by QAT) used instead of the tensor's observer. */
  void _set_tensor_qparams(const char* tensor, const qk_qparams* qparams) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_set_tensor_qparams(self, tensor, qparams), );
  }
  void _convert() {
    QK_SELF("Model", );
    QK_CHECK(qk_model_convert(self), );
  }
  void _quantize_dynamic() {
    QK_SELF("Model", );
    QK_CHECK(qk_model_quantize_dynamic(self), );
  }
  /* QParams of a tensor of a converted model. */
  qk_qparams* _tensor_qparams(const char* tensor) {
    qk_qparams* q = NULL;
    QK_SELF("Model", NULL);
    QK_CHECK(qk_model_get_tensor_qparams(self, tensor, &q), NULL);
    return q;
  }
  /* Input {N, sample...} f32 -> output {N, output sample...} f32. */
  qk_swig_f32 _run(const float* f32, size_t f32_len, const int64_t* shape, size_t rank, qk_threadpool* pool = NULL) {
    qk_swig_buf b = qk_swig_buf_none();
    int64_t out_shape[QK_MAX_RANK];
    size_t out_rank = 0;
    uint64_t n, count = 0;
    QK_SELF("Model", b);
    if (qk_swig_tensor("Model.run", "input", f32, f32_len, shape, rank, &n)) return b;
    if (rank < 2) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.run: input must be {N, sample...}, got rank %zu", rank);
      return b;
    }
    if (qk_swig_model_out_shape(self, shape[0], out_shape, &out_rank, &count)) return b;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)count * sizeof(float), out_shape, out_rank)) return b;
    if (qk_swig_check(qk_model_run(self, f32, shape, rank, (float*)b.data, (size_t)count, pool)))
      qk_swig_buf_free(&b);
    return b;
  }
  /* Per layer (layer_name order), the SQNR in dB of the int8 output against float, as f32. */
  qk_swig_f32 _layer_sqnr(const float* f32, size_t f32_len, const int64_t* shape, size_t rank) {
    return qk_swig_model_report(self, "Model.layer_sqnr", 0, f32, f32_len, shape, rank);
  }
  /* Per layer, the largest |int8 output - float output|. */
  qk_swig_f32 _layer_max_error(const float* f32, size_t f32_len, const int64_t* shape, size_t rank) {
    return qk_swig_model_report(self, "Model.layer_max_error", 1, f32, f32_len, shape, rank);
  }
  /* Writes a .qkw file (FLOAT, CONVERTED or DYNAMIC models). */
  void _save(const char* path) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_save(self, path), );
  }
  /* A model saved by save(); a converted model runs bit-identically. */
  static qk_model* _load(const char* path) {
    qk_model* m = NULL;
    QK_CHECK(qk_model_load(path, &m), NULL);
    return m;
  }
  /* The same from a file image in memory (bytes, a byte[]): equal to load() on a file holding
   * them; the bytes are not kept. */
  static qk_model* _load_memory(const void* raw, size_t raw_len) {
    qk_model* m = NULL;
    QK_CHECK(qk_model_load_memory(raw, raw_len, &m), NULL);
    return m;
  }
}

/* ---- module-level helpers ---------------------------------------------------------- */
%inline %{
/* f32 -> f16 or bf16 bits (round to nearest even). */
static qk_swig_u16 qkbind_cast_from_f32(const float* f32, size_t f32_len, const int64_t* shape, size_t rank,
                                       qk_dtype dst_dtype) {
  qk_swig_buf b = qk_swig_buf_none();
  uint64_t n;
  if (qk_swig_tensor("cast_from_f32", "x", f32, f32_len, shape, rank, &n)) return b;
  if (qk_swig_buf_alloc(&b, dst_dtype, (size_t)n * 2, shape, rank)) return b;
  if (qk_swig_check(qk_cast(f32, QK_DTYPE_F32, b.data, dst_dtype, (size_t)n))) qk_swig_buf_free(&b);
  return b;
}
/* f16 or bf16 bits -> f32 (exact). */
static qk_swig_f32 qkbind_cast_to_f32(const uint16_t* u16, size_t u16_len, const int64_t* shape, size_t rank,
                                     qk_dtype src_dtype) {
  qk_swig_buf b = qk_swig_buf_none();
  uint64_t n;
  if (qk_swig_tensor("cast_to_f32", "x", u16, u16_len, shape, rank, &n)) return b;
  if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)n * 4, shape, rank)) return b;
  if (qk_swig_check(qk_cast(u16, src_dtype, b.data, QK_DTYPE_F32, (size_t)n))) qk_swig_buf_free(&b);
  return b;
}
/* SQNR in dB of approx against reference (+inf when equal). */
static double qkbind_sqnr(const float* f32, size_t f32_len, const float* f32b, size_t f32b_len) {
  double sqnr = 0;
  if (qk_swig_len("sqnr", "approx", f32b, f32b_len, f32_len)) return 0;
  if (f32 == NULL) {
    qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "sqnr: reference is null");
    return 0;
  }
  QK_CHECK(qk_error_stats(f32, f32b, f32_len, &sqnr, NULL, NULL), 0);
  return sqnr;
}
/* Learnable (LSQ) fake-quant gradients (qk_fake_quantize_learnable_backward) for x and grad_y
 * of one shape, `f32b` scales and `opt_f32` float zero points (1 value, or one per channel along
 * axis >= 0). Returned as ONE flat array [grad_x (numel), grad_scales (count), grad_zero_points
 * (count)], which each language splits: three outputs would need a tuple type per language. */
static qk_swig_f32 qkbind_fake_quantize_learnable_backward(const float* f32, size_t f32_len, const int64_t* shape,
                                                          size_t rank, const float* opt_f32, size_t opt_f32_len,
                                                          const float* f32b, size_t f32b_len,
                                                          const float* opt_f32b, size_t opt_f32b_len,
                                                          int32_t axis, int32_t quant_min, int32_t quant_max,
                                                          float grad_factor) {
  qk_swig_buf b = qk_swig_buf_none();
  uint64_t n;
  int64_t total;
  float* out;
  if (qk_swig_tensor("fake_quantize_learnable_backward", "x", f32, f32_len, shape, rank, &n)) return b;
  if (qk_swig_len("fake_quantize_learnable_backward", "grad_y", opt_f32, opt_f32_len, (size_t)n) ||
      qk_swig_len("fake_quantize_learnable_backward", "zero_points", opt_f32b, opt_f32b_len, f32b_len))
    return b;
  if (f32b == NULL) {
    qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "fake_quantize_learnable_backward: scales is null");
    return b;
  }
  total = (int64_t)(n + 2 * (uint64_t)f32b_len);
  if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)total * sizeof(float), &total, 1)) return b;
  out = (float*)b.data;
  if (qk_swig_check(qk_fake_quantize_learnable_backward(f32, opt_f32, shape, rank, axis, f32b, opt_f32b, f32b_len,
                                                        quant_min, quant_max, grad_factor, out, out + n,
                                                        out + n + f32b_len)))
    qk_swig_buf_free(&b);
  return b;
}
/* 1 if the named kernel path is built in and runs on this CPU. */
static bool qkbind_isa_supported(const char* name) {
  int s = 0;
  QK_CHECK(qk_isa_supported(name, &s), false);
  return s != 0;
}
%}
