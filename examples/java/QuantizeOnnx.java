// SPDX-License-Identifier: Apache-2.0
// Post-training int8 quantization of an ONNX model, from Java (EXPERIMENTAL graph API).
//
//   java -cp quantkit.jar:. QuantizeOnnx MODEL.onnx [MIN_SQNR_DB]
//
// Shows the whole static-quantization flow on a model with one f32 input {N, C, H, W}:
// Model.loadOnnx, inputNames / outputNames, a Run (setInput, invoke, getOutput), fuse, prepare,
// calibration through Run.calibrate, convert, and the int8 output compared with the float one
// (QuantKit.sqnr). The data is a deterministic pseudo-random batch; calibrate on real samples in
// practice. Exits 1 if the SQNR is below MIN_SQNR_DB (default 20 dB).

import java.util.Arrays;
import org.quantkit.Model;
import org.quantkit.QuantKit;
import org.quantkit.Run;

public final class QuantizeOnnx {
  /** `count` values in [-1, 1) from a 32-bit LCG: the same batch on every run and platform. */
  static float[] batch(int count, int seed) {
    float[] x = new float[count];
    int s = seed;
    for (int i = 0; i < count; i++) {
      s = s * 1664525 + 1013904223;
      x[i] = (s >>> 8) / (float) (1 << 23) - 1f;
    }
    return x;
  }

  /** One forward pass: the first output, as float. */
  static float[] infer(Model model, String input, String output, float[] data, long[] shape) {
    try (Run run = new Run(model)) {
      run.setInput(input, data, shape);
      run.invoke();
      return run.getOutput(output);
    }
  }

  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: QuantizeOnnx MODEL.onnx [MIN_SQNR_DB]");
      System.exit(2);
    }
    double minSqnr = args.length > 1 ? Double.parseDouble(args[1]) : 20.0;
    try (Model model = Model.loadOnnx(args[0])) {
      String input = model.inputNames().get(0), output = model.outputNames().get(0);
      System.out.println("inputs:  " + model.inputNames() + ", " + input + " "
                         + Arrays.toString(model.valueShape(input)) + " (-1: symbolic)");
      System.out.println("outputs: " + model.outputNames());

      // The batch dim is symbolic; the other dims are the model's.
      long[] shape = model.valueShape(input);
      shape[0] = 16;
      int count = (int) (shape[0] * shape[1] * shape[2] * shape[3]);
      float[] x = batch(count, 1);
      float[] reference = infer(model, input, output, x, shape);

      model.fuse();
      model.prepare();
      try (Run run = new Run(model)) {
        for (int seed = 2; seed < 6; seed++) {  // a few calibration batches
          run.setInput(input, batch(count, seed), shape);
          run.calibrate();
        }
      }
      model.convert();

      float[] quantized = infer(model, input, output, x, shape);
      double sqnr = QuantKit.sqnr(reference, quantized);
      System.out.printf("int8 vs float SQNR on %d samples: %.2f dB%n", shape[0], sqnr);
      if (!(sqnr >= minSqnr)) {
        System.err.printf("SQNR below %.1f dB%n", minSqnr);
        System.exit(1);
      }
    }
  }
}
