/* SPDX-License-Identifier: Apache-2.0 */
/* Part 3 of bindings/quantkit.i (included there, in order): ThreadPool, PackedWeights, QLinear, DynamicLinear, QConv2d. */

/* ---- ThreadPool -------------------------------------------------------------------- */
%extend qk_threadpool {
  /* thread_count: total threads including the caller; 0 = one per online core. */
  qk_threadpool(size_t thread_count) {
    qk_threadpool* p = NULL;
    QK_CHECK(qk_threadpool_create(thread_count, &p), NULL);
    return p;
  }
  ~qk_threadpool() { qk_threadpool_destroy(self); }
  size_t _get_thread_count() {
    size_t v = 0;
    QK_SELF("ThreadPool", v);
    QK_CHECK(qk_threadpool_get_thread_count(self, &v), v);
    return v;
  }
}

/* ---- PackedWeights ----------------------------------------------------------------- */
%extend qk_packed_weights {
  /* weights: s8 [n, k]; bias: none or n floats (quantized with the input scale later). */
  qk_packed_weights(const int8_t* s8, size_t s8_len, const int64_t* shape, size_t rank,
                    const qk_qparams* weight_qparams, const float* opt_f32, size_t opt_f32_len) {
    qk_packed_weights* w = NULL;
    uint64_t n;
    if (qk_swig_tensor("PackedWeights", "weights", s8, s8_len, shape, rank, &n)) return NULL;
    if (rank != 2) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "PackedWeights: weights must be 2-D [n, k], got rank %zu", rank);
      return NULL;
    }
    if (opt_f32 != NULL && opt_f32_len != (size_t)shape[0]) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "PackedWeights: bias has %zu values, expected n = %lld", opt_f32_len,
                   (long long)shape[0]);
      return NULL;
    }
    QK_CHECK(qk_packed_weights_create(s8, shape[0], shape[1], shape[1], weight_qparams, opt_f32, QK_DTYPE_F32, &w),
             NULL);
    return w;
  }
  ~qk_packed_weights() { qk_packed_weights_destroy(self); }
  int64_t _get_n() {
    int64_t n = 0, k = 0;
    QK_SELF("PackedWeights", 0);
    QK_CHECK(qk_packed_weights_get_shape(self, &n, &k), 0);
    return n;
  }
  int64_t _get_k() {
    int64_t n = 0, k = 0;
    QK_SELF("PackedWeights", 0);
    QK_CHECK(qk_packed_weights_get_shape(self, &n, &k), 0);
    return k;
  }
  /* Kernel path the weights were packed for ("avx2", "scalar", ...). */
  const char* _get_isa() {
    const char* isa = "";
    QK_SELF("PackedWeights", "");
    QK_CHECK(qk_packed_weights_get_isa(self, &isa), "");
    return isa;
  }
}


/* ---- QLinear ----------------------------------------------------------------------- */
%extend qk_swig_qlinear {
  /* output_qparams: per-tensor U8/S8 for QUANTIZED output, null for S32/F32.
   * output_min/max: real clamp (-inf/inf for none; S32 must use -inf/inf). */
  qk_swig_qlinear(const qk_packed_weights* weights, const qk_qparams* input_qparams, qk_output_kind output_kind,
                  const qk_qparams* output_qparams = NULL, float output_min = -INFINITY,
                  float output_max = INFINITY, qk_requant_mode mode = QK_REQUANT_FLOAT) {
    qk_swig_qlinear* s;
    qk_qlinear* op = NULL;
    int64_t n = 0, k = 0;
    qk_dtype in_dt = QK_DTYPE_U8, out_dt = QK_DTYPE_F32;
    QK_CHECK(qk_qlinear_create(weights, input_qparams, output_kind, output_qparams, output_min, output_max, mode, &op),
             NULL);
    if (qk_swig_check(qk_packed_weights_get_shape(weights, &n, &k)) ||
        qk_swig_check(qk_qparams_get_dtype(input_qparams, &in_dt)) ||
        (output_kind == QK_OUTPUT_QUANTIZED && qk_swig_check(qk_qparams_get_dtype(output_qparams, &out_dt)))) {
      qk_qlinear_destroy(op);
      return NULL;
    }
    if (output_kind == QK_OUTPUT_S32) out_dt = QK_DTYPE_S32;
    if (output_kind == QK_OUTPUT_F32) out_dt = QK_DTYPE_F32;
    s = (qk_swig_qlinear*)calloc(1, sizeof *s);
    if (s == NULL) {
      qk_qlinear_destroy(op);
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "QLinear: out of memory");
      return NULL;
    }
    s->op = op;
    s->n = n;
    s->k = k;
    s->in_dtype = in_dt;
    s->out_dtype = out_dt;
    return s;
  }
  ~qk_swig_qlinear() {
    if (self) qk_qlinear_destroy(self->op);
    free(self);
  }
  int64_t _get_n() { QK_SELF("QLinear", 0); return self->n; }
  int64_t _get_k() { QK_SELF("QLinear", 0); return self->k; }
  qk_dtype _get_input_dtype() { QK_SELF("QLinear", QK_DTYPE_U8); return self->in_dtype; }
  qk_dtype _get_output_dtype() { QK_SELF("QLinear", QK_DTYPE_F32); return self->out_dtype; }
  /* Any output kind as raw bytes (Python: an array of the output dtype). */
  qk_swig_bytes _run(const void* bytes, size_t bytes_len, const int64_t* shape, size_t rank,
                     qk_threadpool* pool = NULL) {
    return qk_swig_qlinear_run(self, "QLinear.run", QK_DTYPE_U8, bytes, bytes_len, shape, rank, pool);
  }
  qk_swig_s32 _run_s32(const void* bytes, size_t bytes_len, const int64_t* shape, size_t rank,
                       qk_threadpool* pool = NULL) {
    return qk_swig_qlinear_run(self, "QLinear.run_s32", QK_DTYPE_S32, bytes, bytes_len, shape, rank, pool);
  }
  qk_swig_f32 _run_f32(const void* bytes, size_t bytes_len, const int64_t* shape, size_t rank,
                       qk_threadpool* pool = NULL) {
    return qk_swig_qlinear_run(self, "QLinear.run_f32", QK_DTYPE_F32, bytes, bytes_len, shape, rank, pool);
  }
}

/* ---- DynamicLinear ----------------------------------------------------------------- */
%extend qk_swig_dynamic_linear {
  /* activation_dtype: U8 or S8; per_row: per-row (true) or per-tensor activation qparams. */
  qk_swig_dynamic_linear(const qk_packed_weights* weights, qk_dtype activation_dtype, bool per_row) {
    qk_swig_dynamic_linear* s;
    qk_dynamic_linear* op = NULL;
    int64_t n = 0, k = 0;
    QK_CHECK(qk_dynamic_linear_create(weights, activation_dtype, per_row ? 1 : 0, &op), NULL);
    if (qk_swig_check(qk_packed_weights_get_shape(weights, &n, &k))) {
      qk_dynamic_linear_destroy(op);
      return NULL;
    }
    s = (qk_swig_dynamic_linear*)calloc(1, sizeof *s);
    if (s == NULL) {
      qk_dynamic_linear_destroy(op);
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "DynamicLinear: out of memory");
      return NULL;
    }
    s->op = op;
    s->n = n;
    s->k = k;
    return s;
  }
  ~qk_swig_dynamic_linear() {
    if (self) qk_dynamic_linear_destroy(self->op);
    free(self);
  }
  int64_t _get_n() { QK_SELF("DynamicLinear", 0); return self->n; }
  int64_t _get_k() { QK_SELF("DynamicLinear", 0); return self->k; }
  /* f32 input [..., k] -> f32 output [..., n]. */
  qk_swig_f32 _run(const float* f32, size_t f32_len, const int64_t* shape, size_t rank, qk_threadpool* pool = NULL) {
    qk_swig_buf b = qk_swig_buf_none();
    int64_t out_shape[QK_MAX_RANK];
    uint64_t count;
    size_t i;
    int64_t m;
    QK_SELF("DynamicLinear", b);
    if (qk_swig_tensor("DynamicLinear.run", "input", f32, f32_len, shape, rank, &count)) return b;
    if (rank < 1 || shape[rank - 1] != self->k) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "DynamicLinear.run: input must have shape [..., k=%lld]",
                   (long long)self->k);
      return b;
    }
    m = self->k ? (int64_t)(count / (uint64_t)self->k) : 0;
    for (i = 0; i + 1 < rank; i++) out_shape[i] = shape[i];
    out_shape[rank - 1] = self->n;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)m * (size_t)self->n * sizeof(float), out_shape, rank)) return b;
    if (qk_swig_check(qk_dynamic_linear_run(self->op, m, f32, self->k, f32_len, (float*)b.data, self->n,
                                            (size_t)m * (size_t)self->n, pool)))
      qk_swig_buf_free(&b);
    return b;
  }
}

/* ---- QConv2d ----------------------------------------------------------------------- */
%extend qk_swig_qconv2d {
  /* weights: s8 OIHW [out, in/groups, kh, kw]; bias: none or out floats; stride {sh, sw};
   * padding {top, left, bottom, right}; dilation {dh, dw}. Input/output NHWC. */
  qk_swig_qconv2d(const int8_t* s8, size_t s8_len, const int64_t* shape, size_t rank,
                  const qk_qparams* weight_qparams, const float* opt_f32, size_t opt_f32_len,
                  const int64_t* dims, size_t ndims, const int64_t* dims_b, size_t ndims_b,
                  const int64_t* dims_c, size_t ndims_c, int64_t groups, const qk_qparams* input_qparams,
                  const qk_qparams* output_qparams, float output_min = -INFINITY, float output_max = INFINITY,
                  qk_requant_mode mode = QK_REQUANT_FLOAT) {
    qk_swig_qconv2d* s;
    qk_qconv2d* op = NULL;
    uint64_t n;
    qk_dtype in_dt = QK_DTYPE_U8, out_dt = QK_DTYPE_U8;
    if (qk_swig_tensor("QConv2d", "weights", s8, s8_len, shape, rank, &n)) return NULL;
    if (rank != 4) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QConv2d: weights must be 4-D OIHW, got rank %zu", rank);
      return NULL;
    }
    if (opt_f32 != NULL && opt_f32_len != (size_t)shape[0]) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QConv2d: bias has %zu values, expected %lld", opt_f32_len,
                   (long long)shape[0]);
      return NULL;
    }
    if (qk_swig_len("QConv2d", "stride", dims, ndims, 2) || qk_swig_len("QConv2d", "padding", dims_b, ndims_b, 4) ||
        qk_swig_len("QConv2d", "dilation", dims_c, ndims_c, 2))
      return NULL;
    QK_CHECK(qk_qconv2d_create(s8, shape, weight_qparams, opt_f32, dims, dims_b, dims_c, groups, input_qparams,
                               output_qparams, output_min, output_max, mode, &op),
             NULL);
    if (qk_swig_check(qk_qparams_get_dtype(input_qparams, &in_dt)) ||
        qk_swig_check(qk_qparams_get_dtype(output_qparams, &out_dt))) {
      qk_qconv2d_destroy(op);
      return NULL;
    }
    s = (qk_swig_qconv2d*)calloc(1, sizeof *s);
    if (s == NULL) {
      qk_qconv2d_destroy(op);
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "QConv2d: out of memory");
      return NULL;
    }
    s->op = op;
    s->out_channels = shape[0];
    s->in_channels = shape[1] * groups;
    s->in_dtype = in_dt;
    s->out_dtype = out_dt;
    return s;
  }
  ~qk_swig_qconv2d() {
    if (self) qk_qconv2d_destroy(self->op);
    free(self);
  }
  int64_t _get_in_channels() { QK_SELF("QConv2d", 0); return self->in_channels; }
  int64_t _get_out_channels() { QK_SELF("QConv2d", 0); return self->out_channels; }
  /* Output spatial size for an in_h x in_w input: which 0 = height, 1 = width. */
  int64_t _output_dim(int64_t in_h, int64_t in_w, int which) {
    int64_t oh = 0, ow = 0;
    QK_SELF("QConv2d", 0);
    QK_CHECK(qk_qconv2d_output_size(self->op, in_h, in_w, &oh, &ow), 0);
    return which ? ow : oh;
  }
  /* NHWC input [batch, h, w, in_channels] -> NHWC output [batch, oh, ow, out_channels]. */
  qk_swig_bytes _run(const void* bytes, size_t bytes_len, const int64_t* shape, size_t rank,
                     qk_threadpool* pool = NULL) {
    qk_swig_buf b = qk_swig_buf_none();
    int64_t out_shape[4];
    uint64_t count;
    int64_t oh = 0, ow = 0;
    QK_SELF("QConv2d", b);
    if (qk_swig_tensor("QConv2d.run", "input", bytes, bytes_len, shape, rank, &count)) return b;
    if (rank != 4 || shape[3] != self->in_channels) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QConv2d.run: input must be NHWC [batch, h, w, %lld]",
                   (long long)self->in_channels);
      return b;
    }
    QK_CHECK(qk_qconv2d_output_size(self->op, shape[1], shape[2], &oh, &ow), b);
    out_shape[0] = shape[0];
    out_shape[1] = oh;
    out_shape[2] = ow;
    out_shape[3] = self->out_channels;
    if (qk_swig_buf_alloc(&b, self->out_dtype, (size_t)(shape[0] * oh * ow * self->out_channels), out_shape, 4))
      return b;
    if (qk_swig_check(qk_qconv2d_run(self->op, shape[0], shape[1], shape[2], bytes, bytes_len, b.data, b.nbytes,
                                     pool)))
      qk_swig_buf_free(&b);
    return b;
  }
}

