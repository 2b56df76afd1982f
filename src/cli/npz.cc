// SPDX-License-Identifier: Apache-2.0
#include "npz.h"

#include <unistd.h>
#include <zip.h>

#include <cstdio>
#include <ctime>
#include <set>

#include "npy.h"
#include "progress.h"

namespace qkcli {

namespace {

std::string zip_open_error(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}

struct ZipCloser {
  zip_t* z;
  ~ZipCloser() {
    if (z) zip_discard(z);
  }
};
struct FileCloser {
  zip_file_t* f;
  ~FileCloser() {
    if (f) zip_fclose(f);
  }
};

// Reads exactly n bytes (fewer only at the end of the entry); throws on a libzip error.
uint64_t read_full(zip_file_t* f, uint8_t* dst, uint64_t n, const std::string& ctx) {
  uint64_t got = 0;
  while (got < n) {
    zip_int64_t r = zip_fread(f, dst + got, n - got);
    if (r < 0) throw Error(ctx + ": cannot read: " + zip_file_strerror(f));
    if (r == 0) break;
    got += static_cast<uint64_t>(r);
  }
  return got;
}

}  // namespace

std::vector<Tensor> read_npz(const std::string& path, Progress* progress, bool quiet) {
  {
    // libzip reports a missing file as "No such file"; make it the usual OS message.
    if (::access(path.c_str(), R_OK) != 0) throw Error(os_error(path, "cannot open"));
  }
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!z) throw Error(path + ": not a valid .npz (zip) archive: " + zip_open_error(err));
  ZipCloser closer{z};
  const zip_int64_t n = zip_get_num_entries(z, 0);
  if (n < 0) throw Error(path + ": cannot list the archive");
  if (n > (1 << 20)) throw Error(path + ": " + std::to_string(n) + " entries is above the limit of 2^20");
  uint64_t archive_bytes = 0;
  std::vector<zip_stat_t> stats(static_cast<size_t>(n));
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t& st = stats[static_cast<size_t>(i)];
    zip_stat_init(&st);
    if (zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st) != 0)
      throw Error(path + ": entry " + std::to_string(i) + ": " + zip_strerror(z));
    const zip_uint64_t need = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    if ((st.valid & need) != need) throw Error(path + ": entry " + std::to_string(i) + ": incomplete directory record");
    archive_bytes += st.comp_size;
  }
  std::vector<Tensor> out;
  std::set<std::string> names;
  uint64_t done = 0;
  for (zip_int64_t i = 0; i < n; ++i) {
    const zip_stat_t& st = stats[static_cast<size_t>(i)];
    const std::string entry = st.name;
    const std::string ctx = path + ": entry '" + entry + "'";
    if (entry.empty() || entry.back() == '/') continue;  // directory
    if (entry.size() < 5 || entry.compare(entry.size() - 4, 4, ".npy") != 0) {
      if (!quiet) std::fprintf(stderr, "qk: %s: ignoring entry '%s' (not .npy)\n", path.c_str(), entry.c_str());
      continue;
    }
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
      throw Error(ctx + ": encrypted entries are not supported");
    if (st.comp_method == ZIP_CM_STORE) {
      if (st.size != st.comp_size)
        throw Error(ctx + ": stored entry declares " + std::to_string(st.size) + " bytes but holds " +
                    std::to_string(st.comp_size));
    } else if (st.comp_method == ZIP_CM_DEFLATE) {
      // deflate cannot expand data more than ~1032:1.
      if (st.size / 1032 > st.comp_size + 1)
        throw Error(ctx + ": declared size " + std::to_string(st.size) + " is impossible for " +
                    std::to_string(st.comp_size) + " deflated bytes");
    } else {
      throw Error(ctx + ": compression method " + std::to_string(st.comp_method) +
                  " is not supported (only stored or deflated entries)");
    }
    std::string name = entry.substr(0, entry.size() - 4);
    if (!names.insert(name).second) throw Error(ctx + ": duplicate tensor name '" + name + "'");

    zip_file_t* f = zip_fopen_index(z, static_cast<zip_uint64_t>(i), 0);
    if (!f) throw Error(ctx + ": cannot open: " + zip_strerror(z));
    FileCloser fc{f};
    // The header first: it says how many data bytes follow, which must match the entry size.
    std::vector<uint8_t> head(kNpyPrefixSize);
    const uint64_t want = st.size < kNpyPrefixSize ? st.size : kNpyPrefixSize;
    uint64_t got = read_full(f, head.data(), want, ctx);
    if (got != want) throw Error(ctx + ": truncated (entry shorter than its declared size)");
    const size_t hsize = npy_header_size(head.data(), static_cast<size_t>(got), ctx);
    if (hsize > st.size)
      throw Error(ctx + ": truncated .npy header (needs " + std::to_string(hsize) + " bytes, the entry has " +
                  std::to_string(st.size) + ")");
    head.resize(hsize);
    if (read_full(f, head.data() + got, hsize - got, ctx) != hsize - got) throw Error(ctx + ": truncated");
    NpyHeader h = parse_npy_header(head.data(), hsize, ctx);
    const uint64_t have = st.size - hsize;
    if (have != h.data_bytes)
      throw Error(ctx + ": shape " + shape_str(h.shape) + " of " + dtype_name(h.dtype) + " needs " +
                  std::to_string(h.data_bytes) + " data bytes, the entry holds " + std::to_string(have));
    Tensor t;
    t.name = name;
    t.dtype = h.dtype;
    t.shape = h.shape;
    t.data.resize(static_cast<size_t>(h.data_bytes));
    if (read_full(f, t.data.data(), h.data_bytes, ctx) != h.data_bytes)
      throw Error(ctx + ": truncated (entry shorter than its declared size)");
    uint8_t extra;
    if (read_full(f, &extra, 1, ctx) != 0) throw Error(ctx + ": entry longer than its declared size");
    if (zip_fclose(f) != 0) {
      fc.f = nullptr;
      throw Error(ctx + ": read error (CRC mismatch?)");
    }
    fc.f = nullptr;
    if (h.fortran_order) fortran_to_c_order(t);
    out.push_back(std::move(t));
    done += st.comp_size;
    if (progress) progress->update(done, archive_bytes);
  }
  return out;
}

void write_npz(const std::string& path, const std::vector<NpzEntry>& entries, bool deflate) {
  if (entries.empty()) {
    // libzip deletes an archive with no entry on close: write the 22-byte end record ourselves.
    const uint8_t eocd[22] = {'P', 'K', 5, 6};
    write_file_atomic(path, eocd, sizeof eocd);
    return;
  }
  std::string tmp = make_temp_path(path);
  int err = 0;
  // The temporary file exists (empty, from mkstemp): ZIP_TRUNCATE makes libzip replace it.
  zip_t* z = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (!z) {
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot create: " + zip_open_error(err));
  }
  auto fail = [&](const std::string& what) {
    std::string msg = path + ": " + what + ": " + zip_strerror(z);
    zip_discard(z);
    ::unlink(tmp.c_str());
    throw Error(msg);
  };
  struct tm tm0 = {};
  tm0.tm_year = 80;
  tm0.tm_mon = 0;
  tm0.tm_mday = 1;
  tm0.tm_isdst = -1;
  const time_t dos_epoch = mktime(&tm0);  // local midnight: DOS time 1980-01-01 00:00
  for (const NpzEntry& e : entries) {
    zip_source_t* src = zip_source_buffer(z, e.bytes.data(), e.bytes.size(), 0);
    if (!src) fail("cannot add '" + e.name + "'");
    zip_int64_t idx = zip_file_add(z, (e.name + ".npy").c_str(), src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(src);
      fail("cannot add '" + e.name + "'");
    }
    if (zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE,
                                 deflate ? 6 : 0) != 0)
      fail("cannot set compression of '" + e.name + "'");
    if (zip_file_set_mtime(z, static_cast<zip_uint64_t>(idx), dos_epoch, 0) != 0)
      fail("cannot set the time of '" + e.name + "'");
  }
  if (zip_close(z) != 0) fail("cannot write");
  commit_temp_file(tmp, path);
}

}  // namespace qkcli
