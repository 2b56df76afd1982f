// SPDX-License-Identifier: Apache-2.0
// Reader for tests/golden/data/*.txt, the files gen_torch.py writes: "case NAME" / "data NAME"
// lines open blocks, every other line is "key token token ...", floats are float32 bit patterns
// ("0x3f800000") so parsing is exact. Missing keys fail the running cmocka test.
#ifndef QK_GOLDEN_IO_H
#define QK_GOLDEN_IO_H

#include <stddef.h>
#include <stdint.h>

typedef struct golden_line {
  const char* key;
  const char** tok;
  size_t ntok;
} golden_line;

typedef struct golden_block {
  const char* type;  // "case" or "data"
  const char* name;
  golden_line* lines;
  size_t nlines;
} golden_block;

typedef struct golden_file {
  golden_block* blocks;
  size_t nblocks;
  char* text;
  void** owned;  // arrays handed out by golden_ints / golden_floats, freed with the file
  size_t nowned, capowned;
} golden_file;

// Loads QK_TEST_DATA_DIR/golden/data/<file_name>; fails the test if it cannot.
golden_file* golden_load(const char* file_name);
void golden_free(golden_file* f);

// The block of `type` called `name`; fails the test if there is none.
const golden_block* golden_find(const golden_file* f, const char* type, const char* name);
int golden_is_case(const golden_block* b);

int golden_has(const golden_block* b, const char* key);
// Number of tokens after `key`.
size_t golden_count(const golden_block* b, const char* key);
// First token after `key` ("" for a bare key).
const char* golden_str(const golden_block* b, const char* key);
int64_t golden_int(const golden_block* b, const char* key);
float golden_float(const golden_block* b, const char* key);
// All tokens as integers / float bit patterns; arrays live until golden_free. *n may be NULL.
const int64_t* golden_ints(golden_file* f, const golden_block* b, const char* key, size_t* n);
const int32_t* golden_ints32(golden_file* f, const golden_block* b, const char* key, size_t* n);
const float* golden_floats(golden_file* f, const golden_block* b, const char* key, size_t* n);

uint32_t golden_bits(float v);
// Distance in units in the last place between two finite floats (0 for +0 vs -0).
uint64_t golden_ulp_distance(float a, float b);

// Counts one mismatch in *count and prints it (only the first 25 of a test program are printed).
void golden_mismatch(size_t* count, const char* case_name, const char* what, size_t index, const char* fmt, ...);

#endif  // QK_GOLDEN_IO_H
