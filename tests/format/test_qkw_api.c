/* SPDX-License-Identifier: Apache-2.0 */
/* Pins the .qkw C API from the header and docs/FORMAT.md (not from src/format/): writer -> reader
 * round trips of every codec (values recomputed here from the codes and parameters the reader
 * returns), the error the writer records, budget encoding, already-quantized imports, metadata,
 * lookup order, shapes, in-place mapping and alignment, determinism, atomic finish, argument
 * errors (writer still usable), open_memory vs open_file, verify modes, concurrent decoding and
 * the memory budget. */
#include <errno.h>
#include <float.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "qkw_builder.h"
#include "qkw_test_common.h"

/* ---------------------------------------------------------------------------------------- */
/* helpers                                                                                   */

typedef struct qkwt_file {
  uint8_t* img;
  size_t size;
  qk_qkw_reader* r;
} qkwt_file;

static void qkwt_finish_ok(qk_qkw_writer* w) {
  assert_ok(qk_qkw_writer_finish(w));
  qk_qkw_writer_destroy(w);
}

/* Reads `path` into memory and opens it with open_memory. */
static void qkwt_open(qkwt_file* f, const char* path, qk_verify_mode mode) {
  f->img = qkwt_read_file(path, &f->size);
  assert_non_null(f->img);
  f->r = NULL;
  assert_ok(qk_qkw_open_memory(f->img, f->size, mode, 0, &f->r));
  assert_non_null(f->r);
}
static void qkwt_close(qkwt_file* f) {
  qk_qkw_close(f->r);
  free(f->img);
  memset(f, 0, sizeof *f);
}

static size_t qkwt_find(const qk_qkw_reader* r, const char* name) {
  size_t idx = 9999;
  assert_ok(qk_qkw_find(r, name, &idx));
  return idx;
}

static void qkwt_info(const qk_qkw_reader* r, size_t idx, qk_qkw_tensor_info* info) {
  memset(info, 0xA5, sizeof *info);
  assert_ok(qk_qkw_tensor_info_get(r, idx, info));
}

static float* qkwt_decode(const qk_qkw_reader* r, size_t idx, size_t n) {
  float* y = (float*)malloc((n ? n : 1) * sizeof(float));
  assert_non_null(y);
  assert_ok(qk_qkw_decode_f32(r, idx, y, n));
  return y;
}

static void* qkwt_codes(const qk_qkw_reader* r, size_t idx, size_t bytes) {
  void* c = malloc(bytes ? bytes : 1);
  assert_non_null(c);
  assert_ok(qk_qkw_read_codes(r, idx, c, bytes));
  return c;
}

static float* qkwt_params(const qk_qkw_reader* r, size_t idx, size_t count) {
  float* p = (float*)malloc((count ? count : 1) * sizeof(float));
  assert_non_null(p);
  assert_ok(qk_qkw_read_params(r, idx, p, count));
  return p;
}

static uint64_t qkwt_numel(const int64_t* shape, size_t rank) {
  uint64_t n = 1;
  for (size_t i = 0; i < rank; ++i) n *= (uint64_t)shape[i];
  return n;
}

/* The recorded error must be what qk_error_stats measures on decode vs source (1e-9 relative),
 * and what the add call reported. */
static void qkwt_check_error_record(const float* src, const float* dec, size_t n, const qk_qkw_tensor_info* info,
                                    double sq_out, double mae_out) {
  double sq = 0, mae = 0;
  assert_ok(qk_error_stats(src, dec, n, &sq, &mae, NULL));
  if (!qkwt_rel_close(info->sqnr_db, sq, 1e-9) || !qkwt_rel_close(info->max_abs_error, mae, 1e-9)) {
    print_error("recorded sqnr %.17g max_abs %.17g, measured %.17g %.17g\n", info->sqnr_db, info->max_abs_error, sq,
                mae);
    fail();
  }
  if (!qkwt_rel_close(sq_out, info->sqnr_db, 1e-12) || !qkwt_rel_close(mae_out, info->max_abs_error, 1e-12)) {
    print_error("add reported sqnr %.17g max_abs %.17g, file says %.17g %.17g\n", sq_out, mae_out, info->sqnr_db,
                info->max_abs_error);
    fail();
  }
}

static float qkwt_f16_to_f32(uint16_t h) {
  float f;
  if (qk_cast(&h, QK_DTYPE_F16, &f, QK_DTYPE_F32, 1) != QK_OK) fail_msg("cast: %s", qk_last_error());
  return f;
}

/* Index of the SYMMETRIC scale used by flat element `flat`: per channel coord[axis]; per group a
 * row-major index over the shape with shape[axis] replaced by ceil(shape[axis]/group). */
static size_t qkwt_scale_index(const int64_t* shape, size_t rank, int axis, int64_t group, uint64_t flat) {
  int64_t coord[QK_MAX_RANK];
  for (size_t d = rank; d-- > 0;) {
    coord[d] = (int64_t)(flat % (uint64_t)shape[d]);
    flat /= (uint64_t)shape[d];
  }
  if (group == 0) return (size_t)coord[axis];
  size_t idx = 0;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t dim = (int)d == axis ? (shape[d] + group - 1) / group : shape[d];
    const int64_t c = (int)d == axis ? coord[d] / group : coord[d];
    idx = idx * (size_t)dim + (size_t)c;
  }
  return idx;
}

/* ---------------------------------------------------------------------------------------- */
/* RAW                                                                                       */

/* Proves RAW F32 keeps every bit (NaN payloads, signalling NaN, +-Inf, -0.0, denormals) through
 * read_codes, decode_f32 and map_codes, compressed or not, and records +Inf / 0 error. */
static void test_raw_f32_bit_exact(void** state) {
  (void)state;
  const uint32_t specials[] = {0x7FC00001u, 0x7F800001u, 0xFFC00000u, 0x7F800000u, 0xFF800000u,
                               0x80000000u, 0x00000001u, 0x7F7FFFFFu, 0x00800000u, 0x3F800000u};
  float x[4 * 8];
  qk_test_rng rng = {42};
  for (size_t i = 0; i < 32; ++i) x[i] = qk_test_uniform(&rng, -3, 3);
  for (size_t i = 0; i < sizeof specials / 4; ++i) memcpy(&x[3 * i], &specials[i], 4);
  const int64_t shape[2] = {4, 8};
  for (int level = 0; level <= 19; level += 19) {
    const char* path = qkwt_path("raw_f32.qkw");
    qk_qkw_writer* w = NULL;
    assert_ok(qk_qkw_writer_create(path, &w));
    assert_ok(qk_qkw_writer_set_zstd_level(w, level));
    double sq = 0, mae = -1;
    assert_ok(qk_qkw_writer_add_f32(w, "w", x, shape, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, &sq, &mae));
    assert_true(isinf(sq) && sq > 0);
    assert_true(mae == 0.0);
    qkwt_finish_ok(w);
    qkwt_file f;
    qkwt_open(&f, path, QK_VERIFY_FULL);
    qk_qkw_tensor_info info;
    qkwt_info(f.r, 0, &info);
    assert_int_equal(info.codec, QK_CODEC_RAW);
    assert_int_equal(info.dtype, QK_DTYPE_F32);
    assert_int_equal(info.rank, 2);
    assert_int_equal(info.axis, -1);
    assert_int_equal(info.levels, 0);
    assert_int_equal(info.group_size, 0);
    assert_int_equal(info.element_count, 32);
    assert_int_equal(info.code_bytes, 128);
    assert_int_equal(info.decoded_bytes, 128);
    assert_int_equal(info.param_count, 0);
    assert_int_equal(info.status, QK_OK);
    assert_true(isinf(info.sqnr_db) && info.sqnr_db > 0);
    assert_true(info.max_abs_error == 0.0);
    assert_int_equal(info.compressed + info.mappable, 1);
    if (level == 0) {
      assert_int_equal(info.compressed, 0);
      assert_int_equal(info.stored_bytes, 128);
    }
    float* y = qkwt_decode(f.r, 0, 32);
    assert_memory_equal(y, x, sizeof x);
    void* c = qkwt_codes(f.r, 0, 128);
    assert_memory_equal(c, x, sizeof x);
    if (info.mappable) {
      const void* p = NULL;
      size_t bytes = 0;
      assert_ok(qk_qkw_map_codes(f.r, 0, &p, &bytes));
      assert_int_equal(bytes, 128);
      assert_memory_equal(p, x, sizeof x);
      assert_true((const uint8_t*)p >= f.img && (const uint8_t*)p + 128 <= f.img + f.size);
      assert_int_equal(((const uint8_t*)p - f.img) % 64, 0);
    }
    free(y);
    free(c);
    qkwt_close(&f);
  }
}

/* Proves RAW F16/BF16 store exactly qk_cast's rounding of the source and decode exactly to
 * qk_cast's widening, with the recorded error equal to qk_error_stats. */
static void test_raw_f16_bf16(void** state) {
  (void)state;
  enum { N = 3 * 50 };
  float x[N];
  qk_test_rng rng = {7};
  for (size_t i = 0; i < N; ++i) x[i] = qk_test_uniform(&rng, -1000, 1000) * (i % 3 == 0 ? 1e-6f : 1.0f);
  x[0] = -0.0f;
  x[1] = 65504.0f;
  x[2] = 1.0009765625f; /* tie in f16 */
  const int64_t shape[2] = {3, 50};
  const qk_dtype types[2] = {QK_DTYPE_F16, QK_DTYPE_BF16};
  const char* path = qkwt_path("raw_half.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  double sq[2], mae[2];
  assert_ok(qk_qkw_writer_add_f32(w, "f16", x, shape, 2, QK_CODEC_RAW, QK_DTYPE_F16, 0, 0, 0, &sq[0], &mae[0]));
  assert_ok(qk_qkw_writer_add_f32(w, "bf16", x, shape, 2, QK_CODEC_RAW, QK_DTYPE_BF16, 0, 0, 0, &sq[1], &mae[1]));
  qkwt_finish_ok(w);
  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  for (int k = 0; k < 2; ++k) {
    const size_t idx = qkwt_find(f.r, k == 0 ? "f16" : "bf16");
    qk_qkw_tensor_info info;
    qkwt_info(f.r, idx, &info);
    assert_int_equal(info.codec, QK_CODEC_RAW);
    assert_int_equal(info.dtype, types[k]);
    assert_int_equal(info.code_bytes, 2 * N);
    assert_int_equal(info.param_count, 0);
    uint16_t expect_codes[N];
    float expect_values[N];
    assert_ok(qk_cast(x, QK_DTYPE_F32, expect_codes, types[k], N));
    assert_ok(qk_cast(expect_codes, types[k], expect_values, QK_DTYPE_F32, N));
    uint16_t* c = (uint16_t*)qkwt_codes(f.r, idx, 2 * N);
    assert_memory_equal(c, expect_codes, sizeof expect_codes);
    float* y = qkwt_decode(f.r, idx, N);
    assert_memory_equal(y, expect_values, sizeof expect_values);
    qkwt_check_error_record(x, y, N, &info, sq[k], mae[k]);
    free(c);
    free(y);
  }
  qkwt_close(&f);
}

/* Proves add_raw keeps S8/U8/S32/S64/F16/BF16/F32 data bit for bit (read_codes) and that
 * decode_f32 converts integers with float rounding. */
static void test_raw_add_raw_exact(void** state) {
  (void)state;
  const int8_t s8[6] = {-128, -1, 0, 1, 127, 5};
  const uint8_t u8[6] = {0, 1, 128, 254, 255, 7};
  const int32_t s32[6] = {INT32_MIN, -16777217, 16777217, INT32_MAX, 0, -3};
  const int64_t s64[6] = {INT64_MIN, -1, (INT64_C(1) << 53) + 1, INT64_MAX, 0, 12345678901234LL};
  const uint16_t f16[6] = {0x7E01, 0xFC00, 0x8000, 0x0001, 0x3C00, 0x7BFF};
  const uint16_t bf16[6] = {0x7FC1, 0xFF80, 0x8000, 0x0001, 0x3F80, 0x7F7F};
  const uint32_t f32[6] = {0x7F800001u, 0xFFFFFFFFu, 0x80000000u, 1u, 0x3F800000u, 0x7F7FFFFFu};
  const int64_t shape[2] = {2, 3};
  const struct {
    const char* name;
    const void* data;
    size_t bytes;
    qk_dtype dtype;
  } cases[7] = {{"s8", s8, 6, QK_DTYPE_S8},        {"u8", u8, 6, QK_DTYPE_U8},         {"s32", s32, 24, QK_DTYPE_S32},
                {"s64", s64, 48, QK_DTYPE_S64},    {"f16", f16, 12, QK_DTYPE_F16},     {"bf16", bf16, 12, QK_DTYPE_BF16},
                {"f32", f32, 24, QK_DTYPE_F32}};
  for (int level = 0; level <= 3; level += 3) {
    const char* path = qkwt_path("raw_ints.qkw");
    qk_qkw_writer* w = NULL;
    assert_ok(qk_qkw_writer_create(path, &w));
    assert_ok(qk_qkw_writer_set_zstd_level(w, level));
    for (int k = 0; k < 7; ++k)
      assert_ok(qk_qkw_writer_add_raw(w, cases[k].name, cases[k].data, cases[k].bytes, cases[k].dtype, shape, 2));
    qkwt_finish_ok(w);
    qkwt_file f;
    qkwt_open(&f, path, QK_VERIFY_FULL);
    size_t count = 0;
    assert_ok(qk_qkw_tensor_count(f.r, &count));
    assert_int_equal(count, 7);
    for (int k = 0; k < 7; ++k) {
      const size_t idx = qkwt_find(f.r, cases[k].name);
      qk_qkw_tensor_info info;
      qkwt_info(f.r, idx, &info);
      assert_int_equal(info.codec, QK_CODEC_RAW);
      assert_int_equal(info.dtype, cases[k].dtype);
      assert_int_equal(info.code_bytes, cases[k].bytes);
      assert_int_equal(info.element_count, 6);
      void* c = qkwt_codes(f.r, idx, cases[k].bytes);
      assert_memory_equal(c, cases[k].data, cases[k].bytes);
      free(c);
      float* y = qkwt_decode(f.r, idx, 6);
      for (int i = 0; i < 6; ++i) {
        float e;
        switch (cases[k].dtype) {
          case QK_DTYPE_S8: e = (float)s8[i]; break;
          case QK_DTYPE_U8: e = (float)u8[i]; break;
          case QK_DTYPE_S32: e = (float)s32[i]; break;
          case QK_DTYPE_S64: e = (float)s64[i]; break;
          case QK_DTYPE_F16: e = qkwt_f16_to_f32(f16[i]); break;
          case QK_DTYPE_BF16: {
            const uint32_t u = (uint32_t)bf16[i] << 16;
            memcpy(&e, &u, 4);
            break;
          }
          default: memcpy(&e, &f32[i], 4); break;
        }
        if (cases[k].dtype == QK_DTYPE_F16 && isnan(e)) { /* NaN made quiet by the widening */
          assert_true(isnan(y[i]));
          continue;
        }
        if (qk_test_f32_bits(y[i]) != qk_test_f32_bits(e)) {
          print_error("%s[%d]: decoded %08x expected %08x\n", cases[k].name, i, qk_test_f32_bits(y[i]),
                      qk_test_f32_bits(e));
          fail();
        }
      }
      free(y);
    }
    qkwt_close(&f);
  }
}

/* ---------------------------------------------------------------------------------------- */
/* SYMMETRIC                                                                                 */

static void qkwt_check_symmetric(const qk_qkw_reader* r, size_t idx, const float* x, const int64_t* shape,
                                 size_t rank, int bits, int axis, int64_t group, double sq_out, double mae_out) {
  const size_t n = (size_t)qkwt_numel(shape, rank);
  qk_qkw_tensor_info info;
  qkwt_info(r, idx, &info);
  const int levels = (1 << (bits - 1)) - 1;
  assert_int_equal(info.codec, QK_CODEC_SYMMETRIC);
  assert_int_equal(info.dtype, QK_DTYPE_S8);
  assert_int_equal(info.levels, levels);
  assert_int_equal(info.bits, bits);
  assert_int_equal(info.axis, axis);
  assert_int_equal(info.group_size, group);
  assert_int_equal(info.element_count, n);
  assert_int_equal(info.code_bytes, n);
  const size_t channels = group ? (size_t)((shape[axis] + group - 1) / group) : (size_t)shape[axis];
  const size_t expect_params = group ? n / (size_t)shape[axis] * channels : channels;
  assert_int_equal(info.param_count, expect_params);
  assert_int_equal(info.decoded_bytes, 4 * expect_params + n);
  int8_t* c = (int8_t*)qkwt_codes(r, idx, n);
  float* s = qkwt_params(r, idx, expect_params);
  float* y = qkwt_decode(r, idx, n);
  for (size_t p = 0; p < expect_params; ++p) assert_true(isfinite(s[p]) && s[p] > 0);
  for (size_t i = 0; i < n; ++i) {
    assert_true(c[i] >= -levels && c[i] <= levels);
    const float sc = s[qkwt_scale_index(shape, rank, axis, group, i)];
    const float e = (float)c[i] * sc;
    if (qk_test_f32_bits(y[i]) != qk_test_f32_bits(e)) {
      print_error("bits %d element %zu: decoded %a, code %d * scale %a = %a\n", bits, i, y[i], c[i], sc, e);
      fail();
    }
    const double err = fabs((double)y[i] - (double)x[i]);
    if (err > (double)sc * 0.5 * (1 + 1e-6) + fabs(x[i]) * 1e-7) {
      print_error("bits %d element %zu: |%a - %a| = %g > scale/2 = %g\n", bits, i, y[i], x[i], err, sc * 0.5);
      fail();
    }
  }
  qkwt_check_error_record(x, y, n, &info, sq_out, mae_out);
  free(c);
  free(s);
  free(y);
}

/* Proves SYMMETRIC per channel for bits 2..8 on axis 0, 1 and -1 (normalized): levels, bits,
 * codes in range, decode == code * scale, error <= scale/2, recorded error == measured; an
 * all-zero channel still gets a finite positive scale and decodes to 0. */
static void test_symmetric_per_channel(void** state) {
  (void)state;
  enum { R = 6, C = 40 };
  float x[R * C];
  qk_test_rng rng = {11};
  qkwt_gauss(&rng, x, R * C, 0.2f);
  for (int j = 0; j < C; ++j) x[2 * C + j] = 0.0f; /* zero row (channel 2 on axis 0) */
  for (int i = 0; i < R; ++i) x[i * C + 5] *= 50.0f; /* outlier column */
  const int64_t shape[2] = {R, C};
  for (int level = 0; level <= 19; level += 19) {
    const char* path = qkwt_path("sym.qkw");
    qk_qkw_writer* w = NULL;
    assert_ok(qk_qkw_writer_create(path, &w));
    assert_ok(qk_qkw_writer_set_zstd_level(w, level));
    double sq[3][9], mae[3][9];
    const int axes[3] = {0, 1, -1};
    for (int a = 0; a < 3; ++a)
      for (int bits = 2; bits <= 8; ++bits) {
        char name[32];
        snprintf(name, sizeof name, "a%d_b%d", a, bits);
        assert_ok(qk_qkw_writer_add_f32(w, name, x, shape, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, bits, axes[a], 0,
                                        &sq[a][bits], &mae[a][bits]));
      }
    qkwt_finish_ok(w);
    qkwt_file f;
    qkwt_open(&f, path, QK_VERIFY_FULL);
    for (int a = 0; a < 3; ++a)
      for (int bits = 2; bits <= 8; ++bits) {
        char name[32];
        snprintf(name, sizeof name, "a%d_b%d", a, bits);
        qkwt_check_symmetric(f.r, qkwt_find(f.r, name), x, shape, 2, bits, a == 0 ? 0 : 1, 0, sq[a][bits],
                             mae[a][bits]);
      }
    /* levels 1 -> 3 is a refinement of the grid (a/3 * 3 = a): never worse; 8 bits beat 2 bits */
    assert_true(sq[0][3] >= sq[0][2]);
    assert_true(sq[0][8] > sq[0][2]);
    /* zero channel decodes to exactly 0 */
    float* y = qkwt_decode(f.r, qkwt_find(f.r, "a0_b4"), R * C);
    for (int j = 0; j < C; ++j) assert_true(y[2 * C + j] == 0.0f);
    free(y);
    qkwt_close(&f);
  }
}

/* Proves SYMMETRIC per group: scale layout (row-major, axis replaced by ceil(dim/group)) for
 * groups along the last axis, along axis 0, a group larger than the axis, group 1, and rank 3. */
static void test_symmetric_per_group(void** state) {
  (void)state;
  enum { R = 5, C = 70 };
  float x[R * C];
  qk_test_rng rng = {12};
  qkwt_gauss(&rng, x, R * C, 1.0f);
  for (int i = 0; i < R * C; i += 17) x[i] *= 20.0f;
  const int64_t shape[2] = {R, C};
  const int64_t shape3[3] = {2, 5, 35};
  const char* path = qkwt_path("sym_group.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  double sq[16], mae[16];
  for (int bits = 2; bits <= 8; ++bits) {
    char name[32];
    snprintf(name, sizeof name, "g32_b%d", bits);
    assert_ok(qk_qkw_writer_add_f32(w, name, x, shape, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, bits, 1, 32, &sq[bits],
                                    &mae[bits]));
  }
  assert_ok(qk_qkw_writer_add_f32(w, "axis0_g2", x, shape, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 4, 0, 2, &sq[9],
                                  &mae[9]));
  assert_ok(qk_qkw_writer_add_f32(w, "g100", x, shape, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 4, -1, 100, &sq[10],
                                  &mae[10]));
  assert_ok(qk_qkw_writer_add_f32(w, "g1", x, shape, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 3, 1, 1, &sq[11],
                                  &mae[11]));
  assert_ok(qk_qkw_writer_add_f32(w, "rank3", x, shape3, 3, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 5, 1, 2, &sq[12],
                                  &mae[12]));
  assert_ok(qk_qkw_writer_add_f32(w, "rank3_ch", x, shape3, 3, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 6, 2, 0, &sq[13],
                                  &mae[13]));
  qkwt_finish_ok(w);
  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  for (int bits = 2; bits <= 8; ++bits) {
    char name[32];
    snprintf(name, sizeof name, "g32_b%d", bits);
    qkwt_check_symmetric(f.r, qkwt_find(f.r, name), x, shape, 2, bits, 1, 32, sq[bits], mae[bits]);
  }
  qkwt_check_symmetric(f.r, qkwt_find(f.r, "axis0_g2"), x, shape, 2, 4, 0, 2, sq[9], mae[9]);
  qkwt_check_symmetric(f.r, qkwt_find(f.r, "g100"), x, shape, 2, 4, 1, 100, sq[10], mae[10]);
  qkwt_check_symmetric(f.r, qkwt_find(f.r, "g1"), x, shape, 2, 3, 1, 1, sq[11], mae[11]);
  qkwt_check_symmetric(f.r, qkwt_find(f.r, "rank3"), x, shape3, 3, 5, 1, 2, sq[12], mae[12]);
  qkwt_check_symmetric(f.r, qkwt_find(f.r, "rank3_ch"), x, shape3, 3, 6, 2, 0, sq[13], mae[13]);
  /* group 1 is exact up to 3-bit rounding of each element against its own scale: every non-zero
   * element is a multiple of its scale times +-levels */
  qkwt_close(&f);
}

/* ---------------------------------------------------------------------------------------- */
/* AFFINE, AFFINE_OFFSET                                                                     */

/* Proves AFFINE (U8, S8; per tensor, per channel on axis 0 and 1; rank 0) stores exactly the
 * codes qk_quantize gives with qk_qparams_from_tensor's PyTorch MinMax qparams, params
 * scale[C] then zero_point[C], decode == qk_dequantize, and tensor_qparams round-trips. */
static void test_affine(void** state) {
  (void)state;
  enum { R = 4, C = 33 };
  float x[R * C];
  qk_test_rng rng = {13};
  qkwt_gauss(&rng, x, R * C, 0.5f);
  for (int i = 0; i < C; ++i) x[i] = fabsf(x[i]) + 0.25f; /* row 0 all positive */
  const int64_t shape[2] = {R, C};
  const qk_dtype dtypes[2] = {QK_DTYPE_U8, QK_DTYPE_S8};
  const int axes[3] = {-1, 0, 1};
  const char* path = qkwt_path("affine.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  double sq[2][3], mae[2][3];
  for (int d = 0; d < 2; ++d)
    for (int a = 0; a < 3; ++a) {
      char name[32];
      snprintf(name, sizeof name, "d%d_a%d", d, a);
      assert_ok(qk_qkw_writer_add_f32(w, name, x, shape, 2, QK_CODEC_AFFINE, dtypes[d], 8, axes[a], 0, &sq[d][a],
                                      &mae[d][a]));
    }
  const float scalar = 3.5f;
  double sq0, mae0;
  assert_ok(qk_qkw_writer_add_f32(w, "scalar", &scalar, NULL, 0, QK_CODEC_AFFINE, QK_DTYPE_U8, 8, -1, 0, &sq0, &mae0));
  qkwt_finish_ok(w);
  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  for (int d = 0; d < 2; ++d)
    for (int a = 0; a < 3; ++a) {
      char name[32];
      snprintf(name, sizeof name, "d%d_a%d", d, a);
      const size_t idx = qkwt_find(f.r, name);
      qk_quant_spec* spec = qk_test_spec(dtypes[d], a == 0 ? QK_QSCHEME_PER_TENSOR_AFFINE : QK_QSCHEME_PER_CHANNEL_AFFINE);
      if (a) assert_ok(qk_quant_spec_set_axis(spec, axes[a]));
      qk_qparams* qp = NULL;
      assert_ok(qk_qparams_from_tensor(spec, x, shape, 2, &qp, NULL));
      size_t cnt = 0;
      assert_ok(qk_qparams_get_count(qp, &cnt));
      float scales[64], zps[64];
      assert_ok(qk_qparams_get_scales(qp, scales, 64));
      assert_ok(qk_qparams_get_float_zero_points(qp, zps, 64));
      uint8_t expect_codes[R * C];
      assert_ok(qk_quantize(qp, x, shape, 2, expect_codes, sizeof expect_codes, NULL));
      float expect_values[R * C];
      assert_ok(qk_dequantize(qp, expect_codes, sizeof expect_codes, shape, 2, expect_values));
      qk_qkw_tensor_info info;
      qkwt_info(f.r, idx, &info);
      assert_int_equal(info.codec, QK_CODEC_AFFINE);
      assert_int_equal(info.dtype, dtypes[d]);
      assert_int_equal(info.axis, axes[a]);
      assert_int_equal(info.levels, 0);
      assert_int_equal(info.bits, 8);
      assert_int_equal(info.param_count, 2 * cnt);
      assert_int_equal(info.code_bytes, R * C);
      uint8_t* c = (uint8_t*)qkwt_codes(f.r, idx, R * C);
      assert_memory_equal(c, expect_codes, sizeof expect_codes);
      float* p = qkwt_params(f.r, idx, 2 * cnt);
      assert_memory_equal(p, scales, 4 * cnt);
      assert_memory_equal(p + cnt, zps, 4 * cnt);
      float* y = qkwt_decode(f.r, idx, R * C);
      assert_memory_equal(y, expect_values, sizeof expect_values);
      qkwt_check_error_record(x, y, R * C, &info, sq[d][a], mae[d][a]);
      /* tensor_qparams gives back the same qparams */
      qk_qparams* back = NULL;
      assert_ok(qk_qkw_tensor_qparams(f.r, idx, &back));
      qk_dtype bd;
      qk_qscheme bs;
      size_t bc = 0;
      assert_ok(qk_qparams_get_dtype(back, &bd));
      assert_ok(qk_qparams_get_scheme(back, &bs));
      assert_ok(qk_qparams_get_count(back, &bc));
      assert_int_equal(bd, dtypes[d]);
      assert_int_equal(bs, a == 0 ? QK_QSCHEME_PER_TENSOR_AFFINE : QK_QSCHEME_PER_CHANNEL_AFFINE);
      assert_int_equal(bc, cnt);
      float bscales[64];
      int32_t bzp[64], zpi[64];
      assert_ok(qk_qparams_get_scales(back, bscales, 64));
      assert_ok(qk_qparams_get_zero_points(back, bzp, 64));
      assert_ok(qk_qparams_get_zero_points(qp, zpi, 64));
      assert_memory_equal(bscales, scales, 4 * cnt);
      assert_memory_equal(bzp, zpi, 4 * cnt);
      if (a) {
        int32_t bax = 99;
        assert_ok(qk_qparams_get_axis(back, &bax));
        assert_int_equal(bax, axes[a]);
      }
      float again[R * C];
      assert_ok(qk_dequantize(back, c, R * C, shape, 2, again));
      assert_memory_equal(again, expect_values, sizeof again);
      qk_qparams_destroy(back);
      free(c);
      free(p);
      free(y);
      qk_qparams_destroy(qp);
      qk_quant_spec_destroy(spec);
    }
  /* rank 0 */
  const size_t idx = qkwt_find(f.r, "scalar");
  qk_qkw_tensor_info info;
  qkwt_info(f.r, idx, &info);
  assert_int_equal(info.rank, 0);
  assert_int_equal(info.element_count, 1);
  float y = 0;
  assert_ok(qk_qkw_decode_f32(f.r, idx, &y, 1));
  assert_true(fabsf(y - scalar) <= scalar / 255.0f);
  qkwt_close(&f);
}

/* Proves AFFINE_OFFSET (U8, per tensor and per channel): decode == f32(code)*scale + offset with
 * two float roundings, error within half a step, no qparams export, S8 rejected. */
static void test_affine_offset(void** state) {
  (void)state;
  enum { R = 3, C = 50 };
  float x[R * C];
  qk_test_rng rng = {14};
  qkwt_gauss(&rng, x, R * C, 2.0f);
  for (int j = 0; j < C; ++j) x[j] = 5.0f + 0.01f * (float)j; /* row 0 far from 0 */
  const int64_t shape[2] = {R, C};
  const char* path = qkwt_path("affine_offset.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  double sq[2], mae[2];
  assert_ok(qk_qkw_writer_add_f32(w, "pt", x, shape, 2, QK_CODEC_AFFINE_OFFSET, QK_DTYPE_U8, 8, -1, 0, &sq[0], &mae[0]));
  assert_ok(qk_qkw_writer_add_f32(w, "pc", x, shape, 2, QK_CODEC_AFFINE_OFFSET, QK_DTYPE_U8, 8, 0, 0, &sq[1], &mae[1]));
  assert_status(qk_qkw_writer_add_f32(w, "s8", x, shape, 2, QK_CODEC_AFFINE_OFFSET, QK_DTYPE_S8, 8, -1, 0, NULL, NULL),
                QK_ERR_INVALID_ARGUMENT);
  qkwt_finish_ok(w);
  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  for (int k = 0; k < 2; ++k) {
    const size_t idx = qkwt_find(f.r, k ? "pc" : "pt");
    const size_t cnt = k ? R : 1;
    qk_qkw_tensor_info info;
    qkwt_info(f.r, idx, &info);
    assert_int_equal(info.codec, QK_CODEC_AFFINE_OFFSET);
    assert_int_equal(info.dtype, QK_DTYPE_U8);
    assert_int_equal(info.axis, k ? 0 : -1);
    assert_int_equal(info.param_count, 2 * cnt);
    uint8_t* c = (uint8_t*)qkwt_codes(f.r, idx, R * C);
    float* p = qkwt_params(f.r, idx, 2 * cnt);
    float* y = qkwt_decode(f.r, idx, R * C);
    for (size_t i = 0; i < R * C; ++i) {
      const size_t ch = k ? i / C : 0;
      const float sc = p[ch], off = p[cnt + ch];
      assert_true(isfinite(sc) && sc >= 0 && isfinite(off));
      volatile float t = (float)c[i] * sc;
      const float e = t + off;
      assert_int_equal(qk_test_f32_bits(y[i]), qk_test_f32_bits(e));
      const double err = fabs((double)y[i] - x[i]);
      if (err > sc * 0.5 * (1 + 1e-5) + (fabs(x[i]) + fabs(off)) * 3e-7) {
        print_error("%s[%zu]: error %g > half step %g\n", k ? "pc" : "pt", i, err, sc * 0.5);
        fail();
      }
    }
    qkwt_check_error_record(x, y, R * C, &info, sq[k], mae[k]);
    qk_qparams* qp = (qk_qparams*)0x1;
    assert_status(qk_qkw_tensor_qparams(f.r, idx, &qp), QK_ERR_UNSUPPORTED);
    assert_ptr_equal(qp, (qk_qparams*)0x1);
    free(c);
    free(p);
    free(y);
  }
  qkwt_close(&f);
}

/* ---------------------------------------------------------------------------------------- */
/* ggml                                                                                      */

/* Proves Q8_0 / Q4_0 blocks: sizes, f16 d first, i8 codes (Q8_0) or nibbles (Q4_0: j low nibble
 * of byte j, j+16 high nibble, q-8), decoded by hand here == decode_f32, error bounded; a zero
 * block decodes to zeros; rank 3 rows. */
static void test_ggml(void** state) {
  (void)state;
  enum { R = 3, C = 64, N = R * C };
  float x[N];
  qk_test_rng rng = {15};
  qkwt_gauss(&rng, x, N, 0.1f);
  for (int j = 32; j < 64; ++j) x[j] = 0.0f; /* block 1 all zeros */
  x[70] = 3.0f;
  x[100] = -4.0f;
  const int64_t shape[2] = {R, C};
  const int64_t shape3[3] = {2, 3, 32};
  const char* path = qkwt_path("ggml.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  double sq[4], mae[4];
  assert_ok(qk_qkw_writer_add_f32(w, "q8", x, shape, 2, QK_CODEC_GGML_Q8_0, QK_DTYPE_S8, 8, 1, 32, &sq[0], &mae[0]));
  assert_ok(qk_qkw_writer_add_f32(w, "q4", x, shape, 2, QK_CODEC_GGML_Q4_0, QK_DTYPE_S8, 4, 1, 32, &sq[1], &mae[1]));
  assert_ok(qk_qkw_writer_add_f32(w, "q8r3", x, shape3, 3, QK_CODEC_GGML_Q8_0, QK_DTYPE_S8, 0, 0, 0, &sq[2], &mae[2]));
  assert_ok(qk_qkw_writer_add_f32(w, "q4r3", x, shape3, 3, QK_CODEC_GGML_Q4_0, QK_DTYPE_S8, 0, 0, 0, &sq[3], &mae[3]));
  qkwt_finish_ok(w);
  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  const char* names[4] = {"q8", "q4", "q8r3", "q4r3"};
  for (int k = 0; k < 4; ++k) {
    const int q4 = k & 1;
    const size_t idx = qkwt_find(f.r, names[k]);
    const size_t block = q4 ? 18 : 34, blocks = N / 32;
    qk_qkw_tensor_info info;
    qkwt_info(f.r, idx, &info);
    assert_int_equal(info.codec, q4 ? QK_CODEC_GGML_Q4_0 : QK_CODEC_GGML_Q8_0);
    assert_int_equal(info.dtype, QK_DTYPE_S8);
    assert_int_equal(info.group_size, 32);
    assert_int_equal(info.axis, (int)info.rank - 1);
    assert_int_equal(info.bits, q4 ? 4 : 8);
    assert_int_equal(info.param_count, 0);
    assert_int_equal(info.code_bytes, blocks * block);
    assert_int_equal(info.decoded_bytes, blocks * block);
    uint8_t* c = (uint8_t*)qkwt_codes(f.r, idx, blocks * block);
    float* y = qkwt_decode(f.r, idx, N);
    for (size_t b = 0; b < blocks; ++b) {
      const uint8_t* blk = c + b * block;
      const float d = qkwt_f16_to_f32((uint16_t)(blk[0] | (blk[1] << 8)));
      assert_true(isfinite(d));
      for (int j = 0; j < 32; ++j) {
        float e;
        if (!q4) {
          e = (float)(int8_t)blk[2 + j] * d;
        } else {
          const int q = j < 16 ? (blk[2 + j] & 0x0F) : (blk[2 + j - 16] >> 4);
          e = (float)(q - 8) * d;
        }
        const size_t i = b * 32 + (size_t)j;
        if (qk_test_f32_bits(y[i]) != qk_test_f32_bits(e)) {
          print_error("%s block %zu j %d: decoded %a, by hand %a (d %a)\n", names[k], b, j, y[i], e, d);
          fail();
        }
        const double bound = (q4 ? 1.1 : 0.6) * fabs(d) + 1e-7;
        if (fabs((double)y[i] - x[i]) > bound) {
          print_error("%s element %zu: error %g > %g\n", names[k], i, fabs((double)y[i] - x[i]), bound);
          fail();
        }
      }
    }
    if (k == 0 || k == 1)
      for (int j = 32; j < 64; ++j) assert_true(y[j] == 0.0f);
    qkwt_check_error_record(x, y, N, &info, sq[k], mae[k]);
    qk_qparams* qp = NULL;
    assert_status(qk_qkw_tensor_qparams(f.r, idx, &qp), QK_ERR_UNSUPPORTED);
    assert_null(qp);
    free(c);
    free(y);
  }
  qkwt_close(&f);
}

/* ---------------------------------------------------------------------------------------- */
/* LUT                                                                                       */

/* Proves LUT for bits 1..8: 2^bits finite entries, indices < levels, decode == lut[index],
 * recorded error == measured, more bits never worse; few distinct values give an exact palette. */
static void test_lut(void** state) {
  (void)state;
  enum { R = 16, C = 64, N = R * C };
  float x[N];
  qk_test_rng rng = {16};
  qkwt_gauss(&rng, x, N, 1.0f);
  const int64_t shape[2] = {R, C};
  float few[40];
  const float vals[3] = {-1.5f, 0.25f, 7.0f};
  for (int i = 0; i < 40; ++i) few[i] = vals[(i * 7) % 3];
  const int64_t few_shape[2] = {4, 10};
  const char* path = qkwt_path("lut.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  double sq[10], mae[10];
  for (int bits = 1; bits <= 8; ++bits) {
    char name[16];
    snprintf(name, sizeof name, "lut%d", bits);
    assert_ok(qk_qkw_writer_add_f32(w, name, x, shape, 2, QK_CODEC_LUT, QK_DTYPE_U8, bits, -1, 0, &sq[bits], &mae[bits]));
  }
  assert_ok(qk_qkw_writer_add_f32(w, "few", few, few_shape, 2, QK_CODEC_LUT, QK_DTYPE_U8, 4, -1, 0, &sq[9], &mae[9]));
  qkwt_finish_ok(w);
  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  for (int bits = 1; bits <= 9; ++bits) {
    char name[16];
    snprintf(name, sizeof name, "lut%d", bits);
    const int is_few = bits == 9;
    const size_t idx = qkwt_find(f.r, is_few ? "few" : name);
    const size_t n = is_few ? 40 : N;
    qk_qkw_tensor_info info;
    qkwt_info(f.r, idx, &info);
    assert_int_equal(info.codec, QK_CODEC_LUT);
    assert_int_equal(info.dtype, QK_DTYPE_U8);
    assert_int_equal(info.axis, -1);
    if (is_few) {
      assert_true(info.levels >= 1 && info.levels <= 3);
      assert_true(info.bits >= 1 && info.bits <= 4);
    } else {
      assert_int_equal(info.levels, 1 << bits);
      assert_int_equal(info.bits, bits);
    }
    assert_int_equal(info.param_count, (uint64_t)info.levels);
    assert_int_equal(info.code_bytes, n);
    uint8_t* c = (uint8_t*)qkwt_codes(f.r, idx, n);
    float* lut = qkwt_params(f.r, idx, (size_t)info.levels);
    float* y = qkwt_decode(f.r, idx, n);
    for (int l = 0; l < info.levels; ++l) assert_true(isfinite(lut[l]));
    for (size_t i = 0; i < n; ++i) {
      assert_true(c[i] < info.levels);
      assert_int_equal(qk_test_f32_bits(y[i]), qk_test_f32_bits(lut[c[i]]));
    }
    qkwt_check_error_record(is_few ? few : x, y, n, &info, sq[bits], mae[bits]);
    if (is_few) {
      assert_memory_equal(y, few, sizeof few);
      assert_true(isinf(info.sqnr_db) && info.max_abs_error == 0.0);
    } else if (bits > 1) {
      assert_true(sq[bits] >= sq[bits - 1] - 1e-9);
    }
    free(c);
    free(lut);
    free(y);
  }
  qkwt_close(&f);
}

/* ---------------------------------------------------------------------------------------- */
/* budget                                                                                    */

/* Proves add_budget: targets 10/20/30/40 dB are met (recorded and re-measured) with SYMMETRIC per
 * channel on axis 0 and non-decreasing levels; outputs agree with tensor_info; small tensors and
 * rank-1 tensors stay exact F32; threshold 0 quantizes them; max_bits caps bits (a target the
 * cap cannot reach falls back to RAW); target 0 gives exactly max_bits; unreachable targets fall
 * back to F16 then F32. */
static void test_budget(void** state) {
  (void)state;
  enum { R = 32, C = 64, N = R * C };
  float x[N];
  qk_test_rng rng = {17};
  qkwt_gauss(&rng, x, N, 0.05f);
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) x[r * C + c] *= 1.0f + (float)r; /* channels of different ranges */
  const int64_t shape[2] = {R, C};
  const int64_t small_shape[2] = {10, 10};
  const int64_t vec_shape[1] = {2048};
  const char* path = qkwt_path("budget.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  const double targets[4] = {10, 20, 30, 40};
  qk_codec codec[16];
  int32_t levels[16];
  double sq[16], mae[16];
  for (int t = 0; t < 4; ++t) {
    char name[16];
    snprintf(name, sizeof name, "t%d", (int)targets[t]);
    assert_ok(qk_qkw_writer_add_budget(w, name, x, shape, 2, targets[t], 0, &codec[t], &levels[t], &sq[t], &mae[t]));
    assert_int_equal(codec[t], QK_CODEC_SYMMETRIC);
    assert_true(sq[t] >= targets[t]);
    if (t) assert_true(levels[t] >= levels[t - 1]);
  }
  assert_ok(qk_qkw_writer_add_budget(w, "small", x, small_shape, 2, 20, 0, &codec[4], &levels[4], &sq[4], &mae[4]));
  assert_int_equal(codec[4], QK_CODEC_RAW);
  assert_ok(qk_qkw_writer_add_budget(w, "vector", x, vec_shape, 1, 20, 0, &codec[5], &levels[5], &sq[5], &mae[5]));
  assert_int_equal(codec[5], QK_CODEC_RAW);
  assert_ok(qk_qkw_writer_add_budget(w, "cap4_t30", x, shape, 2, 30, 4, &codec[6], &levels[6], &sq[6], &mae[6]));
  assert_ok(qk_qkw_writer_add_budget(w, "cap3_t0", x, shape, 2, 0, 3, &codec[7], &levels[7], &sq[7], &mae[7]));
  assert_int_equal(codec[7], QK_CODEC_SYMMETRIC);
  assert_ok(qk_qkw_writer_add_budget(w, "t60", x, shape, 2, 60, 0, &codec[8], &levels[8], &sq[8], &mae[8]));
  assert_ok(qk_qkw_writer_add_budget(w, "t200", x, shape, 2, 200, 0, &codec[9], &levels[9], &sq[9], &mae[9]));
  assert_ok(qk_qkw_writer_add_budget(w, "cap8_t0", x, shape, 2, 0, 8, &codec[10], &levels[10], &sq[10], &mae[10]));
  { /* target 0 and max_bits 0 ("0 for 8"): the header reads as 8 bits; the library may refuse it */
    const qk_status st0 = qk_qkw_writer_add_budget(w, "zero_zero", x, shape, 2, 0, 0, NULL, NULL, NULL, NULL);
    printf("note: add_budget(target 0, max_bits 0) -> %s\n", qk_status_string(st0));
    assert_true(st0 == QK_OK || st0 == QK_ERR_INVALID_ARGUMENT);
  }
  assert_ok(qk_qkw_writer_add_budget(w, "cap2_t12", x, shape, 2, 12, 2, &codec[11], &levels[11], &sq[11], &mae[11]));
  assert_ok(qk_qkw_writer_set_small_tensor_threshold(w, 0));
  assert_ok(qk_qkw_writer_add_budget(w, "small_q", x, small_shape, 2, 20, 0, &codec[12], &levels[12], &sq[12],
                                     &mae[12]));
  assert_int_equal(codec[12], QK_CODEC_SYMMETRIC);
  /* invalid budgets */
  assert_status(qk_qkw_writer_add_budget(w, "bad", x, shape, 2, -1, 0, NULL, NULL, NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_add_budget(w, "bad", x, shape, 2, NAN, 0, NULL, NULL, NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_add_budget(w, "bad", x, shape, 2, 20, 1, NULL, NULL, NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_add_budget(w, "bad", x, shape, 2, 20, 9, NULL, NULL, NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_add_budget(w, "bad", x, shape, 2, 20, -1, NULL, NULL, NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  float xnan[N];
  memcpy(xnan, x, sizeof x);
  xnan[77] = NAN;
  assert_status(qk_qkw_writer_add_budget(w, "bad", xnan, shape, 2, 20, 0, NULL, NULL, NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  qkwt_finish_ok(w);

  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  const char* names[13] = {"t10", "t20", "t30", "t40", "small", "vector", "cap4_t30", "cap3_t0", "t60", "t200",
                           "cap8_t0", "cap2_t12", "small_q"};
  const int64_t* shapes[13] = {shape, shape, shape, shape, small_shape, vec_shape, shape, shape, shape, shape, shape,
                               shape, small_shape};
  const size_t ranks[13] = {2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 2};
  for (int k = 0; k < 13; ++k) {
    const size_t idx = qkwt_find(f.r, names[k]);
    const size_t n = (size_t)qkwt_numel(shapes[k], ranks[k]);
    qk_qkw_tensor_info info;
    qkwt_info(f.r, idx, &info);
    assert_int_equal(info.codec, codec[k]);
    assert_int_equal(info.levels, levels[k]);
    float* y = qkwt_decode(f.r, idx, n);
    qkwt_check_error_record(x, y, n, &info, sq[k], mae[k]);
    if (info.codec == QK_CODEC_SYMMETRIC) {
      assert_int_equal(info.dtype, QK_DTYPE_S8);
      assert_int_equal(info.axis, 0);
      assert_int_equal(info.group_size, 0);
      assert_true(info.levels >= 1 && info.levels <= 127);
      assert_true(info.bits >= 2 && info.bits <= 8);
      int bits_needed = 0;
      while ((1 << bits_needed) < 2 * info.levels + 1) ++bits_needed;
      assert_int_equal(info.bits, bits_needed);
    } else {
      assert_int_equal(info.codec, QK_CODEC_RAW);
      assert_true(info.dtype == QK_DTYPE_F32 || info.dtype == QK_DTYPE_F16);
    }
    if (k < 4) assert_true(info.sqnr_db >= (double)(10 * (k + 1)));
    if (getenv("QKW_TEST_VERBOSE")) printf("budget %s: codec %s dtype %d levels %d bits %d sqnr %.2f\n", names[k], qk_codec_name(info.codec), info.dtype, info.levels, info.bits, info.sqnr_db);
    if (k == 4 || k == 5) {
      assert_int_equal(info.dtype, QK_DTYPE_F32);
      assert_memory_equal(y, x, n * sizeof(float));
    }
    if (k == 6) { /* the cap wins (library) or the target does (RAW fallback): both keep max_bits */
      if (info.codec == QK_CODEC_SYMMETRIC) assert_true(info.bits <= 4);
      else assert_true(info.sqnr_db >= 30);
    }
    if (k == 7) assert_int_equal(info.bits, 3);
    if (k == 8) {
      assert_true(info.sqnr_db >= 60);
      assert_int_equal(info.codec, QK_CODEC_RAW);
    }
    if (k == 9) {
      assert_int_equal(info.codec, QK_CODEC_RAW);
      assert_int_equal(info.dtype, QK_DTYPE_F32);
      assert_memory_equal(y, x, n * sizeof(float));
    }
    if (k == 10) assert_int_equal(info.bits, 8);
    if (k == 11) {
      if (info.codec == QK_CODEC_SYMMETRIC) assert_int_equal(info.bits, 2);
      else assert_true(info.sqnr_db >= 12);
    }
    free(y);
  }
  qkwt_close(&f);
}

/* ---------------------------------------------------------------------------------------- */
/* add_quantized                                                                             */

/* Proves add_quantized: S8 per-channel symmetric codes and qparams from qk_qparams_from_tensor
 * are stored as they are (read_codes == codes, params == scales), tensor_qparams returns the same
 * scales, and the codes + qparams load into qk_packed_weights_create; the recorded error is
 * measured with a source and NaN without; affine U8 imports exactly; S4 per-group (packed)
 * becomes one code per byte; out-of-range codes and wrong byte counts are rejected. */
static void test_add_quantized(void** state) {
  (void)state;
  enum { R = 8, C = 48, N = R * C };
  float x[N];
  qk_test_rng rng = {18};
  qkwt_gauss(&rng, x, N, 0.3f);
  const int64_t shape[2] = {R, C};
  qk_quant_spec* spec = qk_test_spec(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC);
  assert_ok(qk_quant_spec_set_range(spec, -127, 127));
  qk_qparams* qp = NULL;
  assert_ok(qk_qparams_from_tensor(spec, x, shape, 2, &qp, NULL));
  int8_t codes[N];
  assert_ok(qk_quantize(qp, x, shape, 2, codes, N, NULL));
  float scales[R];
  assert_ok(qk_qparams_get_scales(qp, scales, R));
  float deq[N];
  assert_ok(qk_dequantize(qp, codes, N, shape, 2, deq));

  /* affine u8 per tensor */
  qk_quant_spec* aspec = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  qk_qparams* aqp = NULL;
  assert_ok(qk_qparams_from_tensor(aspec, x, shape, 2, &aqp, NULL));
  uint8_t acodes[N];
  assert_ok(qk_quantize(aqp, x, shape, 2, acodes, N, NULL));
  float adeq[N];
  assert_ok(qk_dequantize(aqp, acodes, N, shape, 2, adeq));

  /* s4 per group of 16 along axis 1, range [-7, 7] */
  qk_quant_spec* gspec = qk_test_spec(QK_DTYPE_S4, QK_QSCHEME_PER_GROUP_SYMMETRIC);
  assert_ok(qk_quant_spec_set_range(gspec, -7, 7));
  assert_ok(qk_quant_spec_set_axis(gspec, 1));
  assert_ok(qk_quant_spec_set_group_size(gspec, 16));
  qk_qparams* gqp = NULL;
  assert_ok(qk_qparams_from_tensor(gspec, x, shape, 2, &gqp, NULL));
  uint8_t gcodes[N / 2];
  assert_ok(qk_quantize(gqp, x, shape, 2, gcodes, N / 2, NULL));
  float gdeq[N];
  assert_ok(qk_dequantize(gqp, gcodes, N / 2, shape, 2, gdeq));
  size_t gcount = 0;
  assert_ok(qk_qparams_get_count(gqp, &gcount));
  assert_int_equal(gcount, R * 3);
  float gscales[R * 3];
  assert_ok(qk_qparams_get_scales(gqp, gscales, R * 3));

  const char* path = qkwt_path("quantized.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  assert_ok(qk_qkw_writer_add_quantized(w, "w_src", codes, N, shape, 2, qp, x));
  assert_ok(qk_qkw_writer_add_quantized(w, "w_nosrc", codes, N, shape, 2, qp, NULL));
  assert_ok(qk_qkw_writer_add_quantized(w, "affine", acodes, N, shape, 2, aqp, x));
  assert_ok(qk_qkw_writer_add_quantized(w, "s4", gcodes, N / 2, shape, 2, gqp, x));
  /* errors: wrong byte count, code outside the range [-127, 127], NULL qparams */
  assert_status(qk_qkw_writer_add_quantized(w, "bad", codes, N - 1, shape, 2, qp, NULL), QK_ERR_INVALID_ARGUMENT);
  int8_t badcodes[N];
  memcpy(badcodes, codes, N);
  badcodes[5] = -128;
  assert_status(qk_qkw_writer_add_quantized(w, "bad", badcodes, N, shape, 2, qp, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_add_quantized(w, "bad", codes, N, shape, 2, NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  const int64_t wrong_shape[2] = {C, R}; /* 48 channels but 8 scales */
  assert_status(qk_qkw_writer_add_quantized(w, "bad", codes, N, wrong_shape, 2, qp, NULL), QK_ERR_INVALID_ARGUMENT);
  qkwt_finish_ok(w);

  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  size_t count = 0;
  assert_ok(qk_qkw_tensor_count(f.r, &count));
  assert_int_equal(count, 4);
  for (int k = 0; k < 2; ++k) {
    const size_t idx = qkwt_find(f.r, k ? "w_nosrc" : "w_src");
    qk_qkw_tensor_info info;
    qkwt_info(f.r, idx, &info);
    assert_int_equal(info.codec, QK_CODEC_SYMMETRIC);
    assert_int_equal(info.dtype, QK_DTYPE_S8);
    assert_int_equal(info.levels, 127);
    assert_int_equal(info.bits, 8);
    assert_int_equal(info.axis, 0);
    assert_int_equal(info.group_size, 0);
    assert_int_equal(info.param_count, R);
    int8_t* c = (int8_t*)qkwt_codes(f.r, idx, N);
    assert_memory_equal(c, codes, N);
    float* p = qkwt_params(f.r, idx, R);
    assert_memory_equal(p, scales, sizeof scales);
    float* y = qkwt_decode(f.r, idx, N);
    assert_memory_equal(y, deq, sizeof deq);
    if (k == 0) {
      qkwt_check_error_record(x, y, N, &info, info.sqnr_db, info.max_abs_error);
      assert_true(isfinite(info.sqnr_db));
    } else {
      assert_true(isnan(info.sqnr_db));
      assert_true(isnan(info.max_abs_error));
    }
    qk_qparams* back = NULL;
    assert_ok(qk_qkw_tensor_qparams(f.r, idx, &back));
    qk_qscheme scheme;
    assert_ok(qk_qparams_get_scheme(back, &scheme));
    assert_int_equal(scheme, QK_QSCHEME_PER_CHANNEL_SYMMETRIC);
    float bscales[R];
    int32_t bzp[R];
    assert_ok(qk_qparams_get_scales(back, bscales, R));
    assert_ok(qk_qparams_get_zero_points(back, bzp, R));
    assert_memory_equal(bscales, scales, sizeof scales);
    for (int i = 0; i < R; ++i) assert_int_equal(bzp[i], 0);
    int32_t qmin = 0, qmax = 0;
    assert_ok(qk_qparams_get_range(back, &qmin, &qmax));
    assert_true(qmin <= -127 && qmax >= 127);
    qk_packed_weights* pw = NULL;
    assert_ok(qk_packed_weights_create(c, R, C, C, back, NULL, QK_DTYPE_F32, &pw));
    int64_t pn = 0, pk = 0;
    assert_ok(qk_packed_weights_get_shape(pw, &pn, &pk));
    assert_int_equal(pn, R);
    assert_int_equal(pk, C);
    qk_packed_weights_destroy(pw);
    qk_qparams_destroy(back);
    free(c);
    free(p);
    free(y);
  }
  { /* affine */
    const size_t idx = qkwt_find(f.r, "affine");
    qk_qkw_tensor_info info;
    qkwt_info(f.r, idx, &info);
    assert_int_equal(info.codec, QK_CODEC_AFFINE);
    assert_int_equal(info.dtype, QK_DTYPE_U8);
    assert_int_equal(info.axis, -1);
    uint8_t* c = (uint8_t*)qkwt_codes(f.r, idx, N);
    assert_memory_equal(c, acodes, N);
    float* y = qkwt_decode(f.r, idx, N);
    assert_memory_equal(y, adeq, sizeof adeq);
    qk_qparams* back = NULL;
    assert_ok(qk_qkw_tensor_qparams(f.r, idx, &back));
    float s0, s1;
    int32_t z0, z1;
    assert_ok(qk_qparams_get_scales(aqp, &s0, 1));
    assert_ok(qk_qparams_get_scales(back, &s1, 1));
    assert_ok(qk_qparams_get_zero_points(aqp, &z0, 1));
    assert_ok(qk_qparams_get_zero_points(back, &z1, 1));
    assert_int_equal(qk_test_f32_bits(s0), qk_test_f32_bits(s1));
    assert_int_equal(z0, z1);
    qk_qparams_destroy(back);
    free(c);
    free(y);
  }
  { /* s4 per group -> one code per byte */
    const size_t idx = qkwt_find(f.r, "s4");
    qk_qkw_tensor_info info;
    qkwt_info(f.r, idx, &info);
    assert_int_equal(info.codec, QK_CODEC_SYMMETRIC);
    assert_int_equal(info.dtype, QK_DTYPE_S8);
    assert_int_equal(info.levels, 7);
    assert_int_equal(info.bits, 4);
    assert_int_equal(info.axis, 1);
    assert_int_equal(info.group_size, 16);
    assert_int_equal(info.code_bytes, N);
    assert_int_equal(info.param_count, R * 3);
    int8_t* c = (int8_t*)qkwt_codes(f.r, idx, N);
    for (size_t i = 0; i < N; ++i) {
      const int nib = (i & 1) ? (gcodes[i / 2] >> 4) : (gcodes[i / 2] & 0x0F);
      const int v = nib >= 8 ? nib - 16 : nib;
      assert_int_equal(c[i], v);
    }
    float* p = qkwt_params(f.r, idx, R * 3);
    assert_memory_equal(p, gscales, sizeof gscales);
    float* y = qkwt_decode(f.r, idx, N);
    assert_memory_equal(y, gdeq, sizeof gdeq);
    free(c);
    free(p);
    free(y);
  }
  qkwt_close(&f);
  /* Informational: PyTorch's default symmetric s8 range is [-128, 127], which the header's
   * "[-L, L] with L <= 127" does not literally cover. */
  qk_quant_spec* tspec = qk_test_spec(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC);
  qk_qparams* tqp = NULL;
  assert_ok(qk_qparams_from_tensor(tspec, x, shape, 2, &tqp, NULL));
  int8_t tcodes[N];
  assert_ok(qk_quantize(tqp, x, shape, 2, tcodes, N, NULL));
  assert_ok(qk_qkw_writer_create(qkwt_path("torch_range.qkw"), &w));
  const qk_status st = qk_qkw_writer_add_quantized(w, "w", tcodes, N, shape, 2, tqp, NULL);
  printf("note: add_quantized with PyTorch's default s8 symmetric range [-128,127]: %s %s\n", qk_status_string(st),
         st == QK_OK ? "" : qk_last_error());
  assert_true(st == QK_OK || st == QK_ERR_INVALID_ARGUMENT);
  qk_qkw_writer_destroy(w);
  qk_qparams_destroy(tqp);
  qk_quant_spec_destroy(tspec);

  qk_qparams_destroy(qp);
  qk_qparams_destroy(aqp);
  qk_qparams_destroy(gqp);
  qk_quant_spec_destroy(spec);
  qk_quant_spec_destroy(aspec);
  qk_quant_spec_destroy(gspec);
}

/* ---------------------------------------------------------------------------------------- */
/* metadata, lookup, shapes                                                                  */

/* Proves metadata: set, replace, empty and UTF-8 values, key order in metadata_at, get, NOT_FOUND,
 * qk.writer = "quantkit <version>", and every bad key/value rejected with the writer usable. */
static void test_metadata(void** state) {
  (void)state;
  const char* path = qkwt_path("meta.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  assert_ok(qk_qkw_writer_set_metadata(w, "source.sha256", "abc"));
  assert_ok(qk_qkw_writer_set_metadata(w, "z", "2"));
  assert_ok(qk_qkw_writer_set_metadata(w, "source.sha256", "def")); /* replaces */
  assert_ok(qk_qkw_writer_set_metadata(w, "empty", ""));
  assert_ok(qk_qkw_writer_set_metadata(w, "utf8", "h\xC3\xA9llo \xF0\x9F\x98\x80"));
  assert_ok(qk_qkw_writer_set_metadata(w, "A~!", "x"));
  char key256[257], key257[258];
  memset(key256, 'k', 256);
  key256[256] = 0;
  memset(key257, 'k', 257);
  key257[257] = 0;
  assert_ok(qk_qkw_writer_set_metadata(w, key256, "long key"));
  char* big = (char*)malloc(65538);
  memset(big, 'v', 65537);
  big[65537] = 0;
  assert_status(qk_qkw_writer_set_metadata(w, "big", big), QK_ERR_INVALID_ARGUMENT);
  big[65536] = 0;
  assert_ok(qk_qkw_writer_set_metadata(w, "big", big)); /* exactly 65536 bytes */
  const char* bad_keys[] = {"", "a b", "tab\there", "\x7f", "caf\xC3\xA9", "new\nline", key257};
  for (size_t i = 0; i < sizeof bad_keys / sizeof *bad_keys; ++i) {
    qk_clear_error();
    assert_status(qk_qkw_writer_set_metadata(w, bad_keys[i], "v"), QK_ERR_INVALID_ARGUMENT);
    assert_true(qk_last_error()[0] != 0);
  }
  const char* bad_values[] = {"\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xC3", "\xFF", "a\x80"};
  for (size_t i = 0; i < sizeof bad_values / sizeof *bad_values; ++i)
    assert_status(qk_qkw_writer_set_metadata(w, "bad.value", bad_values[i]), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_set_metadata(w, NULL, "v"), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_set_metadata(w, "k", NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_set_metadata(NULL, "k", "v"), QK_ERR_INVALID_ARGUMENT);
  qkwt_finish_ok(w);

  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  size_t count = 0;
  assert_ok(qk_qkw_metadata_count(f.r, &count));
  assert_int_equal(count, 8); /* 7 set + qk.writer */
  const char* prev = NULL;
  int saw_writer = 0;
  for (size_t i = 0; i < count; ++i) {
    const char *k = NULL, *v = NULL;
    assert_ok(qk_qkw_metadata_at(f.r, i, &k, &v));
    assert_non_null(k);
    assert_non_null(v);
    if (prev) assert_true(strcmp(prev, k) < 0); /* strcmp on printable ASCII == byte order */
    prev = k;
    if (!strcmp(k, "qk.writer")) {
      char expect[64];
      snprintf(expect, sizeof expect, "quantkit %s", qk_version_string());
      assert_string_equal(v, expect);
      saw_writer = 1;
    }
  }
  assert_true(saw_writer);
  const char* v = NULL;
  assert_ok(qk_qkw_metadata_get(f.r, "source.sha256", &v));
  assert_string_equal(v, "def");
  assert_ok(qk_qkw_metadata_get(f.r, "empty", &v));
  assert_string_equal(v, "");
  assert_ok(qk_qkw_metadata_get(f.r, "utf8", &v));
  assert_string_equal(v, "h\xC3\xA9llo \xF0\x9F\x98\x80");
  assert_ok(qk_qkw_metadata_get(f.r, key256, &v));
  assert_string_equal(v, "long key");
  assert_ok(qk_qkw_metadata_get(f.r, "big", &v));
  assert_int_equal(strlen(v), 65536);
  v = "untouched";
  assert_status(qk_qkw_metadata_get(f.r, "missing", &v), QK_ERR_NOT_FOUND);
  assert_status(qk_qkw_metadata_get(f.r, "source", &v), QK_ERR_NOT_FOUND);
  assert_status(qk_qkw_metadata_get(f.r, "bad.value", &v), QK_ERR_NOT_FOUND);
  assert_string_equal(v, "untouched");
  const char *k = NULL;
  assert_status(qk_qkw_metadata_at(f.r, count, &k, &v), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_metadata_get(f.r, NULL, &v), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_metadata_count(NULL, &count), QK_ERR_INVALID_ARGUMENT);
  qkwt_close(&f);
  free(big);
}

/* Proves the key-count limit: 4096 keys in the file at most (qk.writer included or not: the
 * writer must never produce a file its reader rejects), replacing a key at the limit works. */
static void test_metadata_limit(void** state) {
  (void)state;
  const char* path = qkwt_path("meta_limit.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  int accepted = 0;
  for (int i = 0; i < 4200; ++i) {
    char key[32];
    snprintf(key, sizeof key, "k.%05d", i);
    const qk_status st = qk_qkw_writer_set_metadata(w, key, "v");
    if (st != QK_OK) {
      assert_int_equal(st, QK_ERR_INVALID_ARGUMENT);
      break;
    }
    ++accepted;
  }
  printf("note: writer accepted %d user metadata keys\n", accepted);
  assert_true(accepted == 4095 || accepted == 4096);
  assert_ok(qk_qkw_writer_set_metadata(w, "k.00000", "replaced"));
  qkwt_finish_ok(w);
  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  size_t count = 0;
  assert_ok(qk_qkw_metadata_count(f.r, &count));
  assert_true(count <= 4096);
  const char* v = NULL;
  assert_ok(qk_qkw_metadata_get(f.r, "k.00000", &v));
  assert_string_equal(v, "replaced");
  qkwt_close(&f);
}

/* Proves tensors are indexed in byte order of their names (memcmp, shorter first), find hits
 * every name and misses with NOT_FOUND, and bad indices are INVALID_ARGUMENT. */
static void test_find_and_order(void** state) {
  (void)state;
  const char* names[] = {"b", "a", "B", "ab", "a\x7f", "\xC3\xA9", "a/b.c", "aa", "\xF0\x9F\x98\x80"};
  const char* sorted[] = {"B", "a", "a/b.c", "aa", "ab", "a\x7f", "b", "\xC3\xA9", "\xF0\x9F\x98\x80"};
  const size_t n = sizeof names / sizeof *names;
  const char* path = qkwt_path("order.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  for (size_t i = 0; i < n; ++i) {
    const float v = (float)i;
    const int64_t shape[1] = {1};
    assert_ok(qk_qkw_writer_add_f32(w, names[i], &v, shape, 1, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  }
  qkwt_finish_ok(w);
  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  size_t count = 0;
  assert_ok(qk_qkw_tensor_count(f.r, &count));
  assert_int_equal(count, n);
  for (size_t i = 0; i < n; ++i) {
    const char* nm = NULL;
    assert_ok(qk_qkw_tensor_name(f.r, i, &nm));
    assert_string_equal(nm, sorted[i]);
    assert_int_equal(qkwt_find(f.r, sorted[i]), i);
  }
  for (size_t i = 0; i < n; ++i) { /* value i was written under names[i] */
    float v = -1;
    assert_ok(qk_qkw_decode_f32(f.r, qkwt_find(f.r, names[i]), &v, 1));
    assert_true(v == (float)i);
  }
  size_t idx = 777;
  assert_status(qk_qkw_find(f.r, "zz", &idx), QK_ERR_NOT_FOUND);
  assert_status(qk_qkw_find(f.r, "A", &idx), QK_ERR_NOT_FOUND);
  assert_status(qk_qkw_find(f.r, "a\x7f\x7f", &idx), QK_ERR_NOT_FOUND);
  assert_status(qk_qkw_find(f.r, "", &idx), QK_ERR_NOT_FOUND);
  assert_int_equal(idx, 777);
  assert_status(qk_qkw_find(f.r, NULL, &idx), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_find(NULL, "a", &idx), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_find(f.r, "a", NULL), QK_ERR_INVALID_ARGUMENT);
  const char* nm = "untouched";
  assert_status(qk_qkw_tensor_name(f.r, n, &nm), QK_ERR_INVALID_ARGUMENT);
  assert_string_equal(nm, "untouched");
  qk_qkw_tensor_info info;
  assert_status(qk_qkw_tensor_info_get(f.r, n, &info), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_tensor_info_get(f.r, 0, NULL), QK_ERR_INVALID_ARGUMENT);
  float v;
  assert_status(qk_qkw_decode_f32(f.r, n, &v, 1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_tensor_count(f.r, NULL), QK_ERR_INVALID_ARGUMENT);
  qkwt_close(&f);
}

/* Proves shape queries: exact capacity, larger capacity, BUFFER_TOO_SMALL reports the rank and
 * writes nothing else, scalars and empty tensors; decode of an empty tensor. */
static void test_shape_query(void** state) {
  (void)state;
  const char* path = qkwt_path("shapes.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  float x[24] = {0};
  for (int i = 0; i < 24; ++i) x[i] = (float)i;
  const int64_t s3[3] = {2, 3, 4};
  const int64_t s8[8] = {1, 2, 1, 3, 1, 2, 1, 2};
  const int64_t empty[2] = {0, 5};
  assert_ok(qk_qkw_writer_add_f32(w, "r3", x, s3, 3, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_f32(w, "r8", x, s8, 8, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_f32(w, "scalar", x + 7, NULL, 0, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_f32(w, "empty", x, empty, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_f32(w, "empty_sym", x, empty, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 8, 0, 0, NULL, NULL));
  qkwt_finish_ok(w);
  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  int64_t shape[QK_MAX_RANK];
  size_t rank = 99;
  const size_t i3 = qkwt_find(f.r, "r3");
  assert_ok(qk_qkw_tensor_shape(f.r, i3, shape, 3, &rank));
  assert_int_equal(rank, 3);
  assert_memory_equal(shape, s3, sizeof s3);
  assert_ok(qk_qkw_tensor_shape(f.r, i3, shape, QK_MAX_RANK, &rank));
  assert_int_equal(rank, 3);
  for (int i = 0; i < QK_MAX_RANK; ++i) shape[i] = -77;
  rank = 99;
  assert_status(qk_qkw_tensor_shape(f.r, i3, shape, 2, &rank), QK_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(rank, 3);
  for (int i = 0; i < QK_MAX_RANK; ++i) assert_int_equal(shape[i], -77);
  assert_ok(qk_qkw_tensor_shape(f.r, qkwt_find(f.r, "r8"), shape, 8, &rank));
  assert_int_equal(rank, 8);
  assert_memory_equal(shape, s8, sizeof s8);
  const size_t is = qkwt_find(f.r, "scalar");
  assert_ok(qk_qkw_tensor_shape(f.r, is, shape, QK_MAX_RANK, &rank));
  assert_int_equal(rank, 0);
  float y = 0;
  assert_ok(qk_qkw_decode_f32(f.r, is, &y, 1));
  assert_true(y == 7.0f);
  assert_status(qk_qkw_decode_f32(f.r, is, &y, 2), QK_ERR_INVALID_ARGUMENT);
  for (int k = 0; k < 2; ++k) {
    const size_t ie = qkwt_find(f.r, k ? "empty_sym" : "empty");
    assert_ok(qk_qkw_tensor_shape(f.r, ie, shape, QK_MAX_RANK, &rank));
    assert_int_equal(rank, 2);
    assert_memory_equal(shape, empty, sizeof empty);
    qk_qkw_tensor_info info;
    qkwt_info(f.r, ie, &info);
    assert_int_equal(info.element_count, 0);
    assert_int_equal(info.code_bytes, 0);
    if (k) assert_int_equal(info.param_count, 0); /* per channel on axis 0 of {0, 5}: P = shape[0] = 0 */
    float dummy = 5.0f;
    assert_ok(qk_qkw_decode_f32(f.r, ie, &dummy, 0));
    assert_true(dummy == 5.0f);
  }
  assert_status(qk_qkw_tensor_shape(f.r, i3, NULL, 3, &rank), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_tensor_shape(f.r, i3, shape, 3, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_tensor_shape(f.r, 99, shape, 3, &rank), QK_ERR_INVALID_ARGUMENT);
  qkwt_close(&f);
}

/* ---------------------------------------------------------------------------------------- */
/* mapping, alignment, determinism                                                           */

static void qkwt_write_mixed(const char* path, uint32_t alignment, int level) {
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  if (alignment) assert_ok(qk_qkw_writer_set_alignment(w, alignment));
  assert_ok(qk_qkw_writer_set_zstd_level(w, level));
  float x[37 * 13];
  qk_test_rng rng = {21};
  qkwt_gauss(&rng, x, 37 * 13, 1.0f);
  for (int i = 0; i < 37 * 13; i += 3) x[i] = 0.0f; /* compressible */
  const int64_t s1[2] = {37, 13}, s2[1] = {5}, s3[2] = {3, 64};
  assert_ok(qk_qkw_writer_add_f32(w, "a_raw", x, s1, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_f32(w, "b_sym", x, s1, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 4, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_f32(w, "c_f16", x, s2, 1, QK_CODEC_RAW, QK_DTYPE_F16, 0, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_f32(w, "d_q4", x, s3, 2, QK_CODEC_GGML_Q4_0, QK_DTYPE_S8, 0, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_f32(w, "e_lut", x, s1, 2, QK_CODEC_LUT, QK_DTYPE_U8, 3, -1, 0, NULL, NULL));
  const int32_t ints[5] = {1, -2, 3, -4, 5};
  assert_ok(qk_qkw_writer_add_raw(w, "f_s32", ints, sizeof ints, QK_DTYPE_S32, s2, 1));
  const int8_t b[3] = {1, 2, 3};
  const int64_t s4[1] = {3};
  assert_ok(qk_qkw_writer_add_raw(w, "g_s8", b, 3, QK_DTYPE_S8, s4, 1));
  assert_ok(qk_qkw_writer_add_f32(w, "h_aff", x, s1, 2, QK_CODEC_AFFINE, QK_DTYPE_U8, 8, 1, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_set_metadata(w, "source.name", "mixed"));
  qkwt_finish_ok(w);
}

/* Proves map_codes: on uncompressed chunks it returns the code stream in place (equal to
 * read_codes; RAW aligned to the file's alignment, relative to the image and absolutely for a
 * file map), and QK_ERR_STATE on compressed chunks (info.mappable 0). */
static void test_map_codes(void** state) {
  (void)state;
  for (int level = 0; level <= 19; level += 19) {
    const char* path = qkwt_path("map.qkw");
    qkwt_write_mixed(path, 0, level);
    qkwt_file f;
    qkwt_open(&f, path, QK_VERIFY_FULL);
    qk_qkw_reader* fr = NULL;
    assert_ok(qk_qkw_open_file(path, QK_VERIFY_FULL, 0, &fr));
    size_t count = 0;
    assert_ok(qk_qkw_tensor_count(f.r, &count));
    int compressed = 0;
    for (size_t i = 0; i < count; ++i) {
      qk_qkw_tensor_info info;
      qkwt_info(f.r, i, &info);
      assert_int_equal(info.mappable, !info.compressed);
      compressed += info.compressed;
      if (level == 0) assert_int_equal(info.compressed, 0);
      if (info.compressed) assert_true(info.stored_bytes < info.decoded_bytes);
      const void* p = (const void*)0x1;
      size_t bytes = 12345;
      for (int k = 0; k < 2; ++k) {
        qk_qkw_reader* r = k ? fr : f.r;
        if (!info.mappable) {
          assert_status(qk_qkw_map_codes(r, i, &p, &bytes), QK_ERR_STATE);
          assert_ptr_equal(p, (const void*)0x1);
          assert_int_equal(bytes, 12345);
          continue;
        }
        assert_ok(qk_qkw_map_codes(r, i, &p, &bytes));
        assert_int_equal(bytes, info.code_bytes);
        void* c = qkwt_codes(r, i, (size_t)info.code_bytes);
        assert_memory_equal(p, c, bytes);
        free(c);
        if (k == 0) {
          assert_true((const uint8_t*)p >= f.img && (const uint8_t*)p + bytes <= f.img + f.size);
          if (info.codec == QK_CODEC_RAW) assert_int_equal(((const uint8_t*)p - f.img) % 64, 0);
        } else if (info.codec == QK_CODEC_RAW) {
          assert_int_equal((uintptr_t)p % 64, 0);
        }
      }
    }
    if (level == 19) assert_true(compressed >= 2);
    qk_qkw_close(fr);
    qkwt_close(&f);
  }
}

/* Proves alignment 16/64/4096: header field, data_offset and every chunk offset are multiples,
 * chunks are canonically placed (FORMAT.md "Chunk placement"), file_info agrees, map_codes of
 * RAW chunks is aligned in a file map; invalid alignments are rejected. */
static void test_alignment(void** state) {
  (void)state;
  const uint32_t aligns[3] = {16, 64, 4096};
  for (int a = 0; a < 3; ++a) {
    const char* path = qkwt_path("align.qkw");
    qkwt_write_mixed(path, aligns[a], 0);
    size_t size = 0;
    uint8_t* img = qkwt_read_file(path, &size);
    assert_non_null(img);
    assert_int_equal(qkwb_get(img, size, QKWH_ALIGNMENT, 4), aligns[a]);
    const uint64_t data_offset = qkwb_data_offset(img, size);
    const uint64_t table_size = qkwb_get(img, size, QKWH_TABLE_SIZE, 8);
    assert_int_equal(data_offset % aligns[a], 0);
    assert_int_equal(data_offset, (64 + table_size + aligns[a] - 1) / aligns[a] * aligns[a]);
    assert_int_equal(qkwb_get(img, size, QKWH_FILE_SIZE, 8), size);
    const size_t n = (size_t)qkwb_get(img, size, QKWH_TENSOR_COUNT, 4);
    assert_int_equal(n, 8);
    uint64_t end = 0;
    for (size_t i = 0; i < n; ++i) {
      const size_t e = qkwb_entry_off(img, size, i);
      const uint64_t off = qkwb_get(img, size, e + QKWE_OFFSET, 8);
      const uint64_t stored = qkwb_get(img, size, e + QKWE_STORED_SIZE, 8);
      assert_int_equal(off % aligns[a], 0);
      assert_int_equal(off, i == 0 ? 0 : (end + aligns[a] - 1) / aligns[a] * aligns[a]);
      end = off + stored;
    }
    assert_int_equal(size, data_offset + end);
    qk_qkw_reader* r = NULL;
    assert_ok(qk_qkw_open_file(path, QK_VERIFY_FULL, 0, &r));
    uint32_t vmaj = 0, vmin = 9, al = 0;
    uint64_t fsize = 0;
    assert_ok(qk_qkw_file_info(r, &vmaj, &vmin, &al, &fsize));
    assert_int_equal(vmaj, 1);
    assert_int_equal(vmin, 0);
    assert_int_equal(al, aligns[a]);
    assert_int_equal(fsize, size);
    assert_ok(qk_qkw_file_info(r, NULL, NULL, NULL, NULL));
    for (size_t i = 0; i < n; ++i) {
      qk_qkw_tensor_info info;
      qkwt_info(r, i, &info);
      if (info.codec != QK_CODEC_RAW || info.element_count == 0) continue;
      const void* p = NULL;
      size_t bytes = 0;
      assert_ok(qk_qkw_map_codes(r, i, &p, &bytes));
      assert_int_equal((uintptr_t)p % aligns[a], 0);
    }
    qk_qkw_close(r);
    free(img);
  }
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(qkwt_path("bad_align.qkw"), &w));
  const uint32_t bad[6] = {0, 1, 8, 24, 2097152, 48};
  for (int i = 0; i < 6; ++i) assert_status(qk_qkw_writer_set_alignment(w, bad[i]), QK_ERR_INVALID_ARGUMENT);
  assert_ok(qk_qkw_writer_set_alignment(w, 1048576));
  assert_status(qk_qkw_writer_set_zstd_level(w, 23), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_set_zstd_level(w, -1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_set_alignment(NULL, 64), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_set_zstd_level(NULL, 3), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_set_small_tensor_threshold(NULL, 3), QK_ERR_INVALID_ARGUMENT);
  qk_qkw_writer_destroy(w);
  assert_int_equal(access(qkwt_path("bad_align.qkw"), F_OK), -1); /* destroy without finish writes nothing */
}

/* Proves determinism: the same calls give byte-identical files (compressed and not), and a file
 * with no tensor is header + table + padding only. */
static void test_determinism(void** state) {
  (void)state;
  for (int level = 0; level <= 19; level += 19) {
    qkwt_write_mixed(qkwt_path("det1.qkw"), 0, level);
    qkwt_write_mixed(qkwt_path("det2.qkw"), 0, level);
    size_t n1 = 0, n2 = 0;
    uint8_t* a = qkwt_read_file(qkwt_path("det1.qkw"), &n1);
    uint8_t* b = qkwt_read_file(qkwt_path("det2.qkw"), &n2);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    free(a);
    free(b);
  }
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(qkwt_path("empty.qkw"), &w));
  qkwt_finish_ok(w);
  qkwt_file f;
  qkwt_open(&f, qkwt_path("empty.qkw"), QK_VERIFY_FULL);
  size_t count = 9;
  assert_ok(qk_qkw_tensor_count(f.r, &count));
  assert_int_equal(count, 0);
  assert_int_equal(qkwb_data_offset(f.img, f.size), f.size);
  assert_int_equal(f.size % 64, 0);
  qkwt_close(&f);
}

/* ---------------------------------------------------------------------------------------- */
/* atomicity, argument errors                                                                */

/* Proves finish is atomic: a nonexistent folder gives QK_ERR_IO and creates nothing; a failed
 * write (file-size limit) leaves an existing file intact and no temporary behind; success leaves
 * exactly the target file; finish twice and add/set after finish are QK_ERR_STATE. */
static void test_atomicity(void** state) {
  (void)state;
  const float x[4] = {1, 2, 3, 4};
  const int64_t shape[1] = {4};
  /* nonexistent folder */
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(qkwt_path("no_such_dir/f.qkw"), &w));
  assert_ok(qk_qkw_writer_add_f32(w, "x", x, shape, 1, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  qk_clear_error();
  assert_status(qk_qkw_writer_finish(w), QK_ERR_IO);
  assert_true(qk_last_error()[0] != 0);
  assert_status(qk_qkw_writer_finish(w), QK_ERR_STATE); /* only destroy after a finish, whatever the outcome */
  qk_qkw_writer_destroy(w);
  assert_int_equal(access(qkwt_path("no_such_dir"), F_OK), -1);

  /* fresh folder for the counting checks */
  char sub[512];
  snprintf(sub, sizeof sub, "%s/atomic", qkwt_dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  char target[600];
  snprintf(target, sizeof target, "%s/model.qkw", sub);
  const char old_content[] = "previous model, must survive";
  assert_int_equal(qkwt_write_file(target, old_content, sizeof old_content), 0);

  /* a write that fails half way: RLIMIT_FSIZE below the file size (EFBIG; SIGXFSZ ignored) */
  enum { BIG = 1 << 16 };
  float* big = (float*)malloc(BIG * sizeof(float));
  for (int i = 0; i < BIG; ++i) big[i] = (float)i * 0.37f;
  const int64_t big_shape[1] = {BIG};
  assert_ok(qk_qkw_writer_create(target, &w));
  assert_ok(qk_qkw_writer_set_zstd_level(w, 0));
  assert_ok(qk_qkw_writer_add_f32(w, "big", big, big_shape, 1, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  struct rlimit old_lim, lim;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
  lim = old_lim;
  lim.rlim_cur = 4096;
  void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  const qk_status st = qk_qkw_writer_finish(w);
  setrlimit(RLIMIT_FSIZE, &old_lim);
  signal(SIGXFSZ, old_handler);
  assert_int_equal(st, QK_ERR_IO);
  qk_qkw_writer_destroy(w);
  size_t sz = 0;
  uint8_t* back = qkwt_read_file(target, &sz);
  assert_non_null(back);
  assert_int_equal(sz, sizeof old_content);
  assert_memory_equal(back, old_content, sz);
  free(back);
  assert_int_equal(qkwt_count_entries(sub), 1); /* no temporary left behind */

  /* the target is a folder: QK_ERR_IO, the folder survives, no temporary left */
  char folder[600];
  snprintf(folder, sizeof folder, "%s/folder.qkw", sub);
  assert_int_equal(mkdir(folder, 0700), 0);
  assert_ok(qk_qkw_writer_create(folder, &w));
  assert_ok(qk_qkw_writer_add_f32(w, "x", x, shape, 1, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  assert_status(qk_qkw_writer_finish(w), QK_ERR_IO);
  qk_qkw_writer_destroy(w);
  assert_int_equal(qkwt_count_entries(sub), 2);
  assert_int_equal(qkwt_count_entries(folder), 0);
  assert_int_equal(rmdir(folder), 0);

  /* success replaces the file, leaves only it */
  assert_ok(qk_qkw_writer_create(target, &w));
  assert_ok(qk_qkw_writer_add_f32(w, "big", big, big_shape, 1, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  assert_int_equal(qkwt_count_entries(sub), 1);
  assert_ok(qk_qkw_writer_finish(w));
  assert_int_equal(qkwt_count_entries(sub), 1);
  /* after finish: only destroy */
  assert_status(qk_qkw_writer_finish(w), QK_ERR_STATE);
  assert_status(qk_qkw_writer_add_f32(w, "y", x, shape, 1, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL),
                QK_ERR_STATE);
  assert_status(qk_qkw_writer_add_raw(w, "y", x, 16, QK_DTYPE_F32, shape, 1), QK_ERR_STATE);
  assert_status(qk_qkw_writer_add_budget(w, "y", x, shape, 1, 20, 0, NULL, NULL, NULL, NULL), QK_ERR_STATE);
  assert_status(qk_qkw_writer_set_metadata(w, "k", "v"), QK_ERR_STATE);
  qk_qkw_writer_destroy(w);
  qk_qkw_reader* r = NULL;
  assert_ok(qk_qkw_open_file(target, QK_VERIFY_FULL, 0, &r));
  float* y = (float*)malloc(BIG * sizeof(float));
  assert_ok(qk_qkw_decode_f32(r, 0, y, BIG));
  assert_memory_equal(y, big, BIG * sizeof(float));
  qk_qkw_close(r);
  free(y);
  free(big);
  assert_int_equal(qkwt_count_entries(sub), 1);
}

/* Proves every argument error of the writer returns the documented status, names the function,
 * and leaves the writer usable: the final file holds exactly the valid tensors. */
static void test_writer_argument_errors(void** state) {
  (void)state;
  qk_qkw_writer* w = (qk_qkw_writer*)0x1;
  assert_status(qk_qkw_writer_create(NULL, &w), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_create("", &w), QK_ERR_INVALID_ARGUMENT);
  assert_ptr_equal(w, (qk_qkw_writer*)0x1);
  assert_status(qk_qkw_writer_create(qkwt_path("x.qkw"), NULL), QK_ERR_INVALID_ARGUMENT);
  qk_qkw_writer_destroy(NULL);
  const char* path = qkwt_path("args.qkw");
  w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  float x[64];
  for (int i = 0; i < 64; ++i) x[i] = (float)(i - 30) * 0.1f;
  const int64_t s2[2] = {2, 32}, s1[1] = {64}, s33[2] = {2, 33}, neg[2] = {2, -32};
  const int64_t s9[9] = {1, 1, 1, 1, 1, 1, 1, 2, 32};
  assert_ok(qk_qkw_writer_add_f32(w, "dup", x, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
#define BAD_F32(name, data, shape, rank, codec, dtype, bits, axis, group)                                    \
  do {                                                                                                     \
    double sq_ = 123.0;                                                                                    \
    qk_clear_error();                                                                                      \
    assert_status(qk_qkw_writer_add_f32(w, name, data, shape, rank, codec, dtype, bits, axis, group, &sq_, \
                                        NULL),                                                             \
                  QK_ERR_INVALID_ARGUMENT);                                                                \
    assert_true(sq_ == 123.0);                                                                             \
    assert_error_mentions("qk_qkw_writer_add_f32");                                                        \
  } while (0)
  BAD_F32("dup", x, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0);            /* duplicate */
  BAD_F32(NULL, x, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0);             /* NULL name */
  BAD_F32("", x, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0);               /* empty name */
  BAD_F32("\xC0\xAF", x, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0);       /* overlong */
  BAD_F32("\xE0\x80\xAF", x, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0);   /* overlong 3-byte */
  BAD_F32("\xED\xA0\x80", x, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0);   /* surrogate */
  BAD_F32("\xF4\x90\x80\x80", x, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0); /* > U+10FFFF */
  BAD_F32("a\xC3", x, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0);          /* truncated */
  BAD_F32("\x80", x, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0);           /* lone continuation */
  BAD_F32("\xFE", x, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0);
  char longname[1026];
  memset(longname, 'n', 1025);
  longname[1025] = 0;
  BAD_F32(longname, x, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0); /* 1025 bytes */
  BAD_F32("d", NULL, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0);   /* NULL data */
  BAD_F32("d", x, NULL, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0);    /* NULL shape */
  BAD_F32("d", x, s9, 9, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0);      /* rank 9 */
  BAD_F32("d", x, neg, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0);     /* negative dim */
  BAD_F32("d", x, s2, 2, (qk_codec)7, QK_DTYPE_F32, 0, 0, 0);       /* bad codec */
  BAD_F32("d", x, s2, 2, (qk_codec)-1, QK_DTYPE_F32, 0, 0, 0);
  BAD_F32("d", x, s2, 2, QK_CODEC_RAW, QK_DTYPE_S8, 0, 0, 0); /* RAW needs F32/F16/BF16 */
  BAD_F32("d", x, s2, 2, QK_CODEC_RAW, (qk_dtype)77, 0, 0, 0);
  BAD_F32("d", x, s2, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 1, 0, 0); /* bits */
  BAD_F32("d", x, s2, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 9, 0, 0);
  BAD_F32("d", x, s2, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 8, 2, 0); /* axis */
  BAD_F32("d", x, s2, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 8, -3, 0);
  BAD_F32("d", x, s2, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 8, 0, -1); /* group */
  BAD_F32("d", x, NULL, 0, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 8, 0, 0); /* rank 0 */
  BAD_F32("d", x, s2, 2, QK_CODEC_AFFINE, QK_DTYPE_F32, 8, -1, 0);      /* affine dtype */
  BAD_F32("d", x, s2, 2, QK_CODEC_AFFINE, QK_DTYPE_S32, 8, -1, 0);
  BAD_F32("d", x, s2, 2, QK_CODEC_AFFINE, QK_DTYPE_U8, 8, 2, 0); /* affine axis */
  BAD_F32("d", x, s2, 2, QK_CODEC_AFFINE_OFFSET, QK_DTYPE_S8, 8, -1, 0);
  BAD_F32("d", x, s33, 2, QK_CODEC_GGML_Q8_0, QK_DTYPE_S8, 0, 0, 0); /* last dim % 32 */
  BAD_F32("d", x, s33, 2, QK_CODEC_GGML_Q4_0, QK_DTYPE_S8, 0, 0, 0);
  BAD_F32("d", x, NULL, 0, QK_CODEC_GGML_Q8_0, QK_DTYPE_S8, 0, 0, 0);
  BAD_F32("d", x, s2, 2, QK_CODEC_LUT, QK_DTYPE_U8, 0, -1, 0); /* lut bits */
  BAD_F32("d", x, s2, 2, QK_CODEC_LUT, QK_DTYPE_U8, 9, -1, 0);
  float xn[64];
  memcpy(xn, x, sizeof x);
  xn[40] = NAN;
  float xi[64];
  memcpy(xi, x, sizeof x);
  xi[3] = -INFINITY;
  const qk_codec lossy[6] = {QK_CODEC_SYMMETRIC, QK_CODEC_AFFINE, QK_CODEC_AFFINE_OFFSET, QK_CODEC_GGML_Q8_0,
                             QK_CODEC_GGML_Q4_0, QK_CODEC_LUT};
  const qk_dtype ldt[6] = {QK_DTYPE_F32, QK_DTYPE_U8, QK_DTYPE_U8, QK_DTYPE_S8, QK_DTYPE_S8, QK_DTYPE_U8};
  for (int k = 0; k < 6; ++k) {
    BAD_F32("d", xn, s2, 2, lossy[k], ldt[k], 4, 0, 0);
    BAD_F32("d", xi, s2, 2, lossy[k], ldt[k], 4, 0, 0);
  }
  /* add_raw */
  assert_status(qk_qkw_writer_add_raw(w, "r", x, 255, QK_DTYPE_F32, s1, 1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_add_raw(w, "r", x, 256, QK_DTYPE_S4, s1, 1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_add_raw(w, "r", x, 32, QK_DTYPE_U4, s1, 1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_add_raw(w, "r", x, 256, (qk_dtype)0, s1, 1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_add_raw(w, "r", NULL, 256, QK_DTYPE_F32, s1, 1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_add_raw(w, "dup", x, 256, QK_DTYPE_F32, s1, 1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_add_raw(NULL, "r", x, 256, QK_DTYPE_F32, s1, 1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_add_f32(NULL, "r", x, s1, 1, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL),
                QK_ERR_INVALID_ARGUMENT);
  /* budget */
  assert_status(qk_qkw_writer_add_budget(w, "dup", x, s2, 2, 20, 0, NULL, NULL, NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_add_budget(w, "b", NULL, s2, 2, 20, 0, NULL, NULL, NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_writer_finish(NULL), QK_ERR_INVALID_ARGUMENT);
  /* exactly 1024 bytes of name is fine; NaN in RAW F32 is fine; still usable */
  char name1024[1025];
  memset(name1024, 'n', 1024);
  name1024[1024] = 0;
  assert_ok(qk_qkw_writer_add_f32(w, name1024, xn, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_f32(w, "sym", x, s2, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 8, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_raw(w, "raw", x, 256, QK_DTYPE_F32, s1, 1));
  qkwt_finish_ok(w);
  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  size_t count = 0;
  assert_ok(qk_qkw_tensor_count(f.r, &count));
  assert_int_equal(count, 4);
  const char* names[4] = {"dup", name1024, "raw", "sym"};
  for (int i = 0; i < 4; ++i) (void)qkwt_find(f.r, names[i]);
  float y[64];
  assert_ok(qk_qkw_decode_f32(f.r, qkwt_find(f.r, "dup"), y, 64));
  assert_memory_equal(y, x, sizeof x);
  qkwt_close(&f);
#undef BAD_F32
}

/* Proves reader argument checks and that nothing is written on error. */
static void test_reader_argument_errors(void** state) {
  (void)state;
  char path[1024];
  snprintf(path, sizeof path, "%s", qkwt_path("rargs.qkw"));
  qkwt_write_mixed(path, 0, 19);
  qk_qkw_reader* r = (qk_qkw_reader*)0x1;
  assert_status(qk_qkw_open_file(NULL, QK_VERIFY_FULL, 0, &r), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_open_file(qkwt_path("missing.qkw"), QK_VERIFY_FULL, 0, &r), QK_ERR_IO);
  assert_status(qk_qkw_open_file(qkwt_dir, QK_VERIFY_FULL, 0, &r), QK_ERR_IO); /* a folder */
  assert_int_equal(qkwt_write_file(qkwt_path("zero.qkw"), "", 0), 0);
  assert_status(qk_qkw_open_file(qkwt_path("zero.qkw"), QK_VERIFY_FULL, 0, &r), QK_ERR_CORRUPT); /* 0 bytes */
  assert_int_equal(qkwt_write_file(qkwt_path("ten.qkw"), "\x89QKW\r\n\x1a\n\x01\x00", 10), 0);
  assert_status(qk_qkw_open_file(qkwt_path("ten.qkw"), QK_VERIFY_LAZY, 0, &r), QK_ERR_CORRUPT);
  assert_status(qk_qkw_open_file(path, (qk_verify_mode)3, 0, &r), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_open_file(path, (qk_verify_mode)-1, 0, &r), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_open_file(path, QK_VERIFY_FULL, 0, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_open_memory(NULL, 100, QK_VERIFY_FULL, 0, &r), QK_ERR_INVALID_ARGUMENT);
  assert_ptr_equal(r, (qk_qkw_reader*)0x1);
  qk_qkw_close(NULL);
  assert_status(qk_qkw_verify(NULL), QK_ERR_INVALID_ARGUMENT);
  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  const size_t idx = qkwt_find(f.r, "b_sym");
  qk_qkw_tensor_info info;
  qkwt_info(f.r, idx, &info);
  const size_t n = (size_t)info.element_count;
  float* dst = (float*)malloc((n + 1) * sizeof(float));
  for (size_t i = 0; i <= n; ++i) dst[i] = 1234.5f;
  assert_status(qk_qkw_decode_f32(f.r, idx, dst, n + 1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_decode_f32(f.r, idx, dst, n - 1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_decode_f32(f.r, idx, NULL, n), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_decode_f32(NULL, idx, dst, n), QK_ERR_INVALID_ARGUMENT);
  for (size_t i = 0; i <= n; ++i) assert_true(dst[i] == 1234.5f);
  uint8_t* codes = (uint8_t*)malloc((size_t)info.code_bytes + 1);
  memset(codes, 0xEE, (size_t)info.code_bytes + 1);
  qk_status st = qk_qkw_read_codes(f.r, idx, codes, (size_t)info.code_bytes - 1);
  assert_true(st == QK_ERR_INVALID_ARGUMENT || st == QK_ERR_BUFFER_TOO_SMALL);
  assert_status(qk_qkw_read_codes(f.r, idx, NULL, (size_t)info.code_bytes), QK_ERR_INVALID_ARGUMENT);
  for (size_t i = 0; i <= info.code_bytes; ++i) assert_int_equal(codes[i], 0xEE);
  float params[64];
  for (int i = 0; i < 64; ++i) params[i] = -9.0f;
  st = qk_qkw_read_params(f.r, idx, params, (size_t)info.param_count - 1);
  assert_true(st == QK_ERR_INVALID_ARGUMENT || st == QK_ERR_BUFFER_TOO_SMALL);
  for (int i = 0; i < 64; ++i) assert_true(params[i] == -9.0f);
  assert_status(qk_qkw_tensor_qparams(f.r, idx, NULL), QK_ERR_INVALID_ARGUMENT);
  const void* p = NULL;
  size_t bytes = 0;
  assert_status(qk_qkw_map_codes(f.r, idx, NULL, &bytes), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qkw_map_codes(f.r, idx, &p, NULL), QK_ERR_INVALID_ARGUMENT);
  /* RAW tensor: tensor_qparams unsupported; read_params with count 0 works */
  const size_t iraw = qkwt_find(f.r, "a_raw");
  qk_qparams* qp = NULL;
  assert_status(qk_qkw_tensor_qparams(f.r, iraw, &qp), QK_ERR_UNSUPPORTED);
  assert_null(qp);
  assert_ok(qk_qkw_read_params(f.r, iraw, params, 0));
  free(dst);
  free(codes);
  qkwt_close(&f);
}

/* ---------------------------------------------------------------------------------------- */
/* readers: memory vs file, verify modes, threads, budget                                    */

static void qkwt_compare_readers(const qk_qkw_reader* a, const qk_qkw_reader* b) {
  size_t na = 0, nb = 0;
  assert_ok(qk_qkw_tensor_count(a, &na));
  assert_ok(qk_qkw_tensor_count(b, &nb));
  assert_int_equal(na, nb);
  for (size_t i = 0; i < na; ++i) {
    qk_qkw_tensor_info ia, ib;
    qkwt_info(a, i, &ia);
    qkwt_info(b, i, &ib);
    assert_memory_equal(&ia, &ib, sizeof ia); /* both were memset to the same pattern first */
    const char *sa, *sb;
    assert_ok(qk_qkw_tensor_name(a, i, &sa));
    assert_ok(qk_qkw_tensor_name(b, i, &sb));
    assert_string_equal(sa, sb);
    const size_t n = (size_t)ia.element_count;
    float* ya = qkwt_decode(a, i, n);
    float* yb = qkwt_decode(b, i, n);
    assert_memory_equal(ya, yb, n * sizeof(float));
    void* ca = qkwt_codes(a, i, (size_t)ia.code_bytes);
    void* cb = qkwt_codes(b, i, (size_t)ia.code_bytes);
    assert_memory_equal(ca, cb, (size_t)ia.code_bytes);
    float* pa = qkwt_params(a, i, (size_t)ia.param_count);
    float* pb = qkwt_params(b, i, (size_t)ia.param_count);
    assert_memory_equal(pa, pb, (size_t)ia.param_count * 4);
    free(ya);
    free(yb);
    free(ca);
    free(cb);
    free(pa);
    free(pb);
  }
  size_t ma = 0, mb = 0;
  assert_ok(qk_qkw_metadata_count(a, &ma));
  assert_ok(qk_qkw_metadata_count(b, &mb));
  assert_int_equal(ma, mb);
  for (size_t i = 0; i < ma; ++i) {
    const char *ka, *va, *kb, *vb;
    assert_ok(qk_qkw_metadata_at(a, i, &ka, &va));
    assert_ok(qk_qkw_metadata_at(b, i, &kb, &vb));
    assert_string_equal(ka, kb);
    assert_string_equal(va, vb);
  }
}

/* Proves open_memory and open_file (every verify mode) report the same tensors, values, codes,
 * params and metadata, and qk_qkw_verify passes on a valid file. */
static void test_memory_vs_file_and_modes(void** state) {
  (void)state;
  const char* path = qkwt_path("mvf.qkw");
  qkwt_write_mixed(path, 0, 19);
  qkwt_file f;
  qkwt_open(&f, path, QK_VERIFY_FULL);
  const qk_verify_mode modes[3] = {QK_VERIFY_FULL, QK_VERIFY_LAZY, QK_VERIFY_NONE};
  for (int m = 0; m < 3; ++m) {
    qk_qkw_reader* fr = NULL;
    qk_qkw_reader* mr = NULL;
    assert_ok(qk_qkw_open_file(path, modes[m], 0, &fr));
    assert_ok(qk_qkw_open_memory(f.img, f.size, modes[m], 0, &mr));
    qkwt_compare_readers(f.r, fr);
    qkwt_compare_readers(f.r, mr);
    assert_ok(qk_qkw_verify(fr));
    assert_ok(qk_qkw_verify(mr));
    qk_qkw_close(fr);
    qk_qkw_close(mr);
  }
  qkwt_close(&f);
}

typedef struct qkwt_thread_arg {
  const qk_qkw_reader* r;
  size_t count;
  float** out;
  uint64_t* sizes;
  int failures;
} qkwt_thread_arg;

static void* qkwt_decode_all(void* p) {
  qkwt_thread_arg* a = (qkwt_thread_arg*)p;
  for (int rep = 0; rep < 3; ++rep)
    for (size_t k = 0; k < a->count; ++k) {
      const size_t i = (k + rep) % a->count;
      if (qk_qkw_decode_f32(a->r, i, a->out[i], (size_t)a->sizes[i]) != QK_OK) ++a->failures;
      void* c = malloc(1 << 16);
      qk_qkw_tensor_info info;
      if (qk_qkw_tensor_info_get(a->r, i, &info) != QK_OK || info.code_bytes > (1 << 16) ||
          qk_qkw_read_codes(a->r, i, c, (size_t)info.code_bytes) != QK_OK)
        ++a->failures;
      free(c);
    }
  return NULL;
}

/* Proves a reader decodes correctly from 2 and 4 threads at once (FULL and LAZY: the first-use
 * checksum check races), with results identical to a single-threaded decode. */
static void test_concurrent_decode(void** state) {
  (void)state;
  const char* path = qkwt_path("threads.qkw");
  qkwt_write_mixed(path, 0, 19);
  qkwt_file ref;
  qkwt_open(&ref, path, QK_VERIFY_FULL);
  size_t count = 0;
  assert_ok(qk_qkw_tensor_count(ref.r, &count));
  uint64_t sizes[16];
  float* expect[16];
  for (size_t i = 0; i < count; ++i) {
    qk_qkw_tensor_info info;
    qkwt_info(ref.r, i, &info);
    sizes[i] = info.element_count;
    expect[i] = qkwt_decode(ref.r, i, (size_t)sizes[i]);
  }
  const qk_verify_mode modes[2] = {QK_VERIFY_LAZY, QK_VERIFY_FULL};
  for (int m = 0; m < 2; ++m)
    for (int nt = 2; nt <= 4; nt += 2) {
      qk_qkw_reader* r = NULL;
      assert_ok(qk_qkw_open_memory(ref.img, ref.size, modes[m], 0, &r));
      pthread_t th[4];
      qkwt_thread_arg args[4];
      float* outs[4][16];
      for (int t = 0; t < nt; ++t) {
        for (size_t i = 0; i < count; ++i) outs[t][i] = (float*)malloc((size_t)(sizes[i] + 1) * sizeof(float));
        args[t].r = r;
        args[t].count = count;
        args[t].out = outs[t];
        args[t].sizes = sizes;
        args[t].failures = 0;
        assert_int_equal(pthread_create(&th[t], NULL, qkwt_decode_all, &args[t]), 0);
      }
      for (int t = 0; t < nt; ++t) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(args[t].failures, 0);
        for (size_t i = 0; i < count; ++i) {
          assert_memory_equal(outs[t][i], expect[i], (size_t)sizes[i] * sizeof(float));
          free(outs[t][i]);
        }
      }
      qk_qkw_close(r);
    }
  for (size_t i = 0; i < count; ++i) free(expect[i]);
  qkwt_close(&ref);
}

/* Proves the memory budget: a compressed tensor whose decoded size exceeds the budget fails
 * with OUT_OF_MEMORY and leaves dst untouched (while a small tensor still decodes), and a budget
 * below the table size makes open fail. */
static void test_memory_budget(void** state) {
  (void)state;
  enum { N = 16384 };
  float* x = (float*)calloc(N, sizeof(float));
  for (int i = 0; i < N; i += 64) x[i] = (float)i; /* very compressible */
  const int64_t shape[2] = {128, 128};
  const float small[4] = {1, 2, 3, 4};
  const int64_t sshape[1] = {4};
  const char* path = qkwt_path("budget_mem.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  assert_ok(qk_qkw_writer_set_zstd_level(w, 3));
  assert_ok(qk_qkw_writer_add_f32(w, "big", x, shape, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_f32(w, "small", small, sshape, 1, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  char* meta = (char*)malloc(20001);
  memset(meta, 'm', 20000);
  meta[20000] = 0;
  assert_ok(qk_qkw_writer_set_metadata(w, "pad", meta));
  free(meta);
  qkwt_finish_ok(w);
  size_t size = 0;
  uint8_t* img = qkwt_read_file(path, &size);
  const uint64_t table_size = qkwb_get(img, size, QKWH_TABLE_SIZE, 8);
  assert_true(table_size > 20000 && table_size < 30000);
  qk_qkw_reader* r = NULL;
  /* budget 40000: table fits, 64 KiB decoded tensor does not */
  assert_ok(qk_qkw_open_memory(img, size, QK_VERIFY_FULL, 40000, &r));
  qk_qkw_tensor_info info;
  const size_t ib = qkwt_find(r, "big");
  qkwt_info(r, ib, &info);
  assert_int_equal(info.compressed, 1);
  float* dst = (float*)malloc(N * sizeof(float));
  for (int i = 0; i < N; ++i) dst[i] = -3.25f;
  assert_status(qk_qkw_decode_f32(r, ib, dst, N), QK_ERR_OUT_OF_MEMORY);
  assert_true(qk_last_error()[0] != 0);
  for (int i = 0; i < N; ++i) assert_true(dst[i] == -3.25f);
  float sy[4];
  assert_ok(qk_qkw_decode_f32(r, qkwt_find(r, "small"), sy, 4));
  assert_memory_equal(sy, small, sizeof small);
  qk_qkw_close(r);
  /* no bound: decodes */
  assert_ok(qk_qkw_open_memory(img, size, QK_VERIFY_LAZY, 0, &r));
  assert_ok(qk_qkw_decode_f32(r, ib, dst, N));
  assert_memory_equal(dst, x, N * sizeof(float));
  qk_qkw_close(r);
  /* budget below the table */
  r = (qk_qkw_reader*)0x1;
  assert_status(qk_qkw_open_memory(img, size, QK_VERIFY_NONE, 4096, &r), QK_ERR_OUT_OF_MEMORY);
  assert_ptr_equal(r, (qk_qkw_reader*)0x1);
  assert_status(qk_qkw_open_file(path, QK_VERIFY_FULL, 4096, &r), QK_ERR_OUT_OF_MEMORY);
  free(dst);
  free(img);
  free(x);
}

/* The builder reproduces the FORMAT.md example byte for byte, and the library's writer agrees
 * with the builder on a RAW file (same tensors, same qk.writer metadata, level 0): two
 * independent readings of the spec. */
static void test_builder_matches_writer(void** state) {
  (void)state;
  const float v[3] = {1, 2, 3};
  const int64_t shape[1] = {3};
  qkw_builder b;
  qkwb_init(&b);
  qkwb_add_raw_f32(&b, "b", 1, shape, v, 3);
  size_t size = 0;
  uint8_t* img = qkwb_build(&b, &size);
  assert_int_equal(size, 204);
  assert_int_equal(qkwb_get(img, size, QKWH_TABLE_SIZE, 8), 121);
  assert_int_equal(qkwb_data_offset(img, size), 192);
  for (size_t i = 185; i < 192; ++i) assert_int_equal(img[i], 0);
  qk_qkw_reader* r = NULL;
  assert_ok(qk_qkw_open_memory(img, size, QK_VERIFY_FULL, 0, &r));
  float y[3];
  assert_ok(qk_qkw_decode_f32(r, 0, y, 3));
  assert_memory_equal(y, v, sizeof v);
  qk_qkw_close(r);
  free(img);
  qkwb_free(&b);

  /* writer vs builder */
  const float w1[6] = {0.5f, -1, 2, 3, 4, 5};
  const int64_t s1[2] = {2, 3};
  const int8_t w2[5] = {1, -2, 3, -4, 5};
  const int64_t s2[1] = {5};
  const char* path = qkwt_path("vs_builder.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  assert_ok(qk_qkw_writer_set_zstd_level(w, 0));
  assert_ok(qk_qkw_writer_add_f32(w, "w1", w1, s1, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_raw(w, "w2", w2, 5, QK_DTYPE_S8, s2, 1));
  assert_ok(qk_qkw_writer_set_metadata(w, "source.x", "y"));
  qkwt_finish_ok(w);
  size_t wsize = 0;
  uint8_t* wimg = qkwt_read_file(path, &wsize);
  qkwb_init(&b);
  qkwb_add_raw_f32(&b, "w1", 2, s1, w1, 6);
  qkwb_add(&b, "w2", 1, s2, 0, QK_DTYPE_S8, -1, 0, 0, NULL, 0, w2, 5);
  char ver[64];
  snprintf(ver, sizeof ver, "quantkit %s", qk_version_string());
  qkwb_meta(&b, "qk.writer", ver);
  qkwb_meta(&b, "source.x", "y");
  img = qkwb_build(&b, &size);
  assert_int_equal(wsize, size);
  for (size_t i = 0; i < size; ++i)
    if (img[i] != wimg[i]) {
      print_error("writer and builder differ first at byte %zu: writer %02x builder %02x\n", i, wimg[i], img[i]);
      fail();
    }
  free(img);
  free(wimg);
  qkwb_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_builder_matches_writer),
      cmocka_unit_test(test_raw_f32_bit_exact),
      cmocka_unit_test(test_raw_f16_bf16),
      cmocka_unit_test(test_raw_add_raw_exact),
      cmocka_unit_test(test_symmetric_per_channel),
      cmocka_unit_test(test_symmetric_per_group),
      cmocka_unit_test(test_affine),
      cmocka_unit_test(test_affine_offset),
      cmocka_unit_test(test_ggml),
      cmocka_unit_test(test_lut),
      cmocka_unit_test(test_budget),
      cmocka_unit_test(test_add_quantized),
      cmocka_unit_test(test_metadata),
      cmocka_unit_test(test_metadata_limit),
      cmocka_unit_test(test_find_and_order),
      cmocka_unit_test(test_shape_query),
      cmocka_unit_test(test_map_codes),
      cmocka_unit_test(test_alignment),
      cmocka_unit_test(test_determinism),
      cmocka_unit_test(test_atomicity),
      cmocka_unit_test(test_writer_argument_errors),
      cmocka_unit_test(test_reader_argument_errors),
      cmocka_unit_test(test_memory_vs_file_and_modes),
      cmocka_unit_test(test_concurrent_decode),
      cmocka_unit_test(test_memory_budget),
  };
  /* QKW_TEST_FILTER / QKW_TEST_SKIP: cmocka glob patterns to run or skip tests by name */
  if (getenv("QKW_TEST_FILTER")) cmocka_set_test_filter(getenv("QKW_TEST_FILTER"));
  if (getenv("QKW_TEST_SKIP")) cmocka_set_skip_filter(getenv("QKW_TEST_SKIP"));
  return cmocka_run_group_tests(tests, qkwt_setup_dir, qkwt_teardown_dir);
}
