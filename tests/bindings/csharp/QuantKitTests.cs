// SPDX-License-Identifier: Apache-2.0
// C# binding: values against math done here, observers, operators, errors, use after Dispose,
// weight files and a create/run/dispose leak loop. Run by CTest bindings_csharp (TestRunner.cs).
using System;
using System.IO;
using QuantKit;
using static TestRunner;

static class QuantKitTests {
  static readonly int Invalid = (int)Status.QK_ERR_INVALID_ARGUMENT;

  static QuantSpec U8Spec() { return new QuantSpec(DType.QK_DTYPE_U8, QScheme.QK_QSCHEME_PER_TENSOR_AFFINE); }

  static QParams PerTensor(DType dtype, float scale, int zp, int lo, int hi) {
    return QParams.Create(dtype, QScheme.QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, new[] { scale }, new[] { zp }, null, lo, hi);
  }

  static QParams S8Weights(float scale) {
    return QParams.Create(DType.QK_DTYPE_S8, QScheme.QK_QSCHEME_PER_TENSOR_SYMMETRIC, 0, 0, new[] { scale },
                          new[] { 0 }, null, -128, 127);
  }

  /// PyTorch's quantize: clamp(rint(x * (1/scale)) + zp), products in float32.
  static int QuantizeRef(float x, float scale, int zp, int lo, int hi) {
    float inv = 1.0f / scale;
    float prod = x * inv;
    long q = (long)Math.Round((double)prod, MidpointRounding.ToEven) + zp;
    return (int)Math.Max(lo, Math.Min(hi, q));
  }

  public static void TestQuantizeRoundTrip() {
    var x = new float[301];
    for (int i = 0; i < x.Length; i++) x[i] = -1.0f + 3.0f * i / 300;
    x[300] = 2.0f;
    var shape = new long[] { 7, 43 };
    using (var spec = U8Spec())
    using (var qp = QParams.FromTensor(spec, x, shape)) {
      float scale = qp.GetScales()[0];
      int zp = qp.GetZeroPoints()[0];
      Equal(3.0f / 255.0f, scale, "scale");
      Equal(85, zp, "zero point");
      byte[] q = qp.Quantize(x, shape);
      Equal(x.Length, q.Length, "codes");
      for (int i = 0; i < x.Length; i++) Equal(QuantizeRef(x[i], scale, zp, 0, 255), (int)q[i], "q[" + i + "]");
      float[] back = qp.Dequantize(q, shape);
      for (int i = 0; i < x.Length; i++) Equal((float)(q[i] - zp) * scale, back[i], "back[" + i + "]");
    }
  }

  public static void TestMinMaxObservers() {
    using (var spec = U8Spec())
    using (var obs = new Observer(ObserverKind.QK_OBSERVER_MINMAX, spec)) {
      obs.Update(new[] { 0.5f, -1.0f, 3.0f, 0.25f, 2.0f, -0.5f }, new long[] { 6 });
      Equal(ObserverKind.QK_OBSERVER_MINMAX, obs.GetKind(), "kind");
      SeqEqual(new[] { -1.0f }, obs.GetMinVals(), "min");
      SeqEqual(new[] { 3.0f }, obs.GetMaxVals(), "max");
      using (var qp = obs.ComputeQparams()) {
        Equal(4.0f / 255.0f, qp.GetScales()[0], "scale");
        Equal(64, qp.GetZeroPoints()[0], "zero point");
      }
    }
    using (var spec = new QuantSpec(DType.QK_DTYPE_S8, QScheme.QK_QSCHEME_PER_CHANNEL_SYMMETRIC))
    using (var obs = new Observer(ObserverKind.QK_OBSERVER_PER_CHANNEL_MINMAX, spec)) {
      obs.Update(new[] { 1f, -2f, 0.5f, 4f, 3f, -1f }, new long[] { 2, 3 });
      Equal(2UL, obs.GetChannelCount(), "channels");
      SeqEqual(new[] { -2f, -1f }, obs.GetMinVals(), "min");
      SeqEqual(new[] { 1f, 4f }, obs.GetMaxVals(), "max");
      using (var qp = obs.ComputeQparams()) {
        SeqEqual(new[] { 2.0f / 127.5f, 4.0f / 127.5f }, qp.GetScales(), "scales");
        SeqEqual(new[] { 0, 0 }, qp.GetZeroPoints(), "zero points");
      }
    }
  }

  public static void TestObserverSaveLoad() {
    var rng = new Random(2);
    var x = new float[1000];
    for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 4 - 2);
    using (var spec = U8Spec())
    using (var a = new Observer(ObserverKind.QK_OBSERVER_HISTOGRAM, spec)) {
      a.Update(x, new long[] { x.Length });
      byte[] blob = a.Save();
      using (var b = Observer.Load(blob))
      using (var qa = a.ComputeQparams())
      using (var qb = b.ComputeQparams()) {
        SeqEqual(qa.GetScales(), qb.GetScales(), "scales");
        SeqEqual(qa.GetZeroPoints(), qb.GetZeroPoints(), "zero points");
      }
      var cut = new byte[blob.Length - 3];
      Array.Copy(blob, cut, cut.Length);
      Throws((int)Status.QK_ERR_CORRUPT, () => Observer.Load(cut));
    }
  }

  public static void TestFakeQuantForwardBackward() {
    using (var qp = PerTensor(DType.QK_DTYPE_U8, 0.1f, 10, 0, 255)) {
      var x = new[] { -2.0f, -0.5f, 0.0f, 0.26f, 30.0f };
      var shape = new long[] { 5 };
      float[] y = qp.FakeQuantize(x, shape);
      for (int i = 0; i < x.Length; i++)
        Equal((float)(QuantizeRef(x[i], 0.1f, 10, 0, 255) - 10) * 0.1f, y[i], "y[" + i + "]");
      SeqEqual(new byte[] { 0, 1, 1, 1, 0 }, qp.FakeQuantizeMask(x, shape), "mask");
      SeqEqual(new[] { 0f, 2f, 3f, 4f, 0f }, qp.FakeQuantizeBackward(x, shape, new[] { 1f, 2f, 3f, 4f, 5f }), "grad");
    }
  }

  public static void TestQLinearS32MatchesInt32Math() {
    const int n = 5, k = 9, m = 4;
    var rng = new Random(3);
    var w = new sbyte[n * k];
    var a = new byte[m * k];
    for (int i = 0; i < w.Length; i++) w[i] = (sbyte)rng.Next(-127, 128);
    for (int i = 0; i < a.Length; i++) a[i] = (byte)rng.Next(0, 256);
    using (var wq = S8Weights(0.02f))
    using (var aq = PerTensor(DType.QK_DTYPE_U8, 0.05f, 128, 0, 255))
    using (var pw = new PackedWeights(w, new long[] { n, k }, wq, null))
    using (var op = new QLinear(pw, aq, OutputKind.QK_OUTPUT_S32)) {
      Equal((long)n, op.GetN(), "n");
      int[] outp = op.RunS32(a, new long[] { m, k });
      Equal(m * n, outp.Length, "outputs");
      for (int r = 0; r < m; r++)
        for (int c = 0; c < n; c++) {
          int acc = 0;
          for (int j = 0; j < k; j++) acc += (a[r * k + j] - 128) * w[c * k + j];
          Equal(acc, outp[r * n + c], "out[" + r + "," + c + "]");
        }
      using (var pool = new ThreadPool(2)) SeqEqual(outp, op.RunS32(a, new long[] { m, k }, pool), "pooled");
    }
  }

  public static void TestQConv2d1x1MatchesInt32Math() {
    var rng = new Random(5);
    var w = new sbyte[12];
    var a = new byte[12];
    for (int i = 0; i < w.Length; i++) w[i] = (sbyte)rng.Next(-127, 128);
    for (int i = 0; i < a.Length; i++) a[i] = (byte)rng.Next(0, 256);
    using (var wq = S8Weights(0.01f))
    using (var iq = PerTensor(DType.QK_DTYPE_U8, 0.1f, 100, 0, 255))
    using (var oq = PerTensor(DType.QK_DTYPE_U8, 1.0f, 128, 0, 255))
    using (var conv = new QConv2d(w, new long[] { 4, 3, 1, 1 }, wq, null, new long[] { 1, 1 }, new long[] { 0, 0, 0, 0 },
                                  new long[] { 1, 1 }, 1, iq, oq)) {
      SeqEqual(new long[] { 2, 2 }, conv.OutputSize(2, 2), "output size");
      byte[] outp = conv.Run(a, new long[] { 1, 2, 2, 3 });
      float mult = 0.1f * 0.01f / 1.0f;
      for (int p = 0; p < 4; p++)
        for (int o = 0; o < 4; o++) {
          int acc = 0;
          for (int c = 0; c < 3; c++) acc += (a[p * 3 + c] - 100) * w[o * 3 + c];
          float prod = (float)acc * mult;
          long q = (long)Math.Round((double)prod, MidpointRounding.ToEven) + 128;
          Equal((int)Math.Max(0, Math.Min(255, q)), (int)outp[p * 4 + o], "out[" + p + "," + o + "]");
        }
    }
  }

  public static void TestErrorsCarryStatusAndMessage() {
    using (var spec = U8Spec())
    using (var obs = new Observer(ObserverKind.QK_OBSERVER_MINMAX, spec)) {
      var e = Throws(Invalid, () => obs.Update(new float[5], new long[] { 2, 3 }));
      True(e.Detail.Contains("5 elements"), e.Detail);
      Equal<Status?>(Status.QK_ERR_INVALID_ARGUMENT, e.StatusEnum, "enum");
      Throws((int)Status.QK_ERR_STATE, () => obs.ComputeQparams());
      e = Throws(Invalid, () => new Observer(ObserverKind.QK_OBSERVER_PER_CHANNEL_MINMAX, spec));
      True(e.Detail.Contains("per-channel"), e.Detail);
    }
    Throws(Invalid, () => PerTensor(DType.QK_DTYPE_U8, -1.0f, 0, 0, 255));
    using (var qp = PerTensor(DType.QK_DTYPE_U8, 0.1f, 0, 0, 255)) {
      Throws(Invalid, () => qp.FakeQuantizeBackward(new float[3], new long[] { 3 }, new float[2]));
      Throws(Invalid, () => qp.Quantize(null, new long[] { 3 }));
    }
    using (var wq = S8Weights(0.02f))
    using (var pw = new PackedWeights(new sbyte[6], new long[] { 2, 3 }, wq, null))
    using (var lin = new DynamicLinear(pw, DType.QK_DTYPE_U8, false)) {
      var e = Throws(Invalid, () => lin.Run(new float[8], new long[] { 2, 4 }));
      True(e.Detail.Contains("k=3"), e.Detail);
    }
    ulong count;
    Equal(Status.QK_OK, Qk.qk_shape_element_count(new long[] { 2, 3, 4 }, out count), "status");
    Equal(24UL, count, "count");
    Throws(Invalid, () => { ulong c; Qk.qk_shape_element_count(new long[] { 2, -1 }, out c); });
  }

  public static void TestUseAfterDisposeThrowsClosed() {
    var spec = U8Spec();
    var obs = new Observer(ObserverKind.QK_OBSERVER_MINMAX, spec);
    True(!obs.IsClosed, "open");
    obs.Dispose();
    obs.Dispose();
    True(obs.IsClosed, "closed");
    var e = Throws(QuantKitException.Closed, () => obs.Update(new float[3], new long[] { 3 }));
    Equal("CLOSED", e.StatusName, "name");
    spec.Dispose();
    Throws(QuantKitException.Closed, () => spec.GetDtype());
    Throws(Invalid, () => new Observer(ObserverKind.QK_OBSERVER_MINMAX, spec));
  }

  public static void TestWeightFileWriteRead() {
    string path = Path.Combine(Path.GetTempPath(), "qk_cs_test_" + System.Diagnostics.Process.GetCurrentProcess().Id + ".qkw");
    var w = new float[64];
    for (int i = 0; i < w.Length; i++) w[i] = (i % 9) - 4;
    var bias = new[] { 0.5f, -0.25f };
    try {
      using (var writer = new WeightWriter(path)) {
        writer.SetMetadata("origin", "csharp");
        writer.AddRaw("bias", ToBytes(bias), DType.QK_DTYPE_F32, new long[] { 2 });
        writer.AddRaw("w", ToBytes(w), DType.QK_DTYPE_F32, new long[] { 8, 8 });
        writer.Finish();
        Throws((int)Status.QK_ERR_STATE, () => writer.Finish());
      }
      using (var f = WeightFile.Open(path)) {
        Equal(2UL, f.GetTensorCount(), "tensors");
        SeqEqual(new[] { "bias", "w" }, f.TensorNames(), "names");
        Equal("csharp", f.MetadataGet("origin"), "metadata");
        Equal("csharp", f.Metadata()["origin"], "metadata map");
        using (var t = f.Info(f.Find("w"))) {
          SeqEqual(new long[] { 8, 8 }, t.GetShape(), "shape");
          Equal(64UL, t.GetElementCount(), "elements");
          Equal(DType.QK_DTYPE_F32, t.GetDtype(), "dtype");
        }
        SeqEqual(w, f.DecodeF32(f.Find("w")), "w");
        SeqEqual(bias, f.DecodeF32(f.Find("bias")), "bias");
        Throws((int)Status.QK_ERR_NOT_FOUND, () => f.Find("missing"));
      }
      Throws((int)Status.QK_ERR_IO, () => WeightFile.Open(path + ".missing"));
    } finally {
      File.Delete(path);
    }
  }

  static byte[] ToBytes(float[] f) {
    var b = new byte[f.Length * 4];
    Buffer.BlockCopy(f, 0, b, 0, b.Length);
    return b;
  }

  public static void TestModelRunsLinearReluExactly() {
    // Linear(2 -> 2) + ReLU in f32: y = relu(W x + b), small integers, so exact.
    using (var m = new Model("x", new long[] { 2 })) {
      m.AddLinear("fc", "x", "h", new[] { 1f, 2f, -3f, 1f }, new long[] { 2, 2 }, new[] { 0.5f, 0f });
      m.AddRelu("relu", "h", "y");
      SeqEqual(new[] { "fc", "relu" }, m.LayerNames(), "layers");
      SeqEqual(new long[] { 2 }, m.OutputShape(), "output shape");
      SeqEqual(new long[] { 2 }, m.TensorShape("h"), "tensor shape");
      float[] y = m.Run(new[] { 1f, 1f, 2f, -1f }, new long[] { 2, 2 });
      SeqEqual(new[] { 3.5f, 0f, 0.5f, 0f }, y, "y");
      Throws(Invalid, () => m.Run(new float[3], new long[] { 1, 3 }));
    }
  }

  public static void TestModelLoadMemoryEqualsLoad() {
    // A dynamic model (int8 weights in the file): LoadMemory(bytes) == Load(path), bit for bit.
    string path = Path.GetTempFileName();
    var x = new[] { 1f, 1f, 2f, -1f, 0.25f, -3f };
    var shape = new long[] { 3, 2 };
    float[] y;
    try {
      using (var m = new Model("x", new long[] { 2 })) {
        m.AddLinear("fc", "x", "h", new[] { 1f, 2f, -3f, 1f }, new long[] { 2, 2 }, new[] { 0.5f, 0f });
        m.AddRelu("relu", "h", "y");
        m.QuantizeDynamic();
        y = m.Run(x, shape);
        m.Save(path);
      }
      byte[] bytes = File.ReadAllBytes(path);
      using (var a = Model.LoadMemory(bytes))
      using (var b = Model.Load(path)) {
        True(a.GetState() == ModelState.QK_MODEL_DYNAMIC, "state");
        SeqEqual(b.LayerNames(), a.LayerNames(), "layers");
        SeqEqual(y, a.Run(x, shape), "y from memory");
        SeqEqual(b.Run(x, shape), a.Run(x, shape), "memory == file");
      }
      var damaged = (byte[])bytes.Clone();
      damaged[damaged.Length / 2] ^= 0x40;
      Throws((int)Status.QK_ERR_CORRUPT, () => Model.LoadMemory(damaged));
      Throws((int)Status.QK_ERR_CORRUPT, () => Model.LoadMemory(new byte[0]));
      Throws(Invalid, () => Model.LoadMemory(null));
    } finally {
      File.Delete(path);
    }
  }

  static long RssKb() {
    foreach (var line in File.ReadAllLines("/proc/self/status"))
      if (line.StartsWith("VmRSS:")) return long.Parse(line.Substring(6).Trim().Split(' ')[0]);
    throw new Exception("no VmRSS");
  }

  static void Cycle(float[] x, long[] shape) {
    using (var spec = U8Spec())
    using (var obs = new Observer(ObserverKind.QK_OBSERVER_HISTOGRAM, spec)) {
      obs.Update(x, shape);
      using (var qp = obs.ComputeQparams()) qp.Dequantize(qp.Quantize(x, shape), shape);
    }
  }

  static void Undisposed(float[] x, long[] shape) {
    var obs = new Observer(ObserverKind.QK_OBSERVER_HISTOGRAM, U8Spec());
    obs.Update(x, shape);
  }

  public static void TestUndisposedHandlesAreFinalized() {
    // 20,000 histogram observers (2048 bins each) never disposed: hundreds of MB if the
    // finalizers did not free them.
    var x = new[] { -1f, 0.5f, 2f };
    var shape = new long[] { 3 };
    long before = 0;
    for (int i = 0; i < 20000; i++) {
      if (i == 2000) before = RssKb();
      if (i % 1000 == 999) {
        GC.Collect();
        GC.WaitForPendingFinalizers();
      }
      Undisposed(x, shape);
    }
    GC.Collect();
    GC.WaitForPendingFinalizers();
    long grown = RssKb() - before;
    Console.WriteLine("  RSS growth over 18000 undisposed observers: {0} KB", grown);
    True(grown < 40 * 1024, "RSS grew by " + grown + " KB");
  }

  public static void TestCreateRunDisposeDoesNotLeak() {
    var rng = new Random(7);
    var x = new float[256];
    for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
    var shape = new long[] { 256 };
    for (int i = 0; i < 500; i++) Cycle(x, shape);
    GC.Collect();
    long before = RssKb();
    for (int i = 0; i < 10000; i++) Cycle(x, shape);
    GC.Collect();
    long grown = RssKb() - before;
    Console.WriteLine("  RSS growth over 10000 cycles: {0} KB", grown);
    True(grown < 20 * 1024, "RSS grew by " + grown + " KB");
  }

  public static void TestGraphBuildRunQuantizeSaveLoad() {
    // General graph (EXPERIMENTAL API): x {batch, 3} -> Linear(3 -> 4) -> Relu -> Reshape {batch, 2, 2}
    // -> Transpose [0, 2, 1] -> y, against C# math; then dynamic int8 and a save/load round trip.
    True(Array.IndexOf(Qk.OpTypes(), "MatMul") >= 0, "op types");
    var w = new[] { 1f, 2f, -3f, 0.5f, -1f, 1f, 2f, 0f, 1f, 0.25f, -0.5f, 1f };
    var b = new[] { 0.5f, 0f, -1f, 0.25f };
    var x = new[] { 1f, 1f, 2f, -1f, 0.5f, 3f };
    var xShape = new long[] { 2, 3 };
    var want = new float[8];
    for (int n = 0; n < 2; n++)
      for (int o = 0; o < 4; o++) {
        float acc = b[o];
        for (int i = 0; i < 3; i++) acc += x[n * 3 + i] * w[o * 3 + i];
        want[n * 4 + (o % 2) * 2 + o / 2] = Math.Max(acc, 0);
      }
    string path = Path.GetTempFileName();
    try {
      using (var m = Model.Graph())
      using (var perm = new Attrs())
      using (var shape = new Attrs()) {
        True(m.IsGraph(), "is graph");
        m.AddInput("x", new long[] { -1, 3 }, new[] { "batch", null });
        m.AddConstant("w", w, new long[] { 4, 3 });
        m.AddConstant("b", b, new long[] { 4 });
        m.AddNode("Linear", "fc", new[] { "x", "w", "b" }, new[] { "h" });
        m.AddNode("Relu", "relu", new[] { "h" }, new[] { "hr" });
        shape.SetInts("shape", new long[] { 0, 2, 2 });
        m.AddNode("Reshape", "split", new[] { "hr" }, new[] { "h3" }, shape);
        perm.SetInts("perm", new long[] { 0, 2, 1 });
        m.AddNode("Transpose", "t", new[] { "h3" }, new[] { "y" }, perm);
        m.AddOutput("y");
        SeqEqual(new[] { "fc", "relu", "split", "t" }, m.NodeNames(), "nodes");
        SeqEqual(new[] { "Linear", "Relu", "Reshape", "Transpose" }, m.NodeOpTypes(), "ops");
        SeqEqual(new long[] { -1, 2, 2 }, m.ValueShape("y"), "value shape");
        Equal("batch", m.ValueDimName("y", 0), "dim name");
        using (var r = new Run(m)) {
          r.SetInput("x", x, xShape);
          r.Invoke();
          SeqEqual(new long[] { 2, 2, 2 }, r.OutputShape("y"), "output shape");
          float[] y = r.GetOutput("y");
          for (int i = 0; i < 8; i++) True(Math.Abs(y[i] - want[i]) < 1e-5f, "y[" + i + "]");
          Throws((int)Status.QK_ERR_NOT_FOUND, () => r.GetOutput("nope"));
        }
        Throws((int)Status.QK_ERR_UNSUPPORTED, () => m.AddNode("NoSuchOp", "n", new[] { "x" }, new[] { "z" }));
        Throws(Invalid, () => perm.SetInts("", new long[] { 0 }));
        m.QuantizeDynamic();
        True(m.GetState() == ModelState.QK_MODEL_DYNAMIC, "dynamic");
        float[] yd;
        using (var r = new Run(m)) {
          r.SetInput("x", x, xShape);
          r.Invoke();
          yd = r.GetOutput("y");
          for (int i = 0; i < 8; i++) True(Math.Abs(yd[i] - want[i]) < 0.05f, "dynamic y[" + i + "]");
        }
        m.Save(path);
        using (var loaded = Model.Load(path))
        using (var r = new Run(loaded)) {
          True(loaded.IsGraph(), "loaded is graph");
          r.SetInput("x", x, xShape);
          r.Invoke();
          SeqEqual(yd, r.GetOutput("y"), "loaded y");
        }
      }
    } finally {
      File.Delete(path);
    }
  }
}
