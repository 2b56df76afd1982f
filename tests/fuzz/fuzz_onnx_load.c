/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the ONNX importer (src/onnx), through qk_model_load_onnx_memory. The input is
 * a serialized ModelProto. Every input must import as QK_OK or fail with QK_ERR_CORRUPT,
 * QK_ERR_UNSUPPORTED, QK_ERR_INVALID_ARGUMENT or QK_ERR_OUT_OF_MEMORY and a message, writing
 * nothing on error (QK_ERR_IO cannot happen from memory: external data is refused), with no
 * crash, leak or sanitizer report. A model that imports must then
 *   - be a FLOAT graph model;
 *   - when it is cheap to run (below), run on zeros through qk_run_*: every graph input of a
 *     graph dtype, symbolic dims set to 1, and every value's dims known or an input's symbol (a
 *     dim derived from symbols, e.g. a Pad of a symbolic dim, has no size before the run: not
 *     run), at most QKO_RUN_MAX_NODES nodes, QKO_RUN_MAX_ELEMENTS elements over all node
 *     outputs, and a cost bound of sum over nodes of (input + output elements) x (largest input)
 *     that covers Conv, ConvTranspose, MatMul, pooling and reductions;
 *     A run of a model with symbolic dims may be refused (QK_ERR_INVALID_ARGUMENT or
 *     QK_ERR_UNSUPPORTED: a Gather index or Resize size that a dim of 1 breaks);
 *   - save (qk_model_save), load back (qk_model_load) to a FLOAT graph model with the same node
 *     count that runs bit-identically (or is refused the same way) and saves to the same bytes.
 * Anything else abort()s with the check that failed: that is a finding. Findings of the first
 * campaign are fixed; their reproducers replay as tests/fuzz/corpus/onnx_load/regress-*.onnx.
 *
 * The run bound needs every node's output names, which the C API does not list: they are read
 * from the graph text the save wrote (tensor "model.graph.v2", docs/MODEL_GRAPH.md), and their
 * shapes from qk_model_value_shape.
 *
 * Seeds: tests/fuzz/make_onnx_corpus.py (python3-onnx's helper API: every supported op, the
 * exporters' shape arithmetic with a symbolic batch, initializers, Constant nodes), committed in
 * tests/fuzz/corpus/onnx_load with the regression seeds (regress-*.onnx). The structure-aware
 * mutation below works on the protobuf wire format without a schema: it parses the input into a
 * tree (a length-delimited field that parses completely as a message is taken as one), edits
 * one field (extreme varints and floats, deletion, duplication, reordering, one value name
 * swapped for another, which makes undefined inputs, cycles and duplicate outputs) and writes
 * it back with correct length prefixes, so the mutants stay protobufs and reach the importer.
 * Saves go to $QK_FUZZ_TMPDIR, else /dev/shm, else /tmp. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_target.h"
#include "quantkit/quantkit.h"

#define FUZZ_FINDING(what)                                                                           \
  do {                                                                                               \
    fprintf(stderr, "fuzz_onnx_load: finding at %s:%d: %s (last error: %s)\n", __FILE__, __LINE__, \
            what, qk_last_error());                                                                  \
    abort();                                                                                         \
  } while (0)

#define QKO_RUN_MAX_NODES 64
#define QKO_RUN_MAX_ELEMENTS (1u << 18)
#define QKO_RUN_MAX_COST (UINT64_C(1) << 24)
#define QKO_MAX_VALUES 256 /* graph inputs (and their symbols) of a model we run */

static struct {
  long inputs, loaded, ran, run_refused, not_run_size, not_run_symbolic, reloaded;
  long status[100];
} g_stats;

static const char* temp_path(int which) {
  static char paths[2][512];
  if (paths[0][0] == '\0') {
    const char* dir = getenv("QK_FUZZ_TMPDIR");
    struct stat st;
    if (dir == NULL) dir = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    for (int i = 0; i < 2; ++i) snprintf(paths[i], sizeof paths[i], "%s/qk_fuzz_onnx_%d_%d.qkw", dir, (int)getpid(), i);
  }
  return paths[which];
}

static uint8_t* read_whole(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) FUZZ_FINDING("cannot open the saved model");
  fseek(f, 0, SEEK_END);
  const long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t* buf = malloc(n > 0 ? (size_t)n : 1);
  if (!buf || n <= 0 || fread(buf, 1, (size_t)n, f) != (size_t)n) FUZZ_FINDING("cannot read the saved model");
  fclose(f);
  *size = (size_t)n;
  return buf;
}

static size_t dtype_size(qk_dtype t) {
  switch ((int)t) {
    case QK_DTYPE_F32: case QK_DTYPE_S32: return 4;
    case QK_DTYPE_S64: return 8;
    case 10 /* QK_DTYPE_BOOL */: case QK_DTYPE_U8: case QK_DTYPE_S8: return 1;
    case QK_DTYPE_F16: return 2;
    default: return 0;
  }
}

/* ---- the run bound ------------------------------------------------------------------------ */

typedef struct run_plan {
  size_t n_inputs;
  const char* input_names[QKO_MAX_VALUES];
  int64_t input_shape[QKO_MAX_VALUES][QK_MAX_RANK];
  size_t input_rank[QKO_MAX_VALUES];
  qk_dtype input_dtype[QKO_MAX_VALUES];
  char symbols[QKO_MAX_VALUES][64]; /* the graph inputs' symbols (set to 1) */
  size_t n_symbols;
} run_plan;

static int is_input_symbol(const run_plan* p, const char* s) {
  for (size_t i = 0; i < p->n_symbols; ++i)
    if (strcmp(p->symbols[i], s) == 0) return 1;
  return 0;
}

/* Elements of value `name` with the inputs' symbols at 1; -1 if a dim has no size before the
 * run (derived from a symbol) or the value is unknown. */
static int64_t value_elements(const qk_model* m, const run_plan* p, const char* name) {
  int64_t dims[QK_MAX_RANK];
  const char* syms[QK_MAX_RANK];
  size_t rank = 0;
  qk_dtype dt;
  if (qk_model_value_shape(m, name, dims, syms, QK_MAX_RANK, &rank, &dt) != QK_OK) return -1;
  uint64_t n = 1;
  for (size_t i = 0; i < rank; ++i) {
    if (dims[i] < 0) {
      if (!syms[i] || !is_input_symbol(p, syms[i])) return -1;
      continue;
    }
    if (dims[i] > (int64_t)QKO_RUN_MAX_ELEMENTS) return (int64_t)QKO_RUN_MAX_ELEMENTS + 1;
    n *= (uint64_t)dims[i];
    if (n > QKO_RUN_MAX_ELEMENTS) return (int64_t)QKO_RUN_MAX_ELEMENTS + 1;
  }
  return (int64_t)n;
}

/* Splits "A,,C" into names (empty ones skipped); returns the count. */
static size_t split_names(char* list, char** out, size_t cap) {
  size_t n = 0;
  char* s = list;
  while (s && *s && n < cap) {
    char* comma = strchr(s, ',');
    if (comma) *comma = '\0';
    if (*s) out[n++] = s;
    s = comma ? comma + 1 : NULL;
  }
  return n;
}

/* 1: cheap enough to run (plan filled); 0: not run. `text` is the saved graph text (changed). */
static int plan_run(const qk_model* m, char* text, run_plan* p) {
  size_t n_in = 0, n_nodes = 0;
  if (qk_model_input_count(m, &n_in) != QK_OK || qk_model_node_count(m, &n_nodes) != QK_OK)
    FUZZ_FINDING("input / node count");
  if (n_in > QKO_MAX_VALUES || n_nodes > QKO_RUN_MAX_NODES) return 0;
  p->n_inputs = n_in;
  p->n_symbols = 0;
  uint64_t in_total = 0;
  for (size_t i = 0; i < n_in; ++i) {
    const char* syms[QK_MAX_RANK];
    if (qk_model_input_name(m, i, &p->input_names[i]) != QK_OK ||
        qk_model_value_shape(m, p->input_names[i], p->input_shape[i], syms, QK_MAX_RANK, &p->input_rank[i],
                             &p->input_dtype[i]) != QK_OK)
      FUZZ_FINDING("graph input shape");
    if (dtype_size(p->input_dtype[i]) == 0) return 0;
    uint64_t n = 1;
    for (size_t d = 0; d < p->input_rank[i]; ++d) {
      if (p->input_shape[i][d] < 0) {
        if (syms[d] == NULL) FUZZ_FINDING("a symbolic input dim without a name");
        if (strlen(syms[d]) >= sizeof p->symbols[0]) return 0;
        if (!is_input_symbol(p, syms[d]) && p->n_symbols < QKO_MAX_VALUES) strcpy(p->symbols[p->n_symbols++], syms[d]);
        p->input_shape[i][d] = 1;
      }
      if (p->input_shape[i][d] > (int64_t)QKO_RUN_MAX_ELEMENTS) return 0;
      n *= (uint64_t)p->input_shape[i][d];
      if (n > QKO_RUN_MAX_ELEMENTS) return 0;
    }
    in_total += n;
    if (in_total > QKO_RUN_MAX_ELEMENTS) return 0;
  }
  /* node lines: "node OP NAME MODE in=A,,C out=Y,Z [@attr...]" */
  uint64_t elements = 0, cost = 0;
  size_t nodes_seen = 0;
  for (char* line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (strncmp(line, "node ", 5) != 0) continue;
    ++nodes_seen;
    char* in = strstr(line, " in=");
    char* out = strstr(line, " out=");
    if (!in || !out || out < in) FUZZ_FINDING("a node line without in= / out=");
    *out = '\0';
    char* end = strchr(out + 5, ' ');
    if (end) *end = '\0';
    char* ins[256];
    char* outs[256];
    const size_t ni = split_names(in + 4, ins, 256), no = split_names(out + 5, outs, 256);
    uint64_t sum = 0, max_in = 1;
    for (size_t k = 0; k < ni; ++k) {
      const int64_t e = value_elements(m, p, ins[k]);
      if (e < 0) goto symbolic;
      sum += (uint64_t)e;
      if ((uint64_t)e > max_in) max_in = (uint64_t)e;
    }
    for (size_t k = 0; k < no; ++k) {
      const int64_t e = value_elements(m, p, outs[k]);
      if (e < 0) goto symbolic;
      sum += (uint64_t)e;
      elements += (uint64_t)e;
    }
    if (elements > QKO_RUN_MAX_ELEMENTS || sum > QKO_RUN_MAX_COST || max_in > QKO_RUN_MAX_COST / (sum ? sum : 1))
      goto too_big;
    cost += sum * max_in;
    if (cost > QKO_RUN_MAX_COST) goto too_big;
  }
  if (nodes_seen != n_nodes) FUZZ_FINDING("the saved graph text lists another number of nodes");
  return 1;
too_big:
  ++g_stats.not_run_size;
  return 0;
symbolic:
  ++g_stats.not_run_symbolic;
  return 0;
}

/* The graph text of a saved model (malloc'ed, NUL-terminated). */
static char* graph_text(const uint8_t* file, size_t size) {
  qk_qkw_reader* r = NULL;
  size_t index = 0;
  qk_qkw_tensor_info info;
  if (qk_qkw_open_memory(file, size, QK_VERIFY_FULL, 0, &r) != QK_OK || qk_qkw_find(r, "model.graph.v2", &index) != QK_OK ||
      qk_qkw_tensor_info_get(r, index, &info) != QK_OK)
    FUZZ_FINDING("the saved file has no graph text");
  char* text = malloc(info.code_bytes + 1);
  if (!text || qk_qkw_read_codes(r, index, text, info.code_bytes) != QK_OK) FUZZ_FINDING("reading the graph text");
  text[info.code_bytes] = '\0';
  qk_qkw_close(r);
  return text;
}

/* Runs `m` on zeros: every output's bytes, concatenated (malloc'ed; *size). */
static uint8_t* run_zeros(const qk_model* m, const run_plan* p, size_t* size) {
  qk_run* run = NULL;
  if (qk_run_create(m, &run) != QK_OK) FUZZ_FINDING("qk_run_create");
  static uint8_t zeros[QKO_RUN_MAX_ELEMENTS * 8];
  for (size_t i = 0; i < p->n_inputs; ++i) {
    size_t n = 1;
    for (size_t d = 0; d < p->input_rank[i]; ++d) n *= (size_t)p->input_shape[i][d];
    if (qk_run_set_input(run, p->input_names[i], p->input_dtype[i], zeros, n * dtype_size(p->input_dtype[i]),
                         p->input_shape[i], p->input_rank[i]) != QK_OK)
      FUZZ_FINDING("qk_run_set_input");
  }
  /* A model within the bound that cannot run on a valid input is a finding: every shape and
   * dtype was checked when the nodes were added. With symbolic dims (set to 1 here) a run may
   * find what only sizes show (a Gather index past a dim of 1, a Resize whose sizes repeat an N
   * of 112: regress-resize-symbolic-n-sizes.onnx): QK_ERR_INVALID_ARGUMENT or QK_ERR_UNSUPPORTED,
   * and the reloaded model must say the same. */
  const qk_status st = qk_run_invoke(run, NULL);
  if (st != QK_OK) {
    if (p->n_symbols == 0 || (st != QK_ERR_INVALID_ARGUMENT && st != QK_ERR_UNSUPPORTED))
      FUZZ_FINDING("qk_run_invoke of an imported model on zeros");
    qk_run_destroy(run);
    *size = 0;
    return NULL;
  }
  size_t n_out = 0;
  if (qk_model_output_count(m, &n_out) != QK_OK) FUZZ_FINDING("qk_model_output_count");
  uint8_t* all = malloc(1);
  *size = 0;
  for (size_t k = 0; k < n_out; ++k) {
    const char* name = NULL;
    int64_t shape[QK_MAX_RANK], dshape[QK_MAX_RANK];
    size_t rank = 0, drank = 0;
    qk_dtype dt;
    if (qk_model_output_name(m, k, &name) != QK_OK ||
        qk_model_value_shape(m, name, dshape, NULL, QK_MAX_RANK, &drank, &dt) != QK_OK ||
        qk_run_output_shape(run, name, shape, QK_MAX_RANK, &rank) != QK_OK)
      FUZZ_FINDING("output shape");
    if (rank != drank) FUZZ_FINDING("an output's rank differs from its declared rank");
    size_t n = dtype_size(dt);
    for (size_t d = 0; d < rank; ++d) {
      if (dshape[d] >= 0 && dshape[d] != shape[d]) FUZZ_FINDING("an output's dim differs from its declared dim");
      n *= (size_t)shape[d];
    }
    if (n > QKO_RUN_MAX_ELEMENTS * 8) FUZZ_FINDING("an output larger than the bound");
    uint8_t* grown = realloc(all, *size + n + 1);
    if (!grown) FUZZ_FINDING("out of memory");
    all = grown;
    if (qk_run_get_output(run, name, dt, all + *size, n) != QK_OK) FUZZ_FINDING("qk_run_get_output");
    *size += n;
  }
  qk_run_destroy(run);
  return all;
}

static void check_loaded(const qk_model* m) {
  qk_model_state state;
  int is_graph = 0;
  if (qk_model_get_state(m, &state) != QK_OK || state != QK_MODEL_FLOAT) FUZZ_FINDING("an imported model is not FLOAT");
  if (qk_model_is_graph(m, &is_graph) != QK_OK || !is_graph) FUZZ_FINDING("an imported model is not a graph model");
  if (qk_model_save(m, temp_path(0)) != QK_OK) FUZZ_FINDING("qk_model_save of an imported model");
  size_t size = 0;
  uint8_t* bytes = read_whole(temp_path(0), &size);
  char* text = graph_text(bytes, size);
  static run_plan plan;
  int runnable = plan_run(m, text, &plan);
  free(text);
  size_t y_size = 0;
  uint8_t* y = runnable ? run_zeros(m, &plan, &y_size) : NULL;
  g_stats.ran += runnable && y;
  g_stats.run_refused += runnable && !y;

  qk_model* back = NULL;
  if (qk_model_load(temp_path(0), &back) != QK_OK) FUZZ_FINDING("qk_model_load of a saved imported model");
  unlink(temp_path(0));
  qk_model_state s1;
  size_t n0 = 0, n1 = 0;
  if (qk_model_get_state(back, &s1) != QK_OK || s1 != QK_MODEL_FLOAT || qk_model_node_count(m, &n0) != QK_OK ||
      qk_model_node_count(back, &n1) != QK_OK || n0 != n1)
    FUZZ_FINDING("the reloaded model differs (state or node count)");
  if (runnable) {
    size_t y2_size = 0;
    uint8_t* y2 = run_zeros(back, &plan, &y2_size);
    if ((y == NULL) != (y2 == NULL) || y2_size != y_size || (y_size && memcmp(y, y2, y_size) != 0))
      FUZZ_FINDING("the reloaded model runs differently");
    free(y2);
  }
  /* load . save is the identity */
  if (qk_model_save(back, temp_path(1)) != QK_OK) FUZZ_FINDING("qk_model_save of the reloaded model");
  size_t size2 = 0;
  uint8_t* bytes2 = read_whole(temp_path(1), &size2);
  unlink(temp_path(1));
  if (size2 != size || memcmp(bytes, bytes2, size) != 0) FUZZ_FINDING("the reloaded model saves to other bytes");
  ++g_stats.reloaded;
  free(bytes2);
  free(bytes);
  free(y);
  qk_model_destroy(back);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ++g_stats.inputs;
  static int sentinel;
  qk_model* m = (qk_model*)&sentinel; /* nothing may be written on error */
  const qk_status st = qk_model_load_onnx_memory(size ? data : (const uint8_t*)"", size, NULL, &m);
  if ((int)st >= 0 && (int)st < 100) ++g_stats.status[st];
  if (st == QK_OK) {
    if (m == (qk_model*)&sentinel || m == NULL) FUZZ_FINDING("QK_OK without a model");
    ++g_stats.loaded;
    check_loaded(m);
    qk_model_destroy(m);
    return 0;
  }
  if (m != (qk_model*)&sentinel) FUZZ_FINDING("a failed import wrote the output pointer");
  if (st != QK_ERR_CORRUPT && st != QK_ERR_UNSUPPORTED && st != QK_ERR_INVALID_ARGUMENT && st != QK_ERR_OUT_OF_MEMORY) {
    FUZZ_FINDING("an undocumented status from qk_model_load_onnx_memory");
  }
  if (qk_last_error()[0] == '\0') FUZZ_FINDING("an error without a message");
  return 0;
}

/* ---- structure-aware mutation: the protobuf wire format as a tree ------------------------- */

#define PB_MAX_FIELDS 8192
#define PB_MAX_DEPTH 24

typedef struct pb_field {
  uint32_t number;
  uint8_t wire;       /* 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 */
  uint64_t value;     /* wire 0, 1, 5 */
  const uint8_t* bytes; /* wire 2 leaf payload */
  size_t len;
  int message;        /* wire 2 parsed as a message: children below */
  int parent, first_child, next; /* indices, -1 none */
  int deleted;
} pb_field;

typedef struct pb_tree {
  pb_field f[PB_MAX_FIELDS];
  int count;
  uint8_t* scratch[16]; /* payloads made by a mutation */
  int n_scratch;
} pb_tree;

static int pb_varint(const uint8_t* p, size_t n, size_t* i, uint64_t* v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 64 && *i < n; shift += 7) {
    const uint8_t b = p[(*i)++];
    x |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      *v = x;
      return 1;
    }
  }
  return 0;
}

/* Does p[0, n) parse completely as wire-format fields? */
static int pb_is_message(const uint8_t* p, size_t n) {
  size_t i = 0;
  if (n == 0) return 0;
  while (i < n) {
    uint64_t key, v;
    if (!pb_varint(p, n, &i, &key) || (key >> 3) == 0 || (key >> 3) > 536870911u) return 0;
    switch (key & 7) {
      case 0: if (!pb_varint(p, n, &i, &v)) return 0; break;
      case 1: if (n - i < 8) return 0; i += 8; break;
      case 5: if (n - i < 4) return 0; i += 4; break;
      case 2: if (!pb_varint(p, n, &i, &v) || v > n - i) return 0; i += (size_t)v; break;
      default: return 0;
    }
  }
  return 1;
}

/* Parses the fields of p[0, n) as children of `parent`; 0 if the bytes are no message. */
static int pb_parse(pb_tree* t, const uint8_t* p, size_t n, int parent, int depth) {
  size_t i = 0;
  int last = -1;
  while (i < n) {
    uint64_t key, v = 0;
    if (t->count >= PB_MAX_FIELDS || !pb_varint(p, n, &i, &key)) return 0;
    pb_field* f = &t->f[t->count];
    memset(f, 0, sizeof *f);
    f->number = (uint32_t)(key >> 3);
    f->wire = (uint8_t)(key & 7);
    f->parent = parent;
    f->first_child = f->next = -1;
    switch (f->wire) {
      case 0: if (!pb_varint(p, n, &i, &v)) return 0; f->value = v; break;
      case 1: if (n - i < 8) return 0; memcpy(&f->value, p + i, 8); i += 8; break;
      case 5: { uint32_t w; if (n - i < 4) return 0; memcpy(&w, p + i, 4); f->value = w; i += 4; break; }
      case 2:
        if (!pb_varint(p, n, &i, &v) || v > n - i) return 0;
        f->bytes = p + i;
        f->len = (size_t)v;
        i += (size_t)v;
        break;
      default: return 0;
    }
    const int me = t->count++;
    if (last < 0) {
      if (parent >= 0) t->f[parent].first_child = me;
    } else {
      t->f[last].next = me;
    }
    last = me;
    if (t->f[me].wire == 2 && depth < PB_MAX_DEPTH && pb_is_message(t->f[me].bytes, t->f[me].len)) {
      const int saved = t->count;
      t->f[me].message = 1;
      if (!pb_parse(t, t->f[me].bytes, t->f[me].len, me, depth + 1)) { /* a leaf after all */
        t->count = saved;
        t->f[me].message = 0;
        t->f[me].first_child = -1;
      }
    }
  }
  return 1;
}

static size_t pb_put_varint(uint8_t* out, size_t at, size_t cap, uint64_t v) {
  do {
    if (at < cap) out[at] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
    ++at;
    v >>= 7;
  } while (v);
  return at;
}

static size_t pb_write_children(const pb_tree* t, int parent, int first, uint8_t* out, size_t at, size_t cap);

static size_t pb_payload_size(const pb_tree* t, int k) {
  const pb_field* f = &t->f[k];
  if (!f->message) return f->len;
  return pb_write_children(t, k, f->first_child, NULL, 0, 0);
}

/* Writes field k at `at`; returns the position after it (may pass cap: nothing is written there). */
static size_t pb_write_field(const pb_tree* t, int k, uint8_t* out, size_t at, size_t cap) {
  const pb_field* f = &t->f[k];
  at = pb_put_varint(out, at, cap, ((uint64_t)f->number << 3) | f->wire);
  switch (f->wire) {
    case 0: return pb_put_varint(out, at, cap, f->value);
    case 1:
      for (int b = 0; b < 8; ++b, ++at)
        if (at < cap) out[at] = (uint8_t)(f->value >> (8 * b));
      return at;
    case 5:
      for (int b = 0; b < 4; ++b, ++at)
        if (at < cap) out[at] = (uint8_t)(f->value >> (8 * b));
      return at;
    default: {
      const size_t len = pb_payload_size(t, k);
      at = pb_put_varint(out, at, cap, len);
      if (f->message) return pb_write_children(t, k, f->first_child, out, at, cap);
      if (at + len <= cap && out) memcpy(out + at, f->bytes, len);
      return at + len;
    }
  }
}

static size_t pb_write_children(const pb_tree* t, int parent, int first, uint8_t* out, size_t at, size_t cap) {
  (void)parent;
  for (int k = first; k >= 0; k = t->f[k].next)
    if (!t->f[k].deleted) at = pb_write_field(t, k, out, at, out ? cap : 0);
  return at;
}

/* A random live field matching `want` (0 any, 1 varint, 2 leaf bytes, 3 fixed32, 4 message). */
static int pb_pick(const pb_tree* t, qk_fuzz_rng* rng, int want) {
  int candidates = 0, chosen = -1;
  for (int k = 0; k < t->count; ++k) {
    const pb_field* f = &t->f[k];
    int dead = 0;
    for (int a = k; a >= 0 && !dead; a = t->f[a].parent) dead = t->f[a].deleted;
    if (dead) continue;
    const int ok = want == 0 || (want == 1 && f->wire == 0) || (want == 2 && f->wire == 2 && !f->message) ||
                   (want == 3 && f->wire == 5) || (want == 4 && f->message);
    if (ok && qk_fuzz_next(rng) % (uint64_t)(++candidates) == 0) chosen = k; /* reservoir */
  }
  return chosen;
}

static uint8_t* pb_scratch(pb_tree* t, size_t n) {
  if (t->n_scratch >= 16) return NULL;
  uint8_t* p = malloc(n ? n : 1);
  if (p) t->scratch[t->n_scratch++] = p;
  return p;
}

static size_t mutate(uint8_t* data, size_t size, size_t capacity, qk_fuzz_rng* rng) {
  static pb_tree t;
  t.count = 0;
  t.n_scratch = 0;
  /* field -1 is the root (ModelProto): its children are linked from a pseudo node */
  if (size == 0 || !pb_parse(&t, data, size, -1, 0) || t.count == 0) return size;
  int root_first = 0; /* the first top-level field is field 0 (parse order) */
  static const uint64_t extremes[] = {0, 1, 2, 3, 7, 13, 18, 99, 0x7FFFFFFF, 0x80000000ull, 0xFFFFFFFFull,
                                      (uint64_t)1 << 31, (uint64_t)1 << 40, (uint64_t)1 << 62, UINT64_MAX,
                                      UINT64_MAX - 1, (uint64_t)-1000000};
  static const uint32_t floats[] = {0x7FC00000u, 0x7F800000u, 0xFF800000u, 0x80000000u, 0, 0x3F800000u,
                                    0x7149F2CAu /* 1e30 */, 0x00000001u, 0xBF800000u};
  const int op = (int)(qk_fuzz_next(rng) % 8);
  int k;
  switch (op) {
    case 0: /* an extreme or small varint */
      if ((k = pb_pick(&t, rng, 1)) < 0) return size;
      t.f[k].value = qk_fuzz_next(rng) % 2 ? extremes[qk_fuzz_next(rng) % (sizeof extremes / sizeof *extremes)]
                                          : qk_fuzz_next(rng) % 16;
      break;
    case 1: /* an odd float */
      if ((k = pb_pick(&t, rng, 3)) < 0) return size;
      t.f[k].value = floats[qk_fuzz_next(rng) % (sizeof floats / sizeof *floats)];
      break;
    case 2: /* delete a field */
      if ((k = pb_pick(&t, rng, 0)) < 0) return size;
      t.f[k].deleted = 1;
      break;
    case 3: /* one leaf's bytes replaced by another's (value names: undefined, cyclic, twice defined) */
    {
      const int a = pb_pick(&t, rng, 2), b = pb_pick(&t, rng, 2);
      if (a < 0 || b < 0) return size;
      t.f[a].bytes = t.f[b].bytes;
      t.f[a].len = t.f[b].len;
      break;
    }
    case 4: /* duplicate a field in place (a serialized copy as a leaf) */
    case 5: /* or copy it into another message */
    {
      if ((k = pb_pick(&t, rng, 0)) < 0 || t.count >= PB_MAX_FIELDS) return size;
      const size_t n = pb_write_field(&t, k, NULL, 0, 0);
      uint8_t* copy = pb_scratch(&t, n);
      if (!copy) return size;
      pb_write_field(&t, k, copy, 0, n);
      /* the copy as raw bytes: re-parse it as one field */
      pb_field* c = &t.f[t.count];
      *c = t.f[k];
      c->message = 0;
      c->first_child = -1;
      c->deleted = 0;
      size_t i = 0;
      uint64_t key, len = 0;
      pb_varint(copy, n, &i, &key);
      if (c->wire == 2) {
        pb_varint(copy, n, &i, &len);
        c->bytes = copy + i;
        c->len = (size_t)len;
      }
      int after = k;
      if (op == 5) {
        const int msg = pb_pick(&t, rng, 4);
        if (msg >= 0 && t.f[msg].first_child >= 0) after = t.f[msg].first_child;
      }
      c->parent = t.f[after].parent;
      c->next = t.f[after].next;
      t.f[after].next = t.count++;
      break;
    }
    case 6: /* swap two siblings (reorders nodes, initializers, inputs) */
    {
      if ((k = pb_pick(&t, rng, 0)) < 0 || t.f[k].next < 0) return size;
      const int b = t.f[k].next;
      pb_field tmp = t.f[k];
      /* swap the contents, keep the positions (sibling links) */
      const int kn = t.f[k].next, bn = t.f[b].next;
      t.f[k] = t.f[b];
      t.f[b] = tmp;
      t.f[k].next = kn;
      t.f[b].next = bn;
      for (int c = t.f[k].first_child; c >= 0; c = t.f[c].next) t.f[c].parent = k;
      for (int c = t.f[b].first_child; c >= 0; c = t.f[c].next) t.f[c].parent = b;
      break;
    }
    default: /* a leaf's bytes shortened, or one byte changed */
    {
      if ((k = pb_pick(&t, rng, 2)) < 0 || t.f[k].len == 0) return size;
      if (qk_fuzz_next(rng) % 2) {
        t.f[k].len = (size_t)(qk_fuzz_next(rng) % t.f[k].len);
      } else {
        uint8_t* copy = pb_scratch(&t, t.f[k].len);
        if (!copy) return size;
        memcpy(copy, t.f[k].bytes, t.f[k].len);
        copy[qk_fuzz_next(rng) % t.f[k].len] = (uint8_t)qk_fuzz_next(rng);
        t.f[k].bytes = copy;
      }
      break;
    }
  }
  const size_t n = pb_write_children(&t, -1, root_first, NULL, 0, 0);
  if (n <= capacity) {
    uint8_t* out = malloc(n ? n : 1);
    if (out) {
      pb_write_children(&t, -1, root_first, out, 0, n);
      memcpy(data, out, n);
      size = n;
      free(out);
    }
  }
  for (int i = 0; i < t.n_scratch; ++i) free(t.scratch[i]);
  return size;
}

static void report(void) {
  printf("  %ld inputs: %ld imported (%ld ran on zeros, %ld refused at run with symbolic dims at 1; not run: %ld "
         "over the size bound, %ld with derived symbolic dims), %ld saved, reloaded and compared\n",
         g_stats.inputs, g_stats.loaded, g_stats.ran, g_stats.run_refused, g_stats.not_run_size,
         g_stats.not_run_symbolic, g_stats.reloaded);
  printf("  refused: %ld corrupt, %ld unsupported, %ld invalid argument, %ld out of memory\n",
         g_stats.status[QK_ERR_CORRUPT], g_stats.status[QK_ERR_UNSUPPORTED], g_stats.status[QK_ERR_INVALID_ARGUMENT],
         g_stats.status[QK_ERR_OUT_OF_MEMORY]);
}

const qk_fuzz_target qk_fuzz_target_info = {"onnx_load", mutate, NULL, report};
