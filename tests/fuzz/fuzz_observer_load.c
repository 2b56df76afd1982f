/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for qk_observer_load: any byte string must give QK_OK or QK_ERR_CORRUPT (never a
 * crash, a leak or another status), and a loaded observer must survive every query. Built as a
 * libFuzzer target with clang (-fsanitize=fuzzer), or linked with fuzz_driver.c, which replays
 * valid states of every observer kind through deterministic mutations under plain CTest. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "quantkit/quantkit.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qk_observer* obs = NULL;
  const qk_status status = qk_observer_load(data, size, &obs);
  if (status != QK_OK && status != QK_ERR_CORRUPT && status != QK_ERR_INVALID_ARGUMENT) abort();
  if (status != QK_OK) {
    if (obs != NULL) abort(); /* nothing written on error */
    return 0;
  }
  /* A state that loads must be fully usable. */
  qk_qparams* qp = NULL;
  if (qk_observer_compute_qparams(obs, &qp) == QK_OK) qk_qparams_destroy(qp);
  size_t channels = 0, needed = 0;
  qk_observer_get_channel_count(obs, &channels);
  if (qk_observer_save(obs, NULL, 0, &needed) != QK_OK || needed == 0) abort();
  const float batch[4] = {-1.0f, 0.5f, 2.0f, 3.0f};
  const int64_t shape[2] = {1, 4};
  qk_observer_update(obs, batch, shape, 2);
  qk_observer_destroy(obs);
  return 0;
}
