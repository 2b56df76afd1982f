// SPDX-License-Identifier: Apache-2.0
// qk pack IN -o OUT.qkw: numpy / safetensors tensors -> a .qkw file.
#include <quantkit/quantkit.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "args.h"
#include "commands.h"
#include "common.h"
#include "glob.h"
#include "inputs.h"
#include "progress.h"
#include "qkw_io.h"

namespace qkcli {

const char* const kPackHelp =
    "usage: qk pack IN -o OUT.qkw [options]\n"
    "\n"
    "Encodes the tensors of IN (.npz, .npy or .safetensors) into a .qkw weight file.\n"
    "Float tensors of rank >= 2 with at least 1024 elements get the codec; smaller ones\n"
    "(biases, batch-norm vectors) and tensors holding NaN/Inf stay exact f32. Integer tensors\n"
    "are stored exactly (int16 and bool widened, restored by 'qk unpack'); float64 becomes\n"
    "float32 (with a note).\n"
    "\n"
    "options:\n"
    "  -o, --output FILE     the .qkw file to write (required; replaced atomically)\n"
    "  -c, --codec NAME      int8 (default): symmetric 8-bit, one scale per output channel\n"
    "                        int2..int7: the same with fewer bits (int4 = 4-bit)\n"
    "                        fp16, bf16: half-precision floats\n"
    "                        lossless: exact f32 (byte-shuffled + zstd)\n"
    "                        q8_0, q4_0: ggml blocks of 32 (tensors whose last dimension is\n"
    "                        not a multiple of 32 fall back to int8 / int4 with a note)\n"
    "                        lut1..lut8: k-means palette of 2^N entries (lut4, lut8)\n"
    "                        affine8: uint8 with a scale and zero point per tensor\n"
    "      --group N         intN: one scale per N elements along --axis (default axis 1)\n"
    "      --axis A          channel / group axis for intN and affine8 (default 0; affine8: none)\n"
    "      --target-sqnr DB  error budget instead of a codec: per tensor the fewest symmetric\n"
    "                        levels reaching DB dB SQNR (else fp16, else exact)\n"
    "      --max-bits N      with or without --target-sqnr: at most N bits (2..8)\n"
    "      --include GLOB    pack only tensors matching GLOB (repeatable; '*' matches '.')\n"
    "      --exclude GLOB    leave out tensors matching GLOB (repeatable)\n"
    "      --exact GLOB      keep float tensors matching GLOB exact (repeatable)\n"
    "      --small N         tensors with fewer than N elements stay exact (default 1024)\n"
    "      --small-dtype T   store those small tensors as f32 (default, exact), f16 or bf16\n"
    "                        (half the bytes; their error is measured and shown like any other)\n"
    "      --level N         zstd level 1..22, 0 = no compression (default 19)\n"
    "      --fast            zstd level 3\n"
    "      --align N         chunk alignment, a power of two in [16, 1048576] (default 64)\n"
    "  -v, --verbose         one line per tensor\n"
    "  -q, --quiet           no summary, notes or progress bar\n"
    "  -h, --help            this help\n"
    "\n"
    "Exit status: 0 written, 2 usage, input or output error (nothing is written).\n";

namespace {

enum class Kind { Lossless, Half, Sym, Ggml, Lut, Affine, Budget };

struct Plan {
  std::string label;  // recorded as pack.codec
  Kind kind = Kind::Sym;
  qk_codec codec = QK_CODEC_SYMMETRIC;
  qk_dtype dtype = QK_DTYPE_F32;
  int bits = 8;
  int axis = 0;
  bool axis_given = false;
  int64_t group = 0;
  double target = 0;
  int max_bits = 0;
};

Plan parse_plan(const Args& a) {
  Plan p;
  const bool budget = a.has("target-sqnr") || a.has("max-bits");
  if (budget) {
    if (a.has("codec")) throw UsageError("--codec and --target-sqnr/--max-bits cannot be combined");
    p.kind = Kind::Budget;
    if (a.has("target-sqnr")) p.target = parse_double("--target-sqnr", a.get("target-sqnr"), 1e-9, 1000);
    if (a.has("max-bits")) p.max_bits = static_cast<int>(parse_int("--max-bits", a.get("max-bits"), 2, 8));
    char buf[96];
    std::snprintf(buf, sizeof buf, "budget target_sqnr=%g max_bits=%d", p.target, p.max_bits ? p.max_bits : 8);
    p.label = buf;
    if (a.has("group") || a.has("axis")) throw UsageError("--group/--axis do not apply to --target-sqnr/--max-bits");
    return p;
  }
  const std::string c = a.get("codec", "int8");
  p.label = c;
  if (c == "lossless" || c == "raw" || c == "f32") {
    p.kind = Kind::Lossless;
  } else if (c == "fp16" || c == "f16") {
    p.kind = Kind::Half;
    p.codec = QK_CODEC_RAW;
    p.dtype = QK_DTYPE_F16;
  } else if (c == "bf16") {
    p.kind = Kind::Half;
    p.codec = QK_CODEC_RAW;
    p.dtype = QK_DTYPE_BF16;
  } else if (c.size() == 4 && c.compare(0, 3, "int") == 0 && c[3] >= '2' && c[3] <= '8') {
    p.kind = Kind::Sym;
    p.bits = c[3] - '0';
  } else if (c == "q8_0" || c == "q4_0") {
    p.kind = Kind::Ggml;
    p.codec = c == "q8_0" ? QK_CODEC_GGML_Q8_0 : QK_CODEC_GGML_Q4_0;
    p.bits = c == "q8_0" ? 8 : 4;
  } else if (c.size() == 4 && c.compare(0, 3, "lut") == 0 && c[3] >= '1' && c[3] <= '8') {
    p.kind = Kind::Lut;
    p.codec = QK_CODEC_LUT;
    p.bits = c[3] - '0';
  } else if (c == "affine8") {
    p.kind = Kind::Affine;
    p.codec = QK_CODEC_AFFINE;
    p.dtype = QK_DTYPE_U8;
    p.axis = -1;
  } else {
    throw UsageError("unknown codec '" + c +
                     "' (known: int8 int4 int2..int7 fp16 bf16 lossless q8_0 q4_0 lut1..lut8 affine8)");
  }
  if (a.has("group")) {
    if (p.kind != Kind::Sym) throw UsageError("--group applies to the intN codecs only");
    p.group = parse_int("--group", a.get("group"), 1, int64_t(1) << 40);
    p.axis = 1;
  }
  if (a.has("axis")) {
    if (p.kind != Kind::Sym && p.kind != Kind::Affine) throw UsageError("--axis applies to intN and affine8 only");
    p.axis = static_cast<int>(parse_int("--axis", a.get("axis"), -8, 7));
    p.axis_given = true;
  }
  return p;
}

struct Writer {
  qk_qkw_writer* w = nullptr;
  ~Writer() { qk_qkw_writer_destroy(w); }
};

std::vector<float> to_f32(const Tensor& t) {
  const uint64_t n = t.count();
  std::vector<float> f(static_cast<size_t>(n));
  switch (t.dtype) {
    case DType::F32:
      if (n) std::memcpy(f.data(), t.data.data(), static_cast<size_t>(n * 4));
      break;
    case DType::F64:
      for (uint64_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, &t.data[i * 8], 8);
        f[i] = static_cast<float>(d);
      }
      break;
    case DType::F16:
    case DType::BF16: {
      if (n == 0) break;
      qk_status st = qk_cast(t.data.data(), t.dtype == DType::F16 ? QK_DTYPE_F16 : QK_DTYPE_BF16, f.data(),
                             QK_DTYPE_F32, static_cast<size_t>(n));
      if (st != QK_OK) throw_qk("tensor '" + t.name + "'", st);
      break;
    }
    default:
      throw Error("tensor '" + t.name + "': not a float tensor");
  }
  return f;
}

std::string fmt_db(double db) {
  if (std::isinf(db) && db > 0) return "exact";
  if (std::isnan(db)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f dB", db);
  return buf;
}

}  // namespace

int cmd_pack(const Argv& argv) {
  const Args a = parse_args(argv, {{"output", 'o', true},   {"codec", 'c', true},    {"target-sqnr", 0, true},
                                   {"max-bits", 0, true},   {"include", 0, true},    {"exclude", 0, true},
                                   {"exact", 0, true},      {"group", 0, true},      {"axis", 0, true},
                                   {"level", 0, true},      {"fast", 0, false},      {"align", 0, true},
                                   {"small", 0, true},      {"small-dtype", 0, true}, {"verbose", 'v', false},
                                   {"quiet", 'q', false}});
  if (a.has("help")) {
    std::fputs(kPackHelp, stdout);
    return kExitOk;
  }
  if (a.positional.size() != 1)
    throw UsageError(a.positional.empty() ? "no input file given" : "expected one input file, got " +
                                                                        std::to_string(a.positional.size()));
  if (!a.has("output")) throw UsageError("no output file given (-o OUT.qkw)");
  const std::string in_path = a.positional[0];
  const std::string out_path = a.get("output");
  if (out_path.empty()) throw UsageError("empty output file name");
  const Plan plan = parse_plan(a);
  const bool quiet = a.has("quiet"), verbose = a.has("verbose") && !quiet;
  int level = 19;
  if (a.has("fast")) level = 3;
  if (a.has("level")) level = static_cast<int>(parse_int("--level", a.get("level"), 0, 22));
  uint32_t align = 64;
  if (a.has("align")) {
    long long v = parse_int("--align", a.get("align"), 16, 1 << 20);
    if (v & (v - 1)) throw UsageError("option '--align': " + a.get("align") + " is not a power of two");
    align = static_cast<uint32_t>(v);
  }
  uint64_t small = 1024;
  if (a.has("small")) small = static_cast<uint64_t>(parse_int("--small", a.get("small"), 0, int64_t(1) << 48));
  qk_dtype small_dtype = QK_DTYPE_F32;
  if (a.has("small-dtype")) {
    const std::string d = a.get("small-dtype");
    if (d == "f16" || d == "fp16") small_dtype = QK_DTYPE_F16;
    else if (d == "bf16") small_dtype = QK_DTYPE_BF16;
    else if (d != "f32" && d != "fp32") throw UsageError("option '--small-dtype': '" + d + "' is not f32, f16 or bf16");
  }
  Selection sel{a.all("include"), a.all("exclude")};
  const std::vector<std::string> exact = a.all("exact");
  if (same_file(in_path, out_path)) throw Error(out_path + ": is the input file; choose another output");

  Input input = load_input(in_path, false, quiet, !quiet);
  const std::string src_hash = file_xxh64_hex(in_path);

  Writer w;
  qk_status st = qk_qkw_writer_create(out_path.c_str(), &w.w);
  if (st != QK_OK) throw_qk(out_path, st);
  if ((st = qk_qkw_writer_set_alignment(w.w, align)) != QK_OK) throw_qk(out_path, st);
  if ((st = qk_qkw_writer_set_zstd_level(w.w, level)) != QK_OK) throw_qk(out_path, st);
  if ((st = qk_qkw_writer_set_small_tensor_threshold(w.w, small)) != QK_OK) throw_qk(out_path, st);
  if ((st = qk_qkw_writer_set_small_tensor_dtype(w.w, small_dtype)) != QK_OK) throw_qk(out_path, st);

  auto meta = [&](const std::string& k, const std::string& v) {
    qk_status s = qk_qkw_writer_set_metadata(w.w, k.c_str(), v.c_str());
    if (s != QK_OK) throw_qk(in_path + ": metadata '" + k + "'", s);
  };

  uint64_t total_in = 0, params = 0, done = 0;
  for (const Tensor& t : input.tensors) total_in += t.bytes();
  Progress bar("qk pack", total_in, !quiet);
  size_t packed = 0;
  double min_sqnr = std::numeric_limits<double>::infinity();
  std::string min_name;
  std::vector<std::string> fallbacks, nonfinite;
  for (const std::string& pat : sel.include) {
    bool any = false;
    for (const Tensor& t : input.tensors) any = any || glob_match(pat, t.name);
    if (!any && !quiet) std::fprintf(stderr, "qk pack: note: --include '%s' matches no tensor\n", pat.c_str());
  }
  for (const Tensor& t : input.tensors) {
    done += t.bytes();
    if (!sel.selected(t.name)) continue;
    const std::string ctx = in_path + ": tensor '" + t.name + "'";
    const uint64_t n = t.count();
    const std::vector<int64_t>& shape = t.shape;
    const int64_t* dims = shape.empty() ? nullptr : shape.data();
    std::string how;
    double sqnr = std::numeric_limits<double>::infinity(), maxerr = 0;
    auto raw = [&](const void* data, size_t bytes, qk_dtype d) {
      qk_status s = qk_qkw_writer_add_raw(w.w, t.name.c_str(), data, bytes, d, dims, shape.size());
      if (s != QK_OK) throw_qk(ctx, s);
    };
    if (!dtype_is_float(t.dtype)) {
      switch (t.dtype) {
        case DType::I64: raw(t.data.data(), t.data.size(), QK_DTYPE_S64); break;
        case DType::I32: raw(t.data.data(), t.data.size(), QK_DTYPE_S32); break;
        case DType::I8: raw(t.data.data(), t.data.size(), QK_DTYPE_S8); break;
        case DType::U8: raw(t.data.data(), t.data.size(), QK_DTYPE_U8); break;
        case DType::Bool: {
          std::vector<uint8_t> b(t.data.size());
          for (size_t i = 0; i < b.size(); ++i) b[i] = t.data[i] ? 1 : 0;
          raw(b.data(), b.size(), QK_DTYPE_U8);
          meta(source_dtype_key(t.name), "bool");
          break;
        }
        case DType::I16: {
          std::vector<int32_t> v(static_cast<size_t>(n));
          for (uint64_t i = 0; i < n; ++i) {
            int16_t s;
            std::memcpy(&s, &t.data[i * 2], 2);
            v[i] = s;
          }
          raw(v.data(), v.size() * 4, QK_DTYPE_S32);
          meta(source_dtype_key(t.name), "i16");
          break;
        }
        default: break;
      }
      how = std::string("exact ") + dtype_name(t.dtype);
    } else {
      if (t.dtype != DType::F32) meta(source_dtype_key(t.name), dtype_name(t.dtype));
      if (t.dtype == DType::F64 && !quiet)
        std::fprintf(stderr, "qk pack: %s: float64 stored as float32\n", ctx.c_str());
      const bool finite = all_finite(t);
      if (!finite) nonfinite.push_back(t.name);
      const bool keep = plan.kind == Kind::Lossless || glob_any(exact, t.name) || shape.size() < 2 || n < small ||
                        !finite;
      const bool half_src = t.dtype == DType::F16 || t.dtype == DType::BF16;
      const qk_dtype src16 = t.dtype == DType::F16 ? QK_DTYPE_F16 : QK_DTYPE_BF16;
      if ((keep && half_src) || (plan.kind == Kind::Half && half_src && plan.dtype == src16)) {
        raw(t.data.data(), t.data.size(), src16);  // already 16-bit: stored bit for bit
        how = std::string("exact ") + dtype_name(t.dtype);
      } else {
        const std::vector<float> f = to_f32(t);
        const float* fd = f.empty() ? nullptr : f.data();
        qk_status s = QK_OK;
        if (keep) {
          // Only tensors kept for their size may go to 16 bits: --exact, lossless and NaN/Inf stay f32.
          const bool small_only = plan.kind != Kind::Lossless && finite && !glob_any(exact, t.name);
          const qk_dtype keep_dtype = small_only ? small_dtype : QK_DTYPE_F32;
          s = qk_qkw_writer_add_f32(w.w, t.name.c_str(), fd, dims, shape.size(), QK_CODEC_RAW, keep_dtype, 0, -1,
                                    0, &sqnr, &maxerr);
          how = plan.kind == Kind::Lossless ? "lossless"
                : !finite                   ? "exact (NaN/Inf)"
                : keep_dtype == QK_DTYPE_F32 ? "exact (small)"
                                             : std::string("small -> ") + (keep_dtype == QK_DTYPE_F16 ? "f16" : "bf16");
        } else if (plan.kind == Kind::Budget) {
          qk_codec chosen = QK_CODEC_RAW;
          int32_t levels = 0;
          s = qk_qkw_writer_add_budget(w.w, t.name.c_str(), fd, dims, shape.size(), plan.target, plan.max_bits,
                                       &chosen, &levels, &sqnr, &maxerr);
          how = std::string("budget -> ") + qk_codec_name(chosen) + (levels ? " L" + std::to_string(levels) : "");
        } else {
          qk_codec codec = plan.codec;
          int bits = plan.bits, axis = plan.axis;
          int64_t group = plan.group;
          qk_dtype dtype = plan.dtype;
          if (plan.kind == Kind::Ggml && shape.back() % 32 != 0) {
            codec = QK_CODEC_SYMMETRIC;  // ggml blocks need rows of 32: per-channel intN instead
            axis = 0;
            group = 0;
            fallbacks.push_back(t.name);
          }
          if (plan.kind == Kind::Ggml) axis = static_cast<int>(shape.size()) - 1;
          if (codec == QK_CODEC_SYMMETRIC && !plan.axis_given && group == 0) axis = 0;
          s = qk_qkw_writer_add_f32(w.w, t.name.c_str(), fd, dims, shape.size(), codec, dtype, bits, axis, group,
                                    &sqnr, &maxerr);
          how = codec == plan.codec ? plan.label : "int" + std::to_string(bits) + " (fallback)";
        }
        if (s != QK_OK) throw_qk(ctx, s);
      }
    }
    ++packed;
    params += n;
    if (sqnr < min_sqnr) {
      min_sqnr = sqnr;
      min_name = t.name;
    }
    if (verbose) {
      bar.finish();
      std::printf("  %-32s %-14s %-8s %-26s %s\n", t.name.c_str(), shape_str(shape).c_str(), dtype_name(t.dtype),
                  how.c_str(), fmt_db(sqnr).c_str());
    }
    bar.update(done);
  }
  if (packed == 0) throw Error(in_path + ": no tensor to pack" + (input.tensors.empty() ? "" : " (all excluded)"));
  meta("source.file", base_name(in_path));
  meta("source.format", format_name(input.format));
  meta("source.xxh64", src_hash);
  meta("pack.codec", plan.label);
  for (const auto& kv : input.metadata) {
    // safetensors __metadata__: kept under source.meta.<key> when it is a valid value.
    const std::string k = "source.meta." + escape_key_part(kv.first);
    if (k.size() <= 256 && qk_qkw_writer_set_metadata(w.w, k.c_str(), kv.second.c_str()) != QK_OK && !quiet)
      std::fprintf(stderr, "qk pack: %s: note: metadata '%s' not kept: %s\n", in_path.c_str(), kv.first.c_str(),
                   qk_last_error());
  }
  bar.finish();
  st = qk_qkw_writer_finish(w.w);
  if (st != QK_OK) throw_qk(out_path, st);
  if (!quiet) {
    auto joined = [](const std::vector<std::string>& names) {
      std::string list;
      for (size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
      return list;
    };
    if (!fallbacks.empty())
      std::fprintf(stderr, "qk pack: note: %zu tensor(s) have a last dimension that is not a multiple of 32; "
                   "stored as int%d per channel instead of %s: %s\n",
                   fallbacks.size(), plan.bits, plan.label.c_str(), joined(fallbacks).c_str());
    if (!nonfinite.empty())
      std::fprintf(stderr, "qk pack: note: tensors with NaN/Inf stored exact: %s\n", joined(nonfinite).c_str());
    struct stat sb;
    const uint64_t out_size = ::stat(out_path.c_str(), &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
    char ratio[32] = "";
    if (out_size) std::snprintf(ratio, sizeof ratio, " (%.2fx)", static_cast<double>(total_in) / out_size);
    std::printf("%s -> %s: %zu tensors, %s parameters, %s -> %s bytes%s, lowest SQNR %s%s\n", in_path.c_str(),
                out_path.c_str(), packed, with_commas(params).c_str(), with_commas(total_in).c_str(),
                with_commas(out_size).c_str(), ratio, fmt_db(min_sqnr).c_str(),
                std::isfinite(min_sqnr) ? (" (" + min_name + ")").c_str() : "");
  }
  return kExitOk;
}

}  // namespace qkcli
