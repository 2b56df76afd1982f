/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Python part of bindings/quantkit.i (included from there, before any declaration).
 *
 * - Errors: every wrapped call runs under one %exception; a failure calls the error factory that
 *   quantkit/__init__.py registers (QuantKitError subclasses carrying status and message).
 * - Arrays in: numpy arrays of the exact dtype that are C-contiguous are used in place (no copy);
 *   other arrays of that dtype are copied to a contiguous temporary; arrays of another dtype raise
 *   TypeError (no silent conversion: float64 is never narrowed to float32 behind your back);
 *   lists and tuples are converted. Rank above 8 raises ValueError.
 * - Arrays out: a numpy array that owns the result buffer the C code filled (no copy).
 * - The GIL is released around every library call (threads="1" in %module).
 */

%{
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

static PyObject* qk_py_error_factory = NULL;

/* Sets the Python exception for the error slot. Called with the GIL held. */
static void qk_py_raise(void) {
  PyObject* exc;
  if (qk_py_error_factory == NULL) {
    PyErr_Format(PyExc_RuntimeError, "QuantKit error %d: %s", qk_swig_err, qk_swig_msg);
    return;
  }
  exc = PyObject_CallFunction(qk_py_error_factory, "is", qk_swig_err, qk_swig_msg);
  if (exc == NULL) return; /* the factory's own exception propagates */
  PyErr_SetObject((PyObject*)Py_TYPE(exc), exc);
  Py_DECREF(exc);
}

static const char* qk_py_typename(int typenum) {
  switch (typenum) {
    case NPY_FLOAT32: return "float32";
    case NPY_INT8: return "int8";
    case NPY_UINT8: return "uint8";
    case NPY_INT32: return "int32";
    case NPY_UINT16: return "uint16";
    case NPY_FLOAT16: return "float16";
    case NPY_INT64: return "int64";
    default: return "?";
  }
}

/* A C-contiguous, aligned, native-order ndarray of one of `types` (n of them) viewing `obj`:
 * a new reference to obj itself when it already is one (zero copy). NULL with TypeError when obj
 * is an ndarray of another dtype, or the conversion error for other objects. */
static PyArrayObject* qk_py_in_array(PyObject* obj, const int* types, int ntypes, const char* fn) {
  int i;
  if (obj == Py_None) {
    PyErr_Format(PyExc_TypeError, "%s: expected a numpy array of dtype %s, got None", fn, qk_py_typename(types[0]));
    return NULL;
  }
  if (PyArray_Check(obj)) {
    PyArrayObject* a = (PyArrayObject*)obj;
    for (i = 0; i < ntypes; i++)
      if (PyArray_TYPE(a) == types[i]) break;
    if (i == ntypes) {
      if (ntypes == 1)
        PyErr_Format(PyExc_TypeError, "%s: expected a numpy array of dtype %s, got dtype %S", fn,
                     qk_py_typename(types[0]), (PyObject*)PyArray_DESCR(a));
      else
        PyErr_Format(PyExc_TypeError, "%s: expected a numpy array of dtype %s or %s, got dtype %S", fn,
                     qk_py_typename(types[0]), qk_py_typename(types[1]), (PyObject*)PyArray_DESCR(a));
      return NULL;
    }
    return (PyArrayObject*)PyArray_FromAny(obj, NULL, 0, 0, NPY_ARRAY_IN_ARRAY, NULL);
  }
  return (PyArrayObject*)PyArray_FromAny(obj, PyArray_DescrFromType(types[0]), 0, 0,
                                         NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST, NULL);
}

/* The array's shape as int64 (rank <= QK_MAX_RANK, else ValueError). */
static int qk_py_shape(PyArrayObject* a, int64_t* dims, const char* fn) {
  int i, nd = PyArray_NDIM(a);
  if (nd > QK_MAX_RANK) {
    PyErr_Format(PyExc_ValueError, "%s: rank %d above the maximum %d", fn, nd, QK_MAX_RANK);
    return 1;
  }
  for (i = 0; i < nd; i++) dims[i] = (int64_t)PyArray_DIM(a, i);
  return 0;
}

/* A sequence of ints (at most QK_MAX_RANK) into dims. */
static int qk_py_int64s(PyObject* obj, int64_t* dims, size_t* n, const char* fn) {
  PyObject* seq;
  Py_ssize_t i, len;
  if (obj == Py_None) {
    *n = 0;
    return 2; /* caller passes NULL */
  }
  seq = PySequence_Fast(obj, "expected a sequence of ints");
  if (seq == NULL) {
    PyErr_Format(PyExc_TypeError, "%s: expected a sequence of ints", fn);
    return 1;
  }
  len = PySequence_Fast_GET_SIZE(seq);
  if (len > QK_MAX_RANK) {
    Py_DECREF(seq);
    PyErr_Format(PyExc_ValueError, "%s: %zd values, at most %d allowed", fn, len, QK_MAX_RANK);
    return 1;
  }
  for (i = 0; i < len; i++) {
    PyObject* item = PySequence_Fast_GET_ITEM(seq, i);
    long long v;
    if (!PyLong_Check(item) && !PyIndex_Check(item)) {
      Py_DECREF(seq);
      PyErr_Format(PyExc_TypeError, "%s: expected ints, got %s", fn, Py_TYPE(item)->tp_name);
      return 1;
    }
    v = PyLong_AsLongLong(item);
    if (v == -1 && PyErr_Occurred()) {
      Py_DECREF(seq);
      return 1;
    }
    dims[i] = (int64_t)v;
  }
  *n = (size_t)len;
  Py_DECREF(seq);
  return 0;
}

static void qk_py_capsule_free(PyObject* cap) { free(PyCapsule_GetPointer(cap, "quantkit.buffer")); }

/* Hands a filled qk_swig_buf to a new numpy array that owns it. */
static PyObject* qk_py_take_buf(qk_swig_buf* b) {
  npy_intp dims[QK_MAX_RANK];
  int typenum;
  size_t i;
  PyObject *cap, *arr;
  switch (b->dtype) {
    case QK_DTYPE_F32: typenum = NPY_FLOAT32; break;
    case QK_DTYPE_F16: typenum = NPY_FLOAT16; break;
    case QK_DTYPE_BF16: typenum = NPY_UINT16; break;
    case QK_DTYPE_S8: typenum = NPY_INT8; break;
    case QK_DTYPE_S32: typenum = NPY_INT32; break;
    case QK_DTYPE_S64: typenum = NPY_INT64; break;
    default: typenum = (int)b->dtype == 10 /* QK_DTYPE_BOOL (graph values) */ ? NPY_BOOL : NPY_UINT8; break;
  }
  for (i = 0; i < b->rank; i++) dims[i] = (npy_intp)b->shape[i];
  cap = PyCapsule_New(b->data, "quantkit.buffer", qk_py_capsule_free);
  if (cap == NULL) {
    qk_swig_buf_free(b);
    return NULL;
  }
  b->data = NULL; /* the capsule owns it now */
  arr = PyArray_SimpleNewFromData((int)b->rank, dims, typenum, PyCapsule_GetPointer(cap, "quantkit.buffer"));
  if (arr == NULL) {
    Py_DECREF(cap);
    return NULL;
  }
  if (PyArray_SetBaseObject((PyArrayObject*)arr, cap) < 0) { /* steals cap even on failure */
    Py_DECREF(arr);
    return NULL;
  }
  return arr;
}
%}

%init %{
  import_array();
%}

/* Default arguments become optional Python arguments of one wrapper (no overload dispatch). */
%feature("compactdefaultargs");
%feature("autodoc", "2");

/* ---- names: methods `_foo` -> `foo`; flat functions keep their qk_ names ------------- */
%rename("%(strip:[_])s", %$ismember, %$isfunction) "";
/* These keep a raw name; quantkit/__init__.py, _files.py and _model.py add the friendlier Python
 * method (keywords, defaults, names or indices, tuples). */
%rename(_dequantize_raw) qk_qparams::_dequantize;
%rename(_create_raw) qk_qparams::_create;
%rename(_range_raw) qk_observer::_range;
%rename(_output_dim_raw) qk_swig_qconv2d::_output_dim;
%rename(_add_f32_raw) qk_swig_weight_writer::_add_f32;
%rename(_add_budget_raw) qk_swig_weight_writer::_add_budget;
%rename(_add_quantized_raw) qk_swig_weight_writer::_add_quantized;
%rename(_add_raw_raw) qk_swig_weight_writer::_add_raw;
%rename(_open_raw) qk_swig_weight_file::_open;
%rename(_from_bytes_raw) qk_swig_weight_file::_from_bytes;
%rename(_info_raw) qk_swig_weight_file::_info;
%rename(_decode_f32_raw) qk_swig_weight_file::_decode_f32;
%rename(_read_codes_raw) qk_swig_weight_file::_read_codes;
%rename(_read_params_raw) qk_swig_weight_file::_read_params;
%rename(_qparams_raw) qk_swig_weight_file::_qparams;
%rename(_find_raw) qk_swig_weight_file::_find;
%rename(_dim_raw) qk_swig_tensor_info::_dim;
%rename(_add_conv2d_raw) qk_model::_add_conv2d;
%rename(_add_linear_raw) qk_model::_add_linear;
%rename(_add_batchnorm_raw) qk_model::_add_batchnorm;
%rename(_add_max_pool2d_raw) qk_model::_add_max_pool2d;
%rename(_add_avg_pool2d_raw) qk_model::_add_avg_pool2d;
%rename(_layer_sqnr_raw) qk_model::_layer_sqnr;
%rename(_layer_max_error_raw) qk_model::_layer_max_error;
%rename(_add_concat_raw) qk_model::_add_concat;
%rename(_add_reshape_raw) qk_model::_add_reshape;
%rename(_tensor_dim_raw) qk_model::_tensor_dim;
%rename(_load_onnx_raw) qk_model::_load_onnx;
%rename(_load_onnx_memory_raw) qk_model::_load_onnx_memory;
%rename(_io_count_raw) qk_model::_io_count;
%rename(_io_name_raw) qk_model::_io_name;
%rename(_output_dim_raw) qk_model::_output_dim;
%rename(_output_rank_raw) qk_model::_get_output_rank;
%rename(_tensor_rank_raw) qk_model::_tensor_rank;
%rename(_load_raw) qk_model::_load;
%rename(cast_from_f32) qkbind_cast_from_f32;
%rename(cast_to_f32) qkbind_cast_to_f32;
%rename(sqnr) qkbind_sqnr;
%rename(isa_supported) qkbind_isa_supported;
%rename(_fake_quantize_learnable_backward_raw) qkbind_fake_quantize_learnable_backward;
/* The general-graph API (classes/graph.i): _model.py adds add_input, add_constant, add_node,
 * run_named, calibrate_named, nodes(), value_shape(), is_graph and quantkit.op_types(). */
%rename(_is_graph_raw) qk_model::_is_graph;
%rename(_add_input_raw) qk_model::_add_input;
%rename(_add_constant_raw) qk_model::_add_constant_raw;
%ignore qk_model::_add_constant_f32;
%ignore qk_model::_add_constant_s64;
%rename(_add_node_raw) qk_model::_add_node;
%rename(_node_count_raw) qk_model::_get_node_count;
%rename(_node_name_raw) qk_model::_node_name;
%rename(_node_op_type_raw) qk_model::_node_op_type;
%rename(_value_rank_raw) qk_model::_value_rank;
%rename(_value_dim_raw) qk_model::_value_dim;
%rename(_value_dim_name_raw) qk_model::_value_dim_name;
%rename(_value_dtype_raw) qk_model::_value_dtype;
%rename(_op_count_raw) qkbind_op_count;
%rename(_op_name_raw) qkbind_op_name;

/* ---- the one error -> exception mapping ------------------------------------------------ */
%exception {
  qk_swig_clear();
  $action
  if (qk_swig_err != 0) {
    qk_py_raise();
    SWIG_fail;
  }
}
/* Flat qk_ functions: a failing status raises; success returns None (plus any outputs). */
%typemap(out) qk_status {
  if ($1 != QK_OK) {
    qk_swig_check($1);
    qk_py_raise();
    SWIG_fail;
  }
  $result = SWIG_Py_Void();
}

/* ---- returned arrays ---------------------------------------------------------------- */
%typemap(out) qk_swig_f32, qk_swig_bytes, qk_swig_s32, qk_swig_u16 {
  $result = qk_py_take_buf(&$1);
  if ($result == NULL) SWIG_fail;
}

/* ---- tensors: one numpy array gives data, element count and shape ----------------------- */
%define QK_PY_TENSOR(CTYPE, NAME, TYPELIST, NTYPES)
%typemap(in) (const CTYPE* NAME, size_t NAME##_len, const int64_t* shape, size_t rank)
    (PyArrayObject* arr = NULL, int64_t dims_tmp[QK_MAX_RANK]) {
  static const int types_[] = TYPELIST;
  arr = qk_py_in_array($input, types_, NTYPES, "$symname");
  if (arr == NULL) SWIG_fail;
  if (qk_py_shape(arr, dims_tmp, "$symname")) SWIG_fail;
  $1 = (CTYPE*)PyArray_DATA(arr);
  $2 = (size_t)PyArray_SIZE(arr);
  $3 = dims_tmp;
  $4 = (size_t)PyArray_NDIM(arr);
}
%typemap(freearg) (const CTYPE* NAME, size_t NAME##_len, const int64_t* shape, size_t rank) {
  Py_XDECREF(arr$argnum);
}
%enddef
QK_PY_TENSOR(float, f32, { NPY_FLOAT32 }, 1)
QK_PY_TENSOR(int8_t, s8, { NPY_INT8 }, 1)
QK_PY_TENSOR(void, bytes, %arg({ NPY_UINT8, NPY_INT8 }), 2)
QK_PY_TENSOR(uint16_t, u16, %arg({ NPY_FLOAT16, NPY_UINT16 }), 2)

/* ---- flat arrays (any shape, read as a flat run of elements); None gives a null pointer --- */
%define QK_PY_FLAT(CTYPE, NAME, TYPENUM)
%typemap(in) (const CTYPE* NAME, size_t NAME##_len) (PyArrayObject* arr = NULL) {
  if ($input == Py_None) {
    $1 = NULL;
    $2 = 0;
  } else {
    static const int types_[] = { TYPENUM };
    arr = qk_py_in_array($input, types_, 1, "$symname");
    if (arr == NULL) SWIG_fail;
    $1 = (CTYPE*)PyArray_DATA(arr);
    $2 = (size_t)PyArray_SIZE(arr);
  }
}
%typemap(freearg) (const CTYPE* NAME, size_t NAME##_len) { Py_XDECREF(arr$argnum); }
%enddef
QK_PY_FLAT(float, f32, NPY_FLOAT32)
QK_PY_FLAT(float, f32b, NPY_FLOAT32)
QK_PY_FLAT(float, opt_f32, NPY_FLOAT32)
QK_PY_FLAT(int32_t, s32, NPY_INT32)
QK_PY_FLAT(int64_t, i64, NPY_INT64)

/* ---- raw bytes through the buffer protocol (bytes, bytearray, memoryview, ndarray) ------- */
%typemap(in) (const void* raw, size_t raw_len) (Py_buffer view, int have_view = 0) {
  if (PyObject_GetBuffer($input, &view, PyBUF_C_CONTIGUOUS) != 0) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "$symname: expected a contiguous bytes-like object, got %s",
                 Py_TYPE($input)->tp_name);
    SWIG_fail;
  }
  have_view = 1;
  $1 = view.buf;
  $2 = (size_t)view.len;
}
%typemap(freearg) (const void* raw, size_t raw_len) {
  if (have_view$argnum) PyBuffer_Release(&view$argnum);
}

/* ---- short int64 lists: shapes, strides, paddings -------------------------------------- */
%typemap(in) (const int64_t* dims, size_t ndims) (int64_t tmp[QK_MAX_RANK]) {
  int r_ = qk_py_int64s($input, tmp, &$2, "$symname");
  if (r_ == 1) SWIG_fail;
  $1 = r_ == 2 ? NULL : tmp;
}
%apply (const int64_t* dims, size_t ndims) { (const int64_t* shape, size_t rank) };

/* ---- flat functions of the header, by parameter pattern --------------------------------- */
/* (const float* data, const int64_t* shape, size_t rank): one float32 array. */
%typemap(in) (const float* data, const int64_t* shape, size_t rank)
    (PyArrayObject* arr = NULL, int64_t dims_tmp[QK_MAX_RANK]) {
  static const int types_[] = { NPY_FLOAT32 };
  arr = qk_py_in_array($input, types_, 1, "$symname");
  if (arr == NULL) SWIG_fail;
  if (qk_py_shape(arr, dims_tmp, "$symname")) SWIG_fail;
  $1 = (float*)PyArray_DATA(arr);
  $2 = dims_tmp;
  $3 = (size_t)PyArray_NDIM(arr);
}
%typemap(freearg) (const float* data, const int64_t* shape, size_t rank) { Py_XDECREF(arr$argnum); }
%apply (const float* data, const int64_t* shape, size_t rank) { (const float* src, const int64_t* shape, size_t rank) };

/* (void* dst, size_t dst_bytes): a writable, contiguous buffer the caller allocated. */
%typemap(in) (void* dst, size_t dst_bytes) (Py_buffer view, int have_view = 0) {
  if (PyObject_GetBuffer($input, &view, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) != 0) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "$symname: expected a writable contiguous buffer, got %s",
                 Py_TYPE($input)->tp_name);
    SWIG_fail;
  }
  have_view = 1;
  $1 = view.buf;
  $2 = (size_t)view.len;
}
%typemap(freearg) (void* dst, size_t dst_bytes) {
  if (have_view$argnum) PyBuffer_Release(&view$argnum);
}

/* T** handle_out: the new handle is returned, owned by Python. */
%typemap(in, numinputs=0) SWIGTYPE ** ($*1_ltype tmp = NULL) { $1 = ($1_ltype)&tmp; }
%typemap(argout) SWIGTYPE ** {
  $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj((void*)tmp$argnum, $*1_descriptor, SWIG_POINTER_OWN));
}
/* const char** name_out: a static string. */
%typemap(in, numinputs=0) const char** isa_out (const char* tmp = NULL) { $1 = ($1_ltype)&tmp; }
%typemap(argout) const char** isa_out {
  $result = SWIG_Python_AppendOutput($result, PyUnicode_FromString(tmp$argnum ? tmp$argnum : ""));
}
/* Scalar outputs, by the header's naming convention (`*_out`): returned values. */
%define QK_PY_OUT(CTYPE, NAME, CONVERT)
%typemap(in, numinputs=0) CTYPE* NAME (CTYPE tmp = 0) { $1 = &tmp; }
%typemap(argout) CTYPE* NAME { $result = SWIG_Python_AppendOutput($result, CONVERT); }
%enddef
QK_PY_OUT(qk_dtype, dtype_out, PyLong_FromLong((long)tmp$argnum))
QK_PY_OUT(qk_qscheme, scheme_out, PyLong_FromLong((long)tmp$argnum))
QK_PY_OUT(qk_convention, convention_out, PyLong_FromLong((long)tmp$argnum))
QK_PY_OUT(qk_observer_kind, kind_out, PyLong_FromLong((long)tmp$argnum))
QK_PY_OUT(int32_t, axis_out, PyLong_FromLong((long)tmp$argnum))
QK_PY_OUT(int32_t, quant_min_out, PyLong_FromLong((long)tmp$argnum))
QK_PY_OUT(int32_t, quant_max_out, PyLong_FromLong((long)tmp$argnum))
QK_PY_OUT(int64_t, group_size_out, PyLong_FromLongLong((long long)tmp$argnum))
QK_PY_OUT(int64_t, n_out, PyLong_FromLongLong((long long)tmp$argnum))
QK_PY_OUT(int64_t, k_out, PyLong_FromLongLong((long long)tmp$argnum))
QK_PY_OUT(int64_t, out_h, PyLong_FromLongLong((long long)tmp$argnum))
QK_PY_OUT(int64_t, out_w, PyLong_FromLongLong((long long)tmp$argnum))
QK_PY_OUT(float, eps_out, PyFloat_FromDouble((double)tmp$argnum))
QK_PY_OUT(double, value_out, PyFloat_FromDouble(tmp$argnum))
QK_PY_OUT(double, sqnr_db_out, PyFloat_FromDouble(tmp$argnum))
QK_PY_OUT(double, max_abs_error_out, PyFloat_FromDouble(tmp$argnum))
QK_PY_OUT(double, mse_out, PyFloat_FromDouble(tmp$argnum))
QK_PY_OUT(size_t, count_out, PyLong_FromSize_t(tmp$argnum))
QK_PY_OUT(size_t, bytes_out, PyLong_FromSize_t(tmp$argnum))
QK_PY_OUT(size_t, size_out, PyLong_FromSize_t(tmp$argnum))
QK_PY_OUT(uint64_t, count_out, PyLong_FromUnsignedLongLong(tmp$argnum))
QK_PY_OUT(uint64_t, nan_count_out, PyLong_FromUnsignedLongLong(tmp$argnum))
QK_PY_OUT(uint64_t, nonfinite_out, PyLong_FromUnsignedLongLong(tmp$argnum))
QK_PY_OUT(int, supported_out, PyBool_FromLong(tmp$argnum))

/* ---- Python-only helpers ------------------------------------------------------------- */
%rename(_set_error_factory) qkbind_set_error_factory;
%rename(_forget) qkbind_forget;
/* These touch Python objects: they keep the GIL. */
%nothread qkbind_set_error_factory;
%nothread qkbind_forget;
%inline %{
/* Registers the callable (status, message) -> exception used for every error. */
static void qkbind_set_error_factory(PyObject* factory) {
  Py_XINCREF(factory);
  Py_XDECREF(qk_py_error_factory);
  qk_py_error_factory = factory;
}
/* Forgets the native pointer of a proxy (after its destroy): later calls see NULL. */
static void qkbind_forget(PyObject* proxy) {
  SwigPyObject* s = SWIG_Python_GetSwigThis(proxy);
  if (s != NULL) {
    s->ptr = NULL;
    s->own = 0;
  }
}
%}

/* close(), context manager, repr: added to every handle class. */
%define QK_PY_CLOSABLE(CSTRUCT)
%extend CSTRUCT {
%pythoncode %{
    def close(self) -> None:
        """Releases the native object now. Idempotent; any later method call raises
        quantkit.ClosedError (never touches freed memory)."""
        this = self.__dict__.get("this")
        if this is not None and int(this) != 0:
            if this.own():
                type(self).__swig_destroy__(self)
            _core._forget(self)

    @property
    def closed(self) -> bool:
        this = self.__dict__.get("this")
        return this is None or int(this) == 0

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return "<quantkit.%s %s>" % (type(self).__name__, "closed" if self.closed else hex(int(self.this)))
%}
}
%enddef
QK_PY_CLOSABLE(qk_quant_spec)
QK_PY_CLOSABLE(qk_qparams)
QK_PY_CLOSABLE(qk_observer)
QK_PY_CLOSABLE(qk_threadpool)
QK_PY_CLOSABLE(qk_packed_weights)
QK_PY_CLOSABLE(qk_swig_qlinear)
QK_PY_CLOSABLE(qk_swig_dynamic_linear)
QK_PY_CLOSABLE(qk_swig_qconv2d)
QK_PY_CLOSABLE(qk_swig_weight_writer)
QK_PY_CLOSABLE(qk_swig_encoding)
QK_PY_CLOSABLE(qk_swig_weight_file)
QK_PY_CLOSABLE(qk_swig_tensor_info)
QK_PY_CLOSABLE(qk_model)
QK_PY_CLOSABLE(qk_attrs)
QK_PY_CLOSABLE(qk_swig_run)
