// SPDX-License-Identifier: Apache-2.0
#include "format/entropy.h"

#include <zstd.h>

#include <memory>

#include "core/error.h"

namespace qk {
namespace qkw {
namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// Little-endian magic of a standard (not skippable) zstd frame.
constexpr uint32_t kZstdMagic = 0xFD2FB528u;

}  // namespace

std::vector<uint8_t> zstd_compress(const uint8_t* src, size_t size, int level) {
  std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx(ZSTD_createCCtx());
  if (!cctx) throw std::bad_alloc();
  // Explicit parameters, so that the bytes do not depend on zstd's defaults changing.
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 1);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 0);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_dictIDFlag, 0);
  std::vector<uint8_t> out(ZSTD_compressBound(size));
  const size_t n = ZSTD_compress2(cctx.get(), out.data(), out.size(), src, size);
  QK_FAIL_IF(ZSTD_isError(n), kInternal, "zstd compression failed: %s", ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

void check_zstd_frame(const uint8_t* frame, size_t frame_size, uint64_t content_size, const char* tensor,
                      const char* what) {
  QK_FAIL_IF(frame_size < 4 || (static_cast<uint32_t>(frame[0]) | (static_cast<uint32_t>(frame[1]) << 8) |
                                (static_cast<uint32_t>(frame[2]) << 16) | (static_cast<uint32_t>(frame[3]) << 24)) !=
                                   kZstdMagic,
             kCorrupt, "tensor '%s': the %s stream is not a zstd frame", tensor, what);
  const size_t whole = ZSTD_findFrameCompressedSize(frame, frame_size);
  QK_FAIL_IF(ZSTD_isError(whole), kCorrupt, "tensor '%s': the %s frame is damaged (%s)", tensor, what,
             ZSTD_getErrorName(whole));
  QK_FAIL_IF(whole != frame_size, kCorrupt, "tensor '%s': the %s frame is %zu bytes but its range is %zu", tensor,
             what, whole, frame_size);
  const unsigned long long declared = ZSTD_getFrameContentSize(frame, frame_size);
  QK_FAIL_IF(declared == ZSTD_CONTENTSIZE_UNKNOWN, kCorrupt, "tensor '%s': the %s frame does not declare its size",
             tensor, what);
  QK_FAIL_IF(declared == ZSTD_CONTENTSIZE_ERROR, kCorrupt, "tensor '%s': the %s frame header is damaged", tensor,
             what);
  QK_FAIL_IF(declared != content_size, kCorrupt, "tensor '%s': the %s frame declares %llu bytes, the table %llu",
             tensor, what, declared, (unsigned long long)content_size);
  QK_FAIL_IF(ZSTD_getDictID_fromFrame(frame, frame_size) != 0, kCorrupt, "tensor '%s': the %s frame names a dictionary",
             tensor, what);
}

void zstd_decompress(const uint8_t* frame, size_t frame_size, uint8_t* dst, size_t size, const char* tensor,
                     const char* what) {
  // A context per call keeps readers lock-free across threads; it costs microseconds next to a
  // tensor's decompression.
  std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx(ZSTD_createDCtx());
  if (!dctx) throw std::bad_alloc();
  const size_t n = ZSTD_decompressDCtx(dctx.get(), dst, size, frame, frame_size);
  QK_FAIL_IF(ZSTD_isError(n), kCorrupt, "tensor '%s': the %s frame does not decompress (%s)", tensor, what,
             ZSTD_getErrorName(n));
  QK_FAIL_IF(n != size, kCorrupt, "tensor '%s': the %s frame holds %zu bytes, not %zu", tensor, what, n, size);
}

void byte_shuffle(const uint8_t* in, size_t n, size_t width, uint8_t* out) {
  for (size_t b = 0; b < width; ++b)
    for (size_t i = 0; i < n; ++i) out[b * n + i] = in[i * width + b];
}

void byte_unshuffle(const uint8_t* in, size_t n, size_t width, uint8_t* out) {
  if (width == 4) {  // the common case (f32), kept branch-free for the compiler
    const uint8_t *p0 = in, *p1 = in + n, *p2 = in + 2 * n, *p3 = in + 3 * n;
    for (size_t i = 0; i < n; ++i) {
      out[4 * i] = p0[i];
      out[4 * i + 1] = p1[i];
      out[4 * i + 2] = p2[i];
      out[4 * i + 3] = p3[i];
    }
    return;
  }
  for (size_t b = 0; b < width; ++b)
    for (size_t i = 0; i < n; ++i) out[i * width + b] = in[b * n + i];
}

}  // namespace qkw
}  // namespace qk
