/* SPDX-License-Identifier: Apache-2.0 */
/* Hostile .qkw files, built by hand from docs/FORMAT.md (qkw_builder.c): each must be rejected
 * with the specific status (QK_ERR_CORRUPT, or QK_ERR_UNSUPPORTED where the spec says so) and a
 * message, at open (table rules: every mode) or at decode (values, and chunk checks in LAZY/NONE),
 * never crash, hang or allocate what the file claims. Plus two sweeps over a small file written
 * by the library: every truncation, and every single-byte flip (xor 0xFF and 0x01). */
#include <stdlib.h>

#include "qkw_builder.h"
#include "qkw_test_common.h"

static char g_case[160];
static int g_needle_misses; /* messages that do not name the expected field (checked per test) */
static const qk_verify_mode k_modes[3] = {QK_VERIFY_FULL, QK_VERIFY_LAZY, QK_VERIFY_NONE};

/* Opening must fail with `expected` in every mode, nothing written, a message naming `needle`. */
static void expect_open_fail(const uint8_t* img, size_t size, qk_status expected, const char* needle) {
  for (int m = 0; m < 3; ++m) {
    qk_qkw_reader* r = (qk_qkw_reader*)0x1;
    qk_clear_error();
    const qk_status st = qk_qkw_open_memory(img, size, k_modes[m], 0, &r);
    if (st != expected) {
      print_error("[%s] mode %d: open returned %s, expected %s (%s)\n", g_case, m, qk_status_string(st),
                  qk_status_string(expected), qk_last_error());
      if (st == QK_OK) qk_qkw_close(r);
      fail();
    }
    assert_ptr_equal(r, (qk_qkw_reader*)0x1);
    assert_true(qk_last_error()[0] != 0);
    if (needle && m == 0 && strstr(qk_last_error(), needle) == NULL) {
      print_error("[%s] message \"%s\" does not name \"%s\"\n", g_case, qk_last_error(), needle);
      ++g_needle_misses;
    }
  }
}

/* Tensor `name` must be rejected with `expected`: either at open, or at decode (dst untouched). */
static void expect_tensor_fail(const uint8_t* img, size_t size, const char* name, qk_status expected) {
  for (int m = 0; m < 3; ++m) {
    qk_qkw_reader* r = NULL;
    qk_clear_error();
    qk_status st = qk_qkw_open_memory(img, size, k_modes[m], 0, &r);
    if (st != QK_OK) {
      if (st != expected) {
        print_error("mode %d: open returned %s, expected %s (%s)\n", m, qk_status_string(st),
                    qk_status_string(expected), qk_last_error());
        fail();
      }
      assert_true(qk_last_error()[0] != 0);
      continue;
    }
    size_t idx = 0;
    assert_ok(qk_qkw_find(r, name, &idx));
    qk_qkw_tensor_info info;
    assert_ok(qk_qkw_tensor_info_get(r, idx, &info));
    const size_t n = info.element_count < 1000000 ? (size_t)info.element_count : 0;
    float* dst = (float*)malloc((n + 1) * sizeof(float));
    for (size_t i = 0; i <= n; ++i) dst[i] = 777.0f;
    qk_clear_error();
    st = qk_qkw_decode_f32(r, idx, dst, n);
    if (st != expected) {
      print_error("mode %d: decode of %s returned %s, expected %s (%s)\n", m, name, qk_status_string(st),
                  qk_status_string(expected), qk_last_error());
      fail();
    }
    assert_true(qk_last_error()[0] != 0);
    for (size_t i = 0; i <= n; ++i) assert_true(dst[i] == 777.0f);
    free(dst);
    qk_qkw_close(r);
  }
}

/* Opens in every mode and decodes every tensor successfully. */
static void expect_valid(const uint8_t* img, size_t size) {
  for (int m = 0; m < 3; ++m) {
    qk_qkw_reader* r = NULL;
    assert_ok(qk_qkw_open_memory(img, size, k_modes[m], 0, &r));
    size_t count = 0;
    assert_ok(qk_qkw_tensor_count(r, &count));
    for (size_t i = 0; i < count; ++i) {
      qk_qkw_tensor_info info;
      assert_ok(qk_qkw_tensor_info_get(r, i, &info));
      float* y = (float*)malloc((size_t)(info.element_count + 1) * sizeof(float));
      assert_ok(qk_qkw_decode_f32(r, i, y, (size_t)info.element_count));
      free(y);
    }
    assert_ok(qk_qkw_verify(r));
    qk_qkw_close(r);
  }
}

/* Base file: a RAW F32 {2,3}, b SYMMETRIC {2,4} axis 0 levels 127, c RAW F32 {64} zstd; metadata. */
static const float k_a[6] = {1, -2, 3.5f, 0, -0.0f, 6};
static const float k_b_scales[2] = {0.5f, 0.25f};
static const int8_t k_b_codes[8] = {1, -1, 127, -127, 0, 5, -5, 100};
static void base(qkw_builder* b) {
  static float c[64];
  for (int i = 0; i < 64; ++i) c[i] = (float)(i % 4);
  qkwb_init(b);
  const int64_t sa[2] = {2, 3}, sb[2] = {2, 4}, sc[1] = {64};
  qkwb_add_raw_f32(b, "a", 2, sa, k_a, 6);
  qkwb_add(b, "b", 2, sb, 1, 4, 0, 127, 0, k_b_scales, 2, k_b_codes, 8);
  const size_t ic = qkwb_add_raw_f32(b, "c", 1, sc, c, 64);
  qkwb_compress(b, ic, 3, 1, 0, 4);
  qkwb_meta(b, "k1", "v1");
  qkwb_meta(b, "k2", "v2");
}
static uint8_t* base_img(size_t* size) {
  qkw_builder b;
  base(&b);
  uint8_t* img = qkwb_build(&b, size);
  qkwb_free(&b);
  return img;
}

/* Proves the base image and several hand-built variants are valid (the builder is right). */
static void test_builder_valid_files(void** state) {
  (void)state;
  size_t size = 0;
  uint8_t* img = base_img(&size);
  expect_valid(img, size);
  qk_qkw_reader* r = NULL;
  assert_ok(qk_qkw_open_memory(img, size, QK_VERIFY_FULL, 0, &r));
  float y[8];
  assert_ok(qk_qkw_decode_f32(r, 1, y, 8));
  for (int i = 0; i < 8; ++i) assert_true(y[i] == (float)k_b_codes[i] * k_b_scales[i / 4]);
  qk_qkw_close(r);
  free(img);
  /* byte-shuffled RAW F32, fractional affine zero point, AFFINE_OFFSET scale 0, version minor 9,
   * pool slack, extra dims slots within 8 x tensor_count, 65536-byte value, 256-byte key */
  qkw_builder b;
  qkwb_init(&b);
  b.version_minor = 9;
  b.extra_pool = 5;
  b.extra_dims = 3;
  float x[64];
  for (int i = 0; i < 64; ++i) x[i] = (float)(i % 7) * 0.5f;
  const int64_t s[2] = {2, 32};
  size_t i = qkwb_add_raw_f32(&b, "shuf", 2, s, x, 64);
  assert_int_equal(qkwb_compress(&b, i, 19, 1, 1, 4), 0);
  const float aff[4] = {0.5f, 0.25f, 2.5f, -1.5f};
  uint8_t codes[64];
  for (int k = 0; k < 64; ++k) codes[k] = (uint8_t)k;
  qkwb_add(&b, "aff", 2, s, 2, 5, 0, 0, 0, aff, 4, codes, 64);
  const float off[2] = {0.0f, 3.0f};
  qkwb_add(&b, "off0", 1, s + 1, 3, 5, -1, 0, 0, off, 2, codes, 32);
  char* big = (char*)malloc(65537);
  memset(big, 'v', 65536);
  big[65536] = 0;
  qkwb_meta(&b, "big", big);
  char key[257];
  memset(key, 'k', 256);
  key[256] = 0;
  qkwb_meta(&b, key, "x");
  img = qkwb_build(&b, &size);
  expect_valid(img, size);
  assert_ok(qk_qkw_open_memory(img, size, QK_VERIFY_FULL, 0, &r));
  float z[64];
  size_t idx = 0;
  assert_ok(qk_qkw_find(r, "shuf", &idx));
  assert_ok(qk_qkw_decode_f32(r, idx, z, 64));
  assert_memory_equal(z, x, sizeof x);
  assert_ok(qk_qkw_find(r, "aff", &idx));
  assert_ok(qk_qkw_decode_f32(r, idx, z, 64));
  for (int k = 0; k < 64; ++k) assert_true(z[k] == ((float)k - aff[2 + k / 32]) * aff[k / 32]);
  assert_ok(qk_qkw_find(r, "off0", &idx));
  assert_ok(qk_qkw_decode_f32(r, idx, z, 32));
  for (int k = 0; k < 32; ++k) assert_true(z[k] == 3.0f);
  uint32_t vmin = 0;
  assert_ok(qk_qkw_file_info(r, NULL, &vmin, NULL, NULL));
  assert_int_equal(vmin, 9);
  qk_qkw_close(r);
  free(img);
  free(big);
  qkwb_free(&b);
}

/* ------------------------------------------------------------------------------------------- */

static void test_not_qkw(void** state) {
  (void)state;
  g_needle_misses = 0;
  g_case[0] = 0;
  size_t size = 0;
  uint8_t* img = base_img(&size);
  expect_open_fail(img, 0, QK_ERR_CORRUPT, NULL);
  expect_open_fail(img, 10, QK_ERR_CORRUPT, NULL);
  expect_open_fail(img, 63, QK_ERR_CORRUPT, NULL);
  for (int i = 0; i < 8; ++i) {
    uint8_t* m = (uint8_t*)malloc(size);
    memcpy(m, img, size);
    m[i] ^= 0x20;
    qkwb_resign(m, size);
    expect_open_fail(m, size, QK_ERR_CORRUPT, "magic");
    free(m);
  }
  /* pickle, zip, JSON, safetensors starts, padded to 256 bytes */
  const char* starts[4] = {"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}", "PK\x03\x04\x14\x00\x00\x00", "{\"weights\": [1, 2]}",
                           "\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":{}}"};
  const size_t lens[4] = {12, 8, 19, 16};
  for (int k = 0; k < 4; ++k) {
    uint8_t buf[256];
    memset(buf, ' ', sizeof buf);
    memcpy(buf, starts[k], lens[k]);
    expect_open_fail(buf, sizeof buf, QK_ERR_CORRUPT, "magic");
  }
  free(img);
  assert_int_equal(g_needle_misses, 0);
}

typedef void (*mutate_fn)(uint8_t* img, size_t size);

/* Applies `fn` to a copy of the base image, optionally re-signs, expects open to fail. */
static void run_open_case(const char* what, mutate_fn fn, int resign, qk_status expected, const char* needle) {
  size_t size = 0;
  uint8_t* img = base_img(&size);
  fn(img, size);
  if (resign) qkwb_resign(img, size);
  snprintf(g_case, sizeof g_case, "%s%s", what, resign ? " (re-signed)" : "");
  expect_open_fail(img, size, expected, needle);
  free(img);
}

#define PUT(field, width, value) qkwb_put(img, size, (field), (width), (uint64_t)(value))
#define E(i, f) (qkwb_entry_off(img, size, (i)) + (f))
#define MUT(name, body) \
  static void name(uint8_t* img, size_t size) {     \
    (void)size;                                     \
    body;                                           \
  }

MUT(m_version2, PUT(QKWH_VERSION_MAJOR, 2, 2))
MUT(m_version0, PUT(QKWH_VERSION_MAJOR, 2, 0))
MUT(m_flags1, PUT(QKWH_REQUIRED_FLAGS, 4, 1))
MUT(m_flags_hi, PUT(QKWH_REQUIRED_FLAGS, 4, 0x80000000u))
MUT(m_table_offset, PUT(QKWH_TABLE_OFFSET, 8, 65))
MUT(m_table_offset0, PUT(QKWH_TABLE_OFFSET, 8, 0))
MUT(m_table_huge, PUT(QKWH_TABLE_SIZE, 8, (UINT64_C(64) << 20) + 16))
MUT(m_table_max, PUT(QKWH_TABLE_SIZE, 8, UINT64_MAX))
MUT(m_table_past_file, PUT(QKWH_TABLE_SIZE, 8, size))
MUT(m_align0, PUT(QKWH_ALIGNMENT, 4, 0))
MUT(m_align8, PUT(QKWH_ALIGNMENT, 4, 8))
MUT(m_align24, PUT(QKWH_ALIGNMENT, 4, 24))
MUT(m_align96, PUT(QKWH_ALIGNMENT, 4, 96))
MUT(m_align2m, PUT(QKWH_ALIGNMENT, 4, 2097152))
MUT(m_align2g, PUT(QKWH_ALIGNMENT, 4, 0x80000000u))
MUT(m_align32, PUT(QKWH_ALIGNMENT, 4, 32)) /* valid power of two, but data_offset no longer canonical */
MUT(m_data_plus, PUT(QKWH_DATA_OFFSET, 8, qkwb_data_offset(img, size) + 64))
MUT(m_data_minus, PUT(QKWH_DATA_OFFSET, 8, qkwb_data_offset(img, size) - 1))
MUT(m_data_huge, PUT(QKWH_DATA_OFFSET, 8, UINT64_MAX - 3))
MUT(m_count_hdr, PUT(QKWH_TENSOR_COUNT, 4, 2))
MUT(m_count_tab, PUT(QKWH_SIZE + QKWT_TENSOR_COUNT, 4, 2))
MUT(m_count_huge, PUT(QKWH_TENSOR_COUNT, 4, 1048577); PUT(QKWH_SIZE + QKWT_TENSOR_COUNT, 4, 1048577))
MUT(m_dims_count, PUT(QKWH_SIZE + QKWT_DIMS_COUNT, 4, qkwb_get(img, size, QKWH_SIZE + QKWT_DIMS_COUNT, 4) + 1))
MUT(m_meta_count, PUT(QKWH_SIZE + QKWT_META_COUNT, 4, 3))
MUT(m_meta_count_huge, PUT(QKWH_SIZE + QKWT_META_COUNT, 4, 0xFFFFFFFFu))
MUT(m_pool_size, PUT(QKWH_SIZE + QKWT_POOL_SIZE, 4, qkwb_get(img, size, QKWH_SIZE + QKWT_POOL_SIZE, 4) - 1))
MUT(m_meta_xxh, img[QKWH_META_XXH64] ^= 1)
MUT(m_table_byte, img[qkwb_pool_off(img, size)] ^= 1) /* no re-sign: meta_xxh64 */
MUT(m_name_off, PUT(E(1, QKWE_NAME_OFF), 4, 1000))
MUT(m_name_len0, PUT(E(1, QKWE_NAME_LEN), 4, 0))
MUT(m_name_len_pool, PUT(E(2, QKWE_NAME_LEN), 4, 100))
MUT(m_ndim9, img[E(0, QKWE_NDIM)] = 9)
MUT(m_dims_index, PUT(E(2, QKWE_DIMS_INDEX), 4, 5))
MUT(m_dims_index_huge, PUT(E(0, QKWE_DIMS_INDEX), 4, 0xFFFFFFFFu))
MUT(m_neg_dim, PUT(qkwb_dims_off(img, size), 8, (uint64_t)-2))
MUT(m_decoded_size, PUT(E(0, QKWE_DECODED_SIZE), 8, 28))
MUT(m_stored_size, PUT(E(0, QKWE_STORED_SIZE), 8, 23))
MUT(m_stored_huge, PUT(E(2, QKWE_STORED_SIZE), 8, UINT64_MAX))
MUT(m_offset_plus, PUT(E(1, QKWE_OFFSET), 8, qkwb_get(img, size, E(1, QKWE_OFFSET), 8) + 64))
MUT(m_offset_overlap, PUT(E(1, QKWE_OFFSET), 8, 0))
MUT(m_offset_huge, PUT(E(2, QKWE_OFFSET), 8, UINT64_C(1) << 63))
MUT(m_offset_first, PUT(E(0, QKWE_OFFSET), 8, 64))
MUT(m_reserved8, img[E(1, QKWE_RESERVED8)] = 1)
MUT(m_reserved64, PUT(E(1, QKWE_RESERVED64), 8, 1))
MUT(m_reserved64_hi, PUT(E(2, QKWE_RESERVED64) + 7, 1, 0x80))
MUT(m_file_size_plus, PUT(QKWH_FILE_SIZE, 8, size + 1))
MUT(m_axis_raw, PUT(E(0, QKWE_AXIS), 2, 0))
MUT(m_levels_raw, PUT(E(0, QKWE_LEVELS), 4, 1))
MUT(m_group_raw, PUT(E(0, QKWE_GROUP_SIZE), 8, 32))
MUT(m_sym_levels0, PUT(E(1, QKWE_LEVELS), 4, 0))
MUT(m_sym_levels128, PUT(E(1, QKWE_LEVELS), 4, 128))
MUT(m_sym_axis2, PUT(E(1, QKWE_AXIS), 2, 2))
MUT(m_sym_axis_neg, PUT(E(1, QKWE_AXIS), 2, 0xFFFF))
MUT(m_sym_group_neg, PUT(E(1, QKWE_GROUP_SIZE), 8, (uint64_t)-1))
MUT(m_sym_dtype, img[E(1, QKWE_DTYPE)] = 5)
MUT(m_filter_entropy0, img[E(0, QKWE_FILTER)] = 1)
MUT(m_filter_sym, img[E(1, QKWE_FILTER)] = 1)
MUT(m_params_size_raw, PUT(E(0, QKWE_PARAMS_STORED_SIZE), 8, 4))
MUT(m_params_size_sym, PUT(E(1, QKWE_PARAMS_STORED_SIZE), 8, 4))
MUT(m_params_size_zstd, PUT(E(2, QKWE_PARAMS_STORED_SIZE), 8, 3))
MUT(m_dtype6, img[E(0, QKWE_DTYPE)] = 6)
MUT(m_key_off, PUT(qkwb_metaref_off(img, size, 0) + QKWM_KEY_OFF, 4, 5000))
MUT(m_key_len0, PUT(qkwb_metaref_off(img, size, 0) + QKWM_KEY_LEN, 4, 0))
MUT(m_value_len, PUT(qkwb_metaref_off(img, size, 1) + QKWM_VALUE_LEN, 4, 1000))
MUT(m_sqnr_nan_ok, qkwb_put_f64(img, size, E(0, QKWE_SQNR_DB), 0.0 / 0.0)) /* informative: still valid */

/* Proves header rules: versions and flags (UNSUPPORTED), and every size/offset field (CORRUPT),
 * with and without re-signing (the rule fires, not only the checksum). */
static void test_header_fields(void** state) {
  (void)state;
  g_needle_misses = 0;
  g_case[0] = 0;
  for (int rs = 0; rs <= 1; ++rs) {
    run_open_case("version_major 2", m_version2, rs, QK_ERR_UNSUPPORTED, "version");
    run_open_case("version_major 0", m_version0, rs, QK_ERR_UNSUPPORTED, "version");
    run_open_case("required_flags 1", m_flags1, rs, QK_ERR_UNSUPPORTED, "required_flags");
    run_open_case("required_flags bit 31", m_flags_hi, rs, QK_ERR_UNSUPPORTED, "required_flags");
    run_open_case("table_offset 65", m_table_offset, rs, QK_ERR_CORRUPT, "table_offset");
    run_open_case("table_offset 0", m_table_offset0, rs, QK_ERR_CORRUPT, "table_offset");
    run_open_case("table_size > 64 MiB", m_table_huge, rs, QK_ERR_CORRUPT, "table_size");
    run_open_case("table_size max", m_table_max, rs, QK_ERR_CORRUPT, "table_size");
    run_open_case("table_size past file", m_table_past_file, rs, QK_ERR_CORRUPT, "table_size");
    run_open_case("alignment 0", m_align0, rs, QK_ERR_CORRUPT, "alignment");
    run_open_case("alignment 8", m_align8, rs, QK_ERR_CORRUPT, "alignment");
    run_open_case("alignment 24", m_align24, rs, QK_ERR_CORRUPT, "alignment");
    run_open_case("alignment 96", m_align96, rs, QK_ERR_CORRUPT, "alignment");
    run_open_case("alignment 2 MiB", m_align2m, rs, QK_ERR_CORRUPT, "alignment");
    run_open_case("alignment 2^31", m_align2g, rs, QK_ERR_CORRUPT, "alignment");
    run_open_case("alignment 32 (data_offset not canonical)", m_align32, rs, QK_ERR_CORRUPT, NULL);
    run_open_case("data_offset + 64", m_data_plus, rs, QK_ERR_CORRUPT, "data_offset");
    run_open_case("data_offset - 1", m_data_minus, rs, QK_ERR_CORRUPT, "data_offset");
    run_open_case("data_offset huge", m_data_huge, rs, QK_ERR_CORRUPT, "data_offset");
    run_open_case("file_size + 1", m_file_size_plus, rs, QK_ERR_CORRUPT, "file_size");
    run_open_case("header tensor_count", m_count_hdr, rs, QK_ERR_CORRUPT, rs ? "tensor_count" : "meta_xxh64");
    run_open_case("tensor_count > 2^20", m_count_huge, rs, QK_ERR_CORRUPT, "tensor_count");
  }
  run_open_case("meta_xxh64 bit", m_meta_xxh, 0, QK_ERR_CORRUPT, "meta_xxh64");
  run_open_case("pool byte without re-sign", m_table_byte, 0, QK_ERR_CORRUPT, "meta_xxh64");
  /* truncated / appended */
  size_t size = 0;
  uint8_t* img = base_img(&size);
  expect_open_fail(img, size - 1, QK_ERR_CORRUPT, "file_size");
  uint8_t* longer = (uint8_t*)calloc(size + 1, 1);
  memcpy(longer, img, size);
  expect_open_fail(longer, size + 1, QK_ERR_CORRUPT, "file_size");
  qkwb_set_file_size(longer, size + 1); /* consistent header, but slack after the last chunk */
  expect_open_fail(longer, size + 1, QK_ERR_CORRUPT, NULL);
  free(longer);
  free(img);
  /* a real table larger than 64 MiB */
  const size_t big = (64u << 20) + 4096;
  uint8_t* huge = (uint8_t*)calloc(big, 1);
  assert_non_null(huge);
  memcpy(huge, QKWB_MAGIC, 8);
  qkwb_put(huge, big, QKWH_VERSION_MAJOR, 2, 1);
  qkwb_put(huge, big, QKWH_ALIGNMENT, 4, 64);
  qkwb_put(huge, big, QKWH_TABLE_OFFSET, 8, 64);
  qkwb_put(huge, big, QKWH_TABLE_SIZE, 8, big - 64);
  qkwb_put(huge, big, QKWH_DATA_OFFSET, 8, big);
  qkwb_put(huge, big, QKWH_FILE_SIZE, 8, big);
  qkwb_put(huge, big, QKWH_SIZE + QKWT_POOL_SIZE, 4, big - 64 - 16);
  qkwb_resign_meta(huge, big);
  expect_open_fail(huge, big, QK_ERR_CORRUPT, "table_size");
  free(huge);
  /* version_minor is free */
  img = base_img(&size);
  qkwb_put(img, size, QKWH_VERSION_MINOR, 2, 0xFFFF);
  qkwb_resign(img, size);
  expect_valid(img, size);
  m_sqnr_nan_ok(img, size);
  qkwb_resign(img, size);
  expect_valid(img, size);
  free(img);
  assert_int_equal(g_needle_misses, 0);
}

/* Proves table rules: counts and size arithmetic, name/key ranges, dims, reserved fields,
 * placement (canonical offsets, overlap, outside the file), codec parameter rules, metadata. */
static void test_table_fields(void** state) {
  (void)state;
  g_needle_misses = 0;
  g_case[0] = 0;
  for (int rs = 0; rs <= 1; ++rs) {
    run_open_case("table tensor_count", m_count_tab, rs, QK_ERR_CORRUPT, rs ? "tensor_count" : "meta_xxh64");
    run_open_case("dims_count + 1", m_dims_count, rs, QK_ERR_CORRUPT, NULL);
    run_open_case("meta_count 3", m_meta_count, rs, QK_ERR_CORRUPT, NULL);
    run_open_case("meta_count 2^32-1", m_meta_count_huge, rs, QK_ERR_CORRUPT, NULL);
    run_open_case("string_pool_size - 1", m_pool_size, rs, QK_ERR_CORRUPT, NULL);
  }
  struct {
    const char* what;
    mutate_fn fn;
    const char* needle;
  } cases[] = {
      {"name_off outside pool", m_name_off, "name"},
      {"name_len 0", m_name_len0, "name"},
      {"name_len past pool", m_name_len_pool, "name"},
      {"ndim 9", m_ndim9, "ndim"},
      {"dims_index past dims", m_dims_index, NULL},
      {"dims_index huge", m_dims_index_huge, NULL},
      {"negative dim", m_neg_dim, NULL},
      {"decoded_size 28 for RAW F32 {2,3}", m_decoded_size, "decoded_size"},
      {"stored_size 23", m_stored_size, NULL},
      {"stored_size max", m_stored_huge, NULL},
      {"offset not canonical", m_offset_plus, "offset"},
      {"overlapping chunks", m_offset_overlap, "offset"},
      {"offset 2^63", m_offset_huge, "offset"},
      {"first offset 64", m_offset_first, "offset"},
      {"reserved u8", m_reserved8, "reserved"},
      {"reserved u64", m_reserved64, "reserved"},
      {"reserved u64 top byte", m_reserved64_hi, "reserved"},
      {"RAW axis 0", m_axis_raw, "axis"},
      {"RAW levels 1", m_levels_raw, "levels"},
      {"RAW group_size 32", m_group_raw, "group_size"},
      {"SYMMETRIC levels 0", m_sym_levels0, "levels"},
      {"SYMMETRIC levels 128", m_sym_levels128, "levels"},
      {"SYMMETRIC axis 2 of ndim 2", m_sym_axis2, "axis"},
      {"SYMMETRIC axis -1", m_sym_axis_neg, "axis"},
      {"SYMMETRIC group -1", m_sym_group_neg, "group_size"},
      {"SYMMETRIC dtype U8", m_sym_dtype, "dtype"},
      {"filter 1 with entropy 0", m_filter_entropy0, "shuffle"},
      {"filter 1 on SYMMETRIC", m_filter_sym, "shuffle"},
      {"params_stored_size 4 on RAW", m_params_size_raw, "params_stored_size"},
      {"params_stored_size 4 (should be 8)", m_params_size_sym, "params_stored_size"},
      {"params_stored_size 3 on zstd RAW", m_params_size_zstd, "params_stored_size"},
      {"key_off outside pool", m_key_off, NULL},
      {"key_len 0", m_key_len0, "key"},
      {"value_len past pool", m_value_len, NULL},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; ++k) run_open_case(cases[k].what, cases[k].fn, 1, QK_ERR_CORRUPT, cases[k].needle);
  /* dtype 6 (S4) "is not used in files": either the file is corrupt or that tensor unsupported */
  size_t size = 0;
  uint8_t* img = base_img(&size);
  m_dtype6(img, size);
  qkwb_resign(img, size);
  qk_qkw_reader* r = NULL;
  const qk_status st = qk_qkw_open_memory(img, size, QK_VERIFY_FULL, 0, &r);
  if (st == QK_OK) {
    qk_qkw_tensor_info info;
    assert_ok(qk_qkw_tensor_info_get(r, 0, &info));
    assert_int_equal(info.status, QK_ERR_UNSUPPORTED);
    float y[6];
    assert_status(qk_qkw_decode_f32(r, 0, y, 6), QK_ERR_UNSUPPORTED);
    qk_qkw_close(r);
  } else {
    assert_int_equal(st, QK_ERR_CORRUPT);
  }
  free(img);
  assert_int_equal(g_needle_misses, 0);
}

/* A one-tensor file with the given fields and chunk (entropy 0), built by hand. */
static uint8_t* one(size_t* size, const char* name, size_t ndim, const int64_t* dims, uint8_t codec, uint8_t dtype,
                    int16_t axis, int32_t levels, int64_t group, const float* params, size_t np, const void* codes,
                    size_t nc) {
  qkw_builder b;
  qkwb_init(&b);
  qkwb_add(&b, name, ndim, dims, codec, dtype, axis, levels, group, params, np, codes, nc);
  uint8_t* img = qkwb_build(&b, size);
  qkwb_free(&b);
  return img;
}

/* Proves names, shapes and element counts built into otherwise consistent files are rejected. */
static void test_names_and_shapes(void** state) {
  (void)state;
  g_needle_misses = 0;
  g_case[0] = 0;
  const float v[4] = {1, 2, 3, 4};
  const int64_t s1[1] = {1};
  size_t size = 0;
  uint8_t* img;
  const struct {
    const char* bytes;
    size_t len;
  } bad_names[] = {{"\xC0\xAF", 2}, {"\xE0\x80\xAF", 3}, {"\xED\xA0\x80", 3}, {"\xED\xBF\xBF", 3},
                   {"\xF4\x90\x80\x80", 4}, {"\xF8\x88\x80\x80\x80", 5}, {"a\0b", 3}, {"\xC3", 1}, {"\x80", 1}};
  for (size_t k = 0; k < sizeof bad_names / sizeof *bad_names; ++k) {
    qkw_builder b;
    qkwb_init(&b);
    qkwb_add_n(&b, bad_names[k].bytes, bad_names[k].len, 1, s1, 0, 1, -1, 0, 0, NULL, 0, v, 4);
    img = qkwb_build(&b, &size);
    expect_open_fail(img, size, QK_ERR_CORRUPT, "name");
    free(img);
    qkwb_free(&b);
  }
  char longname[1025];
  memset(longname, 'x', 1025);
  {
    qkw_builder b;
    qkwb_init(&b);
    qkwb_add_n(&b, longname, 1025, 1, s1, 0, 1, -1, 0, 0, NULL, 0, v, 4);
    img = qkwb_build(&b, &size);
    expect_open_fail(img, size, QK_ERR_CORRUPT, "name");
    free(img);
    qkwb_free(&b);
    qkwb_init(&b); /* 1024 is fine */
    qkwb_add_n(&b, longname, 1024, 1, s1, 0, 1, -1, 0, 0, NULL, 0, v, 4);
    img = qkwb_build(&b, &size);
    expect_valid(img, size);
    free(img);
    qkwb_free(&b);
  }
  /* unsorted and duplicate names */
  for (int dup = 0; dup <= 1; ++dup) {
    qkw_builder b;
    qkwb_init(&b);
    b.keep_order = 1;
    qkwb_add_raw_f32(&b, "b", 1, s1, v, 1);
    qkwb_add_raw_f32(&b, dup ? "b" : "a", 1, s1, v, 1);
    img = qkwb_build(&b, &size);
    expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
    free(img);
    qkwb_free(&b);
  }
  { /* prefix order: "ab" before "a" is unsorted */
    qkw_builder b;
    qkwb_init(&b);
    b.keep_order = 1;
    qkwb_add_raw_f32(&b, "ab", 1, s1, v, 1);
    qkwb_add_raw_f32(&b, "a", 1, s1, v, 1);
    img = qkwb_build(&b, &size);
    expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
    free(img);
    qkwb_free(&b);
  }
  /* ndim 9 (real dims), negative dim, > 2^48 elements, u64 overflow, dims_count > 8 x count */
  const int64_t d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 4};
  img = one(&size, "t", 9, d9, 0, 1, -1, 0, 0, NULL, 0, v, 16); /* also dims_count 9 > 8 x 1 */
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  const int64_t dneg[2] = {-1, -4};
  img = one(&size, "t", 2, dneg, 0, 1, -1, 0, 0, NULL, 0, v, 16);
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  const int64_t d49[3] = {INT64_C(1) << 24, INT64_C(1) << 24, 2};
  img = one(&size, "t", 3, d49, 0, 4, -1, 0, 0, NULL, 0, v, 16);
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  const int64_t dovf[4] = {INT64_C(1) << 32, INT64_C(1) << 32, 16, 0x7FFFFFFF};
  img = one(&size, "t", 4, dovf, 0, 9, -1, 0, 0, NULL, 0, v, 16);
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  const int64_t d48[2] = {INT64_C(1) << 24, INT64_C(1) << 24}; /* 2^48 S64 elements: size 2^51 != chunk */
  img = one(&size, "t", 2, d48, 0, 9, -1, 0, 0, NULL, 0, v, 16);
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  {
    qkw_builder b;
    qkwb_init(&b);
    b.extra_dims = 9; /* 9 slots for one scalar tensor: > 8 x tensor_count */
    qkwb_add(&b, "t", 0, NULL, 0, 1, -1, 0, 0, NULL, 0, v, 4);
    img = qkwb_build(&b, &size);
    expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
    free(img);
    qkwb_free(&b);
  }
  /* raw chunk whose stored size differs from decoded size (both consistent with placement) */
  {
    qkw_builder b;
    qkwb_init(&b);
    const int64_t s4[1] = {4};
    uint8_t bytes[17] = {0};
    qkwb_add(&b, "t", 1, s4, 0, 1, -1, 0, 0, NULL, 0, bytes, 17);
    b.t[0].decoded_size = 16;
    img = qkwb_build(&b, &size);
    expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
    free(img);
    qkwb_free(&b);
  }
  assert_int_equal(g_needle_misses, 0);
}

/* Proves padding must be zero (FULL at open; LAZY/NONE: qk_qkw_verify) and chunk checksums are
 * checked (FULL at open, LAZY at first use and every later use, NONE never). */
static void test_padding_and_checksums(void** state) {
  (void)state;
  size_t size = 0;
  uint8_t* img = base_img(&size);
  const uint64_t table_end = 64 + qkwb_get(img, size, QKWH_TABLE_SIZE, 8);
  const uint64_t data_offset = qkwb_data_offset(img, size);
  assert_true(data_offset > table_end);
  const uint64_t chunk0_end = qkwb_chunk_off(img, size, 0) + 24;
  assert_true(qkwb_chunk_off(img, size, 1) > chunk0_end);
  const uint64_t where[2] = {table_end, chunk0_end};
  for (int k = 0; k < 2; ++k) {
    img[where[k]] = 0x01;
    qk_qkw_reader* r = NULL;
    assert_status(qk_qkw_open_memory(img, size, QK_VERIFY_FULL, 0, &r), QK_ERR_CORRUPT);
    for (int m = 1; m < 3; ++m) {
      const qk_status st = qk_qkw_open_memory(img, size, k_modes[m], 0, &r);
      if (st == QK_OK) {
        assert_status(qk_qkw_verify(r), QK_ERR_CORRUPT);
        qk_qkw_close(r);
      } else {
        assert_int_equal(st, QK_ERR_CORRUPT);
      }
    }
    img[where[k]] = 0;
  }
  /* chunk byte of tensor "a" flipped, not re-signed */
  img[qkwb_chunk_off(img, size, 0) + 5] ^= 0x40;
  qk_qkw_reader* r = NULL;
  assert_status(qk_qkw_open_memory(img, size, QK_VERIFY_FULL, 0, &r), QK_ERR_CORRUPT);
  assert_error_mentions("a");
  assert_ok(qk_qkw_open_memory(img, size, QK_VERIFY_LAZY, 0, &r));
  float y[64];
  for (int rep = 0; rep < 2; ++rep) assert_status(qk_qkw_decode_f32(r, 0, y, 6), QK_ERR_CORRUPT);
  assert_status(qk_qkw_read_codes(r, 0, y, 24), QK_ERR_CORRUPT);
  assert_ok(qk_qkw_decode_f32(r, 1, y, 8));
  assert_ok(qk_qkw_decode_f32(r, 2, y, 64));
  assert_status(qk_qkw_verify(r), QK_ERR_CORRUPT);
  qk_qkw_close(r);
  assert_ok(qk_qkw_open_memory(img, size, QK_VERIFY_NONE, 0, &r));
  assert_ok(qk_qkw_decode_f32(r, 0, y, 6)); /* not hashed in NONE: the flipped value comes out */
  assert_status(qk_qkw_verify(r), QK_ERR_CORRUPT);
  qk_qkw_close(r);
  /* zstd chunk (tensor c) flipped */
  img[qkwb_chunk_off(img, size, 0) + 5] ^= 0x40;
  img[qkwb_chunk_off(img, size, 2) + 6] ^= 0x01;
  expect_tensor_fail(img, size, "c", QK_ERR_CORRUPT);
  free(img);
}

/* Proves value rules checked at decode (or open): SYMMETRIC scales/codes, LUT, ggml d, affine. */
static void test_codec_values(void** state) {
  (void)state;
  size_t size = 0;
  uint8_t* img;
  const int64_t s24[2] = {2, 4};
  const float bad_scales[5][2] = {{NAN, 1}, {0, 1}, {-1, 1}, {INFINITY, 1}, {1, -0.0f}};
  for (int k = 0; k < 5; ++k) {
    img = one(&size, "s", 2, s24, 1, 4, 0, 127, 0, bad_scales[k], 2, k_b_codes, 8);
    expect_tensor_fail(img, size, "s", QK_ERR_CORRUPT);
    free(img);
  }
  const int8_t big_codes[8] = {0, 0, 8, 0, 0, 0, 0, -8};
  img = one(&size, "s", 2, s24, 1, 4, 0, 7, 0, k_b_scales, 2, big_codes, 8);
  expect_tensor_fail(img, size, "s", QK_ERR_CORRUPT);
  free(img);
  const int8_t min_codes[8] = {-128, 0, 0, 0, 0, 0, 0, 0};
  img = one(&size, "s", 2, s24, 1, 4, 0, 127, 0, k_b_scales, 2, min_codes, 8);
  expect_tensor_fail(img, size, "s", QK_ERR_CORRUPT);
  free(img);
  /* SYMMETRIC with 3 scales for 2 channels: decoded size mismatch at open */
  const float three[3] = {1, 1, 1};
  img = one(&size, "s", 2, s24, 1, 4, 0, 127, 0, three, 3, k_b_codes, 8);
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  /* per group of 3 along axis 1 (4 -> 2 groups): 4 scales needed, 2 given */
  img = one(&size, "s", 2, s24, 1, 4, 1, 127, 3, k_b_scales, 2, k_b_codes, 8);
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  /* LUT */
  const float lut[4] = {-1, 0, 1, 2};
  const uint8_t idx_ok[8] = {0, 1, 2, 3, 3, 2, 1, 0};
  const uint8_t idx_bad[8] = {0, 1, 2, 4, 3, 2, 1, 0};
  img = one(&size, "l", 2, s24, 6, 5, -1, 4, 0, lut, 4, idx_ok, 8);
  expect_valid(img, size);
  free(img);
  img = one(&size, "l", 2, s24, 6, 5, -1, 4, 0, lut, 4, idx_bad, 8);
  expect_tensor_fail(img, size, "l", QK_ERR_CORRUPT);
  free(img);
  const float lut_nan[4] = {-1, NAN, 1, 2};
  img = one(&size, "l", 2, s24, 6, 5, -1, 4, 0, lut_nan, 4, idx_ok, 8);
  expect_tensor_fail(img, size, "l", QK_ERR_CORRUPT);
  free(img);
  img = one(&size, "l", 2, s24, 6, 5, -1, 0, 0, NULL, 0, idx_ok, 8); /* levels 0 */
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  img = one(&size, "l", 2, s24, 6, 5, 0, 4, 0, lut, 4, idx_ok, 8); /* axis 0 */
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  /* ggml Q8_0: one block of 32 */
  uint8_t block[34] = {0x00, 0x3C}; /* d = 1.0 */
  for (int j = 0; j < 32; ++j) block[2 + j] = (uint8_t)(j - 16);
  const int64_t s32[1] = {32}, s33[1] = {33}, s2x32[2] = {2, 16};
  img = one(&size, "q", 1, s32, 4, 4, 0, 0, 32, NULL, 0, block, 34);
  expect_valid(img, size);
  free(img);
  img = one(&size, "q", 2, s2x32, 4, 4, 1, 0, 32, NULL, 0, block, 34); /* last dim 16 */
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  uint8_t block33[34 * 2] = {0};
  img = one(&size, "q", 1, s33, 4, 4, 0, 0, 32, NULL, 0, block33, 68);
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  img = one(&size, "q", 1, s32, 4, 4, 0, 0, 16, NULL, 0, block, 34); /* group 16 */
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  const uint16_t bad_d[3] = {0x7C00, 0xFC00, 0x7E00};
  for (int k = 0; k < 3; ++k) {
    block[0] = (uint8_t)bad_d[k];
    block[1] = (uint8_t)(bad_d[k] >> 8);
    img = one(&size, "q", 1, s32, 4, 4, 0, 0, 32, NULL, 0, block, 34);
    expect_tensor_fail(img, size, "q", QK_ERR_CORRUPT);
    free(img);
    uint8_t b4[18] = {(uint8_t)bad_d[k], (uint8_t)(bad_d[k] >> 8)};
    img = one(&size, "q", 1, s32, 5, 4, 0, 0, 32, NULL, 0, b4, 18);
    expect_tensor_fail(img, size, "q", QK_ERR_CORRUPT);
    free(img);
  }
  /* Q4_0 nibble layout, decoded by the reader */
  uint8_t b4[18] = {0x00, 0x40}; /* d = 2.0 */
  for (int j = 0; j < 16; ++j) b4[2 + j] = (uint8_t)(j | ((15 - j) << 4));
  img = one(&size, "q", 1, s32, 5, 4, 0, 0, 32, NULL, 0, b4, 18);
  qk_qkw_reader* r = NULL;
  assert_ok(qk_qkw_open_memory(img, size, QK_VERIFY_FULL, 0, &r));
  float y[32];
  assert_ok(qk_qkw_decode_f32(r, 0, y, 32));
  for (int j = 0; j < 16; ++j) {
    assert_true(y[j] == (float)(j - 8) * 2.0f);
    assert_true(y[j + 16] == (float)(15 - j - 8) * 2.0f);
  }
  qk_qkw_close(r);
  free(img);
  /* AFFINE / AFFINE_OFFSET */
  const float aff_bad[4][2] = {{0, 3}, {NAN, 3}, {1, NAN}, {1, INFINITY}};
  const uint8_t u8codes[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  for (int k = 0; k < 4; ++k) {
    img = one(&size, "f", 2, s24, 2, 5, -1, 0, 0, aff_bad[k], 2, u8codes, 8);
    expect_tensor_fail(img, size, "f", QK_ERR_CORRUPT);
    free(img);
  }
  const float off_bad[2][2] = {{-1, 0}, {1, NAN}};
  for (int k = 0; k < 2; ++k) {
    img = one(&size, "f", 2, s24, 3, 5, -1, 0, 0, off_bad[k], 2, u8codes, 8);
    expect_tensor_fail(img, size, "f", QK_ERR_CORRUPT);
    free(img);
  }
  img = one(&size, "f", 2, s24, 3, 4, -1, 0, 0, aff_bad[0], 2, u8codes, 8); /* AFFINE_OFFSET S8 */
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  img = one(&size, "f", 2, s24, 2, 8, -1, 0, 0, aff_bad[0], 2, u8codes, 8); /* AFFINE S32 */
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
}

/* A skippable frame (magic 0x184D2A5?). */
static size_t skippable(uint8_t* out, size_t payload) {
  const uint8_t h[8] = {0x50, 0x2A, 0x4D, 0x18, (uint8_t)payload, 0, 0, 0};
  memcpy(out, h, 8);
  memset(out + 8, 0xAB, payload);
  return 8 + payload;
}

/* Adds a dictionary id to a zstd frame header (DID flag 1, one id byte). */
static uint8_t* with_dict_id(const uint8_t* f, size_t n, size_t* out_n) {
  const uint8_t fhd = f[4];
  if ((fhd & 3) != 0) return NULL;
  const size_t at = 5 + ((fhd & 0x20) ? 0 : 1);
  uint8_t* o = (uint8_t*)malloc(n + 1);
  memcpy(o, f, at);
  o[4] = (uint8_t)(fhd | 1);
  o[at] = 0x2A;
  memcpy(o + at + 1, f + at, n - at);
  *out_n = n + 1;
  return o;
}

/* Builds a one-tensor RAW F32 {64} file with the given hand-made zstd chunk. */
static uint8_t* zstd_file(size_t* size, const uint8_t* chunk, size_t n, uint64_t params_stored) {
  qkw_builder b;
  qkwb_init(&b);
  float x[64] = {0};
  const int64_t s[1] = {64};
  qkwb_add_raw_f32(&b, "z", 1, s, x, 64);
  qkwb_add_raw_f32(&b, "ok", 1, s, x, 64);
  qkwb_set_chunk(&b, 0, chunk, n);
  b.t[0].entropy = 1;
  b.t[0].params_stored_size = params_stored;
  uint8_t* img = qkwb_build(&b, size);
  qkwb_free(&b);
  return img;
}

/* Proves the entropy-stage rules: content size required and equal, one frame per stream
 * occupying its range exactly, no skippable frame, no dictionary, params_stored_size right. */
static void test_zstd_frames(void** state) {
  (void)state;
  float x[65];
  for (int i = 0; i < 65; ++i) x[i] = (float)(i % 3);
  size_t fn = 0, gn = 0, sn = 0;
  uint8_t* good = qkwb_zstd_frame(x, 256, 3, 1, &fn);
  uint8_t* nosize = qkwb_zstd_frame(x, 256, 3, 0, &sn);
  uint8_t* short_frame = qkwb_zstd_frame(x, 252, 3, 1, &gn);
  size_t ln = 0;
  uint8_t* long_frame = qkwb_zstd_frame(x, 260, 3, 1, &ln);
  assert_non_null(good);
  size_t size = 0;
  uint8_t* img = zstd_file(&size, good, fn, 0);
  expect_valid(img, size);
  free(img);
  img = zstd_file(&size, nosize, sn, 0);
  expect_tensor_fail(img, size, "z", QK_ERR_CORRUPT);
  free(img);
  img = zstd_file(&size, short_frame, gn, 0);
  expect_tensor_fail(img, size, "z", QK_ERR_CORRUPT);
  free(img);
  img = zstd_file(&size, long_frame, ln, 0);
  expect_tensor_fail(img, size, "z", QK_ERR_CORRUPT);
  free(img);
  uint8_t buf[4096];
  /* two frames (second one extra), trailing bytes, skippable before / after */
  memcpy(buf, good, fn);
  memcpy(buf + fn, good, fn);
  img = zstd_file(&size, buf, 2 * fn, 0);
  expect_tensor_fail(img, size, "z", QK_ERR_CORRUPT);
  free(img);
  memcpy(buf, good, fn);
  memset(buf + fn, 0, 3);
  img = zstd_file(&size, buf, fn + 3, 0);
  expect_tensor_fail(img, size, "z", QK_ERR_CORRUPT);
  free(img);
  size_t k = skippable(buf, 4);
  memcpy(buf + k, good, fn);
  img = zstd_file(&size, buf, k + fn, 0);
  expect_tensor_fail(img, size, "z", QK_ERR_CORRUPT);
  free(img);
  img = zstd_file(&size, buf, k + fn, k); /* skippable as the "params frame" of a RAW */
  expect_tensor_fail(img, size, "z", QK_ERR_CORRUPT);
  free(img);
  memcpy(buf, good, fn);
  k = skippable(buf + fn, 4);
  img = zstd_file(&size, buf, fn + k, 0);
  expect_tensor_fail(img, size, "z", QK_ERR_CORRUPT);
  free(img);
  /* skippable frame alone, truncated frame, garbage */
  k = skippable(buf, 248);
  img = zstd_file(&size, buf, k, 0);
  expect_tensor_fail(img, size, "z", QK_ERR_CORRUPT);
  free(img);
  img = zstd_file(&size, good, fn - 1, 0);
  expect_tensor_fail(img, size, "z", QK_ERR_CORRUPT);
  free(img);
  memset(buf, 0x5A, 40);
  img = zstd_file(&size, buf, 40, 0);
  expect_tensor_fail(img, size, "z", QK_ERR_CORRUPT);
  free(img);
  /* dictionary id */
  size_t dn = 0;
  uint8_t* dict = with_dict_id(good, fn, &dn);
  if (dict) {
    img = zstd_file(&size, dict, dn, 0);
    expect_tensor_fail(img, size, "z", QK_ERR_CORRUPT);
    free(img);
    free(dict);
  }
  /* params_stored_size on a codec without params */
  img = zstd_file(&size, good, fn, 1);
  expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
  free(img);
  /* SYMMETRIC with two frames: valid, then params_stored_size +-1, frames swapped, one missing */
  {
    qkw_builder b;
    qkwb_init(&b);
    const int64_t s[2] = {2, 64};
    int8_t codes[128];
    for (int i = 0; i < 128; ++i) codes[i] = (int8_t)(i % 5 - 2);
    const float sc[2] = {0.5f, 0.25f};
    qkwb_add(&b, "s", 2, s, 1, 4, 0, 2, 0, sc, 2, codes, 128);
    assert_int_equal(qkwb_compress(&b, 0, 19, 1, 0, 1), 0);
    img = qkwb_build(&b, &size);
    expect_valid(img, size);
    const size_t e = qkwb_entry_off(img, size, 0);
    const uint64_t ps = qkwb_get(img, size, e + QKWE_PARAMS_STORED_SIZE, 8);
    for (int d = -1; d <= 1; d += 2) {
      qkwb_put(img, size, e + QKWE_PARAMS_STORED_SIZE, 8, ps + (uint64_t)d);
      qkwb_resign(img, size);
      expect_tensor_fail(img, size, "s", QK_ERR_CORRUPT);
    }
    qkwb_put(img, size, e + QKWE_PARAMS_STORED_SIZE, 8, 0);
    qkwb_resign(img, size);
    expect_tensor_fail(img, size, "s", QK_ERR_CORRUPT);
    free(img);
    /* entropy 1 and decoded_size 0 (empty tensor compressed) */
    qkwb_free(&b);
    qkwb_init(&b);
    const int64_t e0[2] = {0, 4};
    qkwb_add(&b, "e", 2, e0, 0, 1, -1, 0, 0, NULL, 0, NULL, 0);
    b.t[0].entropy = 1;
    img = qkwb_build(&b, &size);
    expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
    free(img);
    qkwb_free(&b);
  }
  /* filter 1 on RAW S8 (element size 1) */
  {
    qkw_builder b;
    qkwb_init(&b);
    const int64_t s[1] = {256};
    uint8_t c[256] = {0};
    qkwb_add(&b, "f", 1, s, 0, 4, -1, 0, 0, NULL, 0, c, 256);
    qkwb_compress(&b, 0, 3, 1, 0, 1);
    b.t[0].filter = 1;
    img = qkwb_build(&b, &size);
    expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
    free(img);
    qkwb_free(&b);
  }
  free(good);
  free(nosize);
  free(short_frame);
  free(long_frame);
}

/* Proves unknown codec / entropy / filter / dtype ids make only that tensor UNSUPPORTED (info,
 * decode, read_codes) while the rest of the file loads, and that their checksums still count. */
static void test_unknown_ids(void** state) {
  (void)state;
  const int field[4] = {QKWE_CODEC, QKWE_ENTROPY, QKWE_FILTER, QKWE_DTYPE};
  const uint8_t value[4] = {200, 2, 2, 10};
  for (int k = 0; k < 4; ++k) {
    size_t size = 0;
    uint8_t* img = base_img(&size);
    img[qkwb_entry_off(img, size, 0) + field[k]] = value[k];
    qkwb_resign(img, size);
    for (int m = 0; m < 3; ++m) {
      qk_qkw_reader* r = NULL;
      assert_ok(qk_qkw_open_memory(img, size, k_modes[m], 0, &r));
      qk_qkw_tensor_info info;
      assert_ok(qk_qkw_tensor_info_get(r, 0, &info));
      assert_int_equal(info.status, QK_ERR_UNSUPPORTED);
      if (k == 0) assert_int_equal((int)info.codec, 200);
      float y[64];
      for (int i = 0; i < 6; ++i) y[i] = 5.0f;
      assert_status(qk_qkw_decode_f32(r, 0, y, 6), QK_ERR_UNSUPPORTED);
      for (int i = 0; i < 6; ++i) assert_true(y[i] == 5.0f);
      assert_status(qk_qkw_read_codes(r, 0, y, 24), QK_ERR_UNSUPPORTED);
      assert_ok(qk_qkw_tensor_info_get(r, 1, &info));
      assert_int_equal(info.status, QK_OK);
      assert_ok(qk_qkw_decode_f32(r, 1, y, 8));
      for (int i = 0; i < 8; ++i) assert_true(y[i] == (float)k_b_codes[i] * k_b_scales[i / 4]);
      assert_ok(qk_qkw_decode_f32(r, 2, y, 64));
      assert_ok(qk_qkw_verify(r));
      qk_qkw_close(r);
    }
    /* its checksum is still verified */
    img[qkwb_chunk_off(img, size, 0)] ^= 1;
    qk_qkw_reader* r = NULL;
    assert_status(qk_qkw_open_memory(img, size, QK_VERIFY_FULL, 0, &r), QK_ERR_CORRUPT);
    free(img);
  }
}

/* Proves a tensor made unsupported by an unknown filter/entropy/dtype keeps info_get safe even
 * when its other codec fields are garbage (nothing derived from unvalidated levels/group/axis).
 * Found by libFuzzer: LUT + filter 57 + levels -1534 made code_bits() shift by 64 (UBSan). */
static void test_unknown_ids_garbage_fields(void** state) {
  (void)state;
  const int32_t levels[4] = {-1534, -1, 0x7FFFFFFF, 0};
  const uint8_t codecs[3] = {6, 1, 4};
  const int unknown_field[3] = {QKWE_FILTER, QKWE_ENTROPY, QKWE_DTYPE};
  const uint8_t unknown_value[3] = {57, 9, 200};
  for (int c = 0; c < 3; ++c)
    for (int u = 0; u < 3; ++u)
      for (int l = 0; l < 4; ++l) {
        qkw_builder b;
        qkwb_init(&b);
        const int64_t s[1] = {32};
        uint8_t codes[34] = {0};
        qkwb_add(&b, "t", 1, s, codecs[c], 5, -1, 0, 0, NULL, 0, codes, 32);
        size_t size = 0;
        uint8_t* img = qkwb_build(&b, &size);
        const size_t e = qkwb_entry_off(img, size, 0);
        img[e + unknown_field[u]] = unknown_value[u];
        qkwb_put(img, size, e + QKWE_LEVELS, 4, (uint32_t)levels[l]);
        qkwb_put(img, size, e + QKWE_GROUP_SIZE, 8, UINT64_C(1099511627775));
        qkwb_put(img, size, e + QKWE_AXIS, 2, 1535);
        qkwb_resign(img, size);
        qk_qkw_reader* r = NULL;
        const qk_status st = qk_qkw_open_memory(img, size, QK_VERIFY_FULL, 0, &r);
        if (st == QK_OK) {
          qk_qkw_tensor_info info;
          assert_ok(qk_qkw_tensor_info_get(r, 0, &info));
          assert_int_equal(info.status, QK_ERR_UNSUPPORTED);
          float y[32];
          assert_status(qk_qkw_decode_f32(r, 0, y, 32), QK_ERR_UNSUPPORTED);
          qk_qkw_close(r);
        } else {
          assert_int_equal(st, QK_ERR_CORRUPT);
        }
        free(img);
        qkwb_free(&b);
      }
}

/* Proves metadata rules: key characters and length, order, duplicates, value UTF-8/NUL/length,
 * meta_count > 4096. */
static void test_metadata_rules(void** state) {
  (void)state;
  const struct {
    const char* key;
    size_t klen;
    const char* value;
    size_t vlen;
  } bad[] = {{"a b", 3, "v", 1},        {"a\x7f", 2, "v", 1},      {"\xC3\xA9", 2, "v", 1},
             {"a\tb", 3, "v", 1},       {"k", 1, "\xC0\x80", 2},   {"k", 1, "\xED\xA0\x80", 3},
             {"k", 1, "a\0b", 3},       {"k", 1, "\xF4\x90\x80\x80", 4}, {"k", 1, "\xE2\x82", 2}};
  for (size_t k = 0; k < sizeof bad / sizeof *bad; ++k) {
    qkw_builder b;
    qkwb_init(&b);
    qkwb_meta_n(&b, bad[k].key, bad[k].klen, bad[k].value, bad[k].vlen);
    size_t size = 0;
    uint8_t* img = qkwb_build(&b, &size);
    expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
    free(img);
    qkwb_free(&b);
  }
  char key257[257];
  memset(key257, 'k', 257);
  char* v65537 = (char*)malloc(65537);
  memset(v65537, 'v', 65537);
  for (int k = 0; k < 5; ++k) {
    qkw_builder b;
    qkwb_init(&b);
    if (k == 0) qkwb_meta_n(&b, key257, 257, "v", 1);
    if (k == 1) qkwb_meta_n(&b, "k", 1, v65537, 65537);
    if (k == 2 || k == 3) {
      b.keep_order = 1;
      qkwb_meta(&b, "b", "1");
      qkwb_meta(&b, k == 2 ? "a" : "b", "2");
    }
    if (k == 4)
      for (int i = 0; i < 4097; ++i) {
        char key[16];
        snprintf(key, sizeof key, "k%05d", i);
        qkwb_meta(&b, key, "");
      }
    size_t size = 0;
    uint8_t* img = qkwb_build(&b, &size);
    expect_open_fail(img, size, QK_ERR_CORRUPT, NULL);
    free(img);
    qkwb_free(&b);
  }
  free(v65537);
}

/* ------------------------------------------------------------------------------------------- */
/* sweeps over a library-written file                                                          */

static uint8_t* library_file(size_t* size) {
  const char* path = qkwt_path("sweep.qkw");
  qk_qkw_writer* w = NULL;
  assert_ok(qk_qkw_writer_create(path, &w));
  float x[4 * 64];
  for (int i = 0; i < 4 * 64; ++i) x[i] = (float)((i * 37) % 11) * 0.1f - 0.5f;
  const int64_t s[2] = {4, 64}, s1[1] = {5};
  assert_ok(qk_qkw_writer_add_f32(w, "w", x, s, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 4, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_f32(w, "bias", x, s1, 1, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_add_f32(w, "g", x, s, 2, QK_CODEC_GGML_Q8_0, QK_DTYPE_S8, 0, 0, 0, NULL, NULL));
  assert_ok(qk_qkw_writer_set_metadata(w, "source.name", "sweep"));
  assert_ok(qk_qkw_writer_finish(w));
  qk_qkw_writer_destroy(w);
  uint8_t* img = qkwt_read_file(path, size);
  assert_non_null(img);
  return img;
}

/* Proves every truncation 0..size-1 of a library-written file is CORRUPT in every mode. */
static void test_truncation_sweep(void** state) {
  (void)state;
  size_t size = 0;
  uint8_t* img = library_file(&size);
  qk_qkw_reader* r = NULL;
  assert_ok(qk_qkw_open_memory(img, size, QK_VERIFY_FULL, 0, &r));
  qk_qkw_tensor_info info;
  int compressed = 0;
  for (size_t i = 0; i < 3; ++i) {
    assert_ok(qk_qkw_tensor_info_get(r, i, &info));
    compressed += info.compressed;
  }
  qk_qkw_close(r);
  assert_true(compressed >= 1);
  long bad = 0;
  for (size_t n = 0; n < size; ++n) {
    uint8_t* copy = (uint8_t*)malloc(n ? n : 1); /* exact-size buffer: ASan sees over-reads */
    memcpy(copy, img, n);
    for (int m = 0; m < 3; ++m) {
      r = NULL;
      const qk_status st = qk_qkw_open_memory(copy, n, k_modes[m], 0, &r);
      if (st != QK_ERR_CORRUPT) {
        if (bad++ < 10) print_error("truncated to %zu bytes, mode %d: %s\n", n, m, qk_status_string(st));
        if (st == QK_OK) qk_qkw_close(r);
      }
    }
    free(copy);
  }
  printf("truncation sweep: %zu lengths x 3 modes, %ld not CORRUPT\n", size, bad);
  assert_int_equal(bad, 0);
  free(img);
}

/* Proves every single-byte change (xor 0xFF and xor 0x01 at every offset) of a library-written
 * file is rejected at open in FULL mode (CORRUPT; UNSUPPORTED only inside version_major /
 * required_flags), and in LAZY/NONE mode rejected at open or by qk_qkw_verify. */
static void test_flip_sweep(void** state) {
  (void)state;
  size_t size = 0;
  uint8_t* img = library_file(&size);
  uint8_t* copy = (uint8_t*)malloc(size);
  long at_open = 0, at_decode = 0, accepted = 0, wrong_status = 0, lazy_missed = 0;
  const uint8_t masks[2] = {0xFF, 0x01};
  for (size_t pos = 0; pos < size; ++pos)
    for (int k = 0; k < 2; ++k) {
      memcpy(copy, img, size);
      copy[pos] ^= masks[k];
      qk_qkw_reader* r = NULL;
      qk_status st = qk_qkw_open_memory(copy, size, QK_VERIFY_FULL, 0, &r);
      if (st != QK_OK) {
        ++at_open;
        const int unsupported_ok = (pos >= 8 && pos < 10) || (pos >= 12 && pos < 16);
        if (!(st == QK_ERR_CORRUPT || (st == QK_ERR_UNSUPPORTED && unsupported_ok))) {
          if (wrong_status++ < 10) print_error("flip at %zu: %s\n", pos, qk_status_string(st));
        }
      } else {
        size_t count = 0;
        qk_qkw_tensor_count(r, &count);
        int failed = 0;
        for (size_t i = 0; i < count; ++i) {
          qk_qkw_tensor_info info;
          float y[4 * 64];
          if (qk_qkw_tensor_info_get(r, i, &info) != QK_OK || info.element_count > 256 ||
              qk_qkw_decode_f32(r, i, y, (size_t)info.element_count) != QK_OK)
            failed = 1;
        }
        if (failed) {
          ++at_decode;
        } else {
          if (accepted++ < 10) print_error("flip at %zu (xor %02x) accepted in FULL mode\n", pos, masks[k]);
        }
        qk_qkw_close(r);
      }
      for (int m = 1; m < 3; ++m) {
        r = NULL;
        st = qk_qkw_open_memory(copy, size, k_modes[m], 0, &r);
        if (st == QK_OK) {
          if (qk_qkw_verify(r) != QK_ERR_CORRUPT) {
            if (lazy_missed++ < 10) print_error("flip at %zu mode %d: verify passed\n", pos, m);
          }
          qk_qkw_close(r);
        }
      }
    }
  printf("flip sweep: %zu bytes x 2 masks: %ld rejected at open, %ld at decode, %ld accepted, %ld wrong status, "
         "%ld missed by LAZY/NONE verify\n",
         size, at_open, at_decode, accepted, wrong_status, lazy_missed);
  assert_int_equal(accepted, 0);
  assert_int_equal(at_decode, 0); /* FULL checks every byte at open */
  assert_int_equal(wrong_status, 0);
  assert_int_equal(lazy_missed, 0);
  free(copy);
  free(img);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_builder_valid_files), cmocka_unit_test(test_not_qkw),
      cmocka_unit_test(test_header_fields),       cmocka_unit_test(test_table_fields),
      cmocka_unit_test(test_names_and_shapes),    cmocka_unit_test(test_padding_and_checksums),
      cmocka_unit_test(test_codec_values),        cmocka_unit_test(test_zstd_frames),
      cmocka_unit_test(test_unknown_ids),         cmocka_unit_test(test_unknown_ids_garbage_fields),         cmocka_unit_test(test_metadata_rules),
      cmocka_unit_test(test_truncation_sweep),    cmocka_unit_test(test_flip_sweep),
  };
  /* QKW_TEST_FILTER / QKW_TEST_SKIP: cmocka glob patterns to run or skip tests by name */
  if (getenv("QKW_TEST_FILTER")) cmocka_set_test_filter(getenv("QKW_TEST_FILTER"));
  if (getenv("QKW_TEST_SKIP")) cmocka_set_skip_filter(getenv("QKW_TEST_SKIP"));
  return cmocka_run_group_tests(tests, qkwt_setup_dir, qkwt_teardown_dir);
}
