/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the .qkw reader: any byte string is opened from memory in every verify mode
 * (64 MiB budget) and, when it opens, every tensor is queried (info, shape, decode_f32,
 * read_codes, read_params, tensor_qparams, map_codes) with correctly sized buffers, and the
 * metadata enumerated. It must never crash, leak or return a status outside the documented set,
 * and the modes must agree (LAZY and NONE make the same table checks; a FULL success implies the
 * others; values decoded in different modes are identical).
 *
 * Replayed by CTest (fuzz_qkw_replay: fuzz_driver.c over the corpus make_qkw_corpus writes, plus
 * tests/fuzz/corpus/qkw) and fuzzed coverage-guided by `make fuzz` (libFuzzer, fuzz_mutator.c).
 * Mutations: fuzz_qkw_fields.c (extreme values in structured fields; re-signing half the mutants
 * so they get past meta_xxh64 and the chunk checksums). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_qkw_fields.h"
#include "quantkit/quantkit.h"

#define QKW_FUZZ_BUDGET (UINT64_C(64) << 20)
#define QKW_FUZZ_MAX_ELEMENTS (UINT64_C(1) << 20)

static int open_status_ok(qk_status s) {
  return s == QK_OK || s == QK_ERR_CORRUPT || s == QK_ERR_UNSUPPORTED || s == QK_ERR_OUT_OF_MEMORY;
}

/* Exercises one reader; returns a hash of every decoded value (for the cross-mode check). */
static uint64_t exercise(const qk_qkw_reader* r, float** values, size_t* nvalues, qk_status* decode_status,
                         size_t max_tensors) {
  size_t count = 0;
  if (qk_qkw_tensor_count(r, &count) != QK_OK) abort();
  uint64_t h = 0;
  for (size_t i = 0; i < count; ++i) {
    qk_qkw_tensor_info info;
    if (qk_qkw_tensor_info_get(r, i, &info) != QK_OK) abort();
    const char* name = NULL;
    if (qk_qkw_tensor_name(r, i, &name) != QK_OK || name == NULL) abort();
    size_t idx = (size_t)-1;
    if (qk_qkw_find(r, name, &idx) != QK_OK || idx != i) abort(); /* names are unique and sorted */
    int64_t shape[QK_MAX_RANK];
    size_t rank = 0;
    if (qk_qkw_tensor_shape(r, i, shape, QK_MAX_RANK, &rank) != QK_OK || rank != info.rank || rank > QK_MAX_RANK)
      abort();
    uint64_t n = 1;
    for (size_t d = 0; d < rank; ++d) {
      if (shape[d] < 0) abort();
      n *= (uint64_t)shape[d];
    }
    if (n != info.element_count) abort();
    if (info.status != QK_OK && info.status != QK_ERR_UNSUPPORTED) abort();
    if (info.element_count > QKW_FUZZ_MAX_ELEMENTS || info.code_bytes > 64 * QKW_FUZZ_MAX_ELEMENTS ||
        info.param_count > QKW_FUZZ_MAX_ELEMENTS)
      continue;
    const size_t ne = (size_t)info.element_count;
    float* y = (float*)malloc((ne ? ne : 1) * sizeof(float));
    qk_status s = qk_qkw_decode_f32(r, i, y, ne);
    if (s != QK_OK && s != QK_ERR_CORRUPT && s != QK_ERR_UNSUPPORTED && s != QK_ERR_OUT_OF_MEMORY) abort();
    if (info.status == QK_ERR_UNSUPPORTED && s == QK_OK) abort();
    if (i < max_tensors) {
      decode_status[i] = s;
      nvalues[i] = ne;
      values[i] = NULL;
    }
    if (s == QK_OK) {
      for (size_t k = 0; k < ne; ++k) {
        uint32_t u;
        memcpy(&u, &y[k], 4);
        h = (h ^ u) * 0x100000001B3ULL;
      }
      if (i < max_tensors) {
        values[i] = y;
        y = NULL;
      }
    }
    free(y);
    void* c = malloc(info.code_bytes ? (size_t)info.code_bytes : 1);
    s = qk_qkw_read_codes(r, i, c, (size_t)info.code_bytes);
    if (!open_status_ok(s)) abort();
    free(c);
    float* p = (float*)malloc(info.param_count ? (size_t)info.param_count * sizeof(float) : 1);
    s = qk_qkw_read_params(r, i, p, (size_t)info.param_count);
    if (!open_status_ok(s)) abort();
    free(p);
    qk_qparams* qp = NULL;
    s = qk_qkw_tensor_qparams(r, i, &qp);
    if (s == QK_OK) {
      if (qp == NULL) abort();
      qk_qparams_destroy(qp);
    } else if (!open_status_ok(s) && s != QK_ERR_INVALID_ARGUMENT) {
      abort();
    }
    const void* mp = NULL;
    size_t mbytes = 0;
    s = qk_qkw_map_codes(r, i, &mp, &mbytes);
    if (s == QK_OK) {
      if (mbytes != info.code_bytes || (mbytes && !mp)) abort();
      volatile uint8_t sink = 0;
      for (size_t k = 0; k < mbytes; k += 61) sink ^= ((const uint8_t*)mp)[k];
      (void)sink;
    } else if (s != QK_ERR_STATE && !open_status_ok(s)) {
      abort();
    }
  }
  size_t mc = 0;
  if (qk_qkw_metadata_count(r, &mc) != QK_OK || mc > 4096) abort();
  for (size_t i = 0; i < mc; ++i) {
    const char *k = NULL, *v = NULL, *v2 = NULL;
    if (qk_qkw_metadata_at(r, i, &k, &v) != QK_OK || !k || !v) abort();
    if (qk_qkw_metadata_get(r, k, &v2) != QK_OK || strcmp(v, v2) != 0) abort();
  }
  const qk_status vs = qk_qkw_verify(r);
  if (vs != QK_OK && vs != QK_ERR_CORRUPT && vs != QK_ERR_OUT_OF_MEMORY) abort();
  uint32_t a = 0, b = 0, al = 0;
  uint64_t fs = 0;
  if (qk_qkw_file_info(r, &a, &b, &al, &fs) != QK_OK || a != 1) abort();
  return h;
}

#define QKW_FUZZ_TRACK 64

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const qk_verify_mode modes[3] = {QK_VERIFY_FULL, QK_VERIFY_LAZY, QK_VERIFY_NONE};
  qk_status open_st[3];
  float* values[3][QKW_FUZZ_TRACK];
  size_t nvalues[3][QKW_FUZZ_TRACK];
  qk_status dst[3][QKW_FUZZ_TRACK];
  size_t counts[3] = {0, 0, 0};
  memset(values, 0, sizeof values);
  memset(dst, 0, sizeof dst);
  memset(nvalues, 0, sizeof nvalues);
  for (int m = 0; m < 3; ++m) {
    qk_qkw_reader* r = NULL;
    open_st[m] = qk_qkw_open_memory(data, size, modes[m], QKW_FUZZ_BUDGET, &r);
    if (!open_status_ok(open_st[m])) abort();
    if (open_st[m] != QK_OK) {
      if (r != NULL) abort(); /* nothing written on error */
      continue;
    }
    if (r == NULL) abort();
    qk_qkw_tensor_count(r, &counts[m]);
    exercise(r, values[m], nvalues[m], dst[m], QKW_FUZZ_TRACK);
    qk_qkw_close(r);
  }
  /* LAZY and NONE make the same checks at open; FULL makes more. */
  if ((open_st[1] == QK_OK) != (open_st[2] == QK_OK)) abort();
  if (open_st[0] == QK_OK && open_st[1] != QK_OK) abort();
  /* A value decoded successfully is the same in every mode. */
  for (int m = 1; m < 3; ++m) {
    if (open_st[0] != QK_OK || open_st[m] != QK_OK) break;
    const size_t n = counts[0] < QKW_FUZZ_TRACK ? counts[0] : QKW_FUZZ_TRACK;
    for (size_t i = 0; i < n; ++i)
      if (values[0][i] && values[m][i] &&
          (nvalues[0][i] != nvalues[m][i] || memcmp(values[0][i], values[m][i], nvalues[0][i] * sizeof(float))))
        abort();
    /* FULL opened, so every chunk was verified: a LAZY decode may not newly fail as corrupt */
    for (size_t i = 0; i < n; ++i)
      if (values[0][i] && dst[m][i] == QK_ERR_CORRUPT) abort();
  }
  for (int m = 0; m < 3; ++m)
    for (int i = 0; i < QKW_FUZZ_TRACK; ++i) free(values[m][i]);
  return 0;
}

const qk_fuzz_target qk_fuzz_target_info = {"qkw", qkw_fuzz_mutate_field, qkw_fuzz_resign, NULL};
