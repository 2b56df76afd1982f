// SPDX-License-Identifier: Apache-2.0
#include "inputs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "npy.h"
#include "npz.h"
#include "progress.h"
#include "qkw_io.h"
#include "safetensors.h"

namespace qkcli {

const char* format_name(Format f) {
  switch (f) {
    case Format::Npz: return "npz";
    case Format::Npy: return "npy";
    case Format::Safetensors: return "safetensors";
    case Format::Qkw: return "qkw";
  }
  return "?";
}

Format detect_format(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(os_error(path, "cannot open"));
  uint8_t head[16] = {0};
  ssize_t n = ::read(fd, head, sizeof head);
  ::close(fd);
  if (n < 0) throw Error(os_error(path, "cannot read"));
  static const uint8_t qkw_magic[8] = {0x89, 'Q', 'K', 'W', '\r', '\n', 0x1A, '\n'};
  static const uint8_t npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (n >= 8 && std::memcmp(head, qkw_magic, 8) == 0) return Format::Qkw;
  if (n >= 6 && std::memcmp(head, npy_magic, 6) == 0) return Format::Npy;
  if (n >= 4 && head[0] == 'P' && head[1] == 'K' && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6)))
    return Format::Npz;
  if (n >= 9 && head[8] == '{') return Format::Safetensors;
  // Damaged or truncated files: go by the extension so the parser can say what is wrong.
  const std::string ext = extension(path);
  if (ext == ".npz") return Format::Npz;
  if (ext == ".npy") return Format::Npy;
  if (ext == ".safetensors") return Format::Safetensors;
  if (ext == ".qkw") return Format::Qkw;
  if (n == 0) throw Error(path + ": empty file");
  throw Error(path + ": not a .npz, .npy, .safetensors or .qkw file (unrecognised first bytes)");
}

Input load_input(const std::string& path, bool allow_qkw, bool quiet, bool progress) {
  Input in;
  in.format = detect_format(path);
  switch (in.format) {
    case Format::Npz: {
      Progress bar("reading " + base_name(path), 0, progress);
      in.tensors = read_npz(path, &bar, quiet);
      break;
    }
    case Format::Npy:
      in.tensors.push_back(read_npy_file(path));
      break;
    case Format::Safetensors: {
      SafetensorsFile f = read_safetensors_file(path);
      in.tensors = std::move(f.tensors);
      in.metadata = std::move(f.metadata);
      break;
    }
    case Format::Qkw: {
      if (!allow_qkw) throw Error(path + ": is already a .qkw file (use 'qk unpack' first to re-encode it)");
      QkwFile f(path, QK_VERIFY_FULL);
      uint64_t total = 0;
      for (size_t i = 0; i < f.count(); ++i) total += f.info(i).element_count * 4;
      Progress bar("decoding " + base_name(path), total, progress);
      uint64_t done = 0;
      for (size_t i = 0; i < f.count(); ++i) {
        in.tensors.push_back(f.read(i, true));
        done += in.tensors.back().count() * 4;
        bar.update(done);
      }
      size_t mc = 0;
      if (qk_qkw_metadata_count(f.reader(), &mc) == QK_OK) {
        for (size_t i = 0; i < mc; ++i) {
          const char *k = nullptr, *v = nullptr;
          if (qk_qkw_metadata_at(f.reader(), i, &k, &v) == QK_OK) in.metadata[k] = v;
        }
      }
      break;
    }
  }
  return in;
}

}  // namespace qkcli
