/* SPDX-License-Identifier: Apache-2.0 */
#include "fuzz_qkw_fields.h"

#include "qkw_builder.h"

/* A field offset among the structured fields of the image, with its width. */
static size_t pick_field(const uint8_t* img, size_t size, int* width, qk_fuzz_rng* rng) {
  static const uint8_t hdr[][2] = {{8, 2}, {10, 2}, {12, 4}, {16, 4}, {20, 4}, {24, 8}, {32, 8}, {40, 8}, {48, 8}};
  static const uint8_t ent[][2] = {{0, 4},  {4, 4},  {8, 4},  {12, 1}, {13, 1}, {14, 1}, {15, 1}, {16, 1},
                                   {17, 1}, {18, 2}, {20, 4}, {24, 8}, {32, 8}, {40, 8}, {48, 8}, {56, 8},
                                   {72, 8}, {80, 8}, {88, 8}};
  const uint64_t n = qkwb_get(img, size, QKWH_SIZE + QKWT_TENSOR_COUNT, 4);
  const uint64_t m = qkwb_get(img, size, QKWH_SIZE + QKWT_META_COUNT, 4);
  switch (qk_fuzz_next(rng) % 5) {
    case 0: {
      const int k = (int)(qk_fuzz_next(rng) % 9);
      *width = hdr[k][1];
      return hdr[k][0];
    }
    case 1:
      *width = 4;
      return QKWH_SIZE + 4 * (qk_fuzz_next(rng) % 4);
    case 2:
    case 3: {
      if (n == 0 || n > 4096) break;
      const int k = (int)(qk_fuzz_next(rng) % 19);
      *width = ent[k][1];
      return qkwb_entry_off(img, size, (size_t)(qk_fuzz_next(rng) % n)) + ent[k][0];
    }
    default:
      if (m == 0 || m > 4096) break;
      if (qk_fuzz_next(rng) % 3 == 0) { /* a dims slot */
        *width = 8;
        const uint64_t d = qkwb_get(img, size, QKWH_SIZE + QKWT_DIMS_COUNT, 4);
        if (d) return qkwb_dims_off(img, size) + 8 * (size_t)(qk_fuzz_next(rng) % d);
      }
      *width = 4;
      return qkwb_metaref_off(img, size, (size_t)(qk_fuzz_next(rng) % m)) + 4 * (qk_fuzz_next(rng) % 4);
  }
  *width = 8;
  return (size_t)(qk_fuzz_next(rng) % (size > 8 ? size - 8 : 1));
}

size_t qkw_fuzz_mutate_field(uint8_t* img, size_t size, size_t capacity, qk_fuzz_rng* rng) {
  static const uint64_t extremes[10] = {0, 1, UINT64_MAX, (uint64_t)1 << 62, (uint64_t)1 << 48,
                                        ((uint64_t)1 << 48) + 1, 0x7FF8000000000000ULL, 0xFFFFFFFFULL,
                                        0x80000000ULL, 1048577};
  (void)capacity;
  int width = 8;
  const size_t at = pick_field(img, size, &width, rng);
  uint64_t v = extremes[qk_fuzz_next(rng) % 10];
  if (qk_fuzz_next(rng) % 4 == 0) v = qkwb_get(img, size, at, width) + (qk_fuzz_next(rng) % 2 ? 1 : (uint64_t)-1);
  qkwb_put(img, size, at, width, v); /* bounds-checked: a field past the end is left alone */
  return size;
}

void qkw_fuzz_resign(uint8_t* img, size_t size, qk_fuzz_rng* rng) {
  if (qk_fuzz_next(rng) % 2) qkwb_put(img, size, QKWH_FILE_SIZE, 8, size);
  qkwb_resign(img, size);
}
