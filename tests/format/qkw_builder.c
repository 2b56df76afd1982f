/* SPDX-License-Identifier: Apache-2.0 */
/* Hand-written .qkw image builder (see qkw_builder.h). Everything here follows docs/FORMAT.md. */
#include "qkw_builder.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>

const uint8_t QKWB_MAGIC[8] = {0x89, 0x51, 0x4B, 0x57, 0x0D, 0x0A, 0x1A, 0x0A};

static void* xmalloc(size_t n) {
  void* p = malloc(n ? n : 1);
  if (!p) abort();
  return p;
}

static uint8_t* dup_bytes(const void* src, size_t n) {
  uint8_t* p = (uint8_t*)xmalloc(n);
  if (n) memcpy(p, src, n);
  return p;
}

void qkwb_init(qkw_builder* b) {
  memset(b, 0, sizeof *b);
  b->version_major = 1;
  b->version_minor = 0;
  b->alignment = 64;
}

void qkwb_free(qkw_builder* b) {
  for (size_t i = 0; i < b->count; ++i) {
    free(b->t[i].name);
    free(b->t[i].chunk);
  }
  for (size_t i = 0; i < b->meta_count; ++i) {
    free(b->m[i].key);
    free(b->m[i].value);
  }
  free(b->t);
  free(b->m);
  memset(b, 0, sizeof *b);
}

static void le_put(uint8_t* p, int width, uint64_t v) {
  for (int i = 0; i < width; ++i) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t le_get(const uint8_t* p, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

uint64_t qkwb_get(const uint8_t* img, size_t size, size_t off, int width) {
  if (off > size || (size_t)width > size - off) return 0;
  return le_get(img + off, width);
}
void qkwb_put(uint8_t* img, size_t size, size_t off, int width, uint64_t v) {
  if (off > size || (size_t)width > size - off) return;
  le_put(img + off, width, v);
}
void qkwb_put_f64(uint8_t* img, size_t size, size_t off, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  qkwb_put(img, size, off, 8, u);
}
void qkwb_put_f32(uint8_t* img, size_t size, size_t off, float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  qkwb_put(img, size, off, 4, u);
}

size_t qkwb_add_n(qkw_builder* b, const void* name, size_t name_len, size_t ndim, const int64_t* dims,
                  uint8_t codec, uint8_t dtype, int16_t axis, int32_t levels, int64_t group_size,
                  const float* params, size_t param_count, const void* codes, size_t code_bytes) {
  if (b->count == b->cap) {
    b->cap = b->cap ? 2 * b->cap : 8;
    b->t = (qkwb_tensor*)realloc(b->t, b->cap * sizeof *b->t);
    if (!b->t) abort();
  }
  qkwb_tensor* t = &b->t[b->count];
  memset(t, 0, sizeof *t);
  t->name = dup_bytes(name, name_len);
  t->name_len = (uint32_t)name_len;
  if (ndim > 16) ndim = 16;
  t->ndim = (uint8_t)ndim;
  for (size_t i = 0; i < ndim; ++i) t->dims[i] = dims[i];
  t->codec = codec;
  t->dtype = dtype;
  t->axis = axis;
  t->levels = levels;
  t->group_size = group_size;
  const size_t pbytes = 4 * param_count;
  t->stored_size = pbytes + code_bytes;
  t->chunk = (uint8_t*)xmalloc((size_t)t->stored_size);
  for (size_t i = 0; i < param_count; ++i) {
    uint32_t u;
    memcpy(&u, &params[i], 4);
    le_put(t->chunk + 4 * i, 4, u);
  }
  if (code_bytes) memcpy(t->chunk + pbytes, codes, code_bytes);
  t->decoded_size = t->stored_size;
  t->params_stored_size = pbytes;
  t->sqnr_db = 1.0 / 0.0;
  t->max_abs_error = 0.0;
  return b->count++;
}

size_t qkwb_add(qkw_builder* b, const char* name, size_t ndim, const int64_t* dims, uint8_t codec, uint8_t dtype,
                int16_t axis, int32_t levels, int64_t group_size, const float* params, size_t param_count,
                const void* codes, size_t code_bytes) {
  return qkwb_add_n(b, name, strlen(name), ndim, dims, codec, dtype, axis, levels, group_size, params, param_count,
                    codes, code_bytes);
}

size_t qkwb_add_raw_f32(qkw_builder* b, const char* name, size_t ndim, const int64_t* dims, const float* values,
                        size_t count) {
  /* little-endian host assumed for the f32 bytes (x86-64 / aarch64) */
  return qkwb_add(b, name, ndim, dims, 0, 1, -1, 0, 0, NULL, 0, values, 4 * count);
}

uint8_t* qkwb_zstd_frame(const void* src, size_t n, int level, int content_size, size_t* out_size) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (!cctx) return NULL;
  const size_t cap = ZSTD_compressBound(n);
  uint8_t* out = (uint8_t*)xmalloc(cap);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, content_size ? 1 : 0);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
  const size_t r = ZSTD_compress2(cctx, out, cap, src, n);
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(r)) {
    free(out);
    return NULL;
  }
  *out_size = r;
  return out;
}

int qkwb_compress(qkw_builder* b, size_t idx, int level, int content_size, int shuffle, size_t elem_size) {
  if (idx >= b->count) return -1;
  qkwb_tensor* t = &b->t[idx];
  if (t->entropy != 0 || t->params_stored_size > t->stored_size) return -1;
  const size_t pbytes = (size_t)t->params_stored_size;
  const size_t cbytes = (size_t)(t->stored_size - pbytes);
  uint8_t* codes = dup_bytes(t->chunk + pbytes, cbytes);
  if (shuffle && elem_size > 1 && cbytes % elem_size == 0) {
    const size_t n = cbytes / elem_size;
    for (size_t i = 0; i < n; ++i)
      for (size_t k = 0; k < elem_size; ++k) codes[k * n + i] = t->chunk[pbytes + i * elem_size + k];
  }
  size_t pf_size = 0, cf_size = 0;
  uint8_t* pf = pbytes ? qkwb_zstd_frame(t->chunk, pbytes, level, content_size, &pf_size) : NULL;
  uint8_t* cf = cbytes ? qkwb_zstd_frame(codes, cbytes, level, content_size, &cf_size) : NULL;
  free(codes);
  if ((pbytes && !pf) || (cbytes && !cf)) {
    free(pf);
    free(cf);
    return -1;
  }
  uint8_t* chunk = (uint8_t*)xmalloc(pf_size + cf_size);
  if (pf_size) memcpy(chunk, pf, pf_size);
  if (cf_size) memcpy(chunk + pf_size, cf, cf_size);
  free(pf);
  free(cf);
  free(t->chunk);
  t->chunk = chunk;
  t->stored_size = pf_size + cf_size;
  t->params_stored_size = pf_size;
  t->entropy = 1;
  t->filter = shuffle ? 1 : 0;
  return 0;
}

void qkwb_set_chunk(qkw_builder* b, size_t idx, const void* bytes, size_t size) {
  if (idx >= b->count) return;
  free(b->t[idx].chunk);
  b->t[idx].chunk = dup_bytes(bytes, size);
  b->t[idx].stored_size = size;
}

void qkwb_meta_n(qkw_builder* b, const void* key, size_t key_len, const void* value, size_t value_len) {
  if (b->meta_count == b->meta_cap) {
    b->meta_cap = b->meta_cap ? 2 * b->meta_cap : 8;
    b->m = (qkwb_pair*)realloc(b->m, b->meta_cap * sizeof *b->m);
    if (!b->m) abort();
  }
  qkwb_pair* m = &b->m[b->meta_count++];
  m->key = dup_bytes(key, key_len);
  m->key_len = (uint32_t)key_len;
  m->value = dup_bytes(value, value_len);
  m->value_len = (uint32_t)value_len;
}

void qkwb_meta(qkw_builder* b, const char* key, const char* value) {
  qkwb_meta_n(b, key, strlen(key), value, strlen(value));
}

/* FORMAT.md: memcmp on the common length, the shorter string first on a tie. */
static int bytes_cmp(const uint8_t* a, size_t na, const uint8_t* b, size_t nb) {
  const size_t n = na < nb ? na : nb;
  const int c = n ? memcmp(a, b, n) : 0;
  if (c) return c;
  return na < nb ? -1 : (na > nb ? 1 : 0);
}

static uint64_t align_up(uint64_t x, uint64_t a) { return a ? (x + a - 1) / a * a : x; }

uint8_t* qkwb_build(const qkw_builder* b, size_t* size_out) {
  const size_t n = b->count, m = b->meta_count;
  size_t* order = (size_t*)xmalloc(n * sizeof *order);
  size_t* morder = (size_t*)xmalloc(m * sizeof *morder);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  for (size_t i = 0; i < m; ++i) morder[i] = i;
  if (!b->keep_order) { /* insertion sorts: tests are small */
    for (size_t i = 1; i < n; ++i)
      for (size_t j = i; j > 0; --j) {
        const qkwb_tensor* x = &b->t[order[j - 1]];
        const qkwb_tensor* y = &b->t[order[j]];
        if (bytes_cmp(x->name, x->name_len, y->name, y->name_len) <= 0) break;
        const size_t tmp = order[j];
        order[j] = order[j - 1];
        order[j - 1] = tmp;
      }
    for (size_t i = 1; i < m; ++i)
      for (size_t j = i; j > 0; --j) {
        const qkwb_pair* x = &b->m[morder[j - 1]];
        const qkwb_pair* y = &b->m[morder[j]];
        if (bytes_cmp(x->key, x->key_len, y->key, y->key_len) <= 0) break;
        const size_t tmp = morder[j];
        morder[j] = morder[j - 1];
        morder[j - 1] = tmp;
      }
  }
  uint64_t dims_count = 0, pool = 0;
  for (size_t i = 0; i < n; ++i) {
    dims_count += b->t[i].ndim;
    pool += b->t[i].name_len;
  }
  for (size_t i = 0; i < m; ++i) pool += (uint64_t)b->m[i].key_len + b->m[i].value_len;
  dims_count += b->extra_dims;
  pool += b->extra_pool;
  const uint64_t table_size = QKWT_SIZE + (uint64_t)QKWE_SIZE * n + 8 * dims_count + (uint64_t)QKWM_SIZE * m + pool;
  const uint64_t align = b->alignment;
  const uint64_t data_offset = align_up(QKWH_SIZE + table_size, align);
  uint64_t* offs = (uint64_t*)xmalloc(n * sizeof *offs);
  uint64_t end = 0;
  for (size_t k = 0; k < n; ++k) {
    const qkwb_tensor* t = &b->t[order[k]];
    offs[k] = k == 0 ? 0 : align_up(end, align);
    end = offs[k] + t->stored_size;
  }
  const uint64_t file_size = data_offset + (n ? end : 0);
  uint8_t* img = (uint8_t*)calloc((size_t)file_size ? (size_t)file_size : 1, 1);
  if (!img) abort();
  memcpy(img, QKWB_MAGIC, 8);
  le_put(img + QKWH_VERSION_MAJOR, 2, b->version_major);
  le_put(img + QKWH_VERSION_MINOR, 2, b->version_minor);
  le_put(img + QKWH_REQUIRED_FLAGS, 4, b->required_flags);
  le_put(img + QKWH_ALIGNMENT, 4, b->alignment);
  le_put(img + QKWH_TENSOR_COUNT, 4, n);
  le_put(img + QKWH_TABLE_OFFSET, 8, 64);
  le_put(img + QKWH_TABLE_SIZE, 8, table_size);
  le_put(img + QKWH_DATA_OFFSET, 8, data_offset);
  le_put(img + QKWH_FILE_SIZE, 8, file_size);
  uint8_t* tab = img + QKWH_SIZE;
  le_put(tab + QKWT_TENSOR_COUNT, 4, n);
  le_put(tab + QKWT_DIMS_COUNT, 4, dims_count);
  le_put(tab + QKWT_META_COUNT, 4, m);
  le_put(tab + QKWT_POOL_SIZE, 4, pool);
  uint8_t* entries = tab + QKWT_SIZE;
  uint8_t* dims = entries + (size_t)QKWE_SIZE * n;
  uint8_t* refs = dims + 8 * dims_count;
  uint8_t* pool_p = refs + (size_t)QKWM_SIZE * m;
  uint64_t pool_at = 0, dim_at = 0;
  for (size_t k = 0; k < n; ++k) {
    const qkwb_tensor* t = &b->t[order[k]];
    uint8_t* e = entries + (size_t)QKWE_SIZE * k;
    memcpy(pool_p + pool_at, t->name, t->name_len);
    le_put(e + QKWE_NAME_OFF, 4, pool_at);
    le_put(e + QKWE_NAME_LEN, 4, t->name_len);
    pool_at += t->name_len;
    le_put(e + QKWE_DIMS_INDEX, 4, dim_at);
    for (size_t d = 0; d < t->ndim; ++d) le_put(dims + 8 * (dim_at + d), 8, (uint64_t)t->dims[d]);
    dim_at += t->ndim;
    e[QKWE_NDIM] = t->ndim;
    e[QKWE_CODEC] = t->codec;
    e[QKWE_DTYPE] = t->dtype;
    e[QKWE_ENTROPY] = t->entropy;
    e[QKWE_FILTER] = t->filter;
    e[QKWE_RESERVED8] = t->reserved8;
    le_put(e + QKWE_AXIS, 2, (uint16_t)t->axis);
    le_put(e + QKWE_LEVELS, 4, (uint32_t)t->levels);
    le_put(e + QKWE_GROUP_SIZE, 8, (uint64_t)t->group_size);
    le_put(e + QKWE_OFFSET, 8, offs[k]);
    le_put(e + QKWE_STORED_SIZE, 8, t->stored_size);
    le_put(e + QKWE_DECODED_SIZE, 8, t->decoded_size);
    le_put(e + QKWE_PARAMS_STORED_SIZE, 8, t->params_stored_size);
    le_put(e + QKWE_XXH64, 8, XXH64(t->chunk, (size_t)t->stored_size, 0));
    uint64_t u;
    memcpy(&u, &t->sqnr_db, 8);
    le_put(e + QKWE_SQNR_DB, 8, u);
    memcpy(&u, &t->max_abs_error, 8);
    le_put(e + QKWE_MAX_ABS_ERROR, 8, u);
    le_put(e + QKWE_RESERVED64, 8, t->reserved64);
    if (t->stored_size) memcpy(img + data_offset + offs[k], t->chunk, (size_t)t->stored_size);
  }
  for (size_t k = 0; k < m; ++k) {
    const qkwb_pair* md = &b->m[morder[k]];
    uint8_t* r = refs + (size_t)QKWM_SIZE * k;
    memcpy(pool_p + pool_at, md->key, md->key_len);
    le_put(r + QKWM_KEY_OFF, 4, pool_at);
    le_put(r + QKWM_KEY_LEN, 4, md->key_len);
    pool_at += md->key_len;
    memcpy(pool_p + pool_at, md->value, md->value_len);
    le_put(r + QKWM_VALUE_OFF, 4, pool_at);
    le_put(r + QKWM_VALUE_LEN, 4, md->value_len);
    pool_at += md->value_len;
  }
  free(order);
  free(morder);
  free(offs);
  qkwb_resign_meta(img, (size_t)file_size);
  *size_out = (size_t)file_size;
  return img;
}

size_t qkwb_entry_off(const uint8_t* img, size_t size, size_t i) {
  (void)img;
  (void)size;
  return QKWH_SIZE + QKWT_SIZE + (size_t)QKWE_SIZE * i;
}
size_t qkwb_dims_off(const uint8_t* img, size_t size) {
  const uint64_t n = qkwb_get(img, size, QKWH_SIZE + QKWT_TENSOR_COUNT, 4);
  return QKWH_SIZE + QKWT_SIZE + (size_t)(QKWE_SIZE * n);
}
size_t qkwb_metaref_off(const uint8_t* img, size_t size, size_t i) {
  const uint64_t d = qkwb_get(img, size, QKWH_SIZE + QKWT_DIMS_COUNT, 4);
  return qkwb_dims_off(img, size) + (size_t)(8 * d) + (size_t)QKWM_SIZE * i;
}
size_t qkwb_pool_off(const uint8_t* img, size_t size) {
  const uint64_t m = qkwb_get(img, size, QKWH_SIZE + QKWT_META_COUNT, 4);
  return qkwb_metaref_off(img, size, (size_t)m);
}
uint64_t qkwb_data_offset(const uint8_t* img, size_t size) { return qkwb_get(img, size, QKWH_DATA_OFFSET, 8); }
uint64_t qkwb_chunk_off(const uint8_t* img, size_t size, size_t i) {
  return qkwb_data_offset(img, size) + qkwb_get(img, size, qkwb_entry_off(img, size, i) + QKWE_OFFSET, 8);
}

void qkwb_resign_meta(uint8_t* img, size_t size) {
  if (size < QKWH_SIZE) return;
  const uint64_t table_size = le_get(img + QKWH_TABLE_SIZE, 8);
  if (table_size > size - QKWH_SIZE) return;
  XXH64_state_t* st = XXH64_createState();
  if (!st) return;
  XXH64_reset(st, 0);
  XXH64_update(st, img, 56);
  XXH64_update(st, img + QKWH_SIZE, (size_t)table_size);
  le_put(img + QKWH_META_XXH64, 8, XXH64_digest(st));
  XXH64_freeState(st);
}

void qkwb_resign(uint8_t* img, size_t size) {
  if (size < QKWH_SIZE + QKWT_SIZE) return;
  const uint64_t table_size = le_get(img + QKWH_TABLE_SIZE, 8);
  const uint64_t data_offset = le_get(img + QKWH_DATA_OFFSET, 8);
  uint64_t n = le_get(img + QKWH_SIZE + QKWT_TENSOR_COUNT, 4);
  const uint64_t table_end = table_size <= size - QKWH_SIZE ? QKWH_SIZE + table_size : size;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t e = QKWH_SIZE + QKWT_SIZE + QKWE_SIZE * i;
    if (e + QKWE_SIZE > table_end) break;
    const uint64_t off = le_get(img + e + QKWE_OFFSET, 8);
    const uint64_t len = le_get(img + e + QKWE_STORED_SIZE, 8);
    if (data_offset > size || off > size - data_offset || len > size - data_offset - off) continue;
    le_put(img + e + QKWE_XXH64, 8, XXH64(img + data_offset + off, (size_t)len, 0));
  }
  qkwb_resign_meta(img, size);
}

void qkwb_set_file_size(uint8_t* img, size_t size) {
  qkwb_put(img, size, QKWH_FILE_SIZE, 8, size);
  qkwb_resign_meta(img, size);
}
