// SPDX-License-Identifier: Apache-2.0
// qk diff A B: per common tensor SQNR and largest difference; tensors found in one file only.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "args.h"
#include "commands.h"
#include "common.h"
#include "inputs.h"

namespace qkcli {

const char* const kDiffHelp =
    "usage: qk diff [options] A B\n"
    "\n"
    "Compares the tensors of two files, each .qkw, .npz, .npy or .safetensors (a .qkw is\n"
    "decoded as 'qk unpack' would). For every tensor in both: identical, or the SQNR of B\n"
    "against A as reference (10*log10(sum a^2 / sum (a-b)^2), in dB) and the largest |a-b|;\n"
    "then the tensors found in only one file. Values are compared, not types: an int64 0 and a\n"
    "float 0.0 are the same.\n"
    "\n"
    "options:\n"
    "      --min-sqnr DB  tolerance: a tensor whose SQNR is at least DB counts as equal\n"
    "      --max-err X    tolerance: a tensor whose largest |a-b| is at most X counts as equal\n"
    "  -q, --quiet        print only the summary line\n"
    "  -h, --help         this help\n"
    "\n"
    "Exit status: 0 same tensor names and values (within the tolerances if given), 1 the files\n"
    "differ, 2 usage error or a file cannot be read.\n";

namespace {

struct Cmp {
  bool identical = false, shape_mismatch = false, within = false;
  double sqnr = NAN, max_abs = 0;
};

bool is_int(DType d) { return !dtype_is_float(d); }

Cmp compare(const Tensor& a, const Tensor& b, double min_sqnr, double max_err, bool tol) {
  Cmp c;
  if (a.shape != b.shape) {
    c.shape_mismatch = true;
    return c;
  }
  const uint64_t n = a.count();
  if (is_int(a.dtype) && is_int(b.dtype) && (a.dtype == DType::I64 || b.dtype == DType::I64)) {
    // Exact 64-bit comparison (doubles would round large values).
    auto get = [](const Tensor& t, uint64_t i) -> int64_t {
      switch (t.dtype) {
        case DType::I64: { int64_t v; std::memcpy(&v, &t.data[i * 8], 8); return v; }
        case DType::I32: { int32_t v; std::memcpy(&v, &t.data[i * 4], 4); return v; }
        case DType::I16: { int16_t v; std::memcpy(&v, &t.data[i * 2], 2); return v; }
        case DType::I8: return static_cast<int8_t>(t.data[i]);
        default: return t.data[i] ? (t.dtype == DType::Bool ? 1 : t.data[i]) : 0;
      }
    };
    bool same = true;
    for (uint64_t i = 0; i < n && same; ++i) same = get(a, i) == get(b, i);
    if (same) {
      c.identical = true;
      c.within = true;
      c.sqnr = INFINITY;
      return c;
    }
  }
  const std::vector<double> va = to_double(a), vb = to_double(b);
  double sig = 0, noise = 0;
  bool same = true, nonfinite = false;
  for (uint64_t i = 0; i < n; ++i) {
    const double x = va[i], y = vb[i];
    if (x == y || (std::isnan(x) && std::isnan(y))) {
      if (!std::isfinite(x)) continue;
    } else {
      same = false;
    }
    if (!std::isfinite(x) || !std::isfinite(y)) {
      if (!(x == y)) nonfinite = true;
      continue;
    }
    const double d = x - y;
    sig += x * x;
    noise += d * d;
    c.max_abs = std::max(c.max_abs, std::fabs(d));
  }
  c.identical = same;
  if (same) {
    c.sqnr = INFINITY;
    c.max_abs = 0;
  } else if (nonfinite) {
    c.sqnr = NAN;
    c.max_abs = INFINITY;
  } else {
    c.sqnr = noise == 0 ? INFINITY : (sig == 0 ? -INFINITY : 10.0 * std::log10(sig / noise));
  }
  c.within = same || (tol && !nonfinite && (std::isnan(min_sqnr) || c.sqnr >= min_sqnr) &&
                      (std::isnan(max_err) || c.max_abs <= max_err));
  return c;
}

}  // namespace

int cmd_diff(const Argv& argv) {
  const Args a = parse_args(argv, {{"min-sqnr", 0, true}, {"max-err", 0, true}, {"quiet", 'q', false}});
  if (a.has("help")) {
    std::fputs(kDiffHelp, stdout);
    return kExitOk;
  }
  if (a.positional.size() != 2) throw UsageError("expected two files, got " + std::to_string(a.positional.size()));
  double min_sqnr = NAN, max_err = NAN;
  if (a.has("min-sqnr")) min_sqnr = parse_double("--min-sqnr", a.get("min-sqnr"), -1000, 1000);
  if (a.has("max-err")) max_err = parse_double("--max-err", a.get("max-err"), 0, 1e300);
  const bool tol = a.has("min-sqnr") || a.has("max-err");
  const bool quiet = a.has("quiet");
  Input A = load_input(a.positional[0], true, quiet, !quiet);
  Input B = load_input(a.positional[1], true, quiet, !quiet);
  std::map<std::string, const Tensor*> ma, mb;
  for (const Tensor& t : A.tensors) ma[t.name] = &t;
  for (const Tensor& t : B.tensors) mb[t.name] = &t;
  size_t wn = 4;
  for (const auto& kv : ma) wn = std::max(wn, kv.first.size());
  for (const auto& kv : mb) wn = std::max(wn, kv.first.size());
  const int w = static_cast<int>(wn);
  size_t n_same = 0, n_diff = 0, n_within = 0, only_a = 0, only_b = 0;
  if (!quiet) std::printf("%-*s  %-16s  %s\n", w, "name", "shape", "result");
  for (const auto& kv : ma) {
    auto it = mb.find(kv.first);
    if (it == mb.end()) continue;
    const Tensor& ta = *kv.second;
    const Tensor& tb = *it->second;
    const Cmp c = compare(ta, tb, min_sqnr, max_err, tol);
    std::string res;
    char buf[128];
    if (c.shape_mismatch) {
      res = "shape differs: " + shape_str(ta.shape) + " vs " + shape_str(tb.shape);
    } else if (c.identical) {
      res = "identical";
    } else {
      if (std::isnan(c.sqnr)) std::snprintf(buf, sizeof buf, "SQNR n/a (NaN/Inf differ)");
      else std::snprintf(buf, sizeof buf, "SQNR %.2f dB  max|a-b| %.4g", c.sqnr, c.max_abs);
      res = buf;
      if (tol) res += c.within ? "  (within tolerance)" : "  (OUT OF TOLERANCE)";
    }
    if (c.identical) ++n_same;
    else if (c.within) ++n_within;
    else ++n_diff;
    if (!quiet) std::printf("%-*s  %-16s  %s\n", w, kv.first.c_str(), shape_str(ta.shape).c_str(), res.c_str());
  }
  for (const auto& kv : ma) {
    if (mb.count(kv.first)) continue;
    ++only_a;
    if (!quiet) std::printf("%-*s  %-16s  only in %s\n", w, kv.first.c_str(), shape_str(kv.second->shape).c_str(),
                            a.positional[0].c_str());
  }
  for (const auto& kv : mb) {
    if (ma.count(kv.first)) continue;
    ++only_b;
    if (!quiet) std::printf("%-*s  %-16s  only in %s\n", w, kv.first.c_str(), shape_str(kv.second->shape).c_str(),
                            a.positional[1].c_str());
  }
  const bool equal = n_diff == 0 && only_a == 0 && only_b == 0;
  std::string summary = std::to_string(n_same) + " identical, ";
  if (tol) summary += std::to_string(n_within) + " within tolerance, ";
  summary += std::to_string(n_diff) + " different, " + std::to_string(only_a) + " only in A, " +
             std::to_string(only_b) + " only in B: " + (equal ? "same" : "files differ");
  if (equal && n_within) summary += " (within tolerance)";
  std::printf("%s\n", summary.c_str());
  return equal ? kExitOk : kExitFailed;
}

}  // namespace qkcli
