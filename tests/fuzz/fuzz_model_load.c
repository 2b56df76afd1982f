/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the model loader, through qk_model_load_memory. The first byte selects what
 * the rest is:
 *   even  graph text: the "model.graph" metadata of a .qkw that this target builds around it with
 *         every weight tensor its layer lines ask for (fuzz_model_text.c: float, or int8 codes
 *         and qparams fitting wscheme/wrange), so mutations of the text reach the graph checks
 *         instead of stopping at a missing tensor;
 *   odd   a whole .qkw file (weights, metadata, checksums: mutants are re-signed half the time).
 * Every input must load as QK_OK, QK_ERR_CORRUPT, QK_ERR_UNSUPPORTED or QK_ERR_OUT_OF_MEMORY,
 * writing nothing on error, with no crash, leak or sanitizer report. Every input that loads must
 * then (within a size bound) run on a zero input, save, and reload through qk_model_load (file)
 * and qk_model_load_memory (the saved bytes) to models that run bit-identically and save to the
 * same bytes again. Anything else abort()s: that is a finding.
 *
 * Seeds: make_model_load_corpus.c (every layer kind and state, both modes), committed in
 * tests/fuzz/corpus/model_load. Replayed by CTest (fuzz_model_load_replay, under ASan+UBSan in
 * `make test`) and fuzzed coverage-guided by `make fuzz`. Saves go to $QK_FUZZ_TMPDIR, else
 * /dev/shm, else /tmp (the writer syncs every file: tmpfs keeps that cheap). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_model_text.h"
#include "fuzz_qkw_fields.h"
#include "quantkit/quantkit.h"

/* A finding: says which check failed (and where) before aborting, so an abort under qemu or in
 * a CTest log names its cause. */
#define FUZZ_FINDING(what)                                                               \
  do {                                                                                   \
    fprintf(stderr, "fuzz_model_load: finding at %s:%d: %s\n", __FILE__, __LINE__, what); \
    abort();                                                                             \
  } while (0)

/* Bounds on what a loaded model may cost to run (per sample): elements of all layer outputs and
 * multiply-adds. A model beyond them is only loaded, saved and reloaded. */
#define QKM_RUN_MAX_ELEMENTS (1 << 20)
#define QKM_RUN_MAX_MACS (UINT64_C(1) << 25)

static qkm_graph g_graph;
static struct {
  long inputs, loaded, ran, reloaded, state[5];
} g_stats;

static const char* temp_path(int which) {
  static char paths[2][512];
  if (paths[0][0] == '\0') {
    const char* dir = getenv("QK_FUZZ_TMPDIR");
    struct stat st;
    if (dir == NULL) dir = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    for (int i = 0; i < 2; ++i) snprintf(paths[i], sizeof paths[i], "%s/qk_fuzz_model_%d_%d.qkw", dir, (int)getpid(), i);
  }
  return paths[which];
}

static uint8_t* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) FUZZ_FINDING(qk_last_error());
  fseek(f, 0, SEEK_END);
  const long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t* buf = malloc(n > 0 ? (size_t)n : 1);
  if (!buf || n <= 0 || fread(buf, 1, (size_t)n, f) != (size_t)n) FUZZ_FINDING(qk_last_error());
  fclose(f);
  *size = (size_t)n;
  return buf;
}


static uint64_t elements(const int64_t* shape, size_t rank) {
  uint64_t n = 1;
  for (size_t i = 0; i < rank; ++i) n *= (uint64_t)shape[i];
  return n;
}

/* The input shape {1, sample...} (NHWC order if the model says so) when the model is cheap
 * enough to run, per the layer scan and the loaded tensors' shapes; 0 otherwise. */
static size_t runnable_input(const qk_model* m, const qkm_graph* g, int64_t* shape) {
  int64_t s[QK_MAX_RANK];
  size_t rank = 0, layers = 0;
  if (g->truncated || g->input[0] == '\0') return 0;
  if (qk_model_layer_count(m, &layers) != QK_OK || layers != g->count) return 0;
  if (qk_model_tensor_shape(m, g->input, s, QK_MAX_RANK, &rank) != QK_OK) return 0;
  uint64_t total = elements(s, rank), macs = 0;
  for (size_t i = 0; i < g->count && total <= QKM_RUN_MAX_ELEMENTS; ++i) {
    const qkm_layer* l = &g->layers[i];
    int64_t o[QK_MAX_RANK];
    size_t orank = 0;
    if (qk_model_tensor_shape(m, l->out, o, QK_MAX_RANK, &orank) != QK_OK) return 0;
    const uint64_t out = elements(o, orank);
    uint64_t per = 1; /* multiply-adds per output element */
    if (l->wrank == 4 || l->wrank == 2)
      per = (uint64_t)l->wshape[1] * (l->wrank == 4 ? (uint64_t)l->wshape[2] * (uint64_t)l->wshape[3] : 1);
    else if (l->kernel[0] > 0 && l->kernel[1] > 0)
      per = (uint64_t)l->kernel[0] * (uint64_t)l->kernel[1];
    else if (strcmp(l->op, "global_avg_pool2d") == 0 || strcmp(l->op, "softmax") == 0)
      per = total; /* bounded by everything before it */
    total += out;
    if (per > QKM_RUN_MAX_MACS || out > QKM_RUN_MAX_MACS / per) return 0;
    macs += out * per;
  }
  if (total > QKM_RUN_MAX_ELEMENTS || macs > QKM_RUN_MAX_MACS) return 0;
  qk_layout layout = QK_LAYOUT_NCHW;
  if (qk_model_get_io_layout(m, &layout) != QK_OK) FUZZ_FINDING(qk_last_error());
  shape[0] = 1;
  for (size_t i = 0; i < rank; ++i) shape[1 + i] = s[i];
  if (layout == QK_LAYOUT_NHWC && rank == 3) {
    shape[1] = s[1];
    shape[2] = s[2];
    shape[3] = s[0];
  }
  return rank + 1;
}

/* Runs `m` on zeros; returns the malloc'ed output (*count floats). A loaded model that cannot
 * run on a valid input is a finding. */
static float* run_zeros(const qk_model* m, const int64_t* shape, size_t rank, size_t* count) {
  int64_t o[QK_MAX_RANK];
  size_t orank = 0;
  if (qk_model_output_shape(m, o, QK_MAX_RANK, &orank) != QK_OK) FUZZ_FINDING(qk_last_error());
  *count = (size_t)elements(o, orank);
  float* x = calloc((size_t)elements(shape, rank), sizeof(float));
  float* y = malloc((*count ? *count : 1) * sizeof(float));
  if (!x || !y) FUZZ_FINDING(qk_last_error());
  if (qk_model_run(m, x, shape, rank, y, *count, NULL) != QK_OK) FUZZ_FINDING(qk_last_error());
  free(x);
  return y;
}

static void check_loaded(const qk_model* m, const qkm_graph* g) {
  qk_model_state state;
  if (qk_model_get_state(m, &state) != QK_OK ||
      (state != QK_MODEL_FLOAT && state != QK_MODEL_CONVERTED && state != QK_MODEL_DYNAMIC))
    FUZZ_FINDING(qk_last_error());
  int64_t shape[QK_MAX_RANK + 1];
  const size_t rank = runnable_input(m, g, shape);
  size_t count = 0;
  float* y = rank ? run_zeros(m, shape, rank, &count) : NULL;
  g_stats.ran += y != NULL;
  if (y) ++g_stats.state[state];
  const qk_status saved = qk_model_save(m, temp_path(0));
  if (saved != QK_OK) {
    if (saved != QK_ERR_UNSUPPORTED) FUZZ_FINDING(qk_last_error()); /* only: the re-written graph text is over 64 KiB */
    free(y);
    return;
  }
  size_t size = 0;
  uint8_t* bytes = read_file(temp_path(0), &size);
  qk_model *from_file = NULL, *from_memory = NULL;
  if (qk_model_load(temp_path(0), &from_file) != QK_OK) FUZZ_FINDING(qk_last_error());
  if (qk_model_load_memory(bytes, size, &from_memory) != QK_OK) FUZZ_FINDING(qk_last_error());
  unlink(temp_path(0));
  qk_model_state s1, s2;
  size_t n1 = 0, n2 = 0, l0 = 0;
  qk_model_layer_count(m, &l0);
  if (qk_model_get_state(from_file, &s1) != QK_OK || qk_model_get_state(from_memory, &s2) != QK_OK || s1 != state ||
      s2 != state || qk_model_layer_count(from_file, &n1) != QK_OK || qk_model_layer_count(from_memory, &n2) != QK_OK ||
      n1 != l0 || n2 != l0)
    FUZZ_FINDING(qk_last_error());
  if (y) {
    size_t c1 = 0, c2 = 0;
    float* y1 = run_zeros(from_file, shape, rank, &c1);
    float* y2 = run_zeros(from_memory, shape, rank, &c2);
    if (c1 != count || c2 != count || memcmp(y, y1, count * sizeof(float)) || memcmp(y, y2, count * sizeof(float)))
      FUZZ_FINDING(qk_last_error());
    free(y1);
    free(y2);
  }
  /* load . save is the identity: the reloaded model saves to the same bytes */
  if (qk_model_save(from_memory, temp_path(1)) != QK_OK) FUZZ_FINDING(qk_last_error());
  size_t size2 = 0;
  uint8_t* bytes2 = read_file(temp_path(1), &size2);
  unlink(temp_path(1));
  if (size2 != size || memcmp(bytes, bytes2, size) != 0) FUZZ_FINDING(qk_last_error());
  free(bytes2);
  free(bytes);
  ++g_stats.reloaded;
  free(y);
  qk_model_destroy(from_file);
  qk_model_destroy(from_memory);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ++g_stats.inputs;
  if (size < 1) return 0;
  const uint8_t* image = data + 1;
  size_t image_size = size - 1;
  uint8_t* built = NULL;
  const char* text = NULL;
  size_t text_len = 0;
  qk_qkw_reader* r = NULL;
  if (data[0] & 1) { /* a whole file: its graph text (if any) drives the run bound */
    if (qk_qkw_open_memory(image, image_size, QK_VERIFY_NONE, 0, &r) == QK_OK &&
        qk_qkw_metadata_get(r, "model.graph", &text) == QK_OK)
      text_len = strlen(text);
  } else {
    text = (const char*)image;
    text_len = image_size;
  }
  qkm_scan(text ? text : "", text_len, &g_graph);
  if (!(data[0] & 1)) {
    built = qkm_synthesize(&g_graph, text, text_len, &image_size);
    if (built == NULL) return 0; /* weights over the bound: nothing to load */
    image = built;
  }
  qk_model* m = (qk_model*)&g_graph; /* a sentinel: nothing may be written on error */
  const qk_status st = qk_model_load_memory(image, image_size, &m);
  if (st == QK_OK) {
    ++g_stats.loaded;
    check_loaded(m, &g_graph);
    qk_model_destroy(m);
  } else if (m != (qk_model*)&g_graph || (st != QK_ERR_CORRUPT && st != QK_ERR_UNSUPPORTED &&
                                          st != QK_ERR_OUT_OF_MEMORY)) {
    FUZZ_FINDING(qk_last_error());
  }
  qk_qkw_close(r);
  free(built);
  return 0;
}

/* ---- mutation hooks (fuzz_target.h) --------------------------------------------------- */

static size_t mutate(uint8_t* data, size_t size, size_t capacity, qk_fuzz_rng* rng) {
  if (size < 2 || capacity < 2) return size;
  if (qk_fuzz_next(rng) % 32 == 0) { /* the other mode, same bytes */
    data[0] ^= 1;
    return size;
  }
  if (data[0] & 1) return 1 + qkw_fuzz_mutate_field(data + 1, size - 1, capacity - 1, rng);
  return 1 + qkm_mutate_text(data + 1, size - 1, capacity - 1, rng);
}

static void resign(uint8_t* data, size_t size, qk_fuzz_rng* rng) {
  if (size > 1 && (data[0] & 1)) qkw_fuzz_resign(data + 1, size - 1, rng);
}

static void report(void) {
  printf("  %ld inputs: %ld loaded (%ld ran: float %ld, converted %ld, dynamic %ld), %ld saved and reloaded\n",
         g_stats.inputs, g_stats.loaded, g_stats.ran, g_stats.state[QK_MODEL_FLOAT], g_stats.state[QK_MODEL_CONVERTED],
         g_stats.state[QK_MODEL_DYNAMIC], g_stats.reloaded);
}

const qk_fuzz_target qk_fuzz_target_info = {"model_load", mutate, resign, report};
