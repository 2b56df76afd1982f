// SPDX-License-Identifier: Apache-2.0
// Classifies the digits test images with an int8 model file, from C#.
//
//   mono ClassifyDigits.exe DATA_DIR MODEL.qkw [MIN_ACCURACY]
//
// If MODEL.qkw does not exist it is made first, as examples/c/model_demo.c does: the digits CNN
// built from DATA_DIR/digits_cnn.qktb, fused, calibrated on 128 images, converted to int8 and
// saved. Then the file is loaded (no re-quantization) and run on the 450 test images of
// DATA_DIR/digits_images.qktb. Exits 1 if the accuracy is below MIN_ACCURACY (default 0.95).
// Needs QuantKit.dll and libquantkit_cs.so (LD_LIBRARY_PATH or beside the program).
using System;
using System.Collections.Generic;
using System.IO;
using QuantKit;

static class ClassifyDigits {
  sealed class Tensor {
    public long[] Shape;
    public float[] Data;
    public float[] Rows(int from, int to) {
      int per = (int)(Data.Length / Shape[0]);
      var r = new float[(to - from) * per];
      Array.Copy(Data, from * per, r, 0, r.Length);
      return r;
    }
  }

  /// A .qktb bundle (format: examples/data/export_fixture.py), little-endian.
  static Dictionary<string, Tensor> LoadBundle(string path) {
    var result = new Dictionary<string, Tensor>();
    using (var r = new BinaryReader(File.OpenRead(path))) {
      if (new string(r.ReadChars(4)) != "QKTB") throw new InvalidDataException(path + ": not a bundle");
      for (uint t = r.ReadUInt32(); t > 0; t--) {
        string name = System.Text.Encoding.UTF8.GetString(r.ReadBytes((int)r.ReadUInt32()));
        var shape = new long[r.ReadUInt32()];
        long count = 1;
        for (int d = 0; d < shape.Length; d++) count *= shape[d] = r.ReadInt64();
        byte[] raw = r.ReadBytes(checked((int)(count * 4)));
        var data = new float[count];
        Buffer.BlockCopy(raw, 0, data, 0, raw.Length);
        result[name] = new Tensor { Shape = shape, Data = data };
      }
    }
    return result;
  }

  static void BatchNorm(Model m, Dictionary<string, Tensor> w, string name, string input, string output) {
    m.AddBatchnorm(name, input, output, w[name + ".running_mean"].Data, w[name + ".running_var"].Data,
                   w[name + ".weight"].Data, w[name + ".bias"].Data, 1e-5f);
  }

  /// The digits CNN of examples/c/digits_model.c: input "image" {1, 16, 16}, output {10}.
  static Model Build(Dictionary<string, Tensor> w) {
    var m = new Model("image", new long[] { 1, 16, 16 });
    long[] one = { 1, 1 }, pad1 = { 1, 1, 1, 1 }, pad0 = { 0, 0, 0, 0 }, two = { 2, 2 };
    string src = "image";
    for (int i = 1; i <= 3; i++) {
      Tensor cw = w["conv" + i + ".weight"];
      m.AddConv2d("conv" + i, src, "c" + i, cw.Data, cw.Shape, w["conv" + i + ".bias"].Data, one, pad1, one, 1);
      BatchNorm(m, w, "bn" + i, "c" + i, "b" + i);
      m.AddRelu("relu" + i, "b" + i, "r" + i);
      src = "r" + i;
      if (i >= 2) {
        m.AddMaxPool2d("pool" + i, src, "p" + i, two, two, pad0, one);
        src = "p" + i;
      }
    }
    m.AddFlatten("flatten", src, "flat");
    m.AddLinear("fc1", "flat", "f1", w["fc1.weight"].Data, w["fc1.weight"].Shape, w["fc1.bias"].Data);
    BatchNorm(m, w, "bn4", "f1", "b4");
    m.AddRelu("relu4", "b4", "r4");
    m.AddDropout("dropout", "r4", "d4");
    m.AddLinear("fc2", "d4", "logits", w["fc2.weight"].Data, w["fc2.weight"].Shape, w["fc2.bias"].Data);
    return m;
  }

  static int Main(string[] args) {
    if (args.Length < 2) {
      Console.Error.WriteLine("usage: ClassifyDigits.exe DATA_DIR MODEL.qkw [MIN_ACCURACY]");
      return 2;
    }
    string data = args[0], modelPath = args[1];
    double minAccuracy = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 0.95;
    var images = LoadBundle(Path.Combine(data, "digits_images.qktb"));
    Console.WriteLine("QuantKit {0} from C# (kernel path {1})", Qk.qk_version_string(), Qk.qk_isa_name());

    if (!File.Exists(modelPath)) {
      Tensor calib = images["calibration"];
      using (var m = Build(LoadBundle(Path.Combine(data, "digits_cnn.qktb")))) {
        m.Fuse();
        m.Prepare();
        int count = (int)calib.Shape[0];
        for (int i = 0; i < count; i += 32) {
          int end = Math.Min(count, i + 32);
          m.Calibrate(calib.Rows(i, end), new long[] { end - i, 1, 16, 16 });
        }
        m.Convert();
        m.Save(modelPath);
      }
      Console.WriteLine("Wrote the int8 model (calibrated on {0} images) to {1}", calib.Shape[0], modelPath);
    }

    Tensor test = images["test_images"], labels = images["test_labels"];
    int n = (int)test.Shape[0], correct = 0;
    using (var model = Model.Load(modelPath)) {
      for (int i = 0; i < n; i += 64) {
        int end = Math.Min(n, i + 64);
        float[] logits = model.Run(test.Rows(i, end), new long[] { end - i, 1, 16, 16 });
        for (int j = 0; j < end - i; j++) {
          int best = 0;
          for (int c = 1; c < 10; c++)
            if (logits[j * 10 + c] > logits[j * 10 + best]) best = c;
          if (best == (int)Math.Round(labels.Data[i + j])) correct++;
        }
      }
    }
    double accuracy = (double)correct / n;
    Console.WriteLine("int8 accuracy on {0} test images: {1:F2}% ({2} correct)", n, 100 * accuracy, correct);
    if (accuracy < minAccuracy) {
      Console.Error.WriteLine("accuracy below {0:F2}%", 100 * minAccuracy);
      return 1;
    }
    return 0;
  }
}
