/* SPDX-License-Identifier: Apache-2.0 */
/* Writes the seed corpus of the .qkw fuzz target into a folder (argv[1], created if missing):
 * small files from the library's writer (every codec, compressed or not, alignments, metadata,
 * empty) and hand-built images (tests/format/qkw_builder.c) of things the writer never makes
 * (byte-shuffled RAW, unknown codec, fractional zero points). Deterministic: same bytes every run.
 * Run by CTest (fixture fuzz_qkw_corpus) before fuzz_qkw_replay; for libFuzzer runs refresh the
 * committed copy with: make_qkw_corpus tests/fuzz/corpus/qkw */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qkw_builder.h"
#include "quantkit/quantkit.h"

static const char* dir;
static int failures;

static void check(qk_status s, const char* what) {
  if (s != QK_OK) {
    fprintf(stderr, "make_qkw_corpus: %s: %s %s\n", what, qk_status_string(s), qk_last_error());
    ++failures;
  }
}

static void fill(float* x, size_t n, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    x[i] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 2.0f;
    if (i % 5 == 0) x[i] = 0.0f;
  }
}

static void written(const char* name, int level, uint32_t alignment, int variant) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.qkw", dir, name);
  qk_qkw_writer* w = NULL;
  check(qk_qkw_writer_create(path, &w), "create");
  if (!w) return;
  check(qk_qkw_writer_set_zstd_level(w, level), "level");
  check(qk_qkw_writer_set_alignment(w, alignment), "alignment");
  float x[4 * 64];
  fill(x, 4 * 64, (uint32_t)variant + 1);
  const int64_t s2[2] = {4, 64}, s1[1] = {8}, s3[3] = {2, 2, 64};
  switch (variant) {
    case 0:
      check(qk_qkw_writer_add_f32(w, "raw", x, s2, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL), "raw");
      check(qk_qkw_writer_add_f32(w, "sym", x, s2, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 4, 0, 0, NULL, NULL), "sym");
      check(qk_qkw_writer_set_metadata(w, "source.name", "seed"), "meta");
      break;
    case 1:
      check(qk_qkw_writer_add_f32(w, "g", x, s2, 2, QK_CODEC_SYMMETRIC, QK_DTYPE_F32, 3, 1, 16, NULL, NULL), "group");
      check(qk_qkw_writer_add_f32(w, "h", x, s1, 1, QK_CODEC_RAW, QK_DTYPE_F16, 0, 0, 0, NULL, NULL), "f16");
      check(qk_qkw_writer_add_f32(w, "i", x, s1, 1, QK_CODEC_RAW, QK_DTYPE_BF16, 0, 0, 0, NULL, NULL), "bf16");
      break;
    case 2:
      check(qk_qkw_writer_add_f32(w, "a", x, s2, 2, QK_CODEC_AFFINE, QK_DTYPE_U8, 8, -1, 0, NULL, NULL), "aff");
      check(qk_qkw_writer_add_f32(w, "b", x, s2, 2, QK_CODEC_AFFINE, QK_DTYPE_S8, 8, 0, 0, NULL, NULL), "aff s8");
      check(qk_qkw_writer_add_f32(w, "c", x, s2, 2, QK_CODEC_AFFINE_OFFSET, QK_DTYPE_U8, 8, 1, 0, NULL, NULL), "off");
      break;
    case 3:
      check(qk_qkw_writer_add_f32(w, "q8", x, s3, 3, QK_CODEC_GGML_Q8_0, QK_DTYPE_S8, 0, 0, 0, NULL, NULL), "q8");
      check(qk_qkw_writer_add_f32(w, "q4", x, s2, 2, QK_CODEC_GGML_Q4_0, QK_DTYPE_S8, 0, 0, 0, NULL, NULL), "q4");
      break;
    case 4:
      check(qk_qkw_writer_add_f32(w, "lut", x, s2, 2, QK_CODEC_LUT, QK_DTYPE_U8, 3, -1, 0, NULL, NULL), "lut");
      check(qk_qkw_writer_add_f32(w, "lut1", x, s1, 1, QK_CODEC_LUT, QK_DTYPE_U8, 1, -1, 0, NULL, NULL), "lut1");
      break;
    case 5: {
      const int64_t i64[3] = {INT64_MIN, 0, INT64_MAX};
      const int32_t i32[3] = {-7, 0, 7};
      const uint8_t u8[3] = {0, 1, 255};
      const int64_t s[1] = {3};
      check(qk_qkw_writer_add_raw(w, "s64", i64, sizeof i64, QK_DTYPE_S64, s, 1), "s64");
      check(qk_qkw_writer_add_raw(w, "s32", i32, sizeof i32, QK_DTYPE_S32, s, 1), "s32");
      check(qk_qkw_writer_add_raw(w, "u8", u8, 3, QK_DTYPE_U8, s, 1), "u8");
      check(qk_qkw_writer_add_f32(w, "scalar", x, NULL, 0, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL), "scalar");
      const int64_t e[2] = {0, 4};
      check(qk_qkw_writer_add_f32(w, "empty", x, e, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL), "empty");
      check(qk_qkw_writer_set_metadata(w, "eval.top1", "0.98"), "meta");
      check(qk_qkw_writer_set_metadata(w, "u", "\xC3\xA9t\xC3\xA9"), "meta");
      break;
    }
    case 6:
      check(qk_qkw_writer_add_budget(w, "w", x, s2, 2, 25, 0, NULL, NULL, NULL, NULL), "budget");
      check(qk_qkw_writer_add_budget(w, "b", x, s1, 1, 25, 0, NULL, NULL, NULL, NULL), "budget small");
      break;
    default: /* no tensor */
      check(qk_qkw_writer_set_metadata(w, "only", "metadata"), "meta");
      break;
  }
  check(qk_qkw_writer_finish(w), "finish");
  qk_qkw_writer_destroy(w);
}

static void save(const char* name, const uint8_t* img, size_t size) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.qkw", dir, name);
  FILE* f = fopen(path, "wb");
  if (!f || fwrite(img, 1, size, f) != size) {
    fprintf(stderr, "make_qkw_corpus: cannot write %s\n", path);
    ++failures;
  }
  if (f) fclose(f);
}

static void built(void) {
  float x[64];
  fill(x, 64, 99);
  const int64_t s[2] = {2, 32};
  /* byte-shuffled compressed RAW F32 and an unknown codec next to a valid tensor */
  qkw_builder b;
  qkwb_init(&b);
  size_t i = qkwb_add_raw_f32(&b, "shuffled", 2, s, x, 64);
  qkwb_compress(&b, i, 19, 1, 1, 4);
  qkwb_add(&b, "unknown", 2, s, 200, 4, -1, 0, 0, NULL, 0, x, 64);
  const float aff[4] = {0.01f, 0.02f, 3.5f, -1.25f};
  uint8_t codes[64];
  for (int k = 0; k < 64; ++k) codes[k] = (uint8_t)(k * 3);
  i = qkwb_add(&b, "affine_frac", 2, s, 2, 5, 0, 0, 0, aff, 4, codes, 64);
  qkwb_compress(&b, i, 3, 1, 0, 1);
  qkwb_meta(&b, "k", "v");
  size_t size = 0;
  uint8_t* img = qkwb_build(&b, &size);
  save("built_mixed", img, size);
  free(img);
  qkwb_free(&b);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_qkw_corpus <folder>\n");
    return 2;
  }
  dir = argv[1];
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    perror(dir);
    return 1;
  }
  const char* names[8] = {"raw_sym", "group_half", "affine", "ggml", "lut", "ints_meta", "budget", "empty"};
  for (int v = 0; v < 8; ++v) {
    char name[64];
    snprintf(name, sizeof name, "%s_l0", names[v]);
    written(name, 0, v == 3 ? 16 : 64, v);
    snprintf(name, sizeof name, "%s_l19", names[v]);
    written(name, 19, v == 1 ? 4096 : 32, v);
  }
  built();
  printf("make_qkw_corpus: %d seeds written to %s, %d failures\n", 17, dir, failures);
  return failures ? 1 : 0;
}
