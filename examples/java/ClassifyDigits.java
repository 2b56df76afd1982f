// SPDX-License-Identifier: Apache-2.0
// Classifies the digits test images with an int8 model file, from Java.
//
//   java -cp quantkit.jar:. ClassifyDigits DATA_DIR MODEL.qkw [MIN_ACCURACY]
//
// If MODEL.qkw does not exist it is made first, as examples/c/model_demo.c does: the digits CNN
// built from DATA_DIR/digits_cnn.qktb, fused, calibrated on 128 images, converted to int8 and
// saved. Then the file is loaded (no re-quantization) and run on the 450 test images of
// DATA_DIR/digits_images.qktb. Exits 1 if the accuracy is below MIN_ACCURACY (default 0.95).

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.quantkit.Model;
import org.quantkit.QuantKit;

public final class ClassifyDigits {
  /** One tensor of a .qktb bundle (format: examples/data/export_fixture.py). */
  static final class Tensor {
    final long[] shape;
    final float[] data;
    Tensor(long[] shape, float[] data) {
      this.shape = shape;
      this.data = data;
    }
    long[] shape() { return shape; }
    float[] data() { return data; }
  }

  static Map<String, Tensor> loadBundle(Path path) throws Exception {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
    byte[] magic = new byte[4];
    b.get(magic);
    if (!new String(magic, "US-ASCII").equals("QKTB")) throw new IllegalArgumentException(path + ": not a bundle");
    Map<String, Tensor> out = new HashMap<>();
    for (int t = b.getInt(); t > 0; t--) {
      byte[] name = new byte[b.getInt()];
      b.get(name);
      long[] shape = new long[b.getInt()];
      long count = 1;
      for (int d = 0; d < shape.length; d++) count *= shape[d] = b.getLong();
      float[] data = new float[Math.toIntExact(count)];
      b.asFloatBuffer().get(data);
      b.position(b.position() + data.length * 4);
      out.put(new String(name, "UTF-8"), new Tensor(shape, data));
    }
    return out;
  }

  /** The digits CNN of examples/c/digits_model.c: input "image" {1, 16, 16}, output {10}. */
  static Model build(Map<String, Tensor> w) {
    Model m = new Model("image", new long[] {1, 16, 16});
    long[] one = {1, 1}, pad1 = {1, 1, 1, 1}, pad0 = {0, 0, 0, 0}, two = {2, 2};
    String src = "image";
    for (int i = 1; i <= 3; i++) {
      Tensor cw = w.get("conv" + i + ".weight");
      m.addConv2d("conv" + i, src, "c" + i, cw.data(), cw.shape(), w.get("conv" + i + ".bias").data(), one, pad1,
                  one, 1);
      batchNorm(m, w, "bn" + i, "c" + i, "b" + i);
      m.addRelu("relu" + i, "b" + i, "r" + i);
      src = "r" + i;
      if (i >= 2) {
        m.addMaxPool2d("pool" + i, src, "p" + i, two, two, pad0, one);
        src = "p" + i;
      }
    }
    m.addFlatten("flatten", src, "flat");
    Tensor fc1 = w.get("fc1.weight"), fc2 = w.get("fc2.weight");
    m.addLinear("fc1", "flat", "f1", fc1.data(), fc1.shape(), w.get("fc1.bias").data());
    batchNorm(m, w, "bn4", "f1", "b4");
    m.addRelu("relu4", "b4", "r4");
    m.addDropout("dropout", "r4", "d4");
    m.addLinear("fc2", "d4", "logits", fc2.data(), fc2.shape(), w.get("fc2.bias").data());
    return m;
  }

  static void batchNorm(Model m, Map<String, Tensor> w, String name, String in, String out) {
    m.addBatchnorm(name, in, out, w.get(name + ".running_mean").data(), w.get(name + ".running_var").data(),
                   w.get(name + ".weight").data(), w.get(name + ".bias").data(), 1e-5f);
  }

  static float[] slice(Tensor t, int from, int to) {
    int per = (int) (t.data().length / t.shape()[0]);
    return java.util.Arrays.copyOfRange(t.data(), from * per, to * per);
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: ClassifyDigits DATA_DIR MODEL.qkw [MIN_ACCURACY]");
      System.exit(2);
    }
    Path data = Path.of(args[0]), modelPath = Path.of(args[1]);
    double minAccuracy = args.length > 2 ? Double.parseDouble(args[2]) : 0.95;
    Map<String, Tensor> images = loadBundle(data.resolve("digits_images.qktb"));
    System.out.println("QuantKit " + QuantKit.qk_version_string() + " from Java (kernel path "
                       + QuantKit.qk_isa_name() + ")");

    if (!Files.exists(modelPath)) {
      Tensor calib = images.get("calibration");
      try (Model m = build(loadBundle(data.resolve("digits_cnn.qktb")))) {
        m.fuse();
        m.prepare();
        int n = (int) calib.shape()[0];
        for (int i = 0; i < n; i += 32) {
          int end = Math.min(n, i + 32);
          m.calibrate(slice(calib, i, end), new long[] {end - i, 1, 16, 16});
        }
        m.convert();
        m.save(modelPath.toString());
      }
      System.out.println("Wrote the int8 model (calibrated on " + calib.shape()[0] + " images) to " + modelPath);
    }

    Tensor test = images.get("test_images"), labels = images.get("test_labels");
    int n = (int) test.shape()[0], correct = 0;
    try (Model model = Model.load(modelPath.toString())) {
      for (int i = 0; i < n; i += 64) {
        int end = Math.min(n, i + 64);
        float[] logits = model.run(slice(test, i, end), new long[] {end - i, 1, 16, 16});
        for (int j = 0; j < end - i; j++) {
          int best = 0;
          for (int c = 1; c < 10; c++)
            if (logits[j * 10 + c] > logits[j * 10 + best]) best = c;
          if (best == Math.round(labels.data()[i + j])) correct++;
        }
      }
    }
    double accuracy = (double) correct / n;
    System.out.printf("int8 accuracy on %d test images: %.2f%% (%d correct)%n", n, 100 * accuracy, correct);
    if (accuracy < minAccuracy) {
      System.err.printf("accuracy below %.2f%%%n", 100 * minAccuracy);
      System.exit(1);
    }
  }
}
