/* SPDX-License-Identifier: Apache-2.0 */
/* Test-only builder of raw .qkw byte images, written from docs/FORMAT.md alone (not from
 * src/format/): it lays out the file header, the table (table header, entries, dims, metadata
 * refs, string pool), the zero padding and the chunks exactly as the format prescribes, so that
 * tests can make files the library's writer never would (unknown codecs, hand-made zstd frames,
 * broken fields) and then re-sign them (recompute meta_xxh64 and the chunk XXH64s) so the damage
 * reaches the deep checks instead of stopping at a checksum.
 *
 * Usage: qkwb_init(&b); qkwb_add(&b, ...) per tensor; optionally qkwb_compress(); qkwb_meta();
 * img = qkwb_build(&b, &size); poke fields with qkwb_put_*() at qkwb_entry_off() etc.;
 * qkwb_resign(img, size); ...; free(img); qkwb_free(&b).
 * Every accessor is bounds-checked so that the fuzz driver can call qkwb_resign() on garbage. */
#ifndef QKW_BUILDER_H
#define QKW_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* File header field offsets (docs/FORMAT.md, "File header"). */
enum {
  QKWH_MAGIC = 0,
  QKWH_VERSION_MAJOR = 8,
  QKWH_VERSION_MINOR = 10,
  QKWH_REQUIRED_FLAGS = 12,
  QKWH_ALIGNMENT = 16,
  QKWH_TENSOR_COUNT = 20,
  QKWH_TABLE_OFFSET = 24,
  QKWH_TABLE_SIZE = 32,
  QKWH_DATA_OFFSET = 40,
  QKWH_FILE_SIZE = 48,
  QKWH_META_XXH64 = 56,
  QKWH_SIZE = 64
};
/* Table header, relative to offset 64. */
enum { QKWT_TENSOR_COUNT = 0, QKWT_DIMS_COUNT = 4, QKWT_META_COUNT = 8, QKWT_POOL_SIZE = 12, QKWT_SIZE = 16 };
/* Entry fields, relative to the entry (96 bytes each). */
enum {
  QKWE_NAME_OFF = 0,
  QKWE_NAME_LEN = 4,
  QKWE_DIMS_INDEX = 8,
  QKWE_NDIM = 12,
  QKWE_CODEC = 13,
  QKWE_DTYPE = 14,
  QKWE_ENTROPY = 15,
  QKWE_FILTER = 16,
  QKWE_RESERVED8 = 17,
  QKWE_AXIS = 18,
  QKWE_LEVELS = 20,
  QKWE_GROUP_SIZE = 24,
  QKWE_OFFSET = 32,
  QKWE_STORED_SIZE = 40,
  QKWE_DECODED_SIZE = 48,
  QKWE_PARAMS_STORED_SIZE = 56,
  QKWE_XXH64 = 64,
  QKWE_SQNR_DB = 72,
  QKWE_MAX_ABS_ERROR = 80,
  QKWE_RESERVED64 = 88,
  QKWE_SIZE = 96
};
/* Metadata ref fields (16 bytes each). */
enum { QKWM_KEY_OFF = 0, QKWM_KEY_LEN = 4, QKWM_VALUE_OFF = 8, QKWM_VALUE_LEN = 12, QKWM_SIZE = 16 };

extern const uint8_t QKWB_MAGIC[8];

typedef struct qkwb_tensor {
  uint8_t* name;
  uint32_t name_len;
  uint8_t ndim;
  int64_t dims[16];
  uint8_t codec, dtype, entropy, filter, reserved8;
  int16_t axis;
  int32_t levels;
  int64_t group_size;
  uint8_t* chunk; /* stored bytes */
  uint64_t stored_size;
  uint64_t decoded_size;
  uint64_t params_stored_size;
  double sqnr_db, max_abs_error;
  uint64_t reserved64;
} qkwb_tensor;

typedef struct qkwb_pair {
  uint8_t* key;
  uint32_t key_len;
  uint8_t* value;
  uint32_t value_len;
} qkwb_pair;

typedef struct qkw_builder {
  uint16_t version_major, version_minor;
  uint32_t required_flags;
  uint32_t alignment;
  int keep_order; /* 1: entries/metadata in insertion order (default 0: sorted by memcmp order) */
  uint32_t extra_dims; /* unused zero dims slots appended to the dims array (dims_count grows) */
  uint32_t extra_pool; /* zero bytes appended to the string pool */
  qkwb_tensor* t;
  size_t count, cap;
  qkwb_pair* m;
  size_t meta_count, meta_cap;
} qkw_builder;

void qkwb_init(qkw_builder* b); /* version 1.0, flags 0, alignment 64 */
void qkwb_free(qkw_builder* b);

/* Adds an entropy-0 tensor: chunk = params (P f32, little-endian) || codes (S bytes);
 * decoded_size = stored_size = 4P + S, params_stored_size = 4P, sqnr +Inf, max error 0.
 * ndim may be up to 16 (to build illegal files). Returns the tensor's insertion index. */
size_t qkwb_add_n(qkw_builder* b, const void* name, size_t name_len, size_t ndim, const int64_t* dims,
                  uint8_t codec, uint8_t dtype, int16_t axis, int32_t levels, int64_t group_size,
                  const float* params, size_t param_count, const void* codes, size_t code_bytes);
size_t qkwb_add(qkw_builder* b, const char* name, size_t ndim, const int64_t* dims, uint8_t codec, uint8_t dtype,
                int16_t axis, int32_t levels, int64_t group_size, const float* params, size_t param_count,
                const void* codes, size_t code_bytes);
/* RAW F32 convenience. */
size_t qkwb_add_raw_f32(qkw_builder* b, const char* name, size_t ndim, const int64_t* dims, const float* values,
                        size_t count);

/* Recompresses tensor `idx` (currently entropy 0) into zstd frames: one for the params (if any)
 * then one for the codes (if any), at `level`, with or without Frame_Content_Size. shuffle != 0
 * byte-shuffles the code stream by `elem_size` first (filter 1). Returns 0 on success. */
int qkwb_compress(qkw_builder* b, size_t idx, int level, int content_size, int shuffle, size_t elem_size);
/* Replaces the stored chunk of tensor `idx` (stored_size = size); the caller sets the rest. */
void qkwb_set_chunk(qkw_builder* b, size_t idx, const void* bytes, size_t size);

void qkwb_meta_n(qkw_builder* b, const void* key, size_t key_len, const void* value, size_t value_len);
void qkwb_meta(qkw_builder* b, const char* key, const char* value);

/* Lays out the canonical image (sorted unless keep_order, offsets per "Chunk placement",
 * zero padding, every checksum). Returns a malloc'ed buffer (free()) and its size. */
uint8_t* qkwb_build(const qkw_builder* b, size_t* size_out);

/* One zstd frame of `src` (n bytes) at `level`, with or without Frame_Content_Size; returns a
 * malloc'ed buffer and sets *out_size (NULL on failure). */
uint8_t* qkwb_zstd_frame(const void* src, size_t n, int level, int content_size, size_t* out_size);

/* Little-endian field access, bounds-checked (out of range: get returns 0, put does nothing). */
uint64_t qkwb_get(const uint8_t* img, size_t size, size_t off, int width);
void qkwb_put(uint8_t* img, size_t size, size_t off, int width, uint64_t v);
void qkwb_put_f64(uint8_t* img, size_t size, size_t off, double v);
void qkwb_put_f32(uint8_t* img, size_t size, size_t off, float v);

/* Offsets computed from the image's own table header (garbage in, garbage out, no UB). */
size_t qkwb_entry_off(const uint8_t* img, size_t size, size_t i);
size_t qkwb_dims_off(const uint8_t* img, size_t size);      /* start of the dims array */
size_t qkwb_metaref_off(const uint8_t* img, size_t size, size_t i);
size_t qkwb_pool_off(const uint8_t* img, size_t size);      /* start of the string pool */
uint64_t qkwb_data_offset(const uint8_t* img, size_t size); /* header data_offset */
uint64_t qkwb_chunk_off(const uint8_t* img, size_t size, size_t i); /* absolute offset of chunk i */

/* Recomputes every chunk's XXH64 (chunks whose range lies inside the image) and then
 * meta_xxh64 (if the table lies inside the image). qkwb_resign_meta only does the latter. */
void qkwb_resign(uint8_t* img, size_t size);
void qkwb_resign_meta(uint8_t* img, size_t size);
/* Rewrites the header's file_size to `size` (for appended/truncated variants), then resigns. */
void qkwb_set_file_size(uint8_t* img, size_t size);

#ifdef __cplusplus
}
#endif

#endif
