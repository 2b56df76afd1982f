/* SPDX-License-Identifier: Apache-2.0 */
/* Plain-CTest replay driver, shared by every fuzz target (fuzz_target.h):
 *
 *   fuzz_<name>_replay [--rounds N] DIR...
 *
 * feeds the target every seed file of the folders (the generated corpus and the committed one
 * with its regression seeds; identical files run once) and N deterministic mutants of each: bit
 * flips, byte overwrites, truncations, random extensions, extreme u64 values, and the target's
 * own structure-aware mutation; half of the mutants are re-signed by the target's hook so they
 * reach the parser behind its checksum. A crash, a sanitizer report or an abort() in the target
 * fails the test; the output ends with CTest's usual "N passed, 0 failed". */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_target.h"

#define QK_FUZZ_MAX_SEEDS 1024
#define QK_FUZZ_GROWTH 4096 /* bytes a mutant may grow by */

typedef struct seed {
  char* path;
  uint8_t* data;
  size_t size;
  uint64_t hash;
} seed;

static uint64_t fnv1a(const uint8_t* p, size_t n) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ULL;
  return h ^ n;
}

static uint8_t* read_all(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t* buf = NULL;
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) buf = malloc((size_t)n + 1);
  if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *size = n > 0 ? (size_t)n : 0;
  return buf;
}

static int cmp_path(const void* a, const void* b) { return strcmp(((const seed*)a)->path, ((const seed*)b)->path); }

/* Adds the regular files of `dir` (not hidden, not README*) that are not already there. */
static int add_folder(const char* dir, seed* seeds, int* count) {
  DIR* d = opendir(dir);
  if (!d) {
    fprintf(stderr, "fuzz replay: cannot open corpus folder %s\n", dir);
    return -1;
  }
  const int first = *count;
  struct dirent* e;
  while ((e = readdir(d)) != NULL && *count < QK_FUZZ_MAX_SEEDS) {
    if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0) continue;
    const size_t len = strlen(dir) + strlen(e->d_name) + 2;
    seed s = {malloc(len), NULL, 0, 0};
    snprintf(s.path, len, "%s/%s", dir, e->d_name);
    struct stat st;
    /* a sub-folder is skipped before it is read: fopen() opens a
     * folder, whose ftell() is LONG_MAX, a malloc() ASan refuses */
    s.data = stat(s.path, &st) == 0 && S_ISREG(st.st_mode) ? read_all(s.path, &s.size) : NULL;
    if (!s.data) { /* a sub-folder or an unreadable file */
      free(s.path);
      continue;
    }
    s.hash = fnv1a(s.data, s.size);
    int dup = 0;
    for (int i = 0; i < *count && !dup; ++i)
      dup = seeds[i].hash == s.hash && seeds[i].size == s.size && memcmp(seeds[i].data, s.data, s.size) == 0;
    if (dup) {
      free(s.path);
      free(s.data);
      continue;
    }
    seeds[(*count)++] = s;
  }
  closedir(d);
  qsort(seeds + first, (size_t)(*count - first), sizeof *seeds, cmp_path); /* deterministic order */
  return 0;
}

/* One byte-level mutation of work[0, n) (capacity n + QK_FUZZ_GROWTH); returns the new size. */
static size_t byte_mutation(uint8_t* work, size_t n, qk_fuzz_rng* rng) {
  static const uint64_t extremes[10] = {0, 1, UINT64_MAX, (uint64_t)1 << 62, (uint64_t)1 << 48, 0x7FF8000000000000ULL,
                                        0xFFFFFFFFULL, 0x80000000ULL, 0x7F800000ULL, 1048577};
  switch (qk_fuzz_next(rng) % 5) {
    case 0: work[qk_fuzz_next(rng) % n] ^= (uint8_t)(1u << (qk_fuzz_next(rng) % 8)); return n;
    case 1: work[qk_fuzz_next(rng) % n] = (uint8_t)qk_fuzz_next(rng); return n;
    case 2: return (size_t)(qk_fuzz_next(rng) % n);
    case 3: {
      const size_t extra = 1 + (size_t)(qk_fuzz_next(rng) % 200);
      for (size_t i = 0; i < extra; ++i) work[n + i] = (uint8_t)qk_fuzz_next(rng);
      return n + extra;
    }
    default: { /* an extreme little-endian value at a random offset */
      const size_t at = (size_t)(qk_fuzz_next(rng) % n);
      const uint64_t v = extremes[qk_fuzz_next(rng) % 10];
      const int width = 1 << (qk_fuzz_next(rng) % 4);
      for (int i = 0; i < width && at + (size_t)i < n; ++i) work[at + (size_t)i] = (uint8_t)(v >> (8 * i));
      return n;
    }
  }
}

/* QK_FUZZ_LAST=path: every mutated input is written there before it runs, so the input of a
 * crash (an abort under qemu, say) is left behind to replay and minimise. */
static void keep_last(const uint8_t* data, size_t n) {
  const char* path = getenv("QK_FUZZ_LAST");
  if (path == NULL) return;
  FILE* f = fopen(path, "wb");
  if (f == NULL) return;
  fwrite(data, 1, n, f);
  fclose(f);
}

int main(int argc, char** argv) {
  const qk_fuzz_target* t = &qk_fuzz_target_info;
  long rounds = 1000;
  int argi = 1;
  if (argc > 2 && strcmp(argv[1], "--rounds") == 0) {
    rounds = atol(argv[2]);
    argi = 3;
  }
  if (argi >= argc) {
    fprintf(stderr, "usage: %s [--rounds N] CORPUS_DIR...\n", argv[0]);
    return 2;
  }
  static seed seeds[QK_FUZZ_MAX_SEEDS];
  int nseeds = 0;
  for (; argi < argc; ++argi)
    if (add_folder(argv[argi], seeds, &nseeds) != 0) return 1;
  if (nseeds == 0) {
    fprintf(stderr, "fuzz replay %s: no seed\n", t->name);
    return 1;
  }
  qk_fuzz_rng rng = {0x9E3779B97F4A7C15ULL};
  long cases = 0;
  for (int s = 0; s < nseeds; ++s) {
    const size_t size = seeds[s].size;
    uint8_t* work = malloc(size + QK_FUZZ_GROWTH);
    if (!work) return 1;
    memcpy(work, seeds[s].data, size);
    LLVMFuzzerTestOneInput(work, size); /* a copy: the target may not keep or change its input */
    ++cases;
    for (long round = 0; round < rounds; ++round) {
      memcpy(work, seeds[s].data, size);
      size_t n = size;
      const int ops = 1 + (qk_fuzz_next(&rng) % 3 == 0 ? (int)(qk_fuzz_next(&rng) % 3) : 0);
      for (int op = 0; op < ops && n > 0; ++op) {
        const size_t room = size + QK_FUZZ_GROWTH - n;
        if (t->mutate != NULL && qk_fuzz_next(&rng) % 2)
          n = t->mutate(work, n, n + (room < 256 ? room : 256), &rng);
        else if (room >= 200)
          n = byte_mutation(work, n, &rng);
      }
      if (t->resign != NULL && qk_fuzz_next(&rng) % 2) t->resign(work, n, &rng);
      keep_last(work, n);
      LLVMFuzzerTestOneInput(work, n);
      ++cases;
    }
    free(work);
  }
  printf("fuzz replay %s: %ld inputs from %d seeds, no crash\n", t->name, cases, nseeds);
  if (t->report != NULL) t->report();
  printf("%ld passed, 0 failed\n", cases);
  for (int s = 0; s < nseeds; ++s) {
    free(seeds[s].path);
    free(seeds[s].data);
  }
  return 0;
}
