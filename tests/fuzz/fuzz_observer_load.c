/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for qk_observer_load: any byte string must give QK_OK or QK_ERR_CORRUPT (never a
 * crash, a leak or another status), and a loaded observer must survive every query, save, load
 * back to the same state, and update.
 *
 * Seeds: make_observer_load_corpus.c (every observer kind in several states, docs/
 * OBSERVER_STATE.md), committed in tests/fuzz/corpus/observer_load. Replayed by CTest
 * (fuzz_observer_load_replay, fuzz_driver.c) and fuzzed coverage-guided by `make fuzz`. The
 * mutation hook writes extreme values into the container and payload fields; the re-sign hook
 * fixes the payload size and recomputes the trailing XXH64, which otherwise stops nearly every
 * mutant before the payload parsers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "fuzz_target.h"
#include "quantkit/quantkit.h"

/* The observer's saved state (malloc'ed); aborts if it cannot be saved. */
static uint8_t* saved(const qk_observer* obs, size_t* size) {
  size_t needed = 0;
  if (qk_observer_save(obs, NULL, 0, &needed) != QK_OK || needed == 0) abort();
  uint8_t* bytes = malloc(needed);
  if (bytes == NULL || qk_observer_save(obs, bytes, needed, size) != QK_OK || *size != needed) abort();
  return bytes;
}

static long g_inputs, g_loaded;

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ++g_inputs;
  qk_observer* obs = NULL;
  const qk_status status = qk_observer_load(data, size, &obs);
  if (status != QK_OK && status != QK_ERR_CORRUPT && status != QK_ERR_INVALID_ARGUMENT) abort();
  if (status != QK_OK) {
    if (obs != NULL) abort(); /* nothing written on error */
    return 0;
  }
  ++g_loaded;
  /* A state that loads must be fully usable: it saves, the saved state loads and saves to the
   * same bytes (load . save is the identity from there on), and both give the same qparams. */
  size_t n1 = 0, n2 = 0, channels = 0;
  uint8_t* first = saved(obs, &n1);
  qk_observer* back = NULL;
  if (qk_observer_load(first, n1, &back) != QK_OK) abort();
  uint8_t* second = saved(back, &n2);
  if (n1 != n2 || memcmp(first, second, n1) != 0) abort();
  free(first);
  free(second);
  qk_qparams *qa = NULL, *qb = NULL;
  const qk_status sa = qk_observer_compute_qparams(obs, &qa), sb = qk_observer_compute_qparams(back, &qb);
  if (sa != sb) abort();
  qk_qparams_destroy(qa);
  qk_qparams_destroy(qb);
  qk_observer_destroy(back);
  qk_observer_get_channel_count(obs, &channels);
  const float batch[4] = {-1.0f, 0.5f, 2.0f, 3.0f};
  const int64_t shape[2] = {1, 4};
  qk_observer_update(obs, batch, shape, 2);
  qk_observer_destroy(obs);
  return 0;
}

/* ---- mutation hooks (fuzz_target.h) --------------------------------------------------- */
enum { kHeader = 62 }; /* container bytes before the payload; 8 more follow it (the XXH64) */

static void put(uint8_t* p, size_t size, size_t at, int width, uint64_t v) {
  for (int i = 0; i < width && at + (size_t)i < size; ++i) p[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

/* Extreme values in a field of the container or of the payload. */
static size_t mutate(uint8_t* data, size_t size, size_t capacity, qk_fuzz_rng* rng) {
  static const uint8_t container[][2] = {{8, 4},  {12, 4}, {16, 4}, {20, 4}, {24, 1}, {25, 4}, {29, 4},
                                         {33, 1}, {34, 4}, {38, 4}, {42, 8}, {50, 4}, {54, 8}};
  /* payload offsets (relative to 62) shared by both families, then family fields */
  static const uint8_t payload[][2] = {{0, 8},  {8, 1},  {9, 8},  {17, 8}, {9, 4},  {13, 4},
                                       {17, 8}, {25, 4}, {29, 4}, {33, 1}, {34, 4}, {38, 4}, {42, 8}};
  static const uint64_t ints[] = {0, 1, 2, 15, 16, 1024, 1025, 0xFFFFFFFFULL, 0x80000000ULL, (uint64_t)1 << 32,
                                  (uint64_t)1 << 62, UINT64_MAX};
  uint64_t v;
  int width;
  size_t at;
  (void)capacity;
  if (qk_fuzz_next(rng) % 2) {
    const int k = (int)(qk_fuzz_next(rng) % 13);
    at = container[k][0];
    width = container[k][1];
  } else if (qk_fuzz_next(rng) % 4) {
    const int k = (int)(qk_fuzz_next(rng) % 13);
    at = kHeader + payload[k][0];
    width = payload[k][1];
  } else { /* an f32/f64 slot of the per-channel pairs or the bin counts */
    width = qk_fuzz_next(rng) % 2 ? 4 : 8;
    at = kHeader + 17 + (size_t)(qk_fuzz_next(rng) % 64) * (size_t)width;
  }
  switch (qk_fuzz_next(rng) % 3) {
    case 0: v = ints[qk_fuzz_next(rng) % (sizeof ints / sizeof ints[0])]; break;
    case 1: { /* a special float of the field's width */
      static const double specials[] = {NAN, INFINITY, -INFINITY, -0.0, 1e-45, 1e38, 1e300, 0.5, 2.0, 99.99, 100.0};
      const double d = specials[qk_fuzz_next(rng) % (sizeof specials / sizeof specials[0])];
      if (width == 8) {
        memcpy(&v, &d, 8);
      } else {
        const float f = (float)d;
        uint32_t u;
        memcpy(&u, &f, 4);
        v = u;
      }
      break;
    }
    default: { /* old value +-1 */
      v = 0;
      for (int i = 0; i < width && at + (size_t)i < size; ++i) v |= (uint64_t)data[at + (size_t)i] << (8 * i);
      v += qk_fuzz_next(rng) % 2 ? 1 : (uint64_t)-1;
      break;
    }
  }
  put(data, size, at, width, v);
  return size;
}

/* Payload size := the bytes present, then the trailing XXH64 over everything before it. */
static void resign(uint8_t* data, size_t size, qk_fuzz_rng* rng) {
  if (size < kHeader + 8) return;
  if (qk_fuzz_next(rng) % 4) put(data, size, 54, 8, size - kHeader - 8);
  const uint64_t h = XXH64(data, size - 8, 0);
  put(data, size, size - 8, 8, h);
}

static void report(void) { printf("  %ld of %ld inputs loaded\n", g_loaded, g_inputs); }

const qk_fuzz_target qk_fuzz_target_info = {"observer_load", mutate, resign, report};
