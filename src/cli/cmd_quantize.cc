// SPDX-License-Identifier: Apache-2.0
// qk quantize MODEL -o OUT.qkw: an ONNX (or float .qkw) graph model -> a quantized model file,
// statically calibrated on a numpy array or dynamically quantized.
#include <quantkit/quantkit.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "args.h"
#include "commands.h"
#include "common.h"
#include "model_io.h"
#include "progress.h"
#include "qkw_io.h"

namespace qkcli {

const char* const kQuantizeHelp =
    "usage: qk quantize MODEL -o OUT.qkw [options]\n"
    "\n"
    "Quantizes a model to int8 and saves it as a QuantKit model file ('qk run' runs it). MODEL\n"
    "is an ONNX file (.onnx, imported as a float graph) or a float model file (.qkw). Layers are\n"
    "fused first (Conv + BatchNorm + Relu, ...). Static (the default): the model must have one\n"
    "f32 input; it is calibrated on the samples of --calibration (first axis = samples, the\n"
    "other axes the input's), --batch samples at a time, then converted: weights and\n"
    "activations int8. --dynamic: weights int8, activations quantized at run time; no\n"
    "calibration data.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE        the model file to write (required)\n"
    "      --calibration FILE   .npy array of calibration samples (static: required)\n"
    "      --batch N            samples per calibration batch (default 32)\n"
    "      --dynamic            dynamic quantization instead of static\n"
    "  -q, --quiet              no summary or progress bar\n"
    "  -h, --help               this help\n"
    "\n"
    "Exit status: 0 written, 2 usage error, unreadable model or data, unsupported model, shape\n"
    "mismatch or write error.\n";

int cmd_quantize(const Argv& argv) {
  const Args a = parse_args(argv, {{"output", 'o', true}, {"calibration", 0, true}, {"batch", 0, true},
                                   {"dynamic", 0, false}, {"quiet", 'q', false}});
  if (a.has("help")) {
    std::fputs(kQuantizeHelp, stdout);
    return kExitOk;
  }
  if (a.positional.size() != 1)
    throw UsageError(a.positional.empty() ? "no model file given" : "expected one model file, got " +
                                                                        std::to_string(a.positional.size()));
  if (!a.has("output") || a.get("output").empty()) throw UsageError("no output file given (-o OUT.qkw)");
  const std::string model_path = a.positional[0], out_path = a.get("output");
  const bool dynamic = a.has("dynamic"), quiet = a.has("quiet");
  if (dynamic && a.has("calibration")) throw UsageError("--dynamic takes no --calibration data");
  if (dynamic && a.has("batch")) throw UsageError("--batch applies to static quantization (--calibration) only");
  if (!dynamic && !a.has("calibration"))
    throw UsageError("static quantization needs calibration data (--calibration DATA.npy), or use --dynamic");
  const int64_t batch = a.has("batch") ? parse_int("--batch", a.get("batch"), 1, int64_t(1) << 30) : 32;
  const std::string calib_path = a.get("calibration");
  if (same_file(model_path, out_path) || (!dynamic && same_file(calib_path, out_path)))
    throw Error(out_path + ": is an input file; choose another output");

  Model model;
  load_model(model_path, model);
  const qk_model_state state0 = model_state(model.m, model_path);
  if (state0 != QK_MODEL_FLOAT)
    throw Error(model_path + ": already quantized (" + state_name(state0) + "); quantize the float model");

  // Check the data before the (possibly long) work.
  std::string input;
  std::vector<int64_t> shape;
  std::vector<float> data;
  if (!dynamic) {
    input = single_f32_input(model.m, model_path);
    data = read_f32_array(calib_path, &shape);
    check_input_shape(model.m, input, shape, model_path, calib_path);
  }

  qk_status st = qk_model_fuse(model.m);
  if (st != QK_OK) throw_qk(model_path + ": fuse", st);
  uint64_t samples = 0;
  if (dynamic) {
    if ((st = qk_model_quantize_dynamic(model.m)) != QK_OK) throw_qk(model_path + ": quantize_dynamic", st);
  } else {
    if ((st = qk_model_prepare(model.m)) != QK_OK) throw_qk(model_path + ": prepare", st);
    const int64_t n = shape[0];
    const uint64_t sample_floats = n ? data.size() / static_cast<size_t>(n) : 0;
    Progress bar("qk quantize: calibrating", data.size() * 4, !quiet);
    {
      Run run(model.m, model_path);
      for (int64_t i = 0; i < n; i += batch) {
        const int64_t b = std::min(batch, n - i);
        std::vector<int64_t> bshape = shape;
        bshape[0] = b;
        const float* p = data.data() + static_cast<size_t>(i) * sample_floats;
        const size_t bytes = static_cast<size_t>(b) * sample_floats * 4;
        const std::string ctx = calib_path + ": samples " + std::to_string(i) + ".." + std::to_string(i + b - 1);
        if ((st = qk_run_set_input(run.r, input.c_str(), QK_DTYPE_F32, p, bytes, bshape.data(), bshape.size())) !=
            QK_OK)
          throw_qk(ctx, st);
        if ((st = qk_model_calibrate_run(model.m, run.r)) != QK_OK) throw_qk(ctx, st);
        samples += static_cast<uint64_t>(b);
        bar.update(samples * sample_floats * 4);
      }
    }
    bar.finish();
    if ((st = qk_model_convert(model.m)) != QK_OK) throw_qk(model_path + ": convert", st);
  }
  if ((st = qk_model_save(model.m, out_path.c_str())) != QK_OK) throw_qk(out_path, st);

  if (!quiet) {
    size_t nodes = 0;
    if ((st = qk_model_node_count(model.m, &nodes)) != QK_OK) throw_qk(out_path, st);
    std::map<std::string, size_t> by_op;
    for (size_t i = 0; i < nodes; ++i) {
      const char* name = nullptr;
      const char* op = nullptr;
      if ((st = qk_model_node_info(model.m, i, &name, &op)) != QK_OK) throw_qk(out_path, st);
      ++by_op[op];
    }
    std::string ops;
    for (const auto& kv : by_op) ops += (ops.empty() ? "" : ", ") + kv.first + " " + std::to_string(kv.second);
    struct stat sb;
    const uint64_t size = ::stat(out_path.c_str(), &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
    const std::string how =
        dynamic ? "dynamic int8" : "static int8, calibrated on " + std::to_string(samples) + " samples";
    std::printf("%s -> %s: %s; %zu nodes (%s); %s bytes\n", model_path.c_str(), out_path.c_str(), how.c_str(), nodes,
                ops.c_str(), with_commas(size).c_str());
  }
  return kExitOk;
}

}  // namespace qkcli
