/* SPDX-License-Identifier: Apache-2.0 */
/* Structure-aware mutation and re-signing of .qkw images (tests/format/qkw_builder.c), shared
 * by the fuzz targets whose input is, or contains, a whole .qkw file (fuzz_qkw_open.c,
 * fuzz_model_load.c). */
#ifndef QK_FUZZ_QKW_FIELDS_H
#define QK_FUZZ_QKW_FIELDS_H

#include "fuzz_target.h"

/* Writes an extreme value (or the old value +-1) into one structured field of the image: the
 * header, the table header, a tensor entry, a dims slot or a metadata ref. Returns size. */
size_t qkw_fuzz_mutate_field(uint8_t* img, size_t size, size_t capacity, qk_fuzz_rng* rng);
/* Recomputes every chunk XXH64 and meta_xxh64; for half of the calls first sets the header's
 * file_size to the image size (so truncated or extended mutants get past that check too). */
void qkw_fuzz_resign(uint8_t* img, size_t size, qk_fuzz_rng* rng);

#endif
