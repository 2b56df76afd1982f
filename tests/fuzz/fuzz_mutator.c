/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer side of fuzz_target.h (linked into the `make fuzz` binaries instead of
 * fuzz_driver.c): a quarter of the mutants come from the target's structure-aware mutation, the
 * rest from libFuzzer's own; half of all mutants are then re-signed, so coverage-guided search
 * gets past checksums that would stop almost every byte-level mutant. */
#include "fuzz_target.h"

size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  const qk_fuzz_target* t = &qk_fuzz_target_info;
  qk_fuzz_rng rng = {((uint64_t)seed << 1 | 1) * 0x9E3779B97F4A7C15ULL};
  if (t->mutate != NULL && size > 0 && qk_fuzz_next(&rng) % 4 == 0)
    size = t->mutate(data, size, max_size, &rng);
  else
    size = LLVMFuzzerMutate(data, size, max_size);
  if (t->resign != NULL && qk_fuzz_next(&rng) % 2) t->resign(data, size, &rng);
  return size;
}
