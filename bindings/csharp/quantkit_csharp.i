/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C# part of bindings/quantkit.i (included from there, before any declaration).
 * Namespace QuantKit (swig -namespace); class Qk (flat qk_ functions), QkPINVOKE (P/Invoke);
 * glue library libquantkit_cs.so (DllImport("quantkit_cs"); the loader finds only the
 * unversioned name, which then needs libquantkit.so.1 through RUNPATH $ORIGIN).
 *
 * - Errors: %exception and the `qk_status` out typemap are marked canthrow, so every wrapper
 *   checks SWIG's pending exception after the P/Invoke returns (without canthrow SWIG drops it
 *   silently). qk_cs_raise() hands the error slot to a delegate QkPINVOKE registers at start-up,
 *   which makes it a QuantKit.QuantKitException (status + qk_last_error() text).
 * - Arrays in: the managed array is pinned for the call (GCHandle) and passed as pointer + length
 *   in one struct: no copy, no per-element marshalling. null arrives as NULL (reported by C).
 * - Arrays out: the C result (qk_swig_buf) is copied once into a new managed array
 *   (Marshal.Copy) and freed.
 * - int64_t is C# long; uint64_t and size_t are ulong (LP64: csharp.cmake passes
 *   -DSWIGWORDSIZE64 so stdint.i spells int64_t `long`, which is 64-bit there, see below).
 * - Handles are IDisposable (SWIG's proxies): Dispose() frees the native object and leaves a
 *   null handle, so a later method throws (status CLOSED); IsClosed tells.
 */

%{
/* Pointer + element count of a pinned managed array (QuantKit.QkSpan on the C# side). */
typedef struct qk_cs_span {
  void* data;
  size_t count;
} qk_cs_span;

typedef void (SWIGSTDCALL* qk_cs_raise_fn)(int status, const char* message);
static qk_cs_raise_fn qk_cs_raise_cb = NULL;

#ifdef __cplusplus
extern "C"
#endif
SWIGEXPORT void SWIGSTDCALL qk_cs_set_raise(qk_cs_raise_fn cb) { qk_cs_raise_cb = cb; }

/* Sets the pending C# exception for the error slot. */
static void qk_cs_raise(void) {
  if (qk_cs_raise_cb != NULL)
    qk_cs_raise_cb(qk_swig_err, qk_swig_msg);
  else
    SWIG_CSharpSetPendingException(SWIG_CSharpApplicationException, qk_swig_msg);
}

/* A result moved to the heap for C#; NULL after an error. C# copies it, then calls
 * qk_cs_buf_free. */
static qk_swig_buf* qk_cs_take_buf(qk_swig_buf* b) {
  qk_swig_buf* h;
  if (qk_swig_err != 0 || b->data == NULL) {
    qk_swig_buf_free(b);
    return NULL;
  }
  h = (qk_swig_buf*)malloc(sizeof *h);
  if (h == NULL) {
    qk_swig_buf_free(b);
    qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "out of memory");
    qk_cs_raise();
    return NULL;
  }
  *h = *b;
  return h;
}
#ifdef __cplusplus
extern "C"
#endif
SWIGEXPORT void SWIGSTDCALL qk_cs_buf_free(qk_swig_buf* b) {
  if (b != NULL) free(b->data);
  free(b);
}
%}

/* ---- names: methods `_foo_bar` -> `FooBar`; enum types without the qk_ prefix ------------- */
%rename("%(camelcase)s", %$ismember, %$isfunction) "";
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
%rename(CastFromF32) qkbind_cast_from_f32;
%rename(CastToF32) qkbind_cast_to_f32;
%rename(Sqnr) qkbind_sqnr;
%rename(IsaSupported) qkbind_isa_supported;
/* General graphs (classes/graph.i): the joined-name forms are wrapped by AddInput / AddNode
 * (string[] lists) below; Run.GetOutput returns float[]. */
%rename(OpCount) qkbind_op_count;
%rename(OpName) qkbind_op_name;
%rename(AddInputJoined) qk_model::_add_input;
%rename(AddNodeJoined) qk_model::_add_node;
%rename(GetOutputBytes) qk_swig_run::_get_output;
%csconst(1);

/* ---- 64-bit integers ------------------------------------------------------------------ */
/* With -DSWIGWORDSIZE64 (LP64) int64_t is C `long`, the type the header's int64_t* really is
 * (no `long long*` casts: -Wincompatible-pointer-types); SWIG's C# default for C long is the
 * 32-bit int of LLP64 Windows, so on LP64 long maps to C# long here, and size_t to ulong. */
#if defined(SWIGWORDSIZE64)
%apply long long { long };
%apply const long long & { const long & };
%apply unsigned long long { unsigned long, size_t };
%apply const unsigned long long & { const unsigned long &, const size_t & };
#endif

/* ---- the one error -> exception mapping ------------------------------------------------ */
/* %exception with canthrow: the C# wrappers then look at the pending exception after the call. */
%feature("except", canthrow=1) %{
  qk_swig_clear();
  $action
  if (qk_swig_err != 0) qk_cs_raise();
%}
/* Flat qk_ functions: a failing status throws; success returns Status.QK_OK. */
%typemap(out, canthrow=1) qk_status %{
  $result = (int)$1;
  if ($1 != QK_OK) {
    qk_swig_check($1);
    qk_cs_raise();
  }
%}
/* A qk_status value that is data (qk_status_string's argument, a struct field) never throws. */
%apply enum SWIGTYPE { qk_status status };

/* ---- returned arrays: QkBuf.Take* copies and frees ---------------------------------------- */
%define QK_CS_OUT_ARRAY(CTYPE, CSTYPE, TAKE)
%typemap(ctype) CTYPE "void*"
%typemap(imtype) CTYPE "global::System.IntPtr"
%typemap(cstype) CTYPE #CSTYPE
%typemap(out, canthrow=1) CTYPE %{ $result = (void*)qk_cs_take_buf(&$1); %}
%typemap(csout, excode=SWIGEXCODE) CTYPE {
    global::System.IntPtr buf = $imcall;$excode
    return QkBuf.TAKE(buf);
  }
%enddef
QK_CS_OUT_ARRAY(qk_swig_f32, float[], TakeFloats)
QK_CS_OUT_ARRAY(qk_swig_bytes, byte[], TakeBytes)
QK_CS_OUT_ARRAY(qk_swig_s32, int[], TakeInts)
QK_CS_OUT_ARRAY(qk_swig_u16, ushort[], TakeUShorts)

/* ---- arrays in: (const T* NAME, size_t NAME_len) pinned for the call ----------------------- */
%define QK_CS_IN_ARRAY(CTYPE, NAME, CSTYPE)
%typemap(ctype) (CTYPE NAME, size_t NAME##_len) "qk_cs_span"
%typemap(imtype) (CTYPE NAME, size_t NAME##_len) "QkSpan"
%typemap(cstype) (CTYPE NAME, size_t NAME##_len) #CSTYPE
%typemap(csin, pre="    QkPin pin_$csinput = new QkPin($csinput);", post="      pin_$csinput.Free();")
    (CTYPE NAME, size_t NAME##_len) "pin_$csinput.Span"
%typemap(in) (CTYPE NAME, size_t NAME##_len) %{
  $1 = ($1_ltype)$input.data;
  $2 = $input.count;
%}
%enddef
QK_CS_IN_ARRAY(const float*, f32, float[])
QK_CS_IN_ARRAY(const float*, f32b, float[])
QK_CS_IN_ARRAY(const float*, opt_f32, float[])
QK_CS_IN_ARRAY(const int8_t*, s8, sbyte[])
QK_CS_IN_ARRAY(const void*, bytes, byte[])
QK_CS_IN_ARRAY(const void*, raw, byte[])
QK_CS_IN_ARRAY(const int32_t*, s32, int[])
QK_CS_IN_ARRAY(const uint16_t*, u16, ushort[])
QK_CS_IN_ARRAY(const int64_t*, i64, long[])
QK_CS_IN_ARRAY(const int64_t*, shape, long[])
%apply (const int64_t* shape, size_t shape_len) { (const int64_t* shape, size_t rank),
                                                  (const int64_t* dims, size_t ndims),
                                                  (const int64_t* dims_b, size_t ndims_b),
                                                  (const int64_t* dims_c, size_t ndims_c) };

/* ---- flat functions: scalar outputs (`*_out`) as C# out parameters ------------------------ */
%include <typemaps.i>
%apply unsigned long long* OUTPUT { uint64_t* count_out, uint64_t* nonfinite_out, size_t* count_out,
                                    size_t* size_out, size_t* index_out, size_t* rank_out };
%apply long long* OUTPUT { int64_t* n_out, int64_t* k_out, int64_t* out_h, int64_t* out_w,
                           int64_t* group_size_out };
%apply int* OUTPUT { int32_t* axis_out, int32_t* quant_min_out, int32_t* quant_max_out, int* supported_out };
%apply float* OUTPUT { float* eps_out };
%apply double* OUTPUT { double* value_out, double* sqnr_db_out };

/* ---- handles: IDisposable (SWIG's), plus IsClosed ------------------------------------------ */
%define QK_CS_IS_CLOSED
  /// <summary>True once Dispose() ran: every method then throws QuantKitException (CLOSED).</summary>
  public bool IsClosed { get { return swigCPtr.Handle == global::System.IntPtr.Zero; } }
%enddef
%define QK_CS_CLOSABLE(CSTRUCT)
%typemap(cscode) CSTRUCT, struct CSTRUCT %{
QK_CS_IS_CLOSED
%}
%enddef
QK_CS_CLOSABLE(qk_quant_spec)
QK_CS_CLOSABLE(qk_qparams)
QK_CS_CLOSABLE(qk_observer)
QK_CS_CLOSABLE(qk_threadpool)
QK_CS_CLOSABLE(qk_packed_weights)
QK_CS_CLOSABLE(qk_swig_weight_writer)
QK_CS_CLOSABLE(qk_swig_encoding)
QK_CS_CLOSABLE(qk_attrs)
/* Default arguments: C-mode SWIG makes no overloads for them, so the short forms. */
%typemap(cscode) qk_swig_qlinear, struct qk_swig_qlinear %{
  public bool IsClosed { get { return swigCPtr.Handle == global::System.IntPtr.Zero; } }
  /// <summary>No clamp, float requantization; outputQparams only for QK_OUTPUT_QUANTIZED.</summary>
  public QLinear(PackedWeights weights, QParams inputQparams, OutputKind outputKind, QParams outputQparams = null)
    : this(weights, inputQparams, outputKind, outputQparams, float.NegativeInfinity, float.PositiveInfinity,
           RequantMode.QK_REQUANT_FLOAT) {}
  public byte[] Run(byte[] input, long[] shape) { return Run(input, shape, null); }
  public int[] RunS32(byte[] input, long[] shape) { return RunS32(input, shape, null); }
  public float[] RunF32(byte[] input, long[] shape) { return RunF32(input, shape, null); }
%}
%typemap(cscode) qk_swig_dynamic_linear, struct qk_swig_dynamic_linear %{
  public bool IsClosed { get { return swigCPtr.Handle == global::System.IntPtr.Zero; } }
  public float[] Run(float[] input, long[] shape) { return Run(input, shape, null); }
%}
%typemap(cscode) qk_swig_qconv2d, struct qk_swig_qconv2d %{
  public bool IsClosed { get { return swigCPtr.Handle == global::System.IntPtr.Zero; } }
  /// <summary>No clamp, float requantization.</summary>
  public QConv2d(sbyte[] weights, long[] weightShape, QParams weightQparams, float[] bias, long[] stride,
                 long[] padding, long[] dilation, long groups, QParams inputQparams, QParams outputQparams)
    : this(weights, weightShape, weightQparams, bias, stride, padding, dilation, groups, inputQparams,
           outputQparams, float.NegativeInfinity, float.PositiveInfinity, RequantMode.QK_REQUANT_FLOAT) {}
  public long[] OutputSize(long inH, long inW) { return new long[] { OutputDim(inH, inW, 0), OutputDim(inH, inW, 1) }; }
  public byte[] Run(byte[] input, long[] shape) { return Run(input, shape, null); }
%}
/* Lists: quantkit.i gives count + item(i) methods; C# gets the whole list in one call. */
%typemap(cscode) qk_swig_weight_file, struct qk_swig_weight_file %{
  public bool IsClosed { get { return swigCPtr.Handle == global::System.IntPtr.Zero; } }
  /// <summary>Memory-mapped, every chunk verified.</summary>
  public static WeightFile Open(string path) { return Open(path, VerifyMode.QK_VERIFY_FULL, 0); }
  /// <summary>Tensor names in file order.</summary>
  public string[] TensorNames() {
    var names = new string[GetTensorCount()];
    for (int i = 0; i < names.Length; i++) names[i] = TensorName((ulong)i);
    return names;
  }
  /// <summary>Every metadata pair.</summary>
  public global::System.Collections.Generic.Dictionary<string, string> Metadata() {
    var m = new global::System.Collections.Generic.Dictionary<string, string>();
    for (ulong i = 0, n = GetMetadataCount(); i < n; i++) m[MetadataKey(i)] = MetadataValue(i);
    return m;
  }
%}
%typemap(cscode) qk_swig_tensor_info, struct qk_swig_tensor_info %{
  public bool IsClosed { get { return swigCPtr.Handle == global::System.IntPtr.Zero; } }
  public long[] GetShape() {
    var s = new long[GetRank()];
    for (int i = 0; i < s.Length; i++) s[i] = Dim((ulong)i);
    return s;
  }
%}
%typemap(cscode) qk_model, struct qk_model %{
  public bool IsClosed { get { return swigCPtr.Handle == global::System.IntPtr.Zero; } }
  /// <summary>f32 {N, sample...} in, f32 {N, output sample...} out, on the caller's thread.</summary>
  public float[] Run(float[] input, long[] shape) { return Run(input, shape, null); }
  /// <summary>Per-sample shape of the output tensor.</summary>
  public long[] OutputShape() {
    var s = new long[GetOutputRank()];
    for (int i = 0; i < s.Length; i++) s[i] = OutputDim((ulong)i);
    return s;
  }
  /// <summary>Per-sample shape of a tensor.</summary>
  public long[] TensorShape(string tensor) {
    var s = new long[TensorRank(tensor)];
    for (int i = 0; i < s.Length; i++) s[i] = TensorDim(tensor, (ulong)i);
    return s;
  }
  /// <summary>Layer names in execution order.</summary>
  public string[] LayerNames() {
    var names = new string[GetLayerCount()];
    for (int i = 0; i < names.Length; i++) names[i] = LayerName((ulong)i);
    return names;
  }

  // ---- general graphs (EXPERIMENTAL until 1.1) ----
  // The space-terminated list classes/graph.i takes; null entries (absent inputs) become "".
  internal static string JoinNames(string[] names, bool allowAbsent, string what) {
    if (names == null) return "";
    var b = new global::System.Text.StringBuilder();
    foreach (string n0 in names) {
      string n = n0;
      if (string.IsNullOrEmpty(n)) {
        if (!allowAbsent) throw new global::System.ArgumentException(what + ": names must be non-empty");
        n = "";
      } else if (n.IndexOf(' ') >= 0) {
        throw new global::System.ArgumentException(what + ": name '" + n + "' contains a space");
      }
      b.Append(n).Append(' ');
    }
    return b.ToString();
  }
  /// <summary>A graph input (f32 by default); dims[i] &lt; 0 is symbolic, named dimNames[i]
  /// (dimNames may be null when every dim is fixed).</summary>
  public void AddInput(string name, long[] dims, string[] dimNames = null, DType dtype = DType.QK_DTYPE_F32) {
    string joined = null;
    if (dimNames != null) {
      var d = new string[dimNames.Length];
      for (int i = 0; i < d.Length; i++) d[i] = (dims != null && i < dims.Length && dims[i] < 0) ? dimNames[i] : "";
      joined = JoinNames(d, true, "dimNames");
    }
    AddInputJoined(name, dtype, dims, joined);
  }
  /// <summary>An f32 constant of shape `shape` (copied).</summary>
  public void AddConstant(string name, float[] data, long[] shape) { AddConstantF32(name, data, shape); }
  /// <summary>An int64 constant of shape `shape` (copied).</summary>
  public void AddConstant(string name, long[] data, long[] shape) { AddConstantS64(name, data, shape); }
  /// <summary>A node of op `op` (ONNX names, Qk.OpName(i)); a null or "" input is an absent
  /// optional input; attrs may be null.</summary>
  public void AddNode(string op, string name, string[] inputs, string[] outputs, Attrs attrs = null) {
    AddNodeJoined(op, name, JoinNames(inputs, true, "inputs"), JoinNames(outputs, false, "outputs"), attrs);
  }
  /// <summary>Declared shape of a value: -1 for a symbolic dim (its name: ValueDimName).</summary>
  public long[] ValueShape(string value) {
    var s = new long[ValueRank(value)];
    for (int i = 0; i < s.Length; i++) s[i] = ValueDim(value, (ulong)i);
    return s;
  }
  /// <summary>Graph input names in model order (an ONNX model's: its graph inputs).</summary>
  public string[] InputNames() { return IoNames(0); }
  /// <summary>Graph output names in model order.</summary>
  public string[] OutputNames() { return IoNames(1); }
  private string[] IoNames(int outputs) {
    var names = new string[IoCount(outputs)];
    for (int i = 0; i < names.Length; i++) names[i] = IoName(outputs, (ulong)i);
    return names;
  }
  /// <summary>Node names in execution order (after Convert: with the inserted qk.* nodes).</summary>
  public string[] NodeNames() {
    var names = new string[GetNodeCount()];
    for (int i = 0; i < names.Length; i++) names[i] = NodeName((ulong)i);
    return names;
  }
  /// <summary>Op types of the nodes, in the order of NodeNames().</summary>
  public string[] NodeOpTypes() {
    var ops = new string[GetNodeCount()];
    for (int i = 0; i < ops.Length; i++) ops[i] = NodeOpType((ulong)i);
    return ops;
  }
%}
/* A Run keeps its Model reachable (the C context uses the model; the finalizer must not free it
 * first). Disposing the model explicitly while a Run of it is alive is the caller's error. */
%typemap(csconstruct, excode=SWIGEXCODE) qk_swig_run, struct qk_swig_run %{: this($imcall, true) {$excode
    this.model = model;
  }%}
%typemap(cscode) qk_swig_run, struct qk_swig_run %{
  public bool IsClosed { get { return swigCPtr.Handle == global::System.IntPtr.Zero; } }
  private Model model;
  /// <summary>The model this run belongs to (kept reachable while the run is).</summary>
  public Model Model { get { return model; } }
  /// <summary>An f32 input {shape}.</summary>
  public void SetInput(string name, float[] data, long[] shape) { SetInputF32(name, data, shape); }
  /// <summary>An int64 input {shape}.</summary>
  public void SetInput(string name, long[] data, long[] shape) { SetInputS64(name, data, shape); }
  public void Invoke() { Invoke(null); }
  /// <summary>Shape of an output of the last Invoke.</summary>
  public long[] OutputShape(string name) {
    var s = new long[OutputRank(name)];
    for (int i = 0; i < s.Length; i++) s[i] = OutputDim(name, (ulong)i);
    return s;
  }
  /// <summary>An f32 output of the last Invoke (a converted model's quantized outputs dequantized).</summary>
  public float[] GetOutput(string name) { return GetOutputF32(name); }
%}

/* ---- P/Invoke side: exception delegate registered before the first call ------------------ */
%pragma(csharp) modulecode=%{
  /// <summary>Names of the registered graph ops (EXPERIMENTAL general-graph API).</summary>
  public static string[] OpTypes() {
    var ops = new string[OpCount()];
    for (int i = 0; i < ops.Length; i++) ops[i] = OpName((ulong)i);
    return ops;
  }
%}
%pragma(csharp) imclasscode=%{
  [global::System.Runtime.InteropServices.UnmanagedFunctionPointer(
      global::System.Runtime.InteropServices.CallingConvention.StdCall)]
  public delegate void QkRaiseDelegate(int status, string message);

  [global::System.Runtime.InteropServices.DllImport("quantkit_cs", EntryPoint = "qk_cs_set_raise")]
  static extern void QkSetRaise(QkRaiseDelegate cb);
  [global::System.Runtime.InteropServices.DllImport("quantkit_cs", EntryPoint = "qk_cs_buf_free")]
  public static extern void QkBufFree(global::System.IntPtr buf);

  static void QkRaise(int status, string message) {
    SWIGPendingException.Set(new QuantKitException(status, message));
  }
  // Kept in a static field: the native side holds only the function pointer.
  static readonly QkRaiseDelegate qkRaise = QkRaise;
  internal static readonly bool qkRaiseSet = SetRaise();
  static bool SetRaise() {
    QkSetRaise(qkRaise);
    return true;
  }
%}
