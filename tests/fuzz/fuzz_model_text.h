/* SPDX-License-Identifier: Apache-2.0 */
/* The model-graph text (metadata "model.graph", docs/MODEL_GRAPH.md) as the model fuzz target
 * sees it: a lenient scan of its layer lines (what tensors a layer needs, what it costs to run),
 * a .qkw image holding exactly those tensors under the text, and text-aware mutations. None of
 * this validates anything: the loader does, and an input this scan misreads only makes a .qkw
 * the loader rejects. */
#ifndef QK_FUZZ_MODEL_TEXT_H
#define QK_FUZZ_MODEL_TEXT_H

#include "fuzz_target.h"

#define QKM_NAME_MAX 256
#define QKM_MAX_LAYERS 512

typedef struct qkm_layer {
  char op[24];
  char name[QKM_NAME_MAX + 1];
  char out[QKM_NAME_MAX + 1];
  int wrank; /* 0: no parseable wshape */
  int64_t wshape[4];
  int bias, wq;
  int has_wscheme, has_wrange;
  int64_t wscheme, wlo, whi;
  int64_t channels; /* batchnorm, 0 if absent */
  int64_t kernel[2]; /* pools, 0 if absent */
} qkm_layer;

typedef struct qkm_graph {
  char input[QKM_NAME_MAX + 1]; /* the name on the `input` line, "" if none */
  size_t count;
  int truncated; /* more than QKM_MAX_LAYERS layer lines: the scan is incomplete */
  qkm_layer layers[QKM_MAX_LAYERS];
} qkm_graph;

/* Scans `len` bytes of text (need not be NUL-terminated). */
void qkm_scan(const char* text, size_t len, qkm_graph* g);

/* A .qkw image with every weight tensor the layers of `g` ask for (deterministic values; int8
 * codes and s8 qparams when a layer says wq=1, fitting its wscheme and wrange) and `text` as
 * its "model.graph" metadata. malloc'ed; NULL if the weights would exceed 2^20 elements. */
uint8_t* qkm_synthesize(const qkm_graph* g, const char* text, size_t len, size_t* size_out);

/* One text-aware mutation of text[0, size) (capacity bytes available): a number replaced by an
 * extreme one, an op, name or float value swapped, a line deleted, duplicated or swapped, a
 * key=value token dropped, a known line inserted. Returns the new size. */
size_t qkm_mutate_text(uint8_t* text, size_t size, size_t capacity, qk_fuzz_rng* rng);

#endif
