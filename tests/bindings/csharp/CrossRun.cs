// SPDX-License-Identifier: Apache-2.0
// Cross-language agreement (CTest bindings_cross_csharp): loads DIR/model.qkw (written by Python,
// tests/bindings/cross/write_model.py), runs DIR/input.f32 of shape DIR/input.shape and exits 0
// only if the f32 output is byte-identical to Python's DIR/expected.f32.
// usage: mono CrossRun.exe DIR
using System;
using System.IO;
using QuantKit;

static class CrossRun {
  static int Main(string[] args) {
    if (args.Length != 1) {
      Console.Error.WriteLine("usage: CrossRun.exe DIR");
      return 2;
    }
    string dir = args[0];
    string[] dims = File.ReadAllText(Path.Combine(dir, "input.shape")).Trim().Split(
        new[] { ' ', '\t', '\n' }, StringSplitOptions.RemoveEmptyEntries);
    var shape = Array.ConvertAll(dims, long.Parse);
    byte[] raw = File.ReadAllBytes(Path.Combine(dir, "input.f32"));
    var input = new float[raw.Length / 4];
    Buffer.BlockCopy(raw, 0, input, 0, input.Length * 4); // little-endian host, like the file
    byte[] expected = File.ReadAllBytes(Path.Combine(dir, "expected.f32"));
    float[] output;
    using (var model = Model.Load(Path.Combine(dir, "model.qkw"))) output = model.Run(input, shape);
    var got = new byte[output.Length * 4];
    Buffer.BlockCopy(output, 0, got, 0, got.Length);
    if (got.Length != expected.Length) {
      Console.Error.WriteLine("output has {0} bytes, expected.f32 {1}", got.Length, expected.Length);
      return 1;
    }
    for (int i = 0; i < got.Length; i++) {
      if (got[i] != expected[i]) {
        int e = i / 4;
        Console.Error.WriteLine("first mismatch at float {0} (byte {1}): C# {2:R}, Python {3:R}", e, i, output[e],
                                BitConverter.ToSingle(expected, e * 4));
        return 1;
      }
    }
    Console.WriteLine("C# output matches Python bit for bit ({0} floats, input {1})", output.Length,
                      string.Join("x", dims));
    return 0;
  }
}
