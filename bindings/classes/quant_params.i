/* SPDX-License-Identifier: Apache-2.0 */
/* Part 3 of bindings/quantkit.i (included there, in order): QuantSpec, QParams, Observer. */

/* ---- QuantSpec --------------------------------------------------------------------- */
%extend qk_quant_spec {
  qk_quant_spec(qk_dtype dtype, qk_qscheme scheme) {
    qk_quant_spec* s = NULL;
    QK_CHECK(qk_quant_spec_create(dtype, scheme, &s), NULL);
    return s;
  }
  ~qk_quant_spec() { qk_quant_spec_destroy(self); }
  qk_quant_spec* _clone() {
    qk_quant_spec* s = NULL;
    QK_SELF("QuantSpec", NULL);
    QK_CHECK(qk_quant_spec_clone(self, &s), NULL);
    return s;
  }
  void _set_range(int32_t quant_min, int32_t quant_max) {
    QK_SELF("QuantSpec", );
    QK_CHECK(qk_quant_spec_set_range(self, quant_min, quant_max), );
  }
  void _set_reduce_range(bool enabled) {
    QK_SELF("QuantSpec", );
    QK_CHECK(qk_quant_spec_set_reduce_range(self, enabled ? 1 : 0), );
  }
  void _set_eps(float eps) {
    QK_SELF("QuantSpec", );
    QK_CHECK(qk_quant_spec_set_eps(self, eps), );
  }
  void _set_axis(int32_t axis) {
    QK_SELF("QuantSpec", );
    QK_CHECK(qk_quant_spec_set_axis(self, axis), );
  }
  void _set_group_size(int64_t group_size) {
    QK_SELF("QuantSpec", );
    QK_CHECK(qk_quant_spec_set_group_size(self, group_size), );
  }
  void _set_convention(qk_convention convention) {
    QK_SELF("QuantSpec", );
    QK_CHECK(qk_quant_spec_set_convention(self, convention), );
  }
  qk_dtype _get_dtype() {
    qk_dtype v = QK_DTYPE_F32;
    QK_SELF("QuantSpec", v);
    QK_CHECK(qk_quant_spec_get_dtype(self, &v), v);
    return v;
  }
  qk_qscheme _get_scheme() {
    qk_qscheme v = QK_QSCHEME_PER_TENSOR_AFFINE;
    QK_SELF("QuantSpec", v);
    QK_CHECK(qk_quant_spec_get_scheme(self, &v), v);
    return v;
  }
  int32_t _get_axis() {
    int32_t v = 0;
    QK_SELF("QuantSpec", v);
    QK_CHECK(qk_quant_spec_get_axis(self, &v), v);
    return v;
  }
  int64_t _get_group_size() {
    int64_t v = 0;
    QK_SELF("QuantSpec", v);
    QK_CHECK(qk_quant_spec_get_group_size(self, &v), v);
    return v;
  }
  float _get_eps() {
    float v = 0;
    QK_SELF("QuantSpec", v);
    QK_CHECK(qk_quant_spec_get_eps(self, &v), v);
    return v;
  }
  qk_convention _get_convention() {
    qk_convention v = QK_CONVENTION_PYTORCH;
    QK_SELF("QuantSpec", v);
    QK_CHECK(qk_quant_spec_get_convention(self, &v), v);
    return v;
  }
  /* The effective range (custom or dtype range, after reduce_range and the convention). */
  int32_t _get_quant_min() {
    int32_t lo = 0, hi = 0;
    QK_SELF("QuantSpec", 0);
    QK_CHECK(qk_quant_spec_get_effective_range(self, &lo, &hi), 0);
    return lo;
  }
  int32_t _get_quant_max() {
    int32_t lo = 0, hi = 0;
    QK_SELF("QuantSpec", 0);
    QK_CHECK(qk_quant_spec_get_effective_range(self, &lo, &hi), 0);
    return hi;
  }
}

/* ---- QParams ----------------------------------------------------------------------- */
%extend qk_qparams {
  ~qk_qparams() { qk_qparams_destroy(self); }

  /* From known values. zero_points (integer schemes) or float_zero_points (float-qparams
   * scheme) must have as many entries as scales; the other may be empty/null. */
  static qk_qparams* _create(qk_dtype dtype, qk_qscheme scheme, int32_t axis, int64_t group_size,
                             const float* f32, size_t f32_len, const int32_t* s32, size_t s32_len,
                             const float* f32b, size_t f32b_len, int32_t quant_min, int32_t quant_max) {
    qk_qparams* q = NULL;
    if (f32 == NULL) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QParams.create: scales is null");
      return NULL;
    }
    if (s32 != NULL && s32_len != f32_len) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QParams.create: %zu zero points for %zu scales", s32_len, f32_len);
      return NULL;
    }
    if (f32b != NULL && f32b_len != f32_len) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QParams.create: %zu float zero points for %zu scales", f32b_len,
                   f32_len);
      return NULL;
    }
    QK_CHECK(qk_qparams_create(dtype, scheme, axis, group_size, f32, s32, f32b, f32_len, quant_min, quant_max, &q),
             NULL);
    return q;
  }
  /* From observed ranges: one (min, max) per channel/group, or one for per-tensor specs. */
  static qk_qparams* _compute(const qk_quant_spec* spec, const float* f32, size_t f32_len, const float* f32b,
                              size_t f32b_len) {
    qk_qparams* q = NULL;
    if (qk_swig_len("QParams.compute", "max_vals", f32b, f32b_len, f32_len)) return NULL;
    QK_CHECK(qk_qparams_compute(spec, f32, f32b, f32_len, &q), NULL);
    return q;
  }
  /* From a tensor's own min/max (per tensor, per channel along the spec's axis, or per group). */
  static qk_qparams* _from_tensor(const qk_quant_spec* spec, const float* f32, size_t f32_len,
                                  const int64_t* shape, size_t rank) {
    qk_qparams* q = NULL;
    uint64_t n;
    if (qk_swig_tensor("QParams.from_tensor", "x", f32, f32_len, shape, rank, &n)) return NULL;
    QK_CHECK(qk_qparams_from_tensor(spec, f32, shape, rank, &q, NULL), NULL);
    return q;
  }
  qk_dtype _get_dtype() {
    qk_dtype v = QK_DTYPE_F32;
    QK_SELF("QParams", v);
    QK_CHECK(qk_qparams_get_dtype(self, &v), v);
    return v;
  }
  qk_qscheme _get_scheme() {
    qk_qscheme v = QK_QSCHEME_PER_TENSOR_AFFINE;
    QK_SELF("QParams", v);
    QK_CHECK(qk_qparams_get_scheme(self, &v), v);
    return v;
  }
  size_t _get_count() {
    size_t v = 0;
    QK_SELF("QParams", v);
    QK_CHECK(qk_qparams_get_count(self, &v), v);
    return v;
  }
  int32_t _get_axis() {
    int32_t v = 0;
    QK_SELF("QParams", v);
    QK_CHECK(qk_qparams_get_axis(self, &v), v);
    return v;
  }
  int64_t _get_group_size() {
    int64_t v = 0;
    QK_SELF("QParams", v);
    QK_CHECK(qk_qparams_get_group_size(self, &v), v);
    return v;
  }
  int32_t _get_quant_min() {
    int32_t lo = 0, hi = 0;
    QK_SELF("QParams", 0);
    QK_CHECK(qk_qparams_get_range(self, &lo, &hi), 0);
    return lo;
  }
  int32_t _get_quant_max() {
    int32_t lo = 0, hi = 0;
    QK_SELF("QParams", 0);
    QK_CHECK(qk_qparams_get_range(self, &lo, &hi), 0);
    return hi;
  }
  qk_swig_f32 _get_scales() {
    qk_swig_buf b = qk_swig_buf_none();
    size_t n = 0;
    int64_t dim;
    QK_SELF("QParams", b);
    QK_CHECK(qk_qparams_get_count(self, &n), b);
    dim = (int64_t)n;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, n * sizeof(float), &dim, 1)) return b;
    if (qk_swig_check(qk_qparams_get_scales(self, (float*)b.data, n))) qk_swig_buf_free(&b);
    return b;
  }
  qk_swig_s32 _get_zero_points() {
    qk_swig_buf b = qk_swig_buf_none();
    size_t n = 0;
    int64_t dim;
    QK_SELF("QParams", b);
    QK_CHECK(qk_qparams_get_count(self, &n), b);
    dim = (int64_t)n;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_S32, n * sizeof(int32_t), &dim, 1)) return b;
    if (qk_swig_check(qk_qparams_get_zero_points(self, (int32_t*)b.data, n))) qk_swig_buf_free(&b);
    return b;
  }
  qk_swig_f32 _get_float_zero_points() {
    qk_swig_buf b = qk_swig_buf_none();
    size_t n = 0;
    int64_t dim;
    QK_SELF("QParams", b);
    QK_CHECK(qk_qparams_get_count(self, &n), b);
    dim = (int64_t)n;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, n * sizeof(float), &dim, 1)) return b;
    if (qk_swig_check(qk_qparams_get_float_zero_points(self, (float*)b.data, n))) qk_swig_buf_free(&b);
    return b;
  }

  /* f32 tensor -> quantized codes (dtype of the qparams). 8-bit and s32 codes keep the shape;
   * 4-bit codes come back packed, two per byte, as a flat byte array. */
  qk_swig_bytes _quantize(const float* f32, size_t f32_len, const int64_t* shape, size_t rank) {
    qk_swig_buf b = qk_swig_buf_none();
    qk_dtype dt = QK_DTYPE_F32;
    uint64_t n;
    size_t bytes = 0;
    QK_SELF("QParams", b);
    if (qk_swig_tensor("QParams.quantize", "x", f32, f32_len, shape, rank, &n)) return b;
    QK_CHECK(qk_qparams_get_dtype(self, &dt), b);
    QK_CHECK(qk_dtype_storage_size(dt, n, &bytes), b);
    if (dt == QK_DTYPE_S4 || dt == QK_DTYPE_U4) {
      int64_t flat = (int64_t)bytes;
      if (qk_swig_buf_alloc(&b, QK_DTYPE_U8, bytes, &flat, 1)) return b;
    } else {
      if (qk_swig_buf_alloc(&b, dt, bytes, shape, rank)) return b;
    }
    if (qk_swig_check(qk_quantize(self, f32, shape, rank, b.data, bytes, NULL))) qk_swig_buf_free(&b);
    return b;
  }
  /* Quantized codes (raw bytes: 8-bit, packed 4-bit or s32) of logical shape `dims` -> f32. */
  qk_swig_f32 _dequantize(const void* raw, size_t raw_len, const int64_t* dims, size_t ndims) {
    qk_swig_buf b = qk_swig_buf_none();
    uint64_t n = 0;
    QK_SELF("QParams", b);
    if (raw == NULL) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QParams.dequantize: q is null");
      return b;
    }
    QK_CHECK(qk_shape_element_count(dims, ndims, &n), b);
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)n * sizeof(float), dims, ndims)) return b;
    if (qk_swig_check(qk_dequantize(self, raw, raw_len, dims, ndims, (float*)b.data))) qk_swig_buf_free(&b);
    return b;
  }
  /* Fake quantization forward (torch.fake_quantize_per_{tensor,channel}_affine). */
  qk_swig_f32 _fake_quantize(const float* f32, size_t f32_len, const int64_t* shape, size_t rank) {
    qk_swig_buf b = qk_swig_buf_none();
    uint64_t n;
    QK_SELF("QParams", b);
    if (qk_swig_tensor("QParams.fake_quantize", "x", f32, f32_len, shape, rank, &n)) return b;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)n * sizeof(float), shape, rank)) return b;
    if (qk_swig_check(qk_fake_quantize(self, f32, shape, rank, (float*)b.data, NULL))) qk_swig_buf_free(&b);
    return b;
  }
  /* The straight-through mask of fake_quantize: 1 where x quantizes inside the range, else 0. */
  qk_swig_bytes _fake_quantize_mask(const float* f32, size_t f32_len, const int64_t* shape, size_t rank) {
    qk_swig_buf b = qk_swig_buf_none();
    float* y;
    uint64_t n;
    QK_SELF("QParams", b);
    if (qk_swig_tensor("QParams.fake_quantize_mask", "x", f32, f32_len, shape, rank, &n)) return b;
    y = (float*)malloc(n ? (size_t)n * sizeof(float) : 1);
    if (y == NULL) {
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "QParams.fake_quantize_mask: out of memory");
      return b;
    }
    if (qk_swig_buf_alloc(&b, QK_DTYPE_U8, (size_t)n, shape, rank) == 0 &&
        qk_swig_check(qk_fake_quantize(self, f32, shape, rank, y, (uint8_t*)b.data)))
      qk_swig_buf_free(&b);
    free(y);
    return b;
  }
  /* Straight-through backward: grad_x = grad_y where x quantizes inside the range, else 0. */
  qk_swig_f32 _fake_quantize_backward(const float* f32, size_t f32_len, const int64_t* shape, size_t rank,
                                      const float* f32b, size_t f32b_len) {
    qk_swig_buf b = qk_swig_buf_none();
    uint64_t n;
    QK_SELF("QParams", b);
    if (qk_swig_tensor("QParams.fake_quantize_backward", "x", f32, f32_len, shape, rank, &n)) return b;
    if (qk_swig_len("QParams.fake_quantize_backward", "grad_y", f32b, f32b_len, (size_t)n)) return b;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)n * sizeof(float), shape, rank)) return b;
    if (qk_swig_check(qk_fake_quantize_backward(self, f32, f32b, shape, rank, (float*)b.data)))
      qk_swig_buf_free(&b);
    return b;
  }
}

/* ---- Observer ---------------------------------------------------------------------- */
%extend qk_observer {
  qk_observer(qk_observer_kind kind, const qk_quant_spec* spec) {
    qk_observer* o = NULL;
    QK_CHECK(qk_observer_create(kind, spec, &o), NULL);
    return o;
  }
  ~qk_observer() { qk_observer_destroy(self); }
  qk_observer_kind _get_kind() {
    qk_observer_kind v = QK_OBSERVER_MINMAX;
    QK_SELF("Observer", v);
    QK_CHECK(qk_observer_get_kind(self, &v), v);
    return v;
  }
  void _set_param(qk_observer_param param, double value) {
    QK_SELF("Observer", );
    QK_CHECK(qk_observer_set_param(self, param, value), );
  }
  double _get_param(qk_observer_param param) {
    double v = 0;
    QK_SELF("Observer", v);
    QK_CHECK(qk_observer_get_param(self, param, &v), v);
    return v;
  }
  /* Records a batch; non-finite values are skipped and counted. */
  void _update(const float* f32, size_t f32_len, const int64_t* shape, size_t rank) {
    uint64_t n;
    QK_SELF("Observer", );
    if (qk_swig_tensor("Observer.update", "x", f32, f32_len, shape, rank, &n)) return;
    QK_CHECK(qk_observer_update(self, f32, shape, rank), );
  }
  qk_qparams* _compute_qparams() {
    qk_qparams* q = NULL;
    QK_SELF("Observer", NULL);
    QK_CHECK(qk_observer_compute_qparams(self, &q), NULL);
    return q;
  }
  size_t _get_channel_count() {
    size_t v = 0;
    QK_SELF("Observer", v);
    QK_CHECK(qk_observer_get_channel_count(self, &v), v);
    return v;
  }
  uint64_t _get_nonfinite_count() {
    uint64_t v = 0;
    QK_SELF("Observer", v);
    QK_CHECK(qk_observer_get_nonfinite_count(self, &v), v);
    return v;
  }
  /* The observed (histogram kinds: chosen) range, one value per channel. which: 0 min, 1 max. */
  qk_swig_f32 _range(int which) {
    qk_swig_buf b = qk_swig_buf_none();
    size_t n = 0;
    int64_t dim;
    float *lo, *hi;
    QK_SELF("Observer", b);
    QK_CHECK(qk_observer_get_channel_count(self, &n), b);
    if (n == 0) n = 1; /* nothing seen yet: get_range reports QK_ERR_STATE */
    lo = (float*)malloc(2 * n * sizeof(float));
    if (lo == NULL) {
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "Observer.range: out of memory");
      return b;
    }
    hi = lo + n;
    dim = (int64_t)n;
    if (!qk_swig_check(qk_observer_get_range(self, lo, hi, n)) &&
        !qk_swig_buf_alloc(&b, QK_DTYPE_F32, n * sizeof(float), &dim, 1))
      memcpy(b.data, which ? hi : lo, n * sizeof(float));
    free(lo);
    return b;
  }
  qk_swig_f32 _get_min_vals() { return qk_observer__range(self, 0); }
  qk_swig_f32 _get_max_vals() { return qk_observer__range(self, 1); }
  void _reset() {
    QK_SELF("Observer", );
    QK_CHECK(qk_observer_reset(self), );
  }
  /* Folds other's statistics into this observer (same kind, spec and options). */
  void _merge(const qk_observer* other) {
    QK_SELF("Observer", );
    if (other == NULL) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Observer.merge: other is null or closed");
      return;
    }
    QK_CHECK(qk_observer_merge(self, other), );
  }
  /* Versioned, checksummed state (docs/OBSERVER_STATE.md). */
  qk_swig_bytes _save() {
    qk_swig_buf b = qk_swig_buf_none();
    size_t size = 0;
    int64_t dim;
    QK_SELF("Observer", b);
    QK_CHECK(qk_observer_save(self, NULL, 0, &size), b);
    dim = (int64_t)size;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_U8, size, &dim, 1)) return b;
    if (qk_swig_check(qk_observer_save(self, b.data, size, &size))) qk_swig_buf_free(&b);
    return b;
  }
  static qk_observer* _load(const void* raw, size_t raw_len) {
    qk_observer* o = NULL;
    QK_CHECK(qk_observer_load(raw, raw_len, &o), NULL);
    return o;
  }
}

