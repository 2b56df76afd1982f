/* SPDX-License-Identifier: Apache-2.0 */
/* Part 3 of bindings/quantkit.i (included there, after model.i): the EXPERIMENTAL general-graph
 * API (quantkit.h, "General model graphs"): Attrs (qk_attrs), the graph-building methods of Model
 * and Run (a qk_run context). Name lists (node inputs and outputs, symbolic dim names) cross the
 * language boundary as ONE string in which every entry is followed by a space ("x  b " is
 * {"x", "", "b"}: "" leaves an optional input out), since graph names never contain a space
 * (printable ASCII 0x21..0x7E): no language needs a string-array typemap. Each language's
 * wrapper (Python _model.py, Java / C# proxy code) builds that string from its own list type. */

/* The Model methods below are emitted with the class (declared before this file), so their
 * helpers go to the runtime section, ahead of every class; they use no binding helper. */
%insert("runtime") %{
#include <stddef.h>
#include <string.h>
/* Splits a space-terminated name list ("a b " -> {"a", "b"}, "a  " -> {"a", ""}) in place into
 * at most `cap` entries. Returns the count, or -1 when there are more. A list without its final
 * space gets one (the common mistake "a b"). */
static long qk_swig_split_names(char* s, const char** names, size_t cap) {
  size_t n = 0;
  char* p = s;
  if (*p == '\0') return 0;
  for (;;) {
    char* sp = strchr(p, ' ');
    if (n == cap) return -1;
    names[n++] = p;
    if (sp == NULL) break; /* last entry without its terminating space */
    *sp = '\0';
    p = sp + 1;
    if (*p == '\0') break;
  }
  return (long)n;
}
/* Declared shape and dtype of a value: rank, dims (-1 symbolic), names (NULL for fixed dims);
 * a macro for the same reason (qk_swig_check is defined later, in the header section). */
#define qk_swig_value_shape(m, value, dims, names, rank, dtype) \
  qk_swig_check(qk_model_value_shape(m, value, dims, names, QK_MAX_RANK, rank, dtype))
%}

%{
#ifndef QK_NO_EXPERIMENTAL
/* A run context plus the model it runs (the C context does not expose it): output dtypes come
 * from the model's declared values, calibrate() needs it non-const. */
typedef struct qk_swig_run {
  qk_run* run;
  qk_model* model;
} qk_swig_run;

/* Bytes per element of a graph value dtype; 0 for others. */
static size_t qk_swig_graph_esize(qk_dtype dt) {
  switch ((int)dt) {
    case QK_DTYPE_S8: case QK_DTYPE_U8: case 10 /* QK_DTYPE_BOOL */: return 1;
    case QK_DTYPE_F16: return 2;
    case QK_DTYPE_S32: case QK_DTYPE_F32: return 4;
    case QK_DTYPE_S64: return 8;
    default: return 0;
  }
}

/* The shape of output `name` of the last invoke. */
static int qk_swig_run_out_shape(const qk_swig_run* r, const char* name, int64_t* shape, size_t* rank,
                                 uint64_t* count) {
  if (qk_swig_check(qk_run_output_shape(r->run, name, shape, QK_MAX_RANK, rank))) return 1;
  return qk_swig_check(qk_shape_element_count(shape, *rank, count));
}
#endif
%}

#ifndef QK_NO_EXPERIMENTAL
%rename(Attrs) qk_attrs;
%rename(Run) qk_swig_run;
typedef struct qk_attrs {} qk_attrs;
typedef struct qk_swig_run {} qk_swig_run;
%newobject qk_model::_graph;

/* ---- Attrs: typed node attributes (copied by add_node) ----------------------------------- */
%extend qk_attrs {
  qk_attrs() {
    qk_attrs* a = NULL;
    QK_CHECK(qk_attrs_create(&a), NULL);
    return a;
  }
  ~qk_attrs() { qk_attrs_destroy(self); }
  void _set_int(const char* name, int64_t value) {
    QK_SELF("Attrs", );
    QK_CHECK(qk_attrs_set_int(self, name, value), );
  }
  void _set_float(const char* name, float value) {
    QK_SELF("Attrs", );
    QK_CHECK(qk_attrs_set_float(self, name, value), );
  }
  void _set_string(const char* name, const char* value) {
    QK_SELF("Attrs", );
    QK_CHECK(qk_attrs_set_string(self, name, value), );
  }
  void _set_ints(const char* name, const int64_t* i64, size_t i64_len) {
    QK_SELF("Attrs", );
    QK_CHECK(qk_attrs_set_ints(self, name, i64, i64_len), );
  }
  void _set_floats(const char* name, const float* f32, size_t f32_len) {
    QK_SELF("Attrs", );
    QK_CHECK(qk_attrs_set_floats(self, name, f32, f32_len), );
  }
}

/* ---- Model: building and inspecting a graph model ------------------------------------------ */
%newobject qk_model::_load_onnx;
%newobject qk_model::_load_onnx_memory;
%extend qk_model {
  /* An ONNX model (a FLOAT graph model): from a file (external data beside it) or from bytes. */
  static qk_model* _load_onnx(const char* path) {
    qk_model* m = NULL;
    QK_CHECK(qk_model_load_onnx(path, NULL, &m), NULL);
    return m;
  }
  static qk_model* _load_onnx_memory(const void* raw, size_t raw_len) {
    qk_model* m = NULL;
    QK_CHECK(qk_model_load_onnx_memory(raw, raw_len, NULL, &m), NULL);
    return m;
  }
  /* Graph inputs (outputs != 0: outputs) in model order: their count and names. */
  size_t _io_count(int outputs) {
    size_t n = 0;
    QK_SELF("Model", 0);
    QK_CHECK(outputs ? qk_model_output_count(self, &n) : qk_model_input_count(self, &n), 0);
    return n;
  }
  const char* _io_name(int outputs, size_t index) {
    const char* name = NULL;
    QK_SELF("Model", NULL);
    QK_CHECK(outputs ? qk_model_output_name(self, index, &name) : qk_model_input_name(self, index, &name), NULL);
    return name;
  }
  /* An empty FLOAT graph model (no inputs, no nodes). */
  static qk_model* _graph() {
    qk_model* m = NULL;
    QK_CHECK(qk_model_create_graph(&m), NULL);
    return m;
  }
  bool _is_graph() {
    int g = 0;
    QK_SELF("Model", false);
    QK_CHECK(qk_model_is_graph(self, &g), false);
    return g != 0;
  }
  /* dims[i] < 0: symbolic, named by entry i of dim_names (space-terminated list with one entry
   * per dim, "" for fixed ones; null or "" when no dim is symbolic). */
  void _add_input(const char* name, qk_dtype dtype, const int64_t* dims, size_t ndims, const char* dim_names = NULL) {
    const char* names[QK_MAX_RANK];
    char* copy = NULL;
    long n = 0;
    QK_SELF("Model", );
    if (dim_names != NULL && dim_names[0] != '\0') {
      copy = qk_swig_strdup(dim_names);
      if (copy == NULL) {
        qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "Model.add_input: out of memory");
        return;
      }
      n = qk_swig_split_names(copy, names, QK_MAX_RANK);
      if (n < 0 || (size_t)n != ndims) {
        qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.add_input: %s dim names for %zu dims",
                     n < 0 ? "more" : "another count of", ndims);
        n = -1;
      }
    }
    if (n >= 0) {
      size_t i;
      for (i = 0; copy != NULL && i < ndims; i++)
        if (names[i][0] == '\0') names[i] = NULL;
      qk_swig_check(qk_model_add_input(self, name, dtype, dims, copy ? names : NULL, ndims));
    }
    free(copy);
  }
  /* A constant from raw bytes of `dtype` (f32, f16, s8, u8, s32, s64, bool) and shape `dims`. */
  void _add_constant_raw(const char* name, qk_dtype dtype, const void* raw, size_t raw_len, const int64_t* dims,
                         size_t ndims) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_constant(self, name, dtype, dims, ndims, raw, raw_len), );
  }
  /* Typed forms for the languages with typed arrays (Java, C#). */
  void _add_constant_f32(const char* name, const float* f32, size_t f32_len, const int64_t* dims, size_t ndims) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_constant(self, name, QK_DTYPE_F32, dims, ndims, f32, f32_len * sizeof(float)), );
  }
  void _add_constant_s64(const char* name, const int64_t* i64, size_t i64_len, const int64_t* dims, size_t ndims) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_constant(self, name, QK_DTYPE_S64, dims, ndims, i64, i64_len * sizeof(int64_t)), );
  }
  /* inputs / outputs: space-terminated name lists ("" entries in inputs: absent optional inputs);
   * attrs may be null. */
  void _add_node(const char* op_type, const char* name, const char* inputs, const char* outputs,
                 const qk_attrs* attrs = NULL) {
    const char* in[256];
    const char* out[256];
    char *ci = NULL, *co = NULL;
    long ni, no;
    QK_SELF("Model", );
    if (inputs == NULL || outputs == NULL) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.add_node: %s is null", inputs == NULL ? "inputs" : "outputs");
      return;
    }
    ci = qk_swig_strdup(inputs);
    co = qk_swig_strdup(outputs);
    if (ci == NULL || co == NULL) {
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "Model.add_node: out of memory");
    } else {
      ni = qk_swig_split_names(ci, in, 255);
      no = qk_swig_split_names(co, out, 255);
      if (ni < 0 || no < 0)
        qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.add_node: more than 255 %s", ni < 0 ? "inputs" : "outputs");
      else
        qk_swig_check(qk_model_add_node(self, op_type, name, in, (size_t)ni, out, (size_t)no, attrs));
    }
    free(ci);
    free(co);
  }
  void _add_output(const char* value) {
    QK_SELF("Model", );
    QK_CHECK(qk_model_add_output(self, value), );
  }
  /* Nodes in execution order: count + name(i) / op type(i). */
  size_t _get_node_count() {
    size_t n = 0;
    QK_SELF("Model", 0);
    QK_CHECK(qk_model_node_count(self, &n), 0);
    return n;
  }
  const char* _node_name(size_t index) {
    const char* s = NULL;
    QK_SELF("Model", NULL);
    QK_CHECK(qk_model_node_info(self, index, &s, NULL), NULL);
    return s;
  }
  const char* _node_op_type(size_t index) {
    const char* s = NULL;
    QK_SELF("Model", NULL);
    QK_CHECK(qk_model_node_info(self, index, NULL, &s), NULL);
    return s;
  }
  /* Declared shape of a value: rank, dim(i) (-1 for a symbolic dim), dim_name(i) (its symbol;
   * null for a fixed dim), dtype. */
  size_t _value_rank(const char* value) {
    int64_t d[QK_MAX_RANK];
    size_t r = 0;
    qk_dtype t;
    QK_SELF("Model", 0);
    if (qk_swig_value_shape(self, value, d, NULL, &r, &t)) return 0;
    return r;
  }
  int64_t _value_dim(const char* value, size_t i) {
    int64_t d[QK_MAX_RANK];
    size_t r = 0;
    qk_dtype t;
    QK_SELF("Model", 0);
    if (qk_swig_value_shape(self, value, d, NULL, &r, &t)) return 0;
    if (i >= r) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.value_dim: %zu out of range (rank %zu)", i, r);
      return 0;
    }
    return d[i];
  }
  const char* _value_dim_name(const char* value, size_t i) {
    int64_t d[QK_MAX_RANK];
    const char* names[QK_MAX_RANK];
    size_t r = 0;
    qk_dtype t;
    QK_SELF("Model", NULL);
    if (qk_swig_value_shape(self, value, d, names, &r, &t)) return NULL;
    if (i >= r) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Model.value_dim_name: %zu out of range (rank %zu)", i, r);
      return NULL;
    }
    return names[i];
  }
  qk_dtype _value_dtype(const char* value) {
    int64_t d[QK_MAX_RANK];
    size_t r = 0;
    qk_dtype t = QK_DTYPE_F32;
    QK_SELF("Model", t);
    qk_swig_value_shape(self, value, d, NULL, &r, &t);
    return t;
  }
}

/* ---- Run: inputs by name, invoke, outputs by name ----------------------------------------- */
/* The model must stay open while a Run of it exists (each language's wrapper keeps a reference
 * to the model object; closing the model explicitly first is an error of the caller). */
%extend qk_swig_run {
  qk_swig_run(qk_model* model) {
    qk_swig_run* r;
    if (model == NULL) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Run: the model is null or closed");
      return NULL;
    }
    r = (qk_swig_run*)calloc(1, sizeof *r);
    if (r == NULL) {
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "Run: out of memory");
      return NULL;
    }
    if (qk_swig_check(qk_run_create(model, &r->run))) {
      free(r);
      return NULL;
    }
    r->model = model;
    return r;
  }
  ~qk_swig_run() {
    if (self != NULL) qk_run_destroy(self->run);
    free(self);
  }
  /* An input from raw bytes of `dtype` (f32, s32, s64, bool) and shape `dims`. */
  void _set_input_raw(const char* name, qk_dtype dtype, const void* raw, size_t raw_len, const int64_t* dims,
                      size_t ndims) {
    QK_SELF("Run", );
    QK_CHECK(qk_run_set_input(self->run, name, dtype, raw, raw_len, dims, ndims), );
  }
  void _set_input_f32(const char* name, const float* f32, size_t f32_len, const int64_t* shape, size_t rank) {
    uint64_t n;
    QK_SELF("Run", );
    if (qk_swig_tensor("Run.set_input", "data", f32, f32_len, shape, rank, &n)) return;
    QK_CHECK(qk_run_set_input(self->run, name, QK_DTYPE_F32, f32, f32_len * sizeof(float), shape, rank), );
  }
  void _set_input_s64(const char* name, const int64_t* i64, size_t i64_len, const int64_t* dims, size_t ndims) {
    uint64_t n;
    QK_SELF("Run", );
    if (qk_swig_tensor("Run.set_input", "data", i64, i64_len, dims, ndims, &n)) return;
    QK_CHECK(qk_run_set_input(self->run, name, QK_DTYPE_S64, i64, i64_len * sizeof(int64_t), dims, ndims), );
  }
  /* Runs the model on the inputs set so far (pool may be null). */
  void _invoke(qk_threadpool* pool = NULL) {
    QK_SELF("Run", );
    QK_CHECK(qk_run_invoke(self->run, pool), );
  }
  /* A PREPARED model's observers see the inputs set so far. */
  void _calibrate() {
    QK_SELF("Run", );
    QK_CHECK(qk_model_calibrate_run(self->model, self->run), );
  }
  /* Shape of an output of the last invoke: rank + dim(i). */
  size_t _output_rank(const char* name) {
    int64_t s[QK_MAX_RANK];
    size_t r = 0;
    uint64_t n;
    QK_SELF("Run", 0);
    if (qk_swig_run_out_shape(self, name, s, &r, &n)) return 0;
    return r;
  }
  int64_t _output_dim(const char* name, size_t i) {
    int64_t s[QK_MAX_RANK];
    size_t r = 0;
    uint64_t n;
    QK_SELF("Run", 0);
    if (qk_swig_run_out_shape(self, name, s, &r, &n)) return 0;
    if (i >= r) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Run.output_dim: %zu out of range (rank %zu)", i, r);
      return 0;
    }
    return s[i];
  }
  /* An output of the last invoke in its own dtype and shape (Python: a numpy array of it). */
  qk_swig_bytes _get_output(const char* name) {
    qk_swig_buf b = qk_swig_buf_none();
    int64_t s[QK_MAX_RANK], d[QK_MAX_RANK];
    size_t r = 0, dr = 0, esize;
    uint64_t n;
    qk_dtype t = QK_DTYPE_F32;
    QK_SELF("Run", b);
    if (qk_swig_run_out_shape(self, name, s, &r, &n)) return b;
    if (qk_swig_value_shape(self->model, name, d, NULL, &dr, &t)) return b;
    esize = qk_swig_graph_esize(t);
    if (esize == 0) {
      qk_swig_fail(QK_ERR_UNSUPPORTED, "Run.get_output: output '%s' has dtype %d", name, (int)t);
      return b;
    }
    if (qk_swig_buf_alloc(&b, t, (size_t)n * esize, s, r)) return b;
    if (qk_swig_check(qk_run_get_output(self->run, name, t, b.data, b.nbytes))) qk_swig_buf_free(&b);
    return b;
  }
  /* The same as float32 (f32 outputs only; quantized outputs are returned dequantized). */
  qk_swig_f32 _get_output_f32(const char* name) {
    qk_swig_buf b = qk_swig_buf_none();
    int64_t s[QK_MAX_RANK];
    size_t r = 0;
    uint64_t n;
    QK_SELF("Run", b);
    if (qk_swig_run_out_shape(self, name, s, &r, &n)) return b;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)n * sizeof(float), s, r)) return b;
    if (qk_swig_check(qk_run_get_output(self->run, name, QK_DTYPE_F32, b.data, b.nbytes))) qk_swig_buf_free(&b);
    return b;
  }
}

/* ---- module-level helpers ---------------------------------------------------------------- */
%inline %{
/* The registered op types: count + name(i). */
static size_t qkbind_op_count(void) {
  size_t n = 0;
  QK_CHECK(qk_op_count(&n), 0);
  return n;
}
static const char* qkbind_op_name(size_t index) {
  const char* s = NULL;
  QK_CHECK(qk_op_name(index, &s), NULL);
  return s;
}
%}
#endif /* QK_NO_EXPERIMENTAL */
