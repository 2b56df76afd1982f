// SPDX-License-Identifier: Apache-2.0
// C shim of the ONNX importer (src/onnx): qk_model_load_onnx, qk_model_load_onnx_memory.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "capi/capi_common.h"
#include "capi/capi_model.h"
#include "onnx/importer.h"

namespace {

constexpr size_t kMaxOnnxFile = size_t(1) << 31;  // protobuf's own limit

void check_options(const qk_attrs* options) {
  QK_FAIL_IF(options && !options->attrs.items().empty(), kInvalidArgument,
             "unknown import option '%s' (no options are defined yet: pass NULL)",
             options->attrs.items().begin()->first.c_str());
}

qk_model* wrap(std::unique_ptr<qk::graph::Graph> g) {
  auto h = std::make_unique<qk_model>();
  h->g = std::move(g);
  return h.release();
}

std::vector<uint8_t> read_file(const char* path) {
  FILE* f = std::fopen(path, "rb");
  QK_FAIL_IF(!f, kIo, "cannot open '%s': %s", path, std::strerror(errno));
  std::vector<uint8_t> bytes;
  bool ok = std::fseek(f, 0, SEEK_END) == 0;
  const long size = ok ? std::ftell(f) : -1;
  ok = ok && size >= 0 && std::fseek(f, 0, SEEK_SET) == 0;
  if (ok && size_t(size) > kMaxOnnxFile) {
    std::fclose(f);
    qk::fail(qk::Status::kUnsupported, "'%s' is %ld bytes: ONNX files over 2 GiB keep weights in external data",
             path, size);
  }
  if (ok) {
    bytes.resize(size_t(size));
    ok = std::fread(bytes.data(), 1, bytes.size(), f) == bytes.size();
  }
  std::fclose(f);
  QK_FAIL_IF(!ok, kIo, "cannot read '%s'", path);
  return bytes;
}

}  // namespace

QK_API qk_status qk_model_load_onnx(const char* path, const qk_attrs* options, qk_model** model_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(path);
    QK_REQUIRE_NOT_NULL(model_out);
    check_options(options);
    const std::vector<uint8_t> bytes = read_file(path);
    qk::onnx::ImportOptions o;
    const char* slash = std::strrchr(path, '/');
    o.external.folder = slash ? std::string(path, size_t(slash - path)) : std::string(".");
    if (o.external.folder.empty()) o.external.folder = "/";
    *model_out = wrap(qk::onnx::import_model(bytes.data(), bytes.size(), o));
  });
}

QK_API qk_status qk_model_load_onnx_memory(const void* data, size_t size, const qk_attrs* options,
                                           qk_model** model_out) {
  return QK_GUARD({
    QK_FAIL_IF(data == nullptr && size > 0, kInvalidArgument, "argument 'data' is NULL");
    QK_REQUIRE_NOT_NULL(model_out);
    QK_FAIL_IF(size > kMaxOnnxFile, kUnsupported, "%zu bytes: ONNX models over 2 GiB keep weights in external data",
               size);
    check_options(options);
    *model_out = wrap(qk::onnx::import_model(static_cast<const uint8_t*>(data), size, qk::onnx::ImportOptions{}));
  });
}
