// SPDX-License-Identifier: Apache-2.0
// QK_OBSERVER_HISTOGRAM against PyTorch 1.13's HistogramObserver, from tests/golden/
// histogram_torch.txt (written by tests/golden/gen_torch_histogram.py, whose docstring explains the
// cases): bit-identical scale and equal zero point wherever torch's histc range truncation
// (int(min), int(max)) drops nothing; where it does drop samples ("torch_bug 1"), QuantKit keeps
// every sample and therefore answers differently.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quantkit/quantkit.h"

enum { kMaxData = 64, kMaxCases = 64, kMaxBatches = 8 };

typedef struct {
  char name[64];
  size_t n;
  float* v;
} golden_data;

typedef struct {
  char name[96];
  qk_dtype dtype;
  qk_qscheme scheme;
  int reduce_range, bins, upsample, torch_bug, nbatches;
  int batch[kMaxBatches];
  uint32_t scale_bits;
  int32_t zero_point;
  float torch_hist_total;
} golden_case;

typedef struct {
  char* text;
  golden_data data[kMaxData];
  size_t ndata;
  golden_case cases[kMaxCases];
  size_t ncases;
} golden_file;

static float from_bits(const char* tok) {
  const uint32_t u = (uint32_t)strtoul(tok, NULL, 16);
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static uint32_t to_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static int find_data(const golden_file* g, const char* name) {
  for (size_t i = 0; i < g->ndata; ++i)
    if (strcmp(g->data[i].name, name) == 0) return (int)i;
  fail_msg("unknown data block '%s'", name);
  return -1;
}

// Parses one "key tok..." line into the current case (or a data block).
static void parse_line(golden_file* g, char* line) {
  char* save = NULL;
  const char* key = strtok_r(line, " ", &save);
  if (key == NULL || key[0] == '#') return;
  golden_case* c = g->ncases ? &g->cases[g->ncases - 1] : NULL;
  if (strcmp(key, "data") == 0) {
    assert_true(g->ndata < kMaxData);
    golden_data* d = &g->data[g->ndata++];
    snprintf(d->name, sizeof d->name, "%s", strtok_r(NULL, " ", &save));
    d->n = strtoul(strtok_r(NULL, " ", &save), NULL, 10);
    d->v = malloc(d->n * sizeof(float));
    assert_non_null(d->v);
    for (size_t i = 0; i < d->n; ++i) {
      const char* tok = strtok_r(NULL, " ", &save);
      assert_non_null(tok);
      d->v[i] = from_bits(tok);
    }
  } else if (strcmp(key, "case") == 0) {
    assert_true(g->ncases < kMaxCases);
    c = &g->cases[g->ncases++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", strtok_r(NULL, " ", &save));
  } else if (strcmp(key, "config") == 0) {
    const char* dtype = strtok_r(NULL, " ", &save);
    const char* scheme = strtok_r(NULL, " ", &save);
    c->dtype = strcmp(dtype, "u8") == 0 ? QK_DTYPE_U8 : strcmp(dtype, "s8") == 0 ? QK_DTYPE_S8 : QK_DTYPE_S32;
    c->scheme = strcmp(scheme, "affine") == 0 ? QK_QSCHEME_PER_TENSOR_AFFINE : QK_QSCHEME_PER_TENSOR_SYMMETRIC;
    c->reduce_range = atoi(strtok_r(NULL, " ", &save));
    c->bins = atoi(strtok_r(NULL, " ", &save));
    c->upsample = atoi(strtok_r(NULL, " ", &save));
  } else if (strcmp(key, "torch_bug") == 0) {
    c->torch_bug = atoi(strtok_r(NULL, " ", &save));
  } else if (strcmp(key, "batches") == 0) {
    for (const char* tok; (tok = strtok_r(NULL, " ", &save)) != NULL;) {
      assert_true(c->nbatches < kMaxBatches);
      c->batch[c->nbatches++] = find_data(g, tok);
    }
  } else if (strcmp(key, "scale") == 0) {
    c->scale_bits = (uint32_t)strtoul(strtok_r(NULL, " ", &save), NULL, 16);
  } else if (strcmp(key, "zero_point") == 0) {
    c->zero_point = atoi(strtok_r(NULL, " ", &save));
  } else if (strcmp(key, "torch_hist_total") == 0) {
    c->torch_hist_total = from_bits(strtok_r(NULL, " ", &save));
  }
}

static int load_golden(void** state) {
  golden_file* g = calloc(1, sizeof *g);
  assert_non_null(g);
  FILE* f = fopen(QK_TEST_DATA_DIR "/golden/histogram_torch.txt", "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  const long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  g->text = malloc((size_t)size + 1);
  assert_non_null(g->text);
  assert_int_equal(fread(g->text, 1, (size_t)size, f), (size_t)size);
  g->text[size] = '\0';
  fclose(f);
  char* save = NULL;
  for (char* line = strtok_r(g->text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
    parse_line(g, line);
  *state = g;
  return 0;
}

static int free_golden(void** state) {
  golden_file* g = *state;
  for (size_t i = 0; i < g->ndata; ++i) free(g->data[i].v);
  free(g->text);
  free(g);
  return 0;
}

// Runs a case through QuantKit: qparams, and the histogram's total mass read from the saved state
// (payload layout in docs/OBSERVER_STATE.md: counts start 50 bytes into the payload at 62).
static void run_case(const golden_file* g, const golden_case* c, float* scale, int32_t* zp, double* total,
                     size_t* samples) {
  qk_quant_spec* spec = NULL;
  assert_int_equal(qk_quant_spec_create(c->dtype, c->scheme, &spec), QK_OK);
  assert_int_equal(qk_quant_spec_set_reduce_range(spec, c->reduce_range), QK_OK);
  qk_observer* obs = NULL;
  assert_int_equal(qk_observer_create(QK_OBSERVER_HISTOGRAM, spec, &obs), QK_OK);
  assert_int_equal(qk_observer_set_param(obs, QK_OBSERVER_PARAM_BINS, c->bins), QK_OK);
  assert_int_equal(qk_observer_set_param(obs, QK_OBSERVER_PARAM_UPSAMPLE_RATE, c->upsample), QK_OK);
  *samples = 0;
  for (int b = 0; b < c->nbatches; ++b) {
    const golden_data* d = &g->data[c->batch[b]];
    const int64_t shape[1] = {(int64_t)d->n};
    assert_int_equal(qk_observer_update(obs, d->v, shape, 1), QK_OK);
    *samples += d->n;
  }
  qk_qparams* qp = NULL;
  assert_int_equal(qk_observer_compute_qparams(obs, &qp), QK_OK);
  assert_int_equal(qk_qparams_get_scales(qp, scale, 1), QK_OK);
  assert_int_equal(qk_qparams_get_zero_points(qp, zp, 1), QK_OK);
  size_t size = 0;
  assert_int_equal(qk_observer_save(obs, NULL, 0, &size), QK_OK);
  uint8_t* bytes = malloc(size);
  assert_non_null(bytes);
  assert_int_equal(qk_observer_save(obs, bytes, size, &size), QK_OK);
  *total = 0.0;
  for (int k = 0; k < c->bins; ++k) {
    uint64_t u = 0;
    for (int i = 0; i < 8; ++i) u |= (uint64_t)bytes[62 + 50 + 8 * k + i] << (8 * i);
    double v;
    memcpy(&v, &u, 8);
    *total += v;
  }
  free(bytes);
  qk_qparams_destroy(qp);
  qk_observer_destroy(obs);
  qk_quant_spec_destroy(spec);
}

// Every case torch handles without dropping samples gives torch's scale bit for bit and its zero
// point: single batches, reduce_range, u8/s8/s32, affine/symmetric, 1000 bins, growth via
// _adjust_min_max/_combine_histograms, and batches that stay inside the first range.
static void test_golden_histogram_matches_torch(void** state) {
  const golden_file* g = *state;
  size_t compared = 0, mismatches = 0;
  for (size_t i = 0; i < g->ncases; ++i) {
    const golden_case* c = &g->cases[i];
    if (c->torch_bug) continue;
    float scale;
    int32_t zp;
    double total;
    size_t samples;
    run_case(g, c, &scale, &zp, &total, &samples);
    ++compared;
    if (to_bits(scale) != c->scale_bits || zp != c->zero_point) {
      ++mismatches;
      print_error("%s: scale 0x%08x zero_point %d, torch 0x%08x %d\n", c->name, to_bits(scale), zp, c->scale_bits,
                  c->zero_point);
    }
  }
  assert_int_equal(compared, 23);
  assert_int_equal(mismatches, 0);
}

// Both histograms hold every sample in the cases above (torch's sum is recorded by the generator),
// so the comparison really is between the same data.
static void test_golden_histogram_counts_every_sample(void** state) {
  const golden_file* g = *state;
  for (size_t i = 0; i < g->ncases; ++i) {
    const golden_case* c = &g->cases[i];
    if (c->torch_bug) continue;
    float scale;
    int32_t zp;
    double total;
    size_t samples;
    run_case(g, c, &scale, &zp, &total, &samples);
    assert_true(fabs(total - (double)samples) < 1e-9 * samples);
    assert_true(fabs(c->torch_hist_total - (double)samples) < 1e-3 * samples);
  }
}

// Where torch 1.13 bins over [int(min), int(max)] and loses samples, QuantKit's histogram still
// holds all of them, and the qparams differ from torch's because of it.
static void test_golden_histogram_keeps_samples_torch_drops(void** state) {
  const golden_file* g = *state;
  size_t bug_cases = 0;
  for (size_t i = 0; i < g->ncases; ++i) {
    const golden_case* c = &g->cases[i];
    if (!c->torch_bug) continue;
    float scale;
    int32_t zp;
    double total;
    size_t samples;
    run_case(g, c, &scale, &zp, &total, &samples);
    ++bug_cases;
    assert_true(c->torch_hist_total < (double)samples - 0.5);
    assert_true(fabs(total - (double)samples) < 1e-9 * samples);
    assert_true(to_bits(scale) != c->scale_bits || zp != c->zero_point);
  }
  assert_int_equal(bug_cases, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_golden_histogram_matches_torch),
      cmocka_unit_test(test_golden_histogram_counts_every_sample),
      cmocka_unit_test(test_golden_histogram_keeps_samples_torch_drops),
  };
  return cmocka_run_group_tests(tests, load_golden, free_golden);
}
