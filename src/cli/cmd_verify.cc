// SPDX-License-Identifier: Apache-2.0
// qk verify FILE...: every checksum, padding byte and frame header, then every tensor decoded.
#include <quantkit/quantkit.h>

#include <cstdio>
#include <vector>

#include "args.h"
#include "commands.h"
#include "common.h"
#include "progress.h"
#include "qkw_io.h"

namespace qkcli {

const char* const kVerifyHelp =
    "usage: qk verify [-q] FILE.qkw...\n"
    "\n"
    "Checks .qkw files completely: the table and its checksum, every chunk's XXH64, every zstd\n"
    "frame header and padding byte (QK_VERIFY_FULL), then decodes every tensor (which checks\n"
    "the parameters and codes). Prints 'FILE: OK' or the exact problem.\n"
    "\n"
    "options:\n"
    "  -q, --quiet   print nothing on success\n"
    "  -h, --help    this help\n"
    "\n"
    "Exit status: 0 every file is intact, 1 a file is corrupt (or holds a codec this version\n"
    "cannot decode), 2 usage error or a file cannot be read.\n";

namespace {

// Returns the exit status for one file; prints the verdict.
int verify_one(const std::string& path, bool quiet) {
  try {
    QkwFile f(path, QK_VERIFY_FULL);
    qk_status st = qk_qkw_verify(f.reader());
    if (st != QK_OK) throw_qk(path, st);
    uint64_t total = 0, params = 0;
    for (size_t i = 0; i < f.count(); ++i) total += f.info(i).element_count * 4;
    Progress bar("qk verify", total, !quiet);
    std::vector<float> buf;
    uint64_t done = 0;
    for (size_t i = 0; i < f.count(); ++i) {
      const qk_qkw_tensor_info in = f.info(i);
      const std::string ctx = path + ": tensor '" + f.name(i) + "'";
      if (in.status != QK_OK) throw QkError(ctx + ": " + qk_status_string(in.status) + " (codec " +
                                                std::to_string(static_cast<int>(in.codec)) + ")", in.status);
      buf.resize(static_cast<size_t>(in.element_count));
      st = qk_qkw_decode_f32(f.reader(), i, buf.data(), buf.size());
      if (st != QK_OK) throw_qk(ctx, st);
      params += in.element_count;
      done += in.element_count * 4;
      bar.update(done);
    }
    bar.finish();
    uint64_t fsize = 0;
    qk_qkw_file_info(f.reader(), nullptr, nullptr, nullptr, &fsize);
    if (!quiet)
      std::printf("%s: OK (%zu tensors, %s parameters, %s bytes)\n", path.c_str(), f.count(),
                  with_commas(params).c_str(), with_commas(fsize).c_str());
    return kExitOk;
  } catch (const QkError& e) {
    const bool bad = e.status == QK_ERR_CORRUPT || e.status == QK_ERR_UNSUPPORTED;
    std::fprintf(stderr, "qk verify: %s%s\n", bad ? "FAILED: " : "", e.what());
    return bad ? kExitFailed : kExitError;
  } catch (const Error& e) {
    std::fprintf(stderr, "qk verify: %s\n", e.what());
    return e.code;
  }
}

}  // namespace

int cmd_verify(const Argv& argv) {
  const Args a = parse_args(argv, {{"quiet", 'q', false}});
  if (a.has("help")) {
    std::fputs(kVerifyHelp, stdout);
    return kExitOk;
  }
  if (a.positional.empty()) throw UsageError("no file given");
  int worst = kExitOk;
  for (const std::string& p : a.positional) {
    int rc = verify_one(p, a.has("quiet"));
    if (rc > worst) worst = rc;
  }
  return worst;
}

}  // namespace qkcli
