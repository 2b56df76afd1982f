/* SPDX-License-Identifier: Apache-2.0 */
/* Writes the seed corpus of the observer-state fuzz target (fuzz_observer_load.c) into a folder
 * (argv[1], created if missing): for every observer kind, the saved state (docs/
 * OBSERVER_STATE.md) after no update, one update, an update with NaN and +-Inf, several updates
 * that grow the range, a merge, a batch of equal values, and with non-default specs and
 * parameters (symmetric s8, custom range, reduce_range and both, bins, upsample rate,
 * percentile, averaging constant). Small bin counts keep the states small, so mutations hit every field
 * often. Deterministic: same bytes every run. Run by CTest (fixture fuzz_observer_load_corpus);
 * refresh the committed copy with: make fuzz-corpus */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "quantkit/quantkit.h"

static const char* dir;
static int failures, written;

static void check(qk_status s, const char* what) {
  if (s != QK_OK) {
    fprintf(stderr, "make_observer_load_corpus: %s: %s %s\n", what, qk_status_string(s), qk_last_error());
    ++failures;
  }
}

static void save(const qk_observer* obs, const char* kind, const char* state) {
  size_t size = 0;
  check(qk_observer_save(obs, NULL, 0, &size), "size");
  uint8_t* buf = malloc(size ? size : 1);
  check(qk_observer_save(obs, buf, size, &size), "save");
  char path[1024];
  snprintf(path, sizeof path, "%s/%s_%s.qkobs", dir, kind, state);
  FILE* f = fopen(path, "wb");
  if (!f || fwrite(buf, 1, size, f) != size) {
    fprintf(stderr, "make_observer_load_corpus: cannot write %s\n", path);
    ++failures;
  } else {
    ++written;
  }
  if (f) fclose(f);
  free(buf);
}

/* Values in [-scale, scale) plus `offset`, 3 channels (the last axis of {rows, 3}). */
static void update(qk_observer* obs, int rows, float scale, float offset, uint32_t seed) {
  float x[3 * 64];
  uint32_t s = seed * 2654435761u + 1;
  for (int i = 0; i < 3 * rows; ++i) {
    s = s * 1664525u + 1013904223u;
    x[i] = ((float)(s >> 8) / 16777216.0f * 2.0f - 1.0f) * scale + offset;
  }
  const int64_t shape[2] = {rows, 3};
  check(qk_observer_update(obs, x, shape, 2), "update");
}

static qk_observer* make(qk_observer_kind kind, qk_dtype dtype, int symmetric, int per_channel, int custom) {
  qk_quant_spec* spec = NULL;
  const qk_qscheme scheme = per_channel ? (symmetric ? QK_QSCHEME_PER_CHANNEL_SYMMETRIC : QK_QSCHEME_PER_CHANNEL_AFFINE)
                                        : (symmetric ? QK_QSCHEME_PER_TENSOR_SYMMETRIC : QK_QSCHEME_PER_TENSOR_AFFINE);
  check(qk_quant_spec_create(dtype, scheme, &spec), "spec");
  if (per_channel) check(qk_quant_spec_set_axis(spec, 1), "axis");
  if (custom == 1) check(qk_quant_spec_set_range(spec, dtype == QK_DTYPE_U8 ? 0 : -64, dtype == QK_DTYPE_U8 ? 15 : 63), "range");
  if (custom == 2 || custom == 4) check(qk_quant_spec_set_reduce_range(spec, 1), "reduce_range");
  if (custom == 4) check(qk_quant_spec_set_range(spec, dtype == QK_DTYPE_U8 ? 0 : -64, dtype == QK_DTYPE_U8 ? 15 : 63), "range");
  if (custom == 3) check(qk_quant_spec_set_eps(spec, 1e-3f), "eps");
  qk_observer* obs = NULL;
  check(qk_observer_create(kind, spec, &obs), "create");
  qk_quant_spec_destroy(spec);
  const int histogram = kind >= QK_OBSERVER_HISTOGRAM;
  if (obs && histogram) check(qk_observer_set_param(obs, QK_OBSERVER_PARAM_BINS, custom ? 16 : 32), "bins");
  return obs;
}

static void kind_states(qk_observer_kind kind, const char* name) {
  const int per_channel = kind == QK_OBSERVER_PER_CHANNEL_MINMAX || kind == QK_OBSERVER_MOVING_AVERAGE_PER_CHANNEL_MINMAX;
  const int moving = kind == QK_OBSERVER_MOVING_AVERAGE_MINMAX || kind == QK_OBSERVER_MOVING_AVERAGE_PER_CHANNEL_MINMAX;
  qk_observer* o = make(kind, QK_DTYPE_U8, 0, per_channel, 0);
  if (!o) return;
  save(o, name, "fresh");
  update(o, 16, 1.0f, 0.25f, 1);
  save(o, name, "one_update");
  update(o, 32, 8.0f, 3.0f, 2); /* grows the range: histogram kinds re-bin */
  update(o, 8, 0.5f, -2.0f, 3);
  save(o, name, "grown");
  qk_observer_destroy(o);

  o = make(kind, QK_DTYPE_U8, 0, per_channel, 0);
  const float odd[6] = {NAN, 1.5f, INFINITY, -INFINITY, -0.0f, 2.5f};
  const int64_t s2[2] = {2, 3};
  check(qk_observer_update(o, odd, s2, 2), "non-finite update");
  save(o, name, "nonfinite");
  qk_observer_destroy(o);

  o = make(kind, QK_DTYPE_U8, 0, per_channel, 0);
  const float same[6] = {0.75f, 0.75f, 0.75f, 0.75f, 0.75f, 0.75f};
  check(qk_observer_update(o, same, s2, 2), "equal update");
  save(o, name, "equal_values");
  qk_observer* other = make(kind, QK_DTYPE_U8, 0, per_channel, 0);
  update(other, 16, 4.0f, -1.0f, 4);
  check(qk_observer_merge(o, other), "merge");
  save(o, name, "merged");
  qk_observer_destroy(other);
  qk_observer_destroy(o);

  o = make(kind, QK_DTYPE_S8, 1, per_channel, 0);
  update(o, 16, 2.0f, 0.5f, 5);
  save(o, name, "s8_symmetric");
  qk_observer_destroy(o);

  for (int custom = 1; custom <= 4; ++custom) {
    o = make(kind, custom == 1 || custom == 4 ? QK_DTYPE_S8 : QK_DTYPE_U8, 0, per_channel, custom);
    if (moving) check(qk_observer_set_param(o, QK_OBSERVER_PARAM_AVERAGING_CONSTANT, 0.5), "averaging");
    if (kind == QK_OBSERVER_HISTOGRAM) check(qk_observer_set_param(o, QK_OBSERVER_PARAM_UPSAMPLE_RATE, 4), "upsample");
    if (kind == QK_OBSERVER_PERCENTILE) check(qk_observer_set_param(o, QK_OBSERVER_PARAM_PERCENTILE, 99.5), "pct");
    update(o, 16, 1.0f, 0.0f, 6);
    update(o, 16, 3.0f, 1.0f, 7);
    const char* names[5] = {"", "custom_range", "reduce_range", "eps", "custom_range_reduced"};
    save(o, name, names[custom]);
    qk_observer_destroy(o);
  }
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_observer_load_corpus <folder>\n");
    return 2;
  }
  dir = argv[1];
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    perror(dir);
    return 1;
  }
  kind_states(QK_OBSERVER_MINMAX, "minmax");
  kind_states(QK_OBSERVER_MOVING_AVERAGE_MINMAX, "moving_average_minmax");
  kind_states(QK_OBSERVER_PER_CHANNEL_MINMAX, "per_channel_minmax");
  kind_states(QK_OBSERVER_MOVING_AVERAGE_PER_CHANNEL_MINMAX, "moving_average_per_channel_minmax");
  kind_states(QK_OBSERVER_HISTOGRAM, "histogram");
  kind_states(QK_OBSERVER_PERCENTILE, "percentile");
  kind_states(QK_OBSERVER_ENTROPY, "entropy");
  kind_states(QK_OBSERVER_MSE, "mse");
  printf("make_observer_load_corpus: %d seeds written to %s, %d failures\n", written, dir, failures);
  return failures ? 1 : 0;
}
