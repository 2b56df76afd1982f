// SPDX-License-Identifier: Apache-2.0
// Reader for the golden data files (format in golden_io.h and tests/golden/README.md).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_io.h"

#ifndef QK_TEST_DATA_DIR
#error "QK_TEST_DATA_DIR must name the tests/ folder"
#endif

// Mismatches printed per test program; the rest are only counted.
#define GOLDEN_PRINT_LIMIT 25

static void* golden_alloc(size_t bytes) {
  void* p = calloc(1, bytes ? bytes : 1);
  if (p == NULL) fail_msg("golden: out of memory (%zu bytes)", bytes);
  return p;
}

static void own(golden_file* f, void* p) {
  if (f->nowned == f->capowned) {
    const size_t cap = f->capowned ? 2 * f->capowned : 64;
    void** grown = (void**)realloc(f->owned, cap * sizeof(void*));
    if (grown == NULL) fail_msg("golden: out of memory");
    f->owned = grown;
    f->capowned = cap;
  }
  f->owned[f->nowned++] = p;
}

static char* read_text(const char* path) {
  FILE* fp = fopen(path, "rb");
  if (fp == NULL) fail_msg("golden: cannot open %s (run tests/golden/gen_torch.py?)", path);
  if (fseek(fp, 0, SEEK_END) != 0) fail_msg("golden: cannot seek %s", path);
  const long size = ftell(fp);
  if (size < 0 || fseek(fp, 0, SEEK_SET) != 0) fail_msg("golden: cannot size %s", path);
  char* text = (char*)golden_alloc((size_t)size + 1);
  if (fread(text, 1, (size_t)size, fp) != (size_t)size) fail_msg("golden: short read on %s", path);
  fclose(fp);
  text[size] = '\0';
  return text;
}

// Ends every token of `line` with a NUL (overwriting the blanks) and returns the token count.
static size_t terminate_tokens(char* line) {
  size_t n = 0;
  char* p = line;
  while (*p) {
    while (*p == ' ' || *p == '\t' || *p == '\r') *p++ = '\0';
    if (!*p) break;
    ++n;
    while (*p && *p != ' ' && *p != '\t' && *p != '\r') ++p;
  }
  return n;
}

golden_file* golden_load(const char* file_name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/golden/data/%s", QK_TEST_DATA_DIR, file_name);
  golden_file* f = (golden_file*)golden_alloc(sizeof *f);
  f->text = read_text(path);
  // Pass 1: count blocks and lines so that every array is allocated once.
  size_t nlines_total = 0, nblocks = 0;
  for (const char* p = f->text; *p; ++p) {
    if (*p == '\n') ++nlines_total;
    if ((p == f->text || p[-1] == '\n') && (strncmp(p, "case ", 5) == 0 || strncmp(p, "data ", 5) == 0)) ++nblocks;
  }
  f->blocks = (golden_block*)golden_alloc(nblocks * sizeof(golden_block));
  golden_line* lines = (golden_line*)golden_alloc((nlines_total + 1) * sizeof(golden_line));
  own(f, lines);
  // Pass 2: split lines into tokens; a block owns the run of lines after its header.
  golden_block* cur = NULL;
  size_t used = 0;
  char* line = f->text;
  while (line && *line != '\0') {
    char* end = strchr(line, '\n');
    if (end) *end = '\0';
    if (line[0] != '#' && line[0] != '\0') {
      const size_t ntok = terminate_tokens(line);
      const char** toks = (const char**)golden_alloc((ntok + 1) * sizeof(char*));
      own(f, (void*)toks);
      char* p = line;
      for (size_t t = 0; t < ntok; ++t) {  // token starts: skip the NULs between tokens
        while (*p == '\0') ++p;
        toks[t] = p;
        p += strlen(p);
      }
      if (ntok >= 2 && (strcmp(toks[0], "case") == 0 || strcmp(toks[0], "data") == 0)) {
        cur = &f->blocks[f->nblocks++];
        cur->type = toks[0];
        cur->name = toks[1];
        cur->lines = lines + used;
      } else if (cur != NULL && ntok >= 1) {
        golden_line* l = &lines[used++];
        l->key = toks[0];
        l->tok = toks + 1;
        l->ntok = ntok - 1;
        cur->nlines++;
      }
    }
    line = end ? end + 1 : NULL;
  }
  if (f->nblocks == 0) fail_msg("golden: %s holds no blocks", path);
  return f;
}

void golden_free(golden_file* f) {
  if (f == NULL) return;
  for (size_t i = 0; i < f->nowned; ++i) free(f->owned[i]);
  free(f->owned);
  free(f->blocks);
  free(f->text);
  free(f);
}

const golden_block* golden_find(const golden_file* f, const char* type, const char* name) {
  for (size_t i = 0; i < f->nblocks; ++i)
    if (strcmp(f->blocks[i].type, type) == 0 && strcmp(f->blocks[i].name, name) == 0) return &f->blocks[i];
  fail_msg("golden: no %s block named %s", type, name);
  return NULL;
}

int golden_is_case(const golden_block* b) { return strcmp(b->type, "case") == 0; }

static const golden_line* find_line(const golden_block* b, const char* key) {
  for (size_t i = 0; i < b->nlines; ++i)
    if (strcmp(b->lines[i].key, key) == 0) return &b->lines[i];
  return NULL;
}

static const golden_line* need_line(const golden_block* b, const char* key) {
  const golden_line* l = find_line(b, key);
  if (l == NULL) fail_msg("golden: %s %s has no key '%s'", b->type, b->name, key);
  return l;
}

int golden_has(const golden_block* b, const char* key) { return find_line(b, key) != NULL; }

size_t golden_count(const golden_block* b, const char* key) { return need_line(b, key)->ntok; }

const char* golden_str(const golden_block* b, const char* key) {
  const golden_line* l = need_line(b, key);
  return l->ntok ? l->tok[0] : "";
}

static int64_t parse_int(const char* s, const golden_block* b, const char* key) {
  char* end;
  const long long v = strtoll(s, &end, 10);
  if (*end != '\0') fail_msg("golden: %s %s key '%s': '%s' is not an integer", b->type, b->name, key, s);
  return (int64_t)v;
}

static float parse_float_bits(const char* s, const golden_block* b, const char* key) {
  char* end;
  const unsigned long long v = strtoull(s, &end, 16);
  if (strncmp(s, "0x", 2) != 0 || *end != '\0' || v > 0xFFFFFFFFull)
    fail_msg("golden: %s %s key '%s': '%s' is not a float32 bit pattern", b->type, b->name, key, s);
  const uint32_t u = (uint32_t)v;
  float out;
  memcpy(&out, &u, sizeof out);
  return out;
}

int64_t golden_int(const golden_block* b, const char* key) {
  const golden_line* l = need_line(b, key);
  if (l->ntok != 1) fail_msg("golden: %s %s key '%s' holds %zu values, expected 1", b->type, b->name, key, l->ntok);
  return parse_int(l->tok[0], b, key);
}

float golden_float(const golden_block* b, const char* key) {
  const golden_line* l = need_line(b, key);
  if (l->ntok != 1) fail_msg("golden: %s %s key '%s' holds %zu values, expected 1", b->type, b->name, key, l->ntok);
  return parse_float_bits(l->tok[0], b, key);
}

const int64_t* golden_ints(golden_file* f, const golden_block* b, const char* key, size_t* n) {
  const golden_line* l = need_line(b, key);
  int64_t* out = (int64_t*)golden_alloc(l->ntok * sizeof(int64_t));
  own(f, out);
  for (size_t i = 0; i < l->ntok; ++i) out[i] = parse_int(l->tok[i], b, key);
  if (n) *n = l->ntok;
  return out;
}

const int32_t* golden_ints32(golden_file* f, const golden_block* b, const char* key, size_t* n) {
  const golden_line* l = need_line(b, key);
  int32_t* out = (int32_t*)golden_alloc(l->ntok * sizeof(int32_t));
  own(f, out);
  for (size_t i = 0; i < l->ntok; ++i) {
    const int64_t v = parse_int(l->tok[i], b, key);
    if (v < INT32_MIN || v > INT32_MAX)
      fail_msg("golden: %s %s key '%s': %lld overflows int32", b->type, b->name, key, (long long)v);
    out[i] = (int32_t)v;
  }
  if (n) *n = l->ntok;
  return out;
}

const float* golden_floats(golden_file* f, const golden_block* b, const char* key, size_t* n) {
  const golden_line* l = need_line(b, key);
  float* out = (float*)golden_alloc(l->ntok * sizeof(float));
  own(f, out);
  for (size_t i = 0; i < l->ntok; ++i) out[i] = parse_float_bits(l->tok[i], b, key);
  if (n) *n = l->ntok;
  return out;
}

uint32_t golden_bits(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return u;
}

// Maps float bits onto a line where adjacent floats differ by 1 (-0 and +0 coincide).
static int64_t ordered(float v) {
  const uint32_t u = golden_bits(v);
  return (u & 0x80000000u) ? -(int64_t)(u & 0x7FFFFFFFu) : (int64_t)u;
}

uint64_t golden_ulp_distance(float a, float b) {
  const int64_t d = ordered(a) - ordered(b);
  return (uint64_t)(d < 0 ? -d : d);
}

void golden_mismatch(size_t* count, const char* case_name, const char* what, size_t index, const char* fmt, ...) {
  static size_t printed = 0;
  ++*count;
  if (printed++ >= GOLDEN_PRINT_LIMIT) return;
  char detail[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  print_error("golden mismatch: case %s, %s[%zu]: %s\n", case_name, what, index, detail);
}
