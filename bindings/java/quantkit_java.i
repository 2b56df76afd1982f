/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Java part of bindings/quantkit.i (included from there, before any declaration).
 * Package org.quantkit (swig -package); classes QuantKit (flat qk_ functions) and QuantKitJNI.
 *
 * - Errors: one place. %exception records nothing itself: every method fills the error slot,
 *   the `qk_status` out typemap fills it for flat functions, and qk_java_throw() turns the slot
 *   into an org.quantkit.QuantKitException (unchecked: status + qk_last_error() text). The throw
 *   happens after the call and the glue then only releases arrays (allowed with a pending
 *   exception) and returns, so nothing is leaked on the error path.
 * - Arrays in: float[]/byte[]/int[]/short[]/long[]; copied in bulk by Get<T>ArrayElements and
 *   released with JNI_ABORT (inputs are never written back). A null array reaches the C code as
 *   NULL and is reported there ("... is null").
 * - Arrays out: a new Java array of the result's element type (qk_swig_buf copied once).
 * - int64_t is Java long; size_t and uint64_t are long too (no BigInteger: counts never reach
 *   2^63). See "64-bit integers" below for how, without `long long*` casts in the glue.
 * - Handles implement AutoCloseable: close() frees the native object and leaves a 0 pointer, so
 *   any later method throws (status CLOSED), never touches freed memory. No finalizer (JEP 421):
 *   NativeCleaner frees handles that were never closed when they become unreachable.
 */

%{
#include <jni.h>

/* Throws org.quantkit.QuantKitException(status, message) for the error slot. */
static void qk_java_throw(JNIEnv* jenv) {
  jclass cls;
  jmethodID ctor;
  jstring msg;
  jthrowable exc;
  if ((*jenv)->ExceptionCheck(jenv)) return; /* a JVM error (e.g. OutOfMemoryError) wins */
  cls = (*jenv)->FindClass(jenv, "org/quantkit/QuantKitException");
  if (cls == NULL) return; /* NoClassDefFoundError pending */
  ctor = (*jenv)->GetMethodID(jenv, cls, "<init>", "(ILjava/lang/String;)V");
  if (ctor == NULL) return;
  msg = (*jenv)->NewStringUTF(jenv, qk_swig_msg);
  if (msg == NULL) return;
  exc = (jthrowable)(*jenv)->NewObject(jenv, cls, ctor, (jint)qk_swig_err, msg);
  if (exc != NULL) (*jenv)->Throw(jenv, exc);
  (*jenv)->DeleteLocalRef(jenv, msg);
  (*jenv)->DeleteLocalRef(jenv, cls);
}

/* A new Java array holding the result (element type from b->dtype); frees b. NULL after an
 * error (nothing is created while an exception is pending). */
static jobject qk_java_take_buf(JNIEnv* jenv, qk_swig_buf* b) {
  jobject out = NULL;
  size_t n;
  if (qk_swig_err == 0 && b->data != NULL && !(*jenv)->ExceptionCheck(jenv)) {
    switch (b->dtype) {
      case QK_DTYPE_F32:
        n = b->nbytes / 4;
        out = (*jenv)->NewFloatArray(jenv, (jsize)n);
        if (out) (*jenv)->SetFloatArrayRegion(jenv, (jfloatArray)out, 0, (jsize)n, (const jfloat*)b->data);
        break;
      case QK_DTYPE_S32:
        n = b->nbytes / 4;
        out = (*jenv)->NewIntArray(jenv, (jsize)n);
        if (out) (*jenv)->SetIntArrayRegion(jenv, (jintArray)out, 0, (jsize)n, (const jint*)b->data);
        break;
      case QK_DTYPE_F16:
      case QK_DTYPE_BF16:
        n = b->nbytes / 2;
        out = (*jenv)->NewShortArray(jenv, (jsize)n);
        if (out) (*jenv)->SetShortArrayRegion(jenv, (jshortArray)out, 0, (jsize)n, (const jshort*)b->data);
        break;
      default: /* S8, U8, packed 4-bit: bytes (u8 codes read back with & 0xFF) */
        n = b->nbytes;
        out = (*jenv)->NewByteArray(jenv, (jsize)n);
        if (out) (*jenv)->SetByteArrayRegion(jenv, (jbyteArray)out, 0, (jsize)n, (const jbyte*)b->data);
        break;
    }
  }
  qk_swig_buf_free(b);
  return out;
}
%}

/* ---- names: methods `_foo_bar` -> `fooBar`; enums and their constants without prefixes ---- */
%rename("%(lowercamelcase)s", %$ismember, %$isfunction) "";
%rename(Status) qk_status;
%rename(DType) qk_dtype;
%rename(QScheme) qk_qscheme;
%rename(Convention) qk_convention;
%rename(ObserverKind) qk_observer_kind;
%rename(ObserverParam) qk_observer_param;
%rename(FoldTarget) qk_fold_target;
%rename(OutputKind) qk_output_kind;
%rename(RequantMode) qk_requant_mode;
%rename(Codec) qk_codec;
%rename(VerifyMode) qk_verify_mode;
%rename(LayerKind) qk_layer_kind;
%rename(ModelState) qk_model_state;
/* Enum constants keep their C names (DType.QK_DTYPE_U8): SWIG's C mode has one namespace for
 * every enum item, so stripped names collide (QK_DTYPE_S32 / QK_OUTPUT_S32) and are dropped. */
%rename(castFromF32) qkbind_cast_from_f32;
%rename(castToF32) qkbind_cast_to_f32;
%rename(sqnr) qkbind_sqnr;
%rename(isaSupported) qkbind_isa_supported;
/* General graphs (classes/graph.i): the joined-name forms are wrapped by addInput / addNode
 * (String[] lists) below; Run.getOutput returns float[]. */
%rename(opCount) qkbind_op_count;
%rename(opName) qkbind_op_name;
%rename(addInputJoined) qk_model::_add_input;
%rename(addNodeJoined) qk_model::_add_node;
%rename(getOutputBytes) qk_swig_run::_get_output;

/* Proper Java enums (switch, values(), EnumSet) instead of SWIG's default type-safe-enum classes;
 * their values are compile-time constants (no JNI call per value). */
%include <enums.swg>
%javaconst(1);

/* ---- the one error -> exception mapping ------------------------------------------------ */
%exception {
  qk_swig_clear();
  $action
  if (qk_swig_err != 0) qk_java_throw(jenv);
}
/* Flat qk_ functions: a failing status throws; success returns Status.QK_OK. (Not void: the
 * Status enum class itself is generated from the same type's Java typemaps.) */
%typemap(out) qk_status {
  $result = (jint)$1;
  if ($1 != QK_OK) {
    qk_swig_check($1);
    qk_java_throw(jenv);
  }
}
/* qk_status as a value (qk_status_string's argument, a struct field) stays the Status enum. */
%apply enum SWIGTYPE { qk_status status };

/* ---- 64-bit integers: Java long ------------------------------------------------------ */
/* On LP64 (java.cmake passes -DSWIGWORDSIZE64 there, as python.cmake does) stdint.i spells
 * int64_t `long`, the C type the header's int64_t* parameters really have; without it SWIG casts
 * them to `long long*` (-Wincompatible-pointer-types). SWIG's Java default for C `long` is the
 * 32-bit int of ILP32/LLP64; on LP64 a C long is 64-bit, so it maps to Java long here. */
#if defined(SWIGWORDSIZE64)
%apply long long { long, unsigned long };
%apply const long long & { const long &, const unsigned long & };
#else
%apply long long { uint64_t };
%apply const long long & { const uint64_t & };
#endif

/* ---- returned arrays ---------------------------------------------------------------- */
%define QK_JAVA_OUT_ARRAY(CTYPE, JNITYPE, JTYPE)
%typemap(jni) CTYPE #JNITYPE
%typemap(jtype) CTYPE #JTYPE
%typemap(jstype) CTYPE #JTYPE
%typemap(javaout) CTYPE { return $jnicall; }
%typemap(out) CTYPE { $result = (JNITYPE)qk_java_take_buf(jenv, &$1); }
%enddef
QK_JAVA_OUT_ARRAY(qk_swig_f32, jfloatArray, float[])
QK_JAVA_OUT_ARRAY(qk_swig_bytes, jbyteArray, byte[])
QK_JAVA_OUT_ARRAY(qk_swig_s32, jintArray, int[])
QK_JAVA_OUT_ARRAY(qk_swig_u16, jshortArray, short[])

/* ---- arrays in: (const T* NAME, size_t NAME_len) ----------------------------------------- */
/* JNITYPE/JTYPE the JNI and Java array types, JELEM the JNI element name (Float, Byte, ...). */
%define QK_JAVA_IN_ARRAY(CTYPE, NAME, JNITYPE, JTYPE, JELEM)
%typemap(jni) (CTYPE NAME, size_t NAME##_len) #JNITYPE
%typemap(jtype) (CTYPE NAME, size_t NAME##_len) #JTYPE
%typemap(jstype) (CTYPE NAME, size_t NAME##_len) #JTYPE
%typemap(javain) (CTYPE NAME, size_t NAME##_len) "$javainput"
%typemap(in) (CTYPE NAME, size_t NAME##_len) {
  $1 = NULL;
  $2 = 0;
  if ($input) {
    $1 = ($1_ltype)(*jenv)->Get##JELEM##ArrayElements(jenv, $input, NULL);
    if ($1 == NULL) return $null; /* OutOfMemoryError pending */
    $2 = (size_t)(*jenv)->GetArrayLength(jenv, $input);
  }
}
%typemap(freearg) (CTYPE NAME, size_t NAME##_len) {
  if ($1) (*jenv)->Release##JELEM##ArrayElements(jenv, $input, (void*)$1, JNI_ABORT);
}
%enddef
QK_JAVA_IN_ARRAY(const float*, f32, jfloatArray, float[], Float)
QK_JAVA_IN_ARRAY(const float*, f32b, jfloatArray, float[], Float)
QK_JAVA_IN_ARRAY(const float*, opt_f32, jfloatArray, float[], Float)
QK_JAVA_IN_ARRAY(const int8_t*, s8, jbyteArray, byte[], Byte)
QK_JAVA_IN_ARRAY(const void*, bytes, jbyteArray, byte[], Byte)
QK_JAVA_IN_ARRAY(const void*, raw, jbyteArray, byte[], Byte)
QK_JAVA_IN_ARRAY(const int32_t*, s32, jintArray, int[], Int)
QK_JAVA_IN_ARRAY(const uint16_t*, u16, jshortArray, short[], Short)
QK_JAVA_IN_ARRAY(const int64_t*, i64, jlongArray, long[], Long)

/* ---- short int64 lists (shapes, strides, paddings): long[] copied into a local array ------ */
/* A list longer than QK_MAX_RANK arrives as QK_MAX_RANK + 1 valid entries, which every C check
 * rejects ("rank above 8"); returning early here would leak the arrays already taken. */
%define QK_JAVA_DIMS(NAME, LEN)
%typemap(jni) (const int64_t* NAME, size_t LEN) "jlongArray"
%typemap(jtype) (const int64_t* NAME, size_t LEN) "long[]"
%typemap(jstype) (const int64_t* NAME, size_t LEN) "long[]"
%typemap(javain) (const int64_t* NAME, size_t LEN) "$javainput"
%typemap(in) (const int64_t* NAME, size_t LEN) (int64_t tmp[QK_MAX_RANK + 1]) {
  $1 = NULL;
  $2 = 0;
  if ($input) {
    jsize n_ = (*jenv)->GetArrayLength(jenv, $input);
    if (n_ > QK_MAX_RANK + 1) n_ = QK_MAX_RANK + 1;
    (*jenv)->GetLongArrayRegion(jenv, $input, 0, n_, (jlong*)tmp);
    $1 = tmp;
    $2 = (size_t)n_;
  }
}
%enddef
QK_JAVA_DIMS(shape, rank)
QK_JAVA_DIMS(dims, ndims)
QK_JAVA_DIMS(dims_b, ndims_b)
QK_JAVA_DIMS(dims_c, ndims_c)

/* ---- flat functions of the header, by parameter pattern ------------------------------- */
/* Scalar outputs (`*_out`): a one-element array the call fills (Java has no out parameters). */
%define QK_JAVA_OUT(CTYPE, NAME, JNITYPE, JTYPE, JELEM, JCTYPE)
%typemap(jni) CTYPE* NAME #JNITYPE
%typemap(jtype) CTYPE* NAME #JTYPE
%typemap(jstype) CTYPE* NAME #JTYPE
%typemap(javain) CTYPE* NAME "$javainput"
%typemap(in) CTYPE* NAME (CTYPE tmp = 0) { $1 = &tmp; }
/* After the call (an early return would leak the arrays already taken): a missing array is an
 * error only once the call itself succeeded. */
%typemap(argout) CTYPE* NAME {
  if (qk_swig_err == 0) {
    if ($input != NULL && (*jenv)->GetArrayLength(jenv, $input) >= 1) {
      JCTYPE v_ = (JCTYPE)tmp$argnum;
      (*jenv)->Set##JELEM##ArrayRegion(jenv, $input, 0, 1, &v_);
    } else {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "$symname: $1_name needs an array of length 1");
      qk_java_throw(jenv);
    }
  }
}
%enddef
QK_JAVA_OUT(int64_t, n_out, jlongArray, long[], Long, jlong)
QK_JAVA_OUT(int64_t, k_out, jlongArray, long[], Long, jlong)
QK_JAVA_OUT(int64_t, out_h, jlongArray, long[], Long, jlong)
QK_JAVA_OUT(int64_t, out_w, jlongArray, long[], Long, jlong)
QK_JAVA_OUT(int64_t, group_size_out, jlongArray, long[], Long, jlong)
QK_JAVA_OUT(uint64_t, count_out, jlongArray, long[], Long, jlong)
QK_JAVA_OUT(uint64_t, nonfinite_out, jlongArray, long[], Long, jlong)
QK_JAVA_OUT(size_t, count_out, jlongArray, long[], Long, jlong)
QK_JAVA_OUT(size_t, size_out, jlongArray, long[], Long, jlong)
QK_JAVA_OUT(size_t, index_out, jlongArray, long[], Long, jlong)
QK_JAVA_OUT(size_t, rank_out, jlongArray, long[], Long, jlong)
QK_JAVA_OUT(int32_t, axis_out, jintArray, int[], Int, jint)
QK_JAVA_OUT(int32_t, quant_min_out, jintArray, int[], Int, jint)
QK_JAVA_OUT(int32_t, quant_max_out, jintArray, int[], Int, jint)
QK_JAVA_OUT(int, supported_out, jintArray, int[], Int, jint)
QK_JAVA_OUT(float, eps_out, jfloatArray, float[], Float, jfloat)
QK_JAVA_OUT(double, value_out, jdoubleArray, double[], Double, jdouble)
QK_JAVA_OUT(double, sqnr_db_out, jdoubleArray, double[], Double, jdouble)

/* ---- handles: AutoCloseable, freed by close() or (if forgotten) by a Cleaner ------------- */
/* SWIG's default proxy keeps swigCPtr + a finalizer. This body adds a NativeCleaner registration
 * whose action holds only the pointer (never the proxy, or it would never become unreachable);
 * close() = delete() runs it at most once and zeroes swigCPtr, which the C methods see as NULL. */
%typemap(javafinalize) SWIGTYPE ""
%define QK_JAVA_CLOSABLE(CSTRUCT, DELETE_FN)
%typemap(javainterfaces) CSTRUCT "java.lang.AutoCloseable"
%typemap(javainterfaces) struct CSTRUCT "java.lang.AutoCloseable"
%typemap(javabody) CSTRUCT, struct CSTRUCT %{
  private transient long swigCPtr;
  protected transient boolean swigCMemOwn;
  private NativeCleaner.Cleanable swigCleanable;

  /* Runs on the Cleaner's thread for a handle that was never closed. */
  private static final class Free implements Runnable {
    private final long ptr;
    Free(long ptr) { this.ptr = ptr; }
    @Override public void run() { QuantKitJNI.DELETE_FN(ptr); }
  }

  protected $javaclassname(long cPtr, boolean cMemoryOwn) {
    swigCMemOwn = cMemoryOwn;
    swigCPtr = cPtr;
    if (cMemoryOwn && cPtr != 0) swigCleanable = NativeCleaner.register(this, new Free(cPtr));
  }

  protected static long getCPtr($javaclassname obj) {
    return (obj == null) ? 0 : obj.swigCPtr;
  }

  /** True once close() ran: every method then throws QuantKitException (status CLOSED). */
  public boolean isClosed() { return swigCPtr == 0; }

  /** Frees the native object now. Idempotent. */
  @Override public void close() { delete(); }
%}
%typemap(javadestruct, methodname="delete", methodmodifiers="public synchronized") CSTRUCT, struct CSTRUCT {
    if (swigCPtr != 0) {
      if (swigCMemOwn && swigCleanable != null) {
        swigCMemOwn = false;
        swigCleanable.clean();
      }
      swigCleanable = null;
      swigCPtr = 0;
    }
  }
%enddef
QK_JAVA_CLOSABLE(qk_quant_spec, delete_QuantSpec)
QK_JAVA_CLOSABLE(qk_qparams, delete_QParams)
QK_JAVA_CLOSABLE(qk_observer, delete_Observer)
QK_JAVA_CLOSABLE(qk_threadpool, delete_ThreadPool)
QK_JAVA_CLOSABLE(qk_packed_weights, delete_PackedWeights)
QK_JAVA_CLOSABLE(qk_swig_qlinear, delete_QLinear)
QK_JAVA_CLOSABLE(qk_swig_dynamic_linear, delete_DynamicLinear)
QK_JAVA_CLOSABLE(qk_swig_qconv2d, delete_QConv2d)
QK_JAVA_CLOSABLE(qk_swig_weight_writer, delete_WeightWriter)
QK_JAVA_CLOSABLE(qk_swig_encoding, delete_Encoding)
QK_JAVA_CLOSABLE(qk_swig_weight_file, delete_WeightFile)
QK_JAVA_CLOSABLE(qk_swig_tensor_info, delete_TensorInfo)
QK_JAVA_CLOSABLE(qk_model, delete_Model)
QK_JAVA_CLOSABLE(qk_attrs, delete_Attrs)
QK_JAVA_CLOSABLE(qk_swig_run, delete_Run)

/* ---- default arguments: C-mode SWIG makes no overloads for them, so the short forms ---- */
%typemap(javacode) qk_swig_qlinear, struct qk_swig_qlinear %{
  /** No clamp, float requantization; outputQparams only for QK_OUTPUT_QUANTIZED. */
  public QLinear(PackedWeights weights, QParams inputQparams, OutputKind outputKind, QParams outputQparams) {
    this(weights, inputQparams, outputKind, outputQparams, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY,
         RequantMode.QK_REQUANT_FLOAT);
  }
  public QLinear(PackedWeights weights, QParams inputQparams, OutputKind outputKind) {
    this(weights, inputQparams, outputKind, null);
  }
  /** Input codes [..., k] (u8 codes as bytes) on the caller's thread. */
  public byte[] run(byte[] input, long[] shape) { return run(input, shape, null); }
  public int[] runS32(byte[] input, long[] shape) { return runS32(input, shape, null); }
  public float[] runF32(byte[] input, long[] shape) { return runF32(input, shape, null); }
%}
%typemap(javacode) qk_swig_dynamic_linear, struct qk_swig_dynamic_linear %{
  public float[] run(float[] input, long[] shape) { return run(input, shape, null); }
%}
%typemap(javacode) qk_swig_qconv2d, struct qk_swig_qconv2d %{
  /** No clamp, float requantization. */
  public QConv2d(byte[] weights, long[] weightShape, QParams weightQparams, float[] bias, long[] stride,
                 long[] padding, long[] dilation, long groups, QParams inputQparams, QParams outputQparams) {
    this(weights, weightShape, weightQparams, bias, stride, padding, dilation, groups, inputQparams, outputQparams,
         Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, RequantMode.QK_REQUANT_FLOAT);
  }
  /** {out_h, out_w} for an in_h x in_w input. */
  public long[] outputSize(long inH, long inW) { return new long[] {outputDim(inH, inW, 0), outputDim(inH, inW, 1)}; }
  public byte[] run(byte[] input, long[] shape) { return run(input, shape, null); }
%}
/* Lists: quantkit.i gives count + item(i) methods; Java gets the whole list in one call. */
%typemap(javacode) qk_model, struct qk_model %{
  /** f32 {N, sample...} in, f32 {N, output sample...} out, on the caller's thread. */
  public float[] run(float[] input, long[] shape) { return run(input, shape, null); }
  /** Per-sample shape of the output tensor. */
  public long[] outputShape() {
    long[] s = new long[(int) getOutputRank()];
    for (int i = 0; i < s.length; i++) s[i] = outputDim(i);
    return s;
  }
  /** Per-sample shape of a tensor. */
  public long[] tensorShape(String tensor) {
    long[] s = new long[(int) tensorRank(tensor)];
    for (int i = 0; i < s.length; i++) s[i] = tensorDim(tensor, i);
    return s;
  }
  /** Layer names in execution order. */
  public java.util.List<String> layerNames() {
    java.util.List<String> names = new java.util.ArrayList<>();
    for (long i = 0, n = getLayerCount(); i < n; i++) names.add(layerName(i));
    return names;
  }
  /** What fuse() merged ("conv1+bn1+relu1", ...). */
  public java.util.List<String> fusedNames() {
    java.util.List<String> names = new java.util.ArrayList<>();
    for (long i = 0, n = getFusedCount(); i < n; i++) names.add(fusedName(i));
    return names;
  }

  /* ---- general graphs (EXPERIMENTAL until 1.1) ---- */
  /** The space-terminated list classes/graph.i takes; null entries (absent inputs) become "". */
  static String joinNames(String[] names, boolean allowAbsent, String what) {
    if (names == null) return "";
    StringBuilder b = new StringBuilder();
    for (String n : names) {
      if (n == null || n.isEmpty()) {
        if (!allowAbsent) throw new IllegalArgumentException(what + ": names must be non-empty");
        n = "";
      } else if (n.indexOf(' ') >= 0) {
        throw new IllegalArgumentException(what + ": name '" + n + "' contains a space");
      }
      b.append(n).append(' ');
    }
    return b.toString();
  }
  /** An f32 graph input; dims[i] < 0 is symbolic, named dimNames[i] (dimNames may be null when
   *  every dim is fixed; its other entries are ignored). */
  public void addInput(String name, long[] dims, String[] dimNames) {
    addInput(name, DType.QK_DTYPE_F32, dims, dimNames);
  }
  public void addInput(String name, DType dtype, long[] dims, String[] dimNames) {
    String joined = null;
    if (dimNames != null) {
      String[] d = new String[dimNames.length];
      for (int i = 0; i < d.length; i++) d[i] = (dims != null && i < dims.length && dims[i] < 0) ? dimNames[i] : "";
      joined = joinNames(d, true, "dimNames");
    }
    addInputJoined(name, dtype, dims, joined);
  }
  /** An f32 constant of shape `shape` (copied). */
  public void addConstant(String name, float[] data, long[] shape) { addConstantF32(name, data, shape); }
  /** An int64 constant of shape `shape` (copied). */
  public void addConstant(String name, long[] data, long[] shape) { addConstantS64(name, data, shape); }
  /** A node of op `op` (ONNX names, QuantKit.opName(i)); a null or "" input is an absent optional
   *  input; attrs may be null. */
  public void addNode(String op, String name, String[] inputs, String[] outputs, Attrs attrs) {
    addNodeJoined(op, name, joinNames(inputs, true, "inputs"), joinNames(outputs, false, "outputs"), attrs);
  }
  public void addNode(String op, String name, String[] inputs, String[] outputs) {
    addNode(op, name, inputs, outputs, null);
  }
  /** Declared shape of a value: -1 for a symbolic dim (its name: valueDimName(value, i)). */
  public long[] valueShape(String value) {
    long[] s = new long[(int) valueRank(value)];
    for (int i = 0; i < s.length; i++) s[i] = valueDim(value, i);
    return s;
  }
  /** Graph input names in model order (an ONNX model's: its graph inputs). */
  public java.util.List<String> inputNames() { return ioNames(0); }
  /** Graph output names in model order. */
  public java.util.List<String> outputNames() { return ioNames(1); }
  private java.util.List<String> ioNames(int outputs) {
    java.util.List<String> names = new java.util.ArrayList<>();
    for (long i = 0, n = ioCount(outputs); i < n; i++) names.add(ioName(outputs, i));
    return names;
  }
  /** Node names in execution order (after convert: with the inserted qk.* nodes). */
  public java.util.List<String> nodeNames() {
    java.util.List<String> names = new java.util.ArrayList<>();
    for (long i = 0, n = getNodeCount(); i < n; i++) names.add(nodeName(i));
    return names;
  }
  /** Op types of the nodes, in the order of nodeNames(). */
  public java.util.List<String> nodeOpTypes() {
    java.util.List<String> ops = new java.util.ArrayList<>();
    for (long i = 0, n = getNodeCount(); i < n; i++) ops.add(nodeOpType(i));
    return ops;
  }
%}
/* A Run keeps its Model reachable (the C context uses the model; the cleaner must not free it
 * first). Closing the model explicitly while a Run of it is open is the caller's error. */
%typemap(javaconstruct) qk_swig_run, struct qk_swig_run {
    this($imcall, true);
    this.model = model;
  }
%typemap(javacode) qk_swig_run, struct qk_swig_run %{
  private Model model;
  /** The model this run belongs to (kept reachable while the run is). */
  public Model getModel() { return model; }
  /** An f32 input {shape}. */
  public void setInput(String name, float[] data, long[] shape) { setInputF32(name, data, shape); }
  /** An int64 input {shape}. */
  public void setInput(String name, long[] data, long[] shape) { setInputS64(name, data, shape); }
  public void invoke() { invoke(null); }
  /** Shape of an output of the last invoke. */
  public long[] outputShape(String name) {
    long[] s = new long[(int) outputRank(name)];
    for (int i = 0; i < s.length; i++) s[i] = outputDim(name, i);
    return s;
  }
  /** An f32 output of the last invoke (a converted model's quantized outputs dequantized). */
  public float[] getOutput(String name) { return getOutputF32(name); }
%}
%typemap(javacode) qk_swig_weight_file, struct qk_swig_weight_file %{
  /** Memory-mapped, every chunk verified. */
  public static WeightFile open(String path) { return open(path, VerifyMode.QK_VERIFY_FULL, 0); }
  public static WeightFile fromBytes(byte[] image) { return fromBytes(image, VerifyMode.QK_VERIFY_FULL, 0); }
  /** Tensor names in file order. */
  public java.util.List<String> tensorNames() {
    java.util.List<String> names = new java.util.ArrayList<>();
    for (long i = 0, n = getTensorCount(); i < n; i++) names.add(tensorName(i));
    return names;
  }
  /** Every metadata pair, in file order. */
  public java.util.Map<String, String> metadata() {
    java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
    for (long i = 0, n = getMetadataCount(); i < n; i++) m.put(metadataKey(i), metadataValue(i));
    return m;
  }
%}
%typemap(javacode) qk_swig_tensor_info, struct qk_swig_tensor_info %{
  public long[] getShape() {
    long[] s = new long[(int) getRank()];
    for (int i = 0; i < s.length; i++) s[i] = dim(i);
    return s;
  }
%}

/* The JNI glue is loaded by NativeLoader (jar resources, or System.loadLibrary on Android). */
%pragma(java) modulecode=%{
  /** Names of the registered graph ops (EXPERIMENTAL general-graph API). */
  public static java.util.List<String> opTypes() {
    java.util.List<String> ops = new java.util.ArrayList<>();
    for (long i = 0, n = opCount(); i < n; i++) ops.add(opName(i));
    return ops;
  }
%}
%pragma(java) jniclasscode=%{
  static {
    NativeLoader.load();
  }
%}
