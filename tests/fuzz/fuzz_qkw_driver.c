/* SPDX-License-Identifier: Apache-2.0 */
/* Plain-CTest driver for the .qkw fuzz target (fuzz_qkw_open.c): feeds every seed of the corpus
 * folder (argv[1], written by make_qkw_corpus) and thousands of deterministic mutations of each:
 * bit flips, byte overwrites, truncations, extensions, and extreme u64/u32/u16/u8 values written
 * at the known header, table-header, entry and metadata-ref field offsets. meta_xxh64 stops most
 * mutants at the door, so half of them are re-signed (chunk XXH64s and meta_xxh64 recomputed by
 * the test builder) to reach the table, placement, frame and codec checks. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qkw_builder.h"
#include "quantkit/quantkit.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t next_random(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint8_t* read_all(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  const long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t* buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return buf;
}

static int cmp_str(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

/* A field offset chosen among the structured fields of the image (header, table header, entries,
 * metadata refs) with its width. */
static size_t pick_field(const uint8_t* img, size_t size, int* width) {
  static const uint8_t hdr[][2] = {{8, 2}, {10, 2}, {12, 4}, {16, 4}, {20, 4}, {24, 8}, {32, 8}, {40, 8}, {48, 8}};
  static const uint8_t ent[][2] = {{0, 4},  {4, 4},  {8, 4},  {12, 1}, {13, 1}, {14, 1}, {15, 1}, {16, 1},
                                   {17, 1}, {18, 2}, {20, 4}, {24, 8}, {32, 8}, {40, 8}, {48, 8}, {56, 8},
                                   {72, 8}, {80, 8}, {88, 8}};
  const uint64_t n = qkwb_get(img, size, QKWH_SIZE + QKWT_TENSOR_COUNT, 4);
  const uint64_t m = qkwb_get(img, size, QKWH_SIZE + QKWT_META_COUNT, 4);
  switch (next_random() % 5) {
    case 0: {
      const int k = (int)(next_random() % 9);
      *width = hdr[k][1];
      return hdr[k][0];
    }
    case 1:
      *width = 4;
      return QKWH_SIZE + 4 * (next_random() % 4);
    case 2:
    case 3: {
      if (n == 0 || n > 4096) break;
      const int k = (int)(next_random() % 19);
      *width = ent[k][1];
      return qkwb_entry_off(img, size, (size_t)(next_random() % n)) + ent[k][0];
    }
    default:
      if (m == 0 || m > 4096) break;
      if (next_random() % 3 == 0) { /* a dims slot */
        *width = 8;
        const uint64_t d = qkwb_get(img, size, QKWH_SIZE + QKWT_DIMS_COUNT, 4);
        if (d) return qkwb_dims_off(img, size) + 8 * (size_t)(next_random() % d);
      }
      *width = 4;
      return qkwb_metaref_off(img, size, (size_t)(next_random() % m)) + 4 * (next_random() % 4);
  }
  *width = 8;
  return (size_t)(next_random() % (size > 8 ? size - 8 : 1));
}

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : ".";
  const long rounds = argc > 2 ? atol(argv[2]) : 6000;
  DIR* d = opendir(dir);
  if (!d) {
    fprintf(stderr, "fuzz_qkw_replay: cannot open corpus folder %s\n", dir);
    return 1;
  }
  char* names[256];
  int nseeds = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL && nseeds < 256)
    if (strstr(e->d_name, ".qkw")) names[nseeds++] = strdup(e->d_name);
  closedir(d);
  qsort(names, (size_t)nseeds, sizeof *names, cmp_str); /* deterministic order */
  if (nseeds == 0) {
    fprintf(stderr, "fuzz_qkw_replay: no seed in %s\n", dir);
    return 1;
  }
  long cases = 0;
  const uint64_t extremes[10] = {0, 1, UINT64_MAX, (uint64_t)1 << 62, (uint64_t)1 << 48, ((uint64_t)1 << 48) + 1,
                                 0x7FF8000000000000ULL, 0xFFFFFFFFULL, 0x80000000ULL, 1048577};
  for (int s = 0; s < nseeds; ++s) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, names[s]);
    size_t size = 0;
    uint8_t* valid = read_all(path, &size);
    if (!valid) return 1;
    uint8_t* work = malloc(size + 256);
    LLVMFuzzerTestOneInput(valid, size);
    ++cases;
    for (long round = 0; round < rounds; ++round) {
      memcpy(work, valid, size);
      size_t n = size;
      const int ops = 1 + (int)(next_random() % 3 == 0 ? next_random() % 3 : 0);
      int resize = 0;
      for (int op = 0; op < ops; ++op) {
        switch (next_random() % 7) {
          case 0: work[next_random() % n] ^= (uint8_t)(1u << (next_random() % 8)); break;
          case 1: work[next_random() % n] = (uint8_t)next_random(); break;
          case 2:
            if (!resize) {
              n = next_random() % n;
              resize = 1;
            }
            break;
          case 3:
            if (!resize) {
              const size_t extra = 1 + next_random() % 200;
              for (size_t i = 0; i < extra; ++i) work[n + i] = (uint8_t)next_random();
              n += extra;
              resize = 1;
            }
            break;
          default: { /* extreme value in a structured field */
            int width = 8;
            const size_t at = pick_field(work, n, &width);
            uint64_t v = extremes[next_random() % 10];
            if (next_random() % 4 == 0) v = qkwb_get(work, n, at, width) + (next_random() % 2 ? 1 : -1);
            qkwb_put(work, n, at, width, v);
            break;
          }
        }
        if (n == 0) break;
      }
      if (next_random() % 2) {
        if (resize && next_random() % 2) qkwb_put(work, n, QKWH_FILE_SIZE, 8, n);
        qkwb_resign(work, n);
      }
      LLVMFuzzerTestOneInput(work, n);
      ++cases;
    }
    free(valid);
    free(work);
    free(names[s]);
  }
  printf("fuzz qkw replay: %ld inputs from %d seeds, no crash\n", cases, nseeds);
  printf("%ld passed, 0 failed\n", cases);
  return 0;
}
