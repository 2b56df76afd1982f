/* SPDX-License-Identifier: Apache-2.0 */
/* Part 3 of bindings/quantkit.i (included there, in order): WeightWriter, Encoding, WeightFile, TensorInfo. */

/* ===================================================================================== */
/* Weight files (.qkw) and model graphs                                                   */
/* ===================================================================================== */
/* Lists (tensor names, shapes, metadata) are exposed as count + item(i) methods, which every
 * language can wrap without a new array type; each language file builds its own list from them. */
%{
/* A writer remembers that finish() ran: afterwards the C writer accepts only destroy. */
typedef struct qk_swig_weight_writer {
  qk_qkw_writer* w;
  int finished;
} qk_swig_weight_writer;
/* What an add_f32/add_budget call chose and measured. */
typedef struct qk_swig_encoding {
  qk_codec codec;
  int32_t levels;
  double sqnr_db, max_abs_error;
} qk_swig_encoding;
/* A reader, plus the private copy of the image open_memory() reads from (the language's byte
 * array may move or die; the reader needs the bytes until close). */
typedef struct qk_swig_weight_file {
  qk_qkw_reader* r;
  void* image;
} qk_swig_weight_file;
/* One tensor's table entry with its name and shape copied (valid after the file is closed). */
typedef struct qk_swig_tensor_info {
  qk_qkw_tensor_info info;
  size_t index;
  char* name;
  size_t rank;
  int64_t shape[QK_MAX_RANK];
} qk_swig_tensor_info;

/* strdup is POSIX, not C11. */
static char* qk_swig_strdup(const char* s) {
  size_t n = strlen(s) + 1;
  char* d = (char*)malloc(n);
  if (d != NULL) memcpy(d, s, n);
  return d;
}
static qk_swig_encoding* qk_swig_encoding_new(qk_codec codec, int32_t levels, double sqnr, double max_err) {
  qk_swig_encoding* e = (qk_swig_encoding*)calloc(1, sizeof *e);
  if (e == NULL) {
    qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "out of memory");
    return NULL;
  }
  e->codec = codec;
  e->levels = levels;
  e->sqnr_db = sqnr;
  e->max_abs_error = max_err;
  return e;
}
/* The table entry and shape of tensor `index`; 0 on success. */
static int qk_swig_qkw_entry(const qk_swig_weight_file* f, size_t index, qk_qkw_tensor_info* info, int64_t* shape,
                             size_t* rank) {
  if (qk_swig_check(qk_qkw_tensor_info_get(f->r, index, info))) return 1;
  return qk_swig_check(qk_qkw_tensor_shape(f->r, index, shape, QK_MAX_RANK, rank));
}
/* Shape of a run's output for batch n: {n, output sample...}, channels last for a {C, H, W}
 * output of an NHWC model (the order qk_model_run() writes); the element count. */
static int qk_swig_model_out_shape(const qk_model* m, int64_t n, int64_t* shape, size_t* rank, uint64_t* count) {
  size_t r = 0;
  qk_layout layout = QK_LAYOUT_NCHW;
  if (qk_swig_check(qk_model_output_shape(m, shape + 1, QK_MAX_RANK - 1, &r)) ||
      qk_swig_check(qk_model_get_io_layout(m, &layout)))
    return 1;
  if (layout == QK_LAYOUT_NHWC && r == 3) {
    int64_t c = shape[1];
    shape[1] = shape[2];
    shape[2] = shape[3];
    shape[3] = c;
  }
  shape[0] = n;
  *rank = r + 1;
  return qk_swig_check(qk_shape_element_count(shape, r + 1, count));
}
/* One column of qk_model_layer_report() (0: SQNR in dB, 1: max |error|) as f32, per layer. */
static qk_swig_buf qk_swig_model_report(const qk_model* m, const char* fn, int which, const float* x, size_t x_len,
                                        const int64_t* shape, size_t rank) {
  qk_swig_buf b = qk_swig_buf_none();
  double* tmp;
  size_t layers = 0, i;
  int64_t dim;
  uint64_t n;
  if (m == NULL) {
    qk_swig_fail(QK_SWIG_CLOSED, "%s: the Model is closed", fn);
    return b;
  }
  if (qk_swig_tensor(fn, "input", x, x_len, shape, rank, &n) || qk_swig_check(qk_model_layer_count(m, &layers)))
    return b;
  tmp = (double*)malloc((layers ? layers : 1) * sizeof(double));
  if (tmp == NULL) {
    qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    return b;
  }
  dim = (int64_t)layers;
  if (!qk_swig_check(qk_model_layer_report(m, x, shape, rank, which ? NULL : tmp, which ? tmp : NULL, layers)) &&
      !qk_swig_buf_alloc(&b, QK_DTYPE_F32, layers * sizeof(float), &dim, 1))
    for (i = 0; i < layers; i++) ((float*)b.data)[i] = (float)tmp[i];
  free(tmp);
  return b;
}
%}

%rename(WeightWriter) qk_swig_weight_writer;
%rename(Encoding) qk_swig_encoding;
%rename(WeightFile) qk_swig_weight_file;
%rename(TensorInfo) qk_swig_tensor_info;
%rename(Model) qk_model;
%newobject qk_swig_weight_writer::_add_f32;
%newobject qk_swig_weight_writer::_add_budget;
%newobject qk_swig_weight_file::_open;
%newobject qk_swig_weight_file::_from_bytes;
%newobject qk_swig_weight_file::_info;
%newobject qk_swig_weight_file::_qparams;
%newobject qk_model::_tensor_qparams;
%newobject qk_model::_load;

typedef struct qk_swig_weight_writer {} qk_swig_weight_writer;
typedef struct qk_swig_encoding {} qk_swig_encoding;
typedef struct qk_swig_weight_file {} qk_swig_weight_file;
typedef struct qk_swig_tensor_info {} qk_swig_tensor_info;
typedef struct qk_model {} qk_model;

/* ---- WeightWriter ------------------------------------------------------------------ */
%extend qk_swig_weight_writer {
  /* Nothing is written until finish(); closing an unfinished writer leaves no file. */
  qk_swig_weight_writer(const char* path) {
    qk_swig_weight_writer* s;
    qk_qkw_writer* w = NULL;
    QK_CHECK(qk_qkw_writer_create(path, &w), NULL);
    s = (qk_swig_weight_writer*)calloc(1, sizeof *s);
    if (s == NULL) {
      qk_qkw_writer_destroy(w);
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "WeightWriter: out of memory");
      return NULL;
    }
    s->w = w;
    return s;
  }
  ~qk_swig_weight_writer() {
    if (self) qk_qkw_writer_destroy(self->w);
    free(self);
  }
  void _set_alignment(uint32_t alignment) {
    QK_SELF("WeightWriter", );
    QK_CHECK(qk_qkw_writer_set_alignment(self->w, alignment), );
  }
  void _set_zstd_level(int32_t level) {
    QK_SELF("WeightWriter", );
    QK_CHECK(qk_qkw_writer_set_zstd_level(self->w, level), );
  }
  void _set_small_tensor_threshold(uint64_t elements) {
    QK_SELF("WeightWriter", );
    QK_CHECK(qk_qkw_writer_set_small_tensor_threshold(self->w, elements), );
  }
  void _set_small_tensor_dtype(qk_dtype dtype) {
    QK_SELF("WeightWriter", );
    QK_CHECK(qk_qkw_writer_set_small_tensor_dtype(self->w, dtype), );
  }
  void _set_metadata(const char* key, const char* value) {
    QK_SELF("WeightWriter", );
    QK_CHECK(qk_qkw_writer_set_metadata(self->w, key, value), );
  }
  /* f32 tensor with a fixed codec (parameters as qk_qkw_writer_add_f32); returns the measured error. */
  qk_swig_encoding* _add_f32(const char* name, const float* f32, size_t f32_len, const int64_t* shape, size_t rank,
                             qk_codec codec, qk_dtype dtype = QK_DTYPE_F32, int32_t bits = 8, int32_t axis = 0,
                             int64_t group_size = 0) {
    double sqnr = 0, err = 0;
    uint64_t n;
    QK_SELF("WeightWriter", NULL);
    if (qk_swig_tensor("WeightWriter.add_f32", "data", f32, f32_len, shape, rank, &n)) return NULL;
    QK_CHECK(qk_qkw_writer_add_f32(self->w, name, f32, shape, rank, codec, dtype, bits, axis, group_size, &sqnr,
                                   &err),
             NULL);
    return qk_swig_encoding_new(codec, 0, sqnr, err);
  }
  /* f32 tensor with an error budget: the writer picks the cheapest encoding meeting it. */
  qk_swig_encoding* _add_budget(const char* name, const float* f32, size_t f32_len, const int64_t* shape,
                                size_t rank, double target_sqnr_db = 0, int32_t max_bits = 8) {
    double sqnr = 0, err = 0;
    qk_codec codec = QK_CODEC_RAW;
    int32_t levels = 0;
    uint64_t n;
    QK_SELF("WeightWriter", NULL);
    if (qk_swig_tensor("WeightWriter.add_budget", "data", f32, f32_len, shape, rank, &n)) return NULL;
    QK_CHECK(qk_qkw_writer_add_budget(self->w, name, f32, shape, rank, target_sqnr_db, max_bits, &codec, &levels,
                                      &sqnr, &err),
             NULL);
    return qk_swig_encoding_new(codec, levels, sqnr, err);
  }
  /* Codes already quantized (raw bytes, logical shape `dims`), stored as they are. source: null,
   * or the f32 tensor they came from (its element count), so the file records their SQNR. */
  void _add_quantized(const char* name, const void* raw, size_t raw_len, const int64_t* dims, size_t ndims,
                      const qk_qparams* qparams, const float* opt_f32, size_t opt_f32_len) {
    uint64_t n = 0;
    QK_SELF("WeightWriter", );
    if (raw == NULL) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "WeightWriter.add_quantized: codes is null");
      return;
    }
    QK_CHECK(qk_shape_element_count(dims, ndims, &n), );
    if (opt_f32 != NULL && opt_f32_len != (size_t)n) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "WeightWriter.add_quantized: source has %zu elements, shape holds %llu",
                   opt_f32_len, (unsigned long long)n);
      return;
    }
    QK_CHECK(qk_qkw_writer_add_quantized(self->w, name, raw, raw_len, dims, ndims, qparams, opt_f32), );
  }
  /* Bytes stored bit for bit as `dtype` of shape `dims`. */
  void _add_raw(const char* name, const void* raw, size_t raw_len, qk_dtype dtype, const int64_t* dims,
                size_t ndims) {
    QK_SELF("WeightWriter", );
    if (raw == NULL) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "WeightWriter.add_raw: data is null");
      return;
    }
    QK_CHECK(qk_qkw_writer_add_raw(self->w, name, raw, raw_len, dtype, dims, ndims), );
  }
  /* Writes the file atomically. Afterwards only close() is left, whatever the outcome. */
  void _finish() {
    QK_SELF("WeightWriter", );
    if (self->finished) {
      qk_swig_fail(QK_ERR_STATE, "WeightWriter.finish: already finished");
      return;
    }
    self->finished = 1;
    QK_CHECK(qk_qkw_writer_finish(self->w), );
  }
  bool _get_finished() {
    QK_SELF("WeightWriter", false);
    return self->finished != 0;
  }
}

/* ---- Encoding (result of WeightWriter.add_f32 / add_budget) ------------------------ */
%extend qk_swig_encoding {
  ~qk_swig_encoding() { free(self); }
  qk_codec _get_codec() { QK_SELF("Encoding", QK_CODEC_RAW); return self->codec; }
  /* add_budget: the symmetric levels chosen (largest |code|); 0 otherwise. */
  int32_t _get_levels() { QK_SELF("Encoding", 0); return self->levels; }
  /* SQNR in dB of the stored tensor against the source (+inf when exact). */
  double _get_sqnr_db() { QK_SELF("Encoding", 0); return self->sqnr_db; }
  double _get_max_abs_error() { QK_SELF("Encoding", 0); return self->max_abs_error; }
}

/* ---- WeightFile -------------------------------------------------------------------- */
%extend qk_swig_weight_file {
  /* mode: QK_VERIFY_FULL/LAZY/NONE; memory_budget: bytes one call may allocate (0 = no bound). */
  static qk_swig_weight_file* _open(const char* path, qk_verify_mode mode = QK_VERIFY_FULL,
                                    uint64_t memory_budget = 0) {
    qk_swig_weight_file* f;
    qk_qkw_reader* r = NULL;
    QK_CHECK(qk_qkw_open_file(path, mode, memory_budget, &r), NULL);
    f = (qk_swig_weight_file*)calloc(1, sizeof *f);
    if (f == NULL) {
      qk_qkw_close(r);
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "WeightFile: out of memory");
      return NULL;
    }
    f->r = r;
    return f;
  }
  /* A file image in memory (copied once: the reader keeps its own bytes). */
  static qk_swig_weight_file* _from_bytes(const void* raw, size_t raw_len, qk_verify_mode mode = QK_VERIFY_FULL,
                                          uint64_t memory_budget = 0) {
    qk_swig_weight_file* f;
    if (raw == NULL) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "WeightFile.from_bytes: data is null");
      return NULL;
    }
    f = (qk_swig_weight_file*)calloc(1, sizeof *f);
    if (f == NULL || (f->image = malloc(raw_len ? raw_len : 1)) == NULL) {
      free(f);
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "WeightFile.from_bytes: cannot copy %zu bytes", raw_len);
      return NULL;
    }
    memcpy(f->image, raw, raw_len);
    if (qk_swig_check(qk_qkw_open_memory(f->image, raw_len, mode, memory_budget, &f->r))) {
      free(f->image);
      free(f);
      return NULL;
    }
    return f;
  }
  ~qk_swig_weight_file() {
    if (self) {
      qk_qkw_close(self->r);
      free(self->image);
    }
    free(self);
  }
  /* Checks every chunk now (CORRUPT names the first bad tensor). */
  void _verify() {
    QK_SELF("WeightFile", );
    QK_CHECK(qk_qkw_verify(self->r), );
  }
  size_t _get_tensor_count() {
    size_t n = 0;
    QK_SELF("WeightFile", 0);
    QK_CHECK(qk_qkw_tensor_count(self->r, &n), 0);
    return n;
  }
  /* Tensors are indexed in byte-wise name order. */
  const char* _tensor_name(size_t index) {
    const char* s = NULL;
    QK_SELF("WeightFile", NULL);
    QK_CHECK(qk_qkw_tensor_name(self->r, index, &s), NULL);
    return s;
  }
  /* Index of tensor `name` (NOT_FOUND otherwise). */
  size_t _find(const char* name) {
    size_t i = 0;
    QK_SELF("WeightFile", 0);
    QK_CHECK(qk_qkw_find(self->r, name, &i), 0);
    return i;
  }
  qk_swig_tensor_info* _info(size_t index) {
    qk_swig_tensor_info* t;
    const char* name = NULL;
    QK_SELF("WeightFile", NULL);
    t = (qk_swig_tensor_info*)calloc(1, sizeof *t);
    if (t == NULL) {
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "WeightFile.info: out of memory");
      return NULL;
    }
    if (qk_swig_qkw_entry(self, index, &t->info, t->shape, &t->rank) ||
        qk_swig_check(qk_qkw_tensor_name(self->r, index, &name))) {
      free(t);
      return NULL;
    }
    t->index = index;
    t->name = qk_swig_strdup(name);
    if (t->name == NULL) {
      free(t);
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "WeightFile.info: out of memory");
      return NULL;
    }
    return t;
  }
  /* The tensor decoded to f32, in its shape. */
  qk_swig_f32 _decode_f32(size_t index) {
    qk_swig_buf b = qk_swig_buf_none();
    qk_qkw_tensor_info info;
    int64_t shape[QK_MAX_RANK];
    size_t rank = 0;
    QK_SELF("WeightFile", b);
    if (qk_swig_qkw_entry(self, index, &info, shape, &rank)) return b;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)info.element_count * sizeof(float), shape, rank)) return b;
    if (qk_swig_check(qk_qkw_decode_f32(self->r, index, (float*)b.data, (size_t)info.element_count)))
      qk_swig_buf_free(&b);
    return b;
  }
  /* The stored code stream. One code (or raw element) per element: an array of the stored dtype
   * in the tensor's shape (Python; Java/C# get the bytes). ggml blocks and S64: flat bytes. */
  qk_swig_bytes _read_codes(size_t index) {
    qk_swig_buf b = qk_swig_buf_none();
    qk_qkw_tensor_info info;
    int64_t shape[QK_MAX_RANK], flat;
    size_t rank = 0, esize = 0;
    QK_SELF("WeightFile", b);
    if (qk_swig_qkw_entry(self, index, &info, shape, &rank)) return b;
    flat = (int64_t)info.code_bytes;
    if (info.codec != QK_CODEC_GGML_Q8_0 && info.codec != QK_CODEC_GGML_Q4_0 && !qk_swig_elem_size(info.dtype, &esize) &&
        (uint64_t)esize * info.element_count == info.code_bytes) {
      if (qk_swig_buf_alloc(&b, info.dtype, (size_t)info.code_bytes, shape, rank)) return b;
    } else if (qk_swig_buf_alloc(&b, QK_DTYPE_U8, (size_t)info.code_bytes, &flat, 1)) {
      return b;
    }
    if (qk_swig_check(qk_qkw_read_codes(self->r, index, b.data, (size_t)info.code_bytes))) qk_swig_buf_free(&b);
    return b;
  }
  /* The codec's parameters (info.param_count floats; see qk_qkw_read_params). */
  qk_swig_f32 _read_params(size_t index) {
    qk_swig_buf b = qk_swig_buf_none();
    qk_qkw_tensor_info info;
    int64_t n;
    QK_SELF("WeightFile", b);
    QK_CHECK(qk_qkw_tensor_info_get(self->r, index, &info), b);
    n = (int64_t)info.param_count;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)n * sizeof(float), &n, 1)) return b;
    if (qk_swig_check(qk_qkw_read_params(self->r, index, (float*)b.data, (size_t)n))) qk_swig_buf_free(&b);
    return b;
  }
  /* QParams of a SYMMETRIC or AFFINE tensor, for its codes (UNSUPPORTED for other codecs). */
  qk_qparams* _qparams(size_t index) {
    qk_qparams* q = NULL;
    QK_SELF("WeightFile", NULL);
    QK_CHECK(qk_qkw_tensor_qparams(self->r, index, &q), NULL);
    return q;
  }
  size_t _get_metadata_count() {
    size_t n = 0;
    QK_SELF("WeightFile", 0);
    QK_CHECK(qk_qkw_metadata_count(self->r, &n), 0);
    return n;
  }
  /* Metadata pairs are indexed in key order. */
  const char* _metadata_key(size_t index) {
    const char *k = NULL, *v = NULL;
    QK_SELF("WeightFile", NULL);
    QK_CHECK(qk_qkw_metadata_at(self->r, index, &k, &v), NULL);
    return k;
  }
  const char* _metadata_value(size_t index) {
    const char *k = NULL, *v = NULL;
    QK_SELF("WeightFile", NULL);
    QK_CHECK(qk_qkw_metadata_at(self->r, index, &k, &v), NULL);
    return v;
  }
  /* Value of `key` (NOT_FOUND otherwise). */
  const char* _metadata_get(const char* key) {
    const char* v = NULL;
    QK_SELF("WeightFile", NULL);
    QK_CHECK(qk_qkw_metadata_get(self->r, key, &v), NULL);
    return v;
  }
  uint32_t _get_version_major() {
    uint32_t v = 0;
    QK_SELF("WeightFile", 0);
    QK_CHECK(qk_qkw_file_info(self->r, &v, NULL, NULL, NULL), 0);
    return v;
  }
  uint32_t _get_version_minor() {
    uint32_t v = 0;
    QK_SELF("WeightFile", 0);
    QK_CHECK(qk_qkw_file_info(self->r, NULL, &v, NULL, NULL), 0);
    return v;
  }
  uint32_t _get_alignment() {
    uint32_t v = 0;
    QK_SELF("WeightFile", 0);
    QK_CHECK(qk_qkw_file_info(self->r, NULL, NULL, &v, NULL), 0);
    return v;
  }
  uint64_t _get_file_size() {
    uint64_t v = 0;
    QK_SELF("WeightFile", 0);
    QK_CHECK(qk_qkw_file_info(self->r, NULL, NULL, NULL, &v), 0);
    return v;
  }
}

/* ---- TensorInfo (a copy of one table entry) ---------------------------------------- */
%extend qk_swig_tensor_info {
  ~qk_swig_tensor_info() {
    if (self) free(self->name);
    free(self);
  }
  const char* _get_name() { QK_SELF("TensorInfo", NULL); return self->name; }
  size_t _get_index() { QK_SELF("TensorInfo", 0); return self->index; }
  size_t _get_rank() { QK_SELF("TensorInfo", 0); return self->rank; }
  int64_t _dim(size_t i) {
    QK_SELF("TensorInfo", 0);
    if (i >= self->rank) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "TensorInfo.dim: %zu out of range (rank %zu)", i, self->rank);
      return 0;
    }
    return self->shape[i];
  }
  qk_codec _get_codec() { QK_SELF("TensorInfo", QK_CODEC_RAW); return self->info.codec; }
  qk_dtype _get_dtype() { QK_SELF("TensorInfo", QK_DTYPE_F32); return self->info.dtype; }
  int32_t _get_axis() { QK_SELF("TensorInfo", 0); return self->info.axis; }
  int64_t _get_group_size() { QK_SELF("TensorInfo", 0); return self->info.group_size; }
  int32_t _get_levels() { QK_SELF("TensorInfo", 0); return self->info.levels; }
  int32_t _get_bits() { QK_SELF("TensorInfo", 0); return self->info.bits; }
  uint64_t _get_element_count() { QK_SELF("TensorInfo", 0); return self->info.element_count; }
  uint64_t _get_stored_bytes() { QK_SELF("TensorInfo", 0); return self->info.stored_bytes; }
  uint64_t _get_decoded_bytes() { QK_SELF("TensorInfo", 0); return self->info.decoded_bytes; }
  uint64_t _get_code_bytes() { QK_SELF("TensorInfo", 0); return self->info.code_bytes; }
  uint64_t _get_param_count() { QK_SELF("TensorInfo", 0); return self->info.param_count; }
  /* Measured by the writer: +inf exact, NaN not measured. */
  double _get_sqnr_db() { QK_SELF("TensorInfo", 0); return self->info.sqnr_db; }
  double _get_max_abs_error() { QK_SELF("TensorInfo", 0); return self->info.max_abs_error; }
  bool _get_compressed() { QK_SELF("TensorInfo", false); return self->info.compressed != 0; }
  bool _get_mappable() { QK_SELF("TensorInfo", false); return self->info.mappable != 0; }
  /* QK_OK, or QK_ERR_UNSUPPORTED for a codec this version does not know. */
  int _get_status() { QK_SELF("TensorInfo", 0); return (int)self->info.status; }
}

