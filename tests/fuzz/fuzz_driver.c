/* SPDX-License-Identifier: Apache-2.0 */
/* Plain-CTest driver for the fuzz target: builds valid saved states for every observer kind
 * and feeds the target each state plus thousands of deterministic mutations (bit flips, byte
 * overwrites, truncations, extensions, extreme u64 fields). The checksum stops most mutants at
 * the door, so half of them get a recomputed XXH64 to reach the payload parsers too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "quantkit/quantkit.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t next_random(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Rewrites the trailing checksum so that a mutated payload gets past the integrity check. */
static void resign(uint8_t* data, size_t size) {
  if (size < 8) return;
  const uint64_t h = XXH64(data, size - 8, 0);
  for (int i = 0; i < 8; ++i) data[size - 8 + i] = (uint8_t)(h >> (8 * i));
}

int main(void) {
  const qk_observer_kind kinds[8] = {QK_OBSERVER_MINMAX, QK_OBSERVER_MOVING_AVERAGE_MINMAX,
                                     QK_OBSERVER_PER_CHANNEL_MINMAX, QK_OBSERVER_MOVING_AVERAGE_PER_CHANNEL_MINMAX,
                                     QK_OBSERVER_HISTOGRAM, QK_OBSERVER_PERCENTILE, QK_OBSERVER_ENTROPY,
                                     QK_OBSERVER_MSE};
  long cases = 0, kinds_used = 0;
  for (int k = 0; k < 8; ++k) {
    const int per_channel = k == 2 || k == 3;
    qk_quant_spec* spec = NULL;
    qk_observer* obs = NULL;
    if (qk_quant_spec_create(QK_DTYPE_U8, per_channel ? QK_QSCHEME_PER_CHANNEL_AFFINE : QK_QSCHEME_PER_TENSOR_AFFINE,
                             &spec) != QK_OK)
      return 1;
    if (qk_observer_create(kinds[k], spec, &obs) != QK_OK) { /* kind not built: nothing to fuzz */
      qk_quant_spec_destroy(spec);
      continue;
    }
    ++kinds_used;
    if (kinds[k] == QK_OBSERVER_HISTOGRAM || kinds[k] >= QK_OBSERVER_PERCENTILE)
      qk_observer_set_param(obs, QK_OBSERVER_PARAM_BINS, 64); /* small states mutate densely */
    float batch[3 * 16];
    for (int i = 0; i < 48; ++i) batch[i] = (float)((int)(next_random() % 2001) - 1000) / 100.0f;
    const int64_t shape[2] = {16, 3};
    qk_observer_update(obs, batch, shape, 2);
    size_t size = 0;
    qk_observer_save(obs, NULL, 0, &size);
    uint8_t* valid = malloc(size);
    uint8_t* work = malloc(size + 64);
    if (!valid || !work || qk_observer_save(obs, valid, size, &size) != QK_OK) return 1;
    LLVMFuzzerTestOneInput(valid, size);
    for (int round = 0; round < 4000; ++round) {
      memcpy(work, valid, size);
      size_t n = size;
      switch (next_random() % 5) {
        case 0: work[next_random() % n] ^= (uint8_t)(1u << (next_random() % 8)); break;
        case 1: work[next_random() % n] = (uint8_t)next_random(); break;
        case 2: n = next_random() % n; break;
        case 3: {
          const size_t extra = 1 + next_random() % 64;
          for (size_t i = 0; i < extra; ++i) work[n + i] = (uint8_t)next_random();
          n += extra;
          break;
        }
        default: { /* overwrite a u64-sized field with an extreme value, then re-sign */
          const uint64_t extremes[4] = {0, UINT64_MAX, (uint64_t)1 << 62, 0x7FF8000000000000ULL};
          const size_t at = next_random() % (n > 16 ? n - 16 : 1);
          const uint64_t v = extremes[next_random() % 4];
          memcpy(work + at, &v, n - at >= 8 ? 8 : n - at);
          break;
        }
      }
      if (next_random() % 2) resign(work, n);
      LLVMFuzzerTestOneInput(work, n);
      ++cases;
    }
    free(valid);
    free(work);
    qk_observer_destroy(obs);
    qk_quant_spec_destroy(spec);
  }
  printf("fuzz replay: %ld mutated states over %ld observer kinds, no crash\n", cases, kinds_used);
  printf("%ld passed, 0 failed\n", cases);
  return 0;
}
