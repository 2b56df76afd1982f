// SPDX-License-Identifier: Apache-2.0
// qk info FILE: what a .qkw file holds, one row per tensor, and totals.
#include <quantkit/quantkit.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "common.h"
#include "qkw_io.h"

namespace qkcli {

const char* const kInfoHelp =
    "usage: qk info [--json] [--no-meta] FILE.qkw...\n"
    "\n"
    "Lists the tensors of .qkw files: name, shape, codec (bits, channel axis or group), bytes\n"
    "stored, ratio against float32, the SQNR and largest absolute error the writer measured,\n"
    "and flags (z = zstd-compressed, m = mappable in place, ? = codec unknown to this version),\n"
    "then totals and the metadata. Opening checks the table and its checksum (not the chunks:\n"
    "use 'qk verify').\n"
    "\n"
    "options:\n"
    "      --json     machine-readable output (one JSON document per file)\n"
    "      --no-meta  leave out the metadata\n"
    "  -h, --help     this help\n"
    "\n"
    "Exit status: 0 ok, 2 usage error or unreadable / invalid file.\n";

namespace {

std::string db_str(double v) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "exact" : "-inf";
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

std::string err_str(double v) {
  if (std::isnan(v)) return "-";
  if (v == 0) return "0";
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

nlohmann::json num_or_null(double v) {
  if (std::isfinite(v)) return v;
  return nullptr;
}

int info_one(const std::string& path, bool json, bool show_meta) {
  QkwFile f(path, QK_VERIFY_LAZY);
  uint32_t vmaj = 0, vmin = 0, align = 0;
  uint64_t fsize = 0;
  qk_status st = qk_qkw_file_info(f.reader(), &vmaj, &vmin, &align, &fsize);
  if (st != QK_OK) throw_qk(path, st);
  struct Row {
    std::string name, shape, codec, flags;
    qk_qkw_tensor_info in;
  };
  std::vector<Row> rows;
  uint64_t tot_elems = 0, tot_stored = 0;
  double min_sqnr = INFINITY, max_err = 0;
  bool any_err_nan = false;
  for (size_t i = 0; i < f.count(); ++i) {
    Row r;
    r.name = f.name(i);
    r.shape = shape_str(f.shape(i));
    r.in = f.info(i);
    r.codec = describe_codec(r.in);
    if (r.in.compressed) r.flags += 'z';
    if (r.in.mappable) r.flags += 'm';
    if (r.in.status != QK_OK) r.flags += '?';
    tot_elems += r.in.element_count;
    tot_stored += r.in.stored_bytes;
    if (!std::isnan(r.in.sqnr_db) && r.in.sqnr_db < min_sqnr) min_sqnr = r.in.sqnr_db;
    if (std::isnan(r.in.max_abs_error)) any_err_nan = true;
    else if (r.in.max_abs_error > max_err) max_err = r.in.max_abs_error;
    rows.push_back(std::move(r));
  }
  std::vector<std::pair<std::string, std::string>> meta;
  size_t mc = 0;
  if ((st = qk_qkw_metadata_count(f.reader(), &mc)) != QK_OK) throw_qk(path, st);
  for (size_t i = 0; i < mc; ++i) {
    const char *k = nullptr, *v = nullptr;
    if ((st = qk_qkw_metadata_at(f.reader(), i, &k, &v)) != QK_OK) throw_qk(path, st);
    meta.emplace_back(k, v);
  }
  auto ratio = [](uint64_t elems, uint64_t stored) { return stored ? 4.0 * elems / stored : 0.0; };

  if (json) {
    nlohmann::json j;
    j["file"] = path;
    j["format_version"] = std::to_string(vmaj) + "." + std::to_string(vmin);
    j["alignment"] = align;
    j["file_size"] = fsize;
    nlohmann::json ts = nlohmann::json::array();
    for (const Row& r : rows) {
      nlohmann::json t;
      t["name"] = r.name;
      t["shape"] = f.shape(static_cast<size_t>(&r - rows.data()));
      t["codec"] = qk_codec_name(r.in.codec);
      t["description"] = r.codec;
      t["dtype"] = qk_dtype_name(r.in.dtype);
      t["bits"] = r.in.bits;
      t["levels"] = r.in.levels;
      t["axis"] = r.in.axis;
      t["group_size"] = r.in.group_size;
      t["elements"] = r.in.element_count;
      t["stored_bytes"] = r.in.stored_bytes;
      t["decoded_bytes"] = r.in.decoded_bytes;
      t["ratio"] = ratio(r.in.element_count, r.in.stored_bytes);
      t["exact"] = std::isinf(r.in.sqnr_db) && r.in.sqnr_db > 0;
      t["sqnr_db"] = num_or_null(r.in.sqnr_db);
      t["max_abs_error"] = num_or_null(r.in.max_abs_error);
      t["compressed"] = r.in.compressed != 0;
      t["mappable"] = r.in.mappable != 0;
      t["status"] = qk_status_string(r.in.status);
      ts.push_back(t);
    }
    j["tensors"] = ts;
    j["totals"] = {{"tensors", rows.size()},
                   {"elements", tot_elems},
                   {"stored_bytes", tot_stored},
                   {"ratio", ratio(tot_elems, tot_stored)},
                   {"min_sqnr_db", num_or_null(min_sqnr)},
                   {"max_abs_error", num_or_null(any_err_nan ? NAN : max_err)}};
    if (show_meta) {
      nlohmann::json m = nlohmann::json::object();
      for (const auto& kv : meta) m[kv.first] = kv.second;
      j["metadata"] = m;
    }
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }

  std::printf("%s: qkw %u.%u, %zu tensors, %s bytes, alignment %u\n", path.c_str(), vmaj, vmin, rows.size(),
              with_commas(fsize).c_str(), align);
  size_t wn = 4, ws = 5, wc = 5;
  for (const Row& r : rows) {
    wn = std::max(wn, r.name.size());
    ws = std::max(ws, r.shape.size());
    wc = std::max(wc, r.codec.size());
  }
  const int in = static_cast<int>(wn), is = static_cast<int>(ws), ic = static_cast<int>(wc);
  std::printf("%-*s  %-*s  %-*s  %12s  %7s  %8s  %9s  %s\n", in, "name", is, "shape", ic, "codec", "bytes", "ratio",
              "SQNR dB", "max err", "flags");
  for (const Row& r : rows) {
    std::printf("%-*s  %-*s  %-*s  %12s  %6.2fx  %8s  %9s  %s\n", in, r.name.c_str(), is, r.shape.c_str(), ic,
                r.codec.c_str(), with_commas(r.in.stored_bytes).c_str(), ratio(r.in.element_count, r.in.stored_bytes),
                db_str(r.in.sqnr_db).c_str(), err_str(r.in.max_abs_error).c_str(), r.flags.c_str());
  }
  std::printf("%-*s  %-*s  %-*s  %12s  %6.2fx  %8s  %9s\n", in, "total", is, "", ic, "",
              with_commas(tot_stored).c_str(), ratio(tot_elems, tot_stored), db_str(min_sqnr).c_str(),
              err_str(any_err_nan ? NAN : max_err).c_str());
  std::printf("%zu tensors, %s elements; total SQNR is the lowest, max err the largest\n", rows.size(),
              with_commas(tot_elems).c_str());
  if (show_meta && !meta.empty()) {
    std::printf("metadata:\n");
    for (const auto& kv : meta) std::printf("  %s = %s\n", kv.first.c_str(), kv.second.c_str());
  }
  return kExitOk;
}

}  // namespace

int cmd_info(const Argv& argv) {
  const Args a = parse_args(argv, {{"json", 0, false}, {"no-meta", 0, false}});
  if (a.has("help")) {
    std::fputs(kInfoHelp, stdout);
    return kExitOk;
  }
  if (a.positional.empty()) throw UsageError("no file given");
  for (size_t i = 0; i < a.positional.size(); ++i) {
    if (i) std::printf("\n");
    info_one(a.positional[i], a.has("json"), !a.has("no-meta"));
  }
  return kExitOk;
}

}  // namespace qkcli
