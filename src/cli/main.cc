// SPDX-License-Identifier: Apache-2.0
// qk: the QuantKit command-line tool. Dispatches to the subcommands (cmd_*.cc), prints every
// error as "qk <cmd>: <file>: <what>" on stderr and exits 0 ok, 1 check failed, 2 error.
#include <quantkit/quantkit.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "commands.h"
#include "common.h"

namespace {

const char* const kUsage =
    "usage: qk COMMAND [options] [files]\n"
    "\n"
    "The QuantKit weight-file tool: numpy (.npz/.npy) and safetensors tensors to compressed,\n"
    "checksummed .qkw files and back; ONNX models to quantized QuantKit models, and running them.\n"
    "\n"
    "commands:\n"
    "  pack IN -o OUT.qkw   encode tensors (--codec int8|int4|fp16|bf16|lossless|q8_0|q4_0|lut4|\n"
    "                       lut8|affine8, or --target-sqnr DB / --max-bits N)\n"
    "  info FILE.qkw        table of tensors: shape, codec, bytes, ratio, SQNR, max error\n"
    "  verify FILE.qkw      check every checksum and decode every tensor\n"
    "  unpack FILE.qkw -o OUT.npz\n"
    "                       decode every tensor back to numpy\n"
    "  diff A B             compare the tensors of two files (any of the formats above)\n"
    "  quantize MODEL -o OUT.qkw\n"
    "                       quantize an ONNX (or float .qkw) model to int8: static with\n"
    "                       --calibration DATA.npy, or --dynamic\n"
    "  run MODEL --input X.npy -o Y.npy\n"
    "                       run a model (.onnx or .qkw) on a numpy array\n"
    "  help [COMMAND]       this text, or a command's options\n"
    "\n"
    "options:  -h, --help (also after a command), --version\n"
    "Exit status: 0 ok, 1 verification or comparison failed, 2 usage, input or output error.\n";

struct Command {
  const char* name;
  int (*run)(const qkcli::Argv&);
  const char* help;
};

const Command kCommands[] = {
    {"pack", qkcli::cmd_pack, qkcli::kPackHelp},       {"info", qkcli::cmd_info, qkcli::kInfoHelp},
    {"verify", qkcli::cmd_verify, qkcli::kVerifyHelp}, {"unpack", qkcli::cmd_unpack, qkcli::kUnpackHelp},
    {"diff", qkcli::cmd_diff, qkcli::kDiffHelp},       {"quantize", qkcli::cmd_quantize, qkcli::kQuantizeHelp},
    {"run", qkcli::cmd_run, qkcli::kRunHelp},
};

const Command* find(const std::string& name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return qkcli::kExitError;
  }
  const std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help") {
    std::fputs(kUsage, stdout);
    return qkcli::kExitOk;
  }
  if (cmd == "--version" || cmd == "-V") {
    std::printf("qk (QuantKit) %s, .qkw format 1.0\n", qk_version_string());
    return qkcli::kExitOk;
  }
  if (cmd == "help") {
    if (argc == 2) {
      std::fputs(kUsage, stdout);
      return qkcli::kExitOk;
    }
    const Command* c = find(argv[2]);
    if (!c) {
      std::fprintf(stderr, "qk: unknown command '%s' (see 'qk --help')\n", argv[2]);
      return qkcli::kExitError;
    }
    std::fputs(c->help, stdout);
    return qkcli::kExitOk;
  }
  const Command* c = find(cmd);
  if (!c) {
    if (!cmd.empty() && cmd[0] == '-') std::fprintf(stderr, "qk: unknown option '%s' (see 'qk --help')\n", cmd.c_str());
    else std::fprintf(stderr, "qk: unknown command '%s' (see 'qk --help')\n", cmd.c_str());
    return qkcli::kExitError;
  }
  try {
    return c->run(qkcli::Argv(argv + 2, argv + argc));
  } catch (const qkcli::UsageError& e) {
    std::fprintf(stderr, "qk %s: %s\nTry 'qk %s --help'.\n", c->name, e.what(), c->name);
    return e.code;
  } catch (const qkcli::Error& e) {
    std::fprintf(stderr, "qk %s: %s\n", c->name, e.what());
    return e.code;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "qk %s: out of memory\n", c->name);
    return qkcli::kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qk %s: %s\n", c->name, e.what());
    return qkcli::kExitError;
  }
}
