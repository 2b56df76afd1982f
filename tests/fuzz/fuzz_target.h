/* SPDX-License-Identifier: Apache-2.0 */
/* What a fuzz target gives the two drivers besides LLVMFuzzerTestOneInput: each target file
 * defines `qk_fuzz_target_info`, and is linked either with fuzz_driver.c (the deterministic CTest
 * replay over its seed corpus) or with fuzz_mutator.c (libFuzzer's custom mutator, for `make
 * fuzz`). Both use the same two hooks, so a format with a checksum is fuzzed behind it in both.
 * A new target is its .c file, one qk_add_fuzz_target() line in tests/fuzz/fuzz.cmake and a
 * seed folder tests/fuzz/corpus/<name>/ (docs/FUZZING.md). */
#ifndef QK_FUZZ_TARGET_H
#define QK_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* xorshift64*: the drivers' only randomness, so replays are identical on every platform. */
typedef struct qk_fuzz_rng {
  uint64_t state;
} qk_fuzz_rng;

static inline uint64_t qk_fuzz_next(qk_fuzz_rng* r) {
  r->state ^= r->state >> 12;
  r->state ^= r->state << 25;
  r->state ^= r->state >> 27;
  return r->state * 0x2545F4914F6CDD1DULL;
}

typedef struct qk_fuzz_target {
  const char* name;
  /* A structure-aware mutation of data[0, size) in place, with `capacity` bytes available;
   * returns the new size (<= capacity). NULL: byte-level mutations only. */
  size_t (*mutate)(uint8_t* data, size_t size, size_t capacity, qk_fuzz_rng* rng);
  /* Recomputes the integrity fields (checksums, sizes) of a mutant so that it reaches the parser
   * behind them. The drivers call it for half of the mutants. NULL: the format has none. */
  void (*resign)(uint8_t* data, size_t size, qk_fuzz_rng* rng);
  /* Prints what the replay reached (e.g. how many inputs loaded), so a seed corpus or mutator
   * that stops reaching the deep code shows in the test log. NULL: nothing to say. */
  void (*report)(void);
} qk_fuzz_target;

extern const qk_fuzz_target qk_fuzz_target_info;

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#ifdef __cplusplus
}
#endif

#endif
