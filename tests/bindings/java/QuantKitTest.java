// SPDX-License-Identifier: Apache-2.0
// Java binding: values against math done here, observers, operators, errors, use after close,
// and a create/run/close leak loop. Run by CTest bindings_java (JUnit 4).
package org.quantkit.tests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.Test;
import org.quantkit.*;

public class QuantKitTest {
  private static final int INVALID = Status.QK_ERR_INVALID_ARGUMENT.swigValue();

  private static QuantSpec u8Spec() {
    return new QuantSpec(DType.QK_DTYPE_U8, QScheme.QK_QSCHEME_PER_TENSOR_AFFINE);
  }

  private static QParams perTensor(DType dtype, float scale, int zeroPoint, int qmin, int qmax) {
    return QParams.create(dtype, QScheme.QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, new float[] {scale},
                          new int[] {zeroPoint}, null, qmin, qmax);
  }

  /** PyTorch's quantize: clamp(rint(x * (1/scale)) + zp), products in float32. */
  private static int quantizeRef(float x, float scale, int zp, int lo, int hi) {
    float inv = 1.0f / scale;
    long q = (long) Math.rint(x * inv) + zp;
    return (int) Math.max(lo, Math.min(hi, q));
  }

  private static QuantKitException expectError(int status, Runnable r) {
    try {
      r.run();
    } catch (QuantKitException e) {
      assertEquals(e.getMessage(), status, e.getStatus());
      return e;
    }
    fail("no QuantKitException (status " + status + ")");
    return null;
  }

  @Test
  public void nativeLibraryComesFromTheJar() {
    assertEquals("resource:/native/" + NativeLoader.platform() + "/", NativeLoader.loadedFrom());
    assertEquals(1L, QuantKit.qk_abi_version());
  }

  @Test
  public void quantizeRoundTripMatchesJavaMath() {
    float[] x = new float[301];
    for (int i = 0; i < x.length; i++) x[i] = -1.0f + 3.0f * i / 300;
    x[300] = 2.0f;
    long[] shape = {7, 43};
    try (QuantSpec spec = u8Spec(); QParams qp = QParams.fromTensor(spec, x, shape)) {
      float scale = qp.getScales()[0];
      int zp = qp.getZeroPoints()[0];
      assertEquals(3.0f / 255.0f, scale, 0.0f);
      assertEquals(85, zp); // 0 - rint(-1 / (3/255)) = rint(85.0)
      byte[] q = qp.quantize(x, shape);
      assertEquals(x.length, q.length);
      for (int i = 0; i < x.length; i++)
        assertEquals("x[" + i + "]", quantizeRef(x[i], scale, zp, 0, 255), q[i] & 0xFF);
      float[] back = qp.dequantize(q, shape);
      for (int i = 0; i < x.length; i++) assertEquals((float) ((q[i] & 0xFF) - zp) * scale, back[i], 0.0f);
    }
  }

  @Test
  public void minMaxObserversGiveExactQParams() {
    float[] x = {0.5f, -1.0f, 3.0f, 0.25f, 2.0f, -0.5f};
    try (QuantSpec spec = u8Spec(); Observer obs = new Observer(ObserverKind.QK_OBSERVER_MINMAX, spec)) {
      obs.update(x, new long[] {6});
      assertEquals(ObserverKind.QK_OBSERVER_MINMAX, obs.getKind());
      assertArrayEquals(new float[] {-1.0f}, obs.getMinVals(), 0.0f);
      assertArrayEquals(new float[] {3.0f}, obs.getMaxVals(), 0.0f);
      try (QParams qp = obs.computeQparams()) {
        assertEquals(4.0f / 255.0f, qp.getScales()[0], 0.0f);
        assertEquals(64, qp.getZeroPoints()[0]); // rint(1 / (4/255)) = rint(63.75)
      }
    }
    // Per channel along axis 0 of [2, 3]: one range per row.
    try (QuantSpec spec = new QuantSpec(DType.QK_DTYPE_S8, QScheme.QK_QSCHEME_PER_CHANNEL_SYMMETRIC);
         Observer obs = new Observer(ObserverKind.QK_OBSERVER_PER_CHANNEL_MINMAX, spec)) {
      obs.update(new float[] {1, -2, 0.5f, 4, 3, -1}, new long[] {2, 3});
      assertEquals(2L, obs.getChannelCount());
      assertArrayEquals(new float[] {-2, -1}, obs.getMinVals(), 0.0f);
      assertArrayEquals(new float[] {1, 4}, obs.getMaxVals(), 0.0f);
      try (QParams qp = obs.computeQparams()) {
        assertEquals(2L, qp.getCount());
        // symmetric s8: scale = max|x| / ((127 - -128) / 2)
        assertArrayEquals(new float[] {2.0f / 127.5f, 4.0f / 127.5f}, qp.getScales(), 0.0f);
        assertArrayEquals(new int[] {0, 0}, qp.getZeroPoints());
      }
    }
  }

  @Test
  public void observerStateSavesAndLoads() {
    try (QuantSpec spec = u8Spec(); Observer a = new Observer(ObserverKind.QK_OBSERVER_HISTOGRAM, spec)) {
      float[] x = new float[1000];
      Random rng = new Random(2);
      for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
      a.update(x, new long[] {x.length});
      byte[] blob = a.save();
      try (Observer b = Observer.load(blob); QParams qa = a.computeQparams(); QParams qb = b.computeQparams()) {
        assertArrayEquals(qa.getScales(), qb.getScales(), 0.0f);
        assertArrayEquals(qa.getZeroPoints(), qb.getZeroPoints());
      }
      expectError(Status.QK_ERR_CORRUPT.swigValue(), () -> Observer.load(Arrays.copyOf(blob, blob.length - 3)));
    }
  }

  @Test
  public void fakeQuantForwardAndBackward() {
    try (QParams qp = perTensor(DType.QK_DTYPE_U8, 0.1f, 10, 0, 255)) {
      float[] x = {-2.0f, -0.5f, 0.0f, 0.26f, 30.0f};
      long[] shape = {5};
      float[] y = qp.fakeQuantize(x, shape);
      byte[] mask = qp.fakeQuantizeMask(x, shape);
      float[] g = qp.fakeQuantizeBackward(x, shape, new float[] {1, 2, 3, 4, 5});
      for (int i = 0; i < x.length; i++) {
        int q = quantizeRef(x[i], 0.1f, 10, 0, 255);
        assertEquals((float) (q - 10) * 0.1f, y[i], 0.0f);
      }
      assertArrayEquals(new byte[] {0, 1, 1, 1, 0}, mask);
      assertArrayEquals(new float[] {0, 2, 3, 4, 0}, g, 0.0f);
    }
  }

  @Test
  public void qlinearS32MatchesInt32Math() {
    final int n = 5, k = 9, m = 4;
    Random rng = new Random(3);
    byte[] w = new byte[n * k];
    byte[] a = new byte[m * k];
    for (int i = 0; i < w.length; i++) w[i] = (byte) (rng.nextInt(255) - 127);
    for (int i = 0; i < a.length; i++) a[i] = (byte) rng.nextInt(256);
    try (QParams wq = QParams.create(DType.QK_DTYPE_S8, QScheme.QK_QSCHEME_PER_TENSOR_SYMMETRIC, 0, 0,
                                     new float[] {0.02f}, new int[] {0}, null, -128, 127);
         QParams aq = perTensor(DType.QK_DTYPE_U8, 0.05f, 128, 0, 255);
         PackedWeights pw = new PackedWeights(w, new long[] {n, k}, wq, null);
         QLinear op = new QLinear(pw, aq, OutputKind.QK_OUTPUT_S32)) {
      assertEquals(n, op.getN());
      assertEquals(k, op.getK());
      int[] out = op.runS32(a, new long[] {m, k});
      assertEquals(m * n, out.length);
      for (int r = 0; r < m; r++)
        for (int c = 0; c < n; c++) {
          int acc = 0;
          for (int j = 0; j < k; j++) acc += ((a[r * k + j] & 0xFF) - 128) * w[c * k + j];
          assertEquals("out[" + r + "][" + c + "]", acc, out[r * n + c]);
        }
      // The same operator through a pool of 2 threads.
      try (ThreadPool pool = new ThreadPool(2)) {
        assertEquals(2L, pool.getThreadCount());
        assertArrayEquals(out, op.runS32(a, new long[] {m, k}, pool));
      }
    }
  }

  @Test
  public void qconv2d1x1MatchesInt32Math() {
    Random rng = new Random(5);
    byte[] w = new byte[4 * 3];
    byte[] a = new byte[2 * 2 * 3];
    for (int i = 0; i < w.length; i++) w[i] = (byte) (rng.nextInt(255) - 127);
    for (int i = 0; i < a.length; i++) a[i] = (byte) rng.nextInt(256);
    try (QParams wq = QParams.create(DType.QK_DTYPE_S8, QScheme.QK_QSCHEME_PER_TENSOR_SYMMETRIC, 0, 0,
                                     new float[] {0.01f}, new int[] {0}, null, -128, 127);
         QParams iq = perTensor(DType.QK_DTYPE_U8, 0.1f, 100, 0, 255);
         QParams oq = perTensor(DType.QK_DTYPE_U8, 1.0f, 128, 0, 255);
         QConv2d conv = new QConv2d(w, new long[] {4, 3, 1, 1}, wq, null, new long[] {1, 1}, new long[] {0, 0, 0, 0},
                                    new long[] {1, 1}, 1, iq, oq)) {
      assertArrayEquals(new long[] {2, 2}, conv.outputSize(2, 2));
      byte[] out = conv.run(a, new long[] {1, 2, 2, 3});
      float mult = 0.1f * 0.01f / 1.0f;
      for (int p = 0; p < 4; p++)
        for (int o = 0; o < 4; o++) {
          int acc = 0;
          for (int c = 0; c < 3; c++) acc += ((a[p * 3 + c] & 0xFF) - 100) * w[o * 3 + c];
          long q = (long) Math.rint((float) acc * mult) + 128;
          assertEquals((int) Math.max(0, Math.min(255, q)), out[p * 4 + o] & 0xFF);
        }
    }
  }

  @Test
  public void dynamicLinearIsCloseToFloat() {
    final int n = 6, k = 16, m = 3;
    Random rng = new Random(4);
    byte[] w = new byte[n * k];
    float[] x = new float[m * k];
    for (int i = 0; i < w.length; i++) w[i] = (byte) (rng.nextInt(255) - 127);
    for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
    try (QParams wq = QParams.create(DType.QK_DTYPE_S8, QScheme.QK_QSCHEME_PER_TENSOR_SYMMETRIC, 0, 0,
                                     new float[] {0.02f}, new int[] {0}, null, -128, 127);
         PackedWeights pw = new PackedWeights(w, new long[] {n, k}, wq, null);
         DynamicLinear lin = new DynamicLinear(pw, DType.QK_DTYPE_U8, false)) {
      float[] y = lin.run(x, new long[] {m, k});
      assertEquals(m * n, y.length);
      double maxRef = 0, maxErr = 0;
      for (int r = 0; r < m; r++)
        for (int c = 0; c < n; c++) {
          double ref = 0;
          for (int j = 0; j < k; j++) ref += x[r * k + j] * (w[c * k + j] * 0.02f);
          maxRef = Math.max(maxRef, Math.abs(ref));
          maxErr = Math.max(maxErr, Math.abs(ref - y[r * n + c]));
        }
      assertTrue("max error " + maxErr, maxErr < 0.05 * maxRef);
    }
  }

  @Test
  public void errorsCarryStatusAndMessage() {
    try (QuantSpec spec = u8Spec(); Observer obs = new Observer(ObserverKind.QK_OBSERVER_MINMAX, spec)) {
      // bad shape: 5 values, a shape holding 6
      QuantKitException e = expectError(INVALID, () -> obs.update(new float[5], new long[] {2, 3}));
      assertTrue(e.getDetail(), e.getDetail().contains("5 elements"));
      assertEquals(Status.QK_ERR_INVALID_ARGUMENT, e.getStatusEnum());
      // nothing observed yet
      expectError(Status.QK_ERR_STATE.swigValue(), obs::computeQparams);
      // a per-channel observer needs a per-channel spec: the library's own message
      e = expectError(INVALID, () -> new Observer(ObserverKind.QK_OBSERVER_PER_CHANNEL_MINMAX, spec));
      assertTrue(e.getDetail(), e.getDetail().contains("per-channel"));
    }
    expectError(INVALID, () -> perTensor(DType.QK_DTYPE_U8, -1.0f, 0, 0, 255));
    try (QParams qp = perTensor(DType.QK_DTYPE_U8, 0.1f, 0, 0, 255)) {
      // wrong length: grad_y has 2 values for 3 inputs
      expectError(INVALID, () -> qp.fakeQuantizeBackward(new float[3], new long[] {3}, new float[2]));
      expectError(INVALID, () -> qp.quantize(null, new long[] {3}));
      expectError(INVALID, () -> qp.quantize(new float[1], new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1}));
    }
    try (QParams wq = QParams.create(DType.QK_DTYPE_S8, QScheme.QK_QSCHEME_PER_TENSOR_SYMMETRIC, 0, 0,
                                     new float[] {0.02f}, new int[] {0}, null, -128, 127);
         PackedWeights pw = new PackedWeights(new byte[6], new long[] {2, 3}, wq, null);
         DynamicLinear lin = new DynamicLinear(pw, DType.QK_DTYPE_U8, false)) {
      QuantKitException e = expectError(INVALID, () -> lin.run(new float[8], new long[] {2, 4}));
      assertTrue(e.getDetail(), e.getDetail().contains("k=3"));
    }
    // flat functions: a failing status throws, outputs come back in one-element arrays
    long[] count = new long[1];
    QuantKit.qk_shape_element_count(new long[] {2, 3, 4}, count);
    assertEquals(24L, count[0]);
    expectError(INVALID, () -> QuantKit.qk_shape_element_count(new long[] {2, -1}, new long[1]));
  }

  @Test
  public void useAfterCloseThrowsClosed() {
    QuantSpec spec = u8Spec();
    Observer obs = new Observer(ObserverKind.QK_OBSERVER_MINMAX, spec);
    assertFalse(obs.isClosed());
    obs.close();
    obs.close(); // idempotent
    assertTrue(obs.isClosed());
    QuantKitException e = expectError(QuantKitException.CLOSED, () -> obs.update(new float[3], new long[] {3}));
    assertTrue(e.isClosed());
    assertEquals("CLOSED", e.getStatusName());
    spec.close();
    expectError(QuantKitException.CLOSED, spec::getDtype);
    // a closed handle passed as an argument is a null pointer to the library
    expectError(INVALID, () -> new Observer(ObserverKind.QK_OBSERVER_MINMAX, spec));
  }

  private static byte[] f32Bytes(float[] f) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(f.length * 4).order(java.nio.ByteOrder.nativeOrder());
    b.asFloatBuffer().put(f);
    return b.array();
  }

  @Test
  public void weightFileWritesAndReads() throws Exception {
    Path path = Files.createTempFile("qk_java_test", ".qkw");
    float[] w = new float[64];
    for (int i = 0; i < w.length; i++) w[i] = (i % 9) - 4;
    float[] bias = {0.5f, -0.25f};
    try {
      try (WeightWriter writer = new WeightWriter(path.toString())) {
        writer.setMetadata("origin", "java");
        writer.addRaw("bias", f32Bytes(bias), DType.QK_DTYPE_F32, new long[] {2});
        writer.addRaw("w", f32Bytes(w), DType.QK_DTYPE_F32, new long[] {8, 8});
        writer.finish();
        expectError(Status.QK_ERR_STATE.swigValue(), writer::finish);
      }
      try (WeightFile f = WeightFile.open(path.toString())) {
        assertEquals(2L, f.getTensorCount());
        assertEquals(Arrays.asList("bias", "w"), f.tensorNames());
        assertEquals("java", f.metadataGet("origin"));
        assertEquals("java", f.metadata().get("origin"));
        assertEquals(f.getMetadataCount(), f.metadata().size());
        try (TensorInfo t = f.info(f.find("w"))) {
          assertArrayEquals(new long[] {8, 8}, t.getShape());
          assertEquals(64L, t.getElementCount());
          assertEquals(DType.QK_DTYPE_F32, t.getDtype());
        }
        assertArrayEquals(w, f.decodeF32(f.find("w")), 0.0f);
        assertArrayEquals(bias, f.decodeF32(f.find("bias")), 0.0f);
        expectError(Status.QK_ERR_NOT_FOUND.swigValue(), () -> f.find("missing"));
      }
      expectError(Status.QK_ERR_IO.swigValue(), () -> WeightFile.open(path + ".missing"));
    } finally {
      Files.deleteIfExists(path);
    }
  }

  @Test
  public void modelRunsLinearReluExactly() {
    // Linear(2 -> 2) + ReLU in f32: y = relu(W x + b) with small integers, so exact.
    Model m = new Model("x", new long[] {2});
    try {
      m.addLinear("fc", "x", "h", new float[] {1, 2, -3, 1}, new long[] {2, 2}, new float[] {0.5f, 0});
      m.addRelu("relu", "h", "y");
      assertEquals(Arrays.asList("fc", "relu"), m.layerNames());
      assertArrayEquals(new long[] {2}, m.outputShape());
      assertArrayEquals(new long[] {2}, m.tensorShape("h"));
      assertArrayEquals(new float[] {3.5f, 0, 0.5f, 0}, m.run(new float[] {1, 1, 2, -1}, new long[] {2, 2}), 0.0f);
      expectError(INVALID, () -> m.run(new float[3], new long[] {1, 3}));
    } finally {
      m.close();
    }
    expectError(QuantKitException.CLOSED, () -> m.run(new float[2], new long[] {1, 2}));
  }

  @Test
  public void modelLoadMemoryEqualsLoad() throws Exception {
    // A dynamic model (int8 weights in the file): loadMemory(bytes) == load(path), bit for bit.
    Path path = Files.createTempFile("qk_model", ".qkw");
    float[] x = {1, 1, 2, -1, 0.25f, -3};
    long[] shape = {3, 2};
    float[] y;
    try {
      try (Model m = new Model("x", new long[] {2})) {
        m.addLinear("fc", "x", "h", new float[] {1, 2, -3, 1}, new long[] {2, 2}, new float[] {0.5f, 0});
        m.addRelu("relu", "h", "y");
        m.quantizeDynamic();
        y = m.run(x, shape);
        m.save(path.toString());
      }
      byte[] bytes = Files.readAllBytes(path);
      try (Model a = Model.loadMemory(bytes); Model b = Model.load(path.toString())) {
        assertEquals(ModelState.QK_MODEL_DYNAMIC, a.getState());
        assertEquals(b.layerNames(), a.layerNames());
        assertArrayEquals(y, a.run(x, shape), 0.0f);
        assertArrayEquals(b.run(x, shape), a.run(x, shape), 0.0f);
      }
      byte[] damaged = bytes.clone();
      damaged[damaged.length / 2] ^= 0x40;
      expectError(Status.QK_ERR_CORRUPT.swigValue(), () -> Model.loadMemory(damaged));
      expectError(Status.QK_ERR_CORRUPT.swigValue(), () -> Model.loadMemory(new byte[0]));
      expectError(INVALID, () -> Model.loadMemory(null));
    } finally {
      Files.deleteIfExists(path);
    }
  }

  private static long rssKb() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status")))
      if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    throw new IllegalStateException("no VmRSS");
  }

  private static void cycle(float[] x, long[] shape) {
    try (QuantSpec spec = u8Spec(); Observer obs = new Observer(ObserverKind.QK_OBSERVER_HISTOGRAM, spec)) {
      obs.update(x, shape);
      try (QParams qp = obs.computeQparams()) {
        qp.dequantize(qp.quantize(x, shape), shape);
      }
    }
  }

  @Test
  public void unclosedHandlesAreFreedWhenUnreachable() throws Exception {
    // 20,000 histogram observers (2048 bins each) never closed: hundreds of MB if the cleaner
    // did not free them.
    float[] x = {-1, 0.5f, 2};
    long[] shape = {3};
    long before = 0;
    for (int i = 0; i < 20000; i++) {
      if (i == 2000) before = rssKb();
      if (i % 1000 == 999) {
        System.gc();
        Thread.sleep(20); // the cleaner thread frees what the GC found
      }
      Observer obs = new Observer(ObserverKind.QK_OBSERVER_HISTOGRAM, u8Spec());
      obs.update(x, shape);
    }
    System.gc();
    Thread.sleep(100);
    long grown = rssKb() - before;
    System.out.println("RSS growth over 18000 unclosed observers: " + grown + " KB");
    assertTrue("RSS grew by " + grown + " KB", grown < 40 * 1024);
  }

  @Test
  public void createRunCloseDoesNotLeak() throws Exception {
    float[] x = new float[256];
    Random rng = new Random(7);
    for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
    long[] shape = {256};
    // Warm-up long enough for the JIT to settle (its code and arenas are RSS too).
    for (int i = 0; i < 3000; i++) cycle(x, shape);
    System.gc();
    long before = rssKb();
    for (int i = 0; i < 10000; i++) cycle(x, shape);
    System.gc();
    long grown = rssKb() - before;
    System.out.println("RSS growth over 10000 create/run/close cycles: " + grown + " KB");
    assertTrue("RSS grew by " + grown + " KB over 10000 cycles", grown < 20 * 1024);
  }

  @Test
  public void graphBuildRunQuantizeSaveLoad() throws Exception {
    // General graph (EXPERIMENTAL API): x {batch, 3} -> Linear(3 -> 4) -> Relu -> Reshape {batch, 2, 2}
    // -> Transpose [0, 2, 1] -> y, against Java math; then dynamic int8 and a save/load round trip.
    assertTrue(QuantKit.opTypes().contains("MatMul"));
    float[] w = {1, 2, -3, 0.5f, -1, 1, 2, 0, 1, 0.25f, -0.5f, 1};
    float[] b = {0.5f, 0, -1, 0.25f};
    float[] x = {1, 1, 2, -1, 0.5f, 3};
    long[] xShape = {2, 3};
    float[] want = new float[8];
    for (int n = 0; n < 2; n++)
      for (int o = 0; o < 4; o++) {
        float acc = b[o];
        for (int i = 0; i < 3; i++) acc += x[n * 3 + i] * w[o * 3 + i];
        // {n, o / 2, o % 2} transposed to {n, o % 2, o / 2}
        want[n * 4 + (o % 2) * 2 + o / 2] = Math.max(acc, 0);
      }
    Path path = Files.createTempFile("qk_graph", ".qkw");
    try (Model m = Model.graph(); Attrs perm = new Attrs(); Attrs shape = new Attrs()) {
      assertTrue(m.isGraph());
      m.addInput("x", new long[] {-1, 3}, new String[] {"batch", null});
      m.addConstant("w", w, new long[] {4, 3});
      m.addConstant("b", b, new long[] {4});
      m.addNode("Linear", "fc", new String[] {"x", "w", "b"}, new String[] {"h"});
      m.addNode("Relu", "relu", new String[] {"h"}, new String[] {"hr"});
      shape.setInts("shape", new long[] {0, 2, 2});
      m.addNode("Reshape", "split", new String[] {"hr"}, new String[] {"h3"}, shape);
      perm.setInts("perm", new long[] {0, 2, 1});
      m.addNode("Transpose", "t", new String[] {"h3"}, new String[] {"y"}, perm);
      m.addOutput("y");
      assertEquals(Arrays.asList("fc", "relu", "split", "t"), m.nodeNames());
      assertEquals(Arrays.asList("Linear", "Relu", "Reshape", "Transpose"), m.nodeOpTypes());
      assertArrayEquals(new long[] {-1, 2, 2}, m.valueShape("y"));
      assertEquals("batch", m.valueDimName("y", 0));
      try (Run r = new Run(m)) {
        r.setInput("x", x, xShape);
        r.invoke();
        assertArrayEquals(new long[] {2, 2, 2}, r.outputShape("y"));
        assertArrayEquals(want, r.getOutput("y"), 1e-5f);
        expectError(Status.QK_ERR_NOT_FOUND.swigValue(), () -> r.getOutput("nope"));
      }
      expectError(Status.QK_ERR_UNSUPPORTED.swigValue(),
                  () -> m.addNode("NoSuchOp", "n", new String[] {"x"}, new String[] {"z"}));
      expectError(INVALID, () -> perm.setInts("", new long[] {0}));
      m.quantizeDynamic();
      assertEquals(ModelState.QK_MODEL_DYNAMIC, m.getState());
      float[] yd;
      try (Run r = new Run(m)) {
        r.setInput("x", x, xShape);
        r.invoke();
        yd = r.getOutput("y");
        assertArrayEquals(want, yd, 0.05f);
      }
      m.save(path.toString());
      try (Model loaded = Model.load(path.toString()); Run r = new Run(loaded)) {
        assertTrue(loaded.isGraph());
        r.setInput("x", x, xShape);
        r.invoke();
        assertArrayEquals(yd, r.getOutput("y"), 0.0f);
      }
    } finally {
      Files.deleteIfExists(path);
    }
  }
}
