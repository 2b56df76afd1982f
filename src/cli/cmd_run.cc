// SPDX-License-Identifier: Apache-2.0
// qk run MODEL --input X.npy -o Y.npy: runs a graph model (.onnx or .qkw) on a numpy array.
#include <quantkit/quantkit.h>

#include <cstdio>
#include <cstring>

#include "args.h"
#include "commands.h"
#include "common.h"
#include "model_io.h"
#include "npy.h"
#include "qkw_io.h"

namespace qkcli {

const char* const kRunHelp =
    "usage: qk run MODEL --input X.npy -o Y.npy [options]\n"
    "\n"
    "Runs a model with one f32 input on a numpy array and writes one of its outputs as a float32\n"
    ".npy. MODEL is an ONNX file (.onnx, imported as a float graph) or a model file written by\n"
    "'qk quantize' (.qkw: float, static int8 or dynamic). The first axis of X is the batch: the\n"
    "whole array runs at once. float64 and float16 arrays are converted to float32.\n"
    "\n"
    "options:\n"
    "  -i, --input FILE        the .npy array to feed the model's input (required)\n"
    "  -o, --output FILE       the .npy to write (required; replaced atomically)\n"
    "      --output-name NAME  which model output to write (default: the first)\n"
    "  -q, --quiet             no summary line\n"
    "  -h, --help              this help\n"
    "\n"
    "Exit status: 0 written, 2 usage error, unreadable model or array, shape mismatch, run or\n"
    "write error.\n";

int cmd_run(const Argv& argv) {
  const Args a = parse_args(argv, {{"input", 'i', true}, {"output", 'o', true}, {"output-name", 0, true},
                                   {"quiet", 'q', false}});
  if (a.has("help")) {
    std::fputs(kRunHelp, stdout);
    return kExitOk;
  }
  if (a.positional.size() != 1)
    throw UsageError(a.positional.empty() ? "no model file given" : "expected one model file, got " +
                                                                        std::to_string(a.positional.size()));
  if (!a.has("input") || a.get("input").empty()) throw UsageError("no input array given (--input X.npy)");
  if (!a.has("output") || a.get("output").empty()) throw UsageError("no output file given (-o Y.npy)");
  const std::string model_path = a.positional[0], in_path = a.get("input"), out_path = a.get("output");
  if (same_file(in_path, out_path) || same_file(model_path, out_path))
    throw Error(out_path + ": is an input file; choose another output");

  Model model;
  load_model(model_path, model);
  const std::string input = single_f32_input(model.m, model_path);
  const std::vector<std::string> outputs = output_names(model.m, model_path);
  if (outputs.empty()) throw Error(model_path + ": the model has no output");
  std::string output = outputs[0];
  if (a.has("output-name")) {
    output = a.get("output-name");
    bool found = false;
    std::string list;
    for (const std::string& o : outputs) {
      found = found || o == output;
      list += (list.empty() ? "'" : ", '") + o + "'";
    }
    if (!found) throw UsageError(model_path + ": no output '" + output + "' (outputs: " + list + ")");
  }

  std::vector<int64_t> shape;
  const std::vector<float> x = read_f32_array(in_path, &shape);
  check_input_shape(model.m, input, shape, model_path, in_path);

  Run run(model.m, model_path);
  qk_status st = qk_run_set_input(run.r, input.c_str(), QK_DTYPE_F32, x.data(), x.size() * 4, shape.data(),
                                  shape.size());
  if (st != QK_OK) throw_qk(in_path, st);
  if ((st = qk_run_invoke(run.r, nullptr)) != QK_OK) throw_qk(model_path + ": run", st);
  int64_t dims[kMaxRank];
  size_t rank = 0;
  if ((st = qk_run_output_shape(run.r, output.c_str(), dims, kMaxRank, &rank)) != QK_OK)
    throw_qk(model_path + ": output '" + output + "'", st);
  const std::vector<int64_t> out_shape(dims, dims + rank);
  const uint64_t count = checked_count(out_shape, 4, model_path + ": output '" + output + "'");
  const std::string header = npy_header(DType::F32, out_shape);
  std::vector<uint8_t> file(header.size() + static_cast<size_t>(count) * 4);
  std::memcpy(file.data(), header.data(), header.size());
  if ((st = qk_run_get_output(run.r, output.c_str(), QK_DTYPE_F32, file.data() + header.size(),
                              static_cast<size_t>(count) * 4)) != QK_OK)
    throw_qk(model_path + ": output '" + output + "'", st);
  write_file_atomic(out_path, file.data(), file.size());
  if (!a.has("quiet"))
    std::printf("%s: %s %s -> %s %s: %s\n", model_path.c_str(), input.c_str(), shape_str(shape).c_str(),
                output.c_str(), shape_str(out_shape).c_str(), out_path.c_str());
  return kExitOk;
}

}  // namespace qkcli
