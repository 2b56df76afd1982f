// SPDX-License-Identifier: Apache-2.0
// qk unpack FILE.qkw -o OUT.npz: every tensor decoded back to numpy arrays.
#include <quantkit/quantkit.h>

#include <cstdio>
#include <cstring>

#include "args.h"
#include "commands.h"
#include "common.h"
#include "glob.h"
#include "npy.h"
#include "npz.h"
#include "progress.h"
#include "qkw_io.h"

namespace qkcli {

const char* const kUnpackHelp =
    "usage: qk unpack FILE.qkw -o OUT.npz [options]\n"
    "\n"
    "Decodes every tensor of a .qkw file into a numpy .npz archive (load it with numpy.load).\n"
    "Float tensors become float32; integer tensors keep their type; tensors that 'qk pack' read\n"
    "as float64, float16, int16 or bool get that dtype back (source.dtype.* metadata; bfloat16\n"
    "becomes float32, which numpy can hold exactly). The file is fully verified first, and the\n"
    "output is written atomically (a temporary file renamed over OUT).\n"
    "\n"
    "options:\n"
    "  -o, --output FILE   the .npz to write (required)\n"
    "      --f32           every float tensor as float32, ignoring the recorded source dtypes\n"
    "      --compress      deflate the entries (numpy.savez_compressed) instead of storing them\n"
    "      --include GLOB  only tensors matching GLOB (repeatable)\n"
    "      --exclude GLOB  leave out tensors matching GLOB (repeatable)\n"
    "  -q, --quiet         no summary or progress bar\n"
    "  -h, --help          this help\n"
    "\n"
    "Exit status: 0 written, 2 usage error, unreadable or corrupt input, or write error.\n";

int cmd_unpack(const Argv& argv) {
  const Args a = parse_args(argv, {{"output", 'o', true}, {"f32", 0, false}, {"compress", 0, false},
                                   {"include", 0, true}, {"exclude", 0, true}, {"quiet", 'q', false}});
  if (a.has("help")) {
    std::fputs(kUnpackHelp, stdout);
    return kExitOk;
  }
  if (a.positional.size() != 1)
    throw UsageError(a.positional.empty() ? "no input file given" : "expected one input file");
  if (!a.has("output") || a.get("output").empty()) throw UsageError("no output file given (-o OUT.npz)");
  const std::string in_path = a.positional[0], out_path = a.get("output");
  if (same_file(in_path, out_path)) throw Error(out_path + ": is the input file; choose another output");
  const bool quiet = a.has("quiet");
  Selection sel{a.all("include"), a.all("exclude")};
  QkwFile f(in_path, QK_VERIFY_FULL);
  uint64_t total = 0;
  for (size_t i = 0; i < f.count(); ++i) total += f.info(i).element_count * 4;
  Progress bar("qk unpack", total, !quiet);
  std::vector<NpzEntry> entries;
  uint64_t done = 0, bytes = 0;
  for (size_t i = 0; i < f.count(); ++i) {
    const std::string name = f.name(i);
    if (!sel.selected(name)) continue;
    Tensor t = f.read(i, !a.has("f32"));
    // numpy has no bfloat16: read() gives float32, which holds every bf16 value exactly.
    if (f.info(i).codec == QK_CODEC_RAW && f.info(i).dtype == QK_DTYPE_BF16 && !quiet)
      std::fprintf(stderr, "qk unpack: note: tensor '%s' was bf16, written as float32\n", name.c_str());
    NpzEntry e;
    e.name = name;
    const std::string h = npy_header(t.dtype, t.shape);
    e.bytes.reserve(h.size() + t.data.size());
    e.bytes.insert(e.bytes.end(), h.begin(), h.end());
    e.bytes.insert(e.bytes.end(), t.data.begin(), t.data.end());
    bytes += t.data.size();
    entries.push_back(std::move(e));
    done += f.info(i).element_count * 4;
    bar.update(done);
  }
  bar.finish();
  if (entries.empty() && f.count() > 0) throw Error(in_path + ": no tensor selected by --include/--exclude");
  write_npz(out_path, entries, a.has("compress"));
  if (!quiet)
    std::printf("%s -> %s: %zu tensors, %s bytes of array data\n", in_path.c_str(), out_path.c_str(), entries.size(),
                with_commas(bytes).c_str());
  return kExitOk;
}

}  // namespace qkcli
