// SPDX-License-Identifier: Apache-2.0
// Post-training int8 quantization of an ONNX model, from C# (EXPERIMENTAL graph API).
//
//   mono QuantizeOnnx.exe MODEL.onnx [MIN_SQNR_DB]
//
// Shows the whole static-quantization flow on a model with one f32 input {N, C, H, W}:
// Model.LoadOnnx, InputNames / OutputNames, a Run (SetInput, Invoke, GetOutput), Fuse, Prepare,
// calibration through Run.Calibrate, Convert, and the int8 output compared with the float one
// (Qk.Sqnr). The data is a deterministic pseudo-random batch; calibrate on real samples in
// practice. Exits 1 if the SQNR is below MIN_SQNR_DB (default 20 dB).
// Needs QuantKit.dll and libquantkit_cs.so (LD_LIBRARY_PATH or beside the program).
using System;
using System.Globalization;
using QuantKit;

static class QuantizeOnnx {
  /// `count` values in [-1, 1) from a 32-bit LCG: the same batch on every run and platform.
  static float[] Batch(int count, uint seed) {
    var x = new float[count];
    uint s = seed;
    for (int i = 0; i < count; i++) {
      s = unchecked(s * 1664525u + 1013904223u);
      x[i] = (s >> 8) / (float)(1 << 23) - 1f;
    }
    return x;
  }

  /// One forward pass: the first output, as float.
  static float[] Infer(Model model, string input, string output, float[] data, long[] shape) {
    using (var run = new Run(model)) {
      run.SetInput(input, data, shape);
      run.Invoke();
      return run.GetOutput(output);
    }
  }

  static int Main(string[] args) {
    if (args.Length < 1) {
      Console.Error.WriteLine("usage: QuantizeOnnx.exe MODEL.onnx [MIN_SQNR_DB]");
      return 2;
    }
    double minSqnr = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 20.0;
    try {
      using (var model = Model.LoadOnnx(args[0])) {
        string input = model.InputNames()[0], output = model.OutputNames()[0];
        Console.WriteLine("inputs:  [{0}], {1} [{2}] (-1: symbolic)", string.Join(", ", model.InputNames()),
                          input, string.Join(", ", model.ValueShape(input)));
        Console.WriteLine("outputs: [{0}]", string.Join(", ", model.OutputNames()));

        // The batch dim is symbolic; the other dims are the model's.
        long[] shape = model.ValueShape(input);
        shape[0] = 16;
        int count = (int)(shape[0] * shape[1] * shape[2] * shape[3]);
        float[] x = Batch(count, 1);
        float[] reference = Infer(model, input, output, x, shape);

        model.Fuse();
        model.Prepare();
        using (var run = new Run(model)) {
          for (uint seed = 2; seed < 6; seed++) {  // a few calibration batches
            run.SetInput(input, Batch(count, seed), shape);
            run.Calibrate();
          }
        }
        model.Convert();

        float[] quantized = Infer(model, input, output, x, shape);
        double sqnr = Qk.Sqnr(reference, quantized);
        Console.WriteLine("int8 vs float SQNR on {0} samples: {1:F2} dB", shape[0], sqnr);
        if (!(sqnr >= minSqnr)) {
          Console.Error.WriteLine("SQNR below {0:F1} dB", minSqnr);
          return 1;
        }
      }
    } catch (QuantKitException e) {
      Console.Error.WriteLine("QuantKit error: " + e.Message);
      return 1;
    }
    return 0;
  }
}
