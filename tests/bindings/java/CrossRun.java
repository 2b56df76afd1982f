// SPDX-License-Identifier: Apache-2.0
// Cross-language agreement (CTest bindings_cross_java): loads DIR/model.qkw (written by Python,
// tests/bindings/cross/write_model.py), runs DIR/input.f32 of shape DIR/input.shape and exits 0
// only if the f32 output is byte-identical to Python's DIR/expected.f32.
// usage: java -cp quantkit.jar:. CrossRun DIR

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.quantkit.Model;

public final class CrossRun {
  private static float[] readF32(Path p) throws Exception {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
    if (b.remaining() % 4 != 0) throw new IllegalArgumentException(p + ": not a whole number of float32");
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: CrossRun DIR");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    String[] dims = Files.readString(dir.resolve("input.shape")).trim().split("\\s+");
    long[] shape = new long[dims.length];
    for (int i = 0; i < dims.length; i++) shape[i] = Long.parseLong(dims[i]);
    float[] input = readF32(dir.resolve("input.f32"));
    byte[] expected = Files.readAllBytes(dir.resolve("expected.f32"));
    float[] out;
    try (Model model = Model.load(dir.resolve("model.qkw").toString())) {
      out = model.run(input, shape);
    }
    ByteBuffer got = ByteBuffer.allocate(out.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    got.asFloatBuffer().put(out);
    byte[] bytes = got.array();
    if (bytes.length != expected.length) {
      System.err.printf("output has %d bytes, expected.f32 %d%n", bytes.length, expected.length);
      System.exit(1);
    }
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] != expected[i]) {
        int e = i / 4;
        float want = ByteBuffer.wrap(expected, e * 4, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
        System.err.printf("first mismatch at float %d (byte %d): Java %s, Python %s%n", e, i,
                          Float.toString(out[e]), Float.toString(want));
        System.exit(1);
      }
    }
    System.out.printf("Java output matches Python bit for bit (%d floats, input %s)%n", out.length,
                      String.join("x", dims));
  }
}
