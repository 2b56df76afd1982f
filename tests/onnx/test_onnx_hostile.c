/* SPDX-License-Identifier: Apache-2.0 */
/* The ONNX importer (qk_model_load_onnx / qk_model_load_onnx_memory) against hostile and
 * malformed files, written from the header. The models are built here with a small protobuf
 * wire writer (varints and length-delimited fields, field numbers from onnx.proto), so there is
 * no binary fixture. Every refused file is checked for its status, a message that says why, and
 * an output pointer left as it was:
 *   - the protobuf: every truncation of a valid model, a huge length prefix, 100000 levels of
 *     GraphProto nested through NodeProto.attribute.g (a bound, not a stack overflow);
 *   - tensors: negative dims, a 10^12-element initializer with 4 bytes of raw_data, raw_data of
 *     the wrong size, a raw_data claiming 4 GiB at the end of the file, a string Constant;
 *   - the graph: an undefined input, cycles, duplicate outputs, no opset / opset 99, two
 *     unsupported op types (both named, one node each);
 *   - external data: an absolute path, "../", a symbolic link out of the folder, offset + length
 *     past the file, a length that is not the tensor's, from memory (refused), a missing file;
 * and the numbers of valid models: MatMul + Add + Relu, Conv + Relu, the exporters' shape
 * arithmetic with a symbolic batch run at another batch, and a MatMul whose weights are in an
 * external data file, each against values computed here.
 *
 * Cases named finding_* reproduce bugs found while fuzzing or reviewing (docs/FUZZING.md,
 * fuzz_onnx_load.c), fixed since, and pin the behaviour of the fix (QK_ONNX_TEST_FILTER=<glob>
 * runs only the matching cases: under the sanitizers the first report aborts the process).
 * Labels unit;onnx, so `make test` runs it under ASan+UBSan too. */
#include <math.h>
#include <time.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qk_test_util.h"

/* ---- protobuf wire writer ------------------------------------------------------------------ */

typedef struct pb {
  uint8_t* p;
  size_t n, cap;
} pb;

static void pb_put(pb* b, const void* data, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + n) cap *= 2;
    b->p = realloc(b->p, cap);
    assert_non_null(b->p);
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->n, data, n);
  b->n += n;
}
static size_t varint_bytes(uint64_t v, uint8_t out[10]) {
  size_t n = 0;
  do {
    out[n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
    v >>= 7;
  } while (v);
  return n;
}
static void pb_varint(pb* b, uint64_t v) {
  do {
    const uint8_t byte = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
    pb_put(b, &byte, 1);
    v >>= 7;
  } while (v);
}
static void pb_key(pb* b, unsigned field, unsigned wire) { pb_varint(b, ((uint64_t)field << 3) | wire); }
static void f_int(pb* b, unsigned field, int64_t v) {
  pb_key(b, field, 0);
  pb_varint(b, (uint64_t)v);
}
static void f_bytes(pb* b, unsigned field, const void* data, size_t n) {
  pb_key(b, field, 2);
  pb_varint(b, n);
  pb_put(b, data, n);
}
static void f_str(pb* b, unsigned field, const char* s) { f_bytes(b, field, s, strlen(s)); }
/* A message field; consumes `sub`. */
static void f_msg(pb* b, unsigned field, pb sub) {
  f_bytes(b, field, sub.p, sub.n);
  free(sub.p);
}

/* ---- ONNX messages (field numbers of onnx.proto) -------------------------------------------- */

enum { T_FLOAT = 1, T_UINT8 = 2, T_INT8 = 3, T_INT32 = 6, T_INT64 = 7, T_STRING = 8, T_BOOL = 9 };
enum { A_FLOAT = 1, A_INT = 2, A_STRING = 3, A_TENSOR = 4, A_GRAPH = 5, A_FLOATS = 6, A_INTS = 7 };

#define NAMES(...) (const char* const[]){__VA_ARGS__}, sizeof((const char* const[]){__VA_ARGS__}) / sizeof(const char*)
#define NONE NULL, 0
#define DIMS(...) (const int64_t[]){__VA_ARGS__}, sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)

/* TensorProto: dims 1, data_type 2, name 8, raw_data 9. */
static pb tensor_raw(const char* name, int dtype, const int64_t* dims, size_t rank, const void* raw, size_t n) {
  pb t = {0};
  for (size_t i = 0; i < rank; ++i) f_int(&t, 1, dims[i]);
  f_int(&t, 2, dtype);
  f_str(&t, 8, name);
  if (raw) f_bytes(&t, 9, raw, n);
  return t;
}
static size_t count_of(const int64_t* dims, size_t rank) {
  size_t n = 1;
  for (size_t i = 0; i < rank; ++i) n *= (size_t)dims[i];
  return n;
}
static pb tensor_f32(const char* name, const int64_t* dims, size_t rank, const float* v) {
  return tensor_raw(name, T_FLOAT, dims, rank, v, count_of(dims, rank) * sizeof(float));
}
static pb tensor_i64(const char* name, const int64_t* dims, size_t rank, const int64_t* v) {
  return tensor_raw(name, T_INT64, dims, rank, v, count_of(dims, rank) * sizeof(int64_t));
}
/* A tensor whose data is in an external file: external_data 13 {key 1, value 2}, data_location 14. */
static pb tensor_external(const char* name, const int64_t* dims, size_t rank, const char* location, const char* offset,
                          const char* length) {
  pb t = tensor_raw(name, T_FLOAT, dims, rank, NULL, 0);
  const char* kv[3][2] = {{"location", location}, {"offset", offset}, {"length", length}};
  for (int i = 0; i < 3; ++i) {
    if (!kv[i][1]) continue;
    pb e = {0};
    f_str(&e, 1, kv[i][0]);
    f_str(&e, 2, kv[i][1]);
    f_msg(&t, 13, e);
  }
  f_int(&t, 14, 1);
  return t;
}

/* ValueInfoProto {name 1, type 2: TypeProto {tensor_type 1: {elem_type 1, shape 2: {dim 1:
 * {dim_value 1 | dim_param 2}}}}}; a negative dim is the symbol "N" (INT64_MIN: dim_value -3). */
static pb value_info(const char* name, int elem, const int64_t* dims, size_t rank) {
  pb shape = {0};
  for (size_t i = 0; i < rank; ++i) {
    pb d = {0};
    if (dims[i] == INT64_MIN)
      f_int(&d, 1, -3);
    else if (dims[i] < 0)
      f_str(&d, 2, "N");
    else
      f_int(&d, 1, dims[i]);
    f_msg(&shape, 1, d);
  }
  pb tt = {0};
  f_int(&tt, 1, elem);
  f_msg(&tt, 2, shape);
  pb type = {0};
  f_msg(&type, 1, tt);
  pb v = {0};
  f_str(&v, 1, name);
  f_msg(&v, 2, type);
  return v;
}

/* AttributeProto: name 1, f 2, i 3, s 4, t 5, g 6, floats 7, ints 8, type 20. */
static pb attr_int(const char* name, int64_t v) {
  pb a = {0};
  f_str(&a, 1, name);
  f_int(&a, 3, v);
  f_int(&a, 20, A_INT);
  return a;
}
static pb attr_ints(const char* name, const int64_t* v, size_t n) {
  pb a = {0};
  f_str(&a, 1, name);
  for (size_t i = 0; i < n; ++i) f_int(&a, 8, v[i]);
  f_int(&a, 20, A_INTS);
  return a;
}
static pb attr_tensor(const char* name, pb t) {
  pb a = {0};
  f_str(&a, 1, name);
  f_msg(&a, 5, t);
  f_int(&a, 20, A_TENSOR);
  return a;
}

/* NodeProto: input 1, output 2, name 3, op_type 4, attribute 5. Consumes the attributes. */
static pb node(const char* op, const char* name, const char* const* in, size_t nin, const char* const* out, size_t nout,
               pb* attrs, size_t nattrs) {
  pb n = {0};
  for (size_t i = 0; i < nin; ++i) f_str(&n, 1, in[i]);
  for (size_t i = 0; i < nout; ++i) f_str(&n, 2, out[i]);
  f_str(&n, 3, name);
  f_str(&n, 4, op);
  for (size_t i = 0; i < nattrs; ++i) f_msg(&n, 5, attrs[i]);
  return n;
}

/* GraphProto: node 1, name 2, initializer 5, input 11, output 12. */
static void g_node(pb* g, pb n) { f_msg(g, 1, n); }
static void g_init(pb* g, pb t) { f_msg(g, 5, t); }
static void g_input(pb* g, pb v) { f_msg(g, 11, v); }
static void g_output(pb* g, pb v) { f_msg(g, 12, v); }

/* ModelProto: ir_version 1, graph 7, opset_import 8 {domain 1, version 2} (opset < 0: none).
 * Consumes the graph. */
static pb model(pb graph, int64_t opset) {
  pb m = {0};
  f_int(&m, 1, 8);
  f_str(&m, 2, "qk-hostile-test");
  if (opset >= 0) {
    pb o = {0};
    f_str(&o, 1, "");
    f_int(&o, 2, opset);
    f_msg(&m, 8, o);
  }
  f_str(&graph, 2, "g");
  f_msg(&m, 7, graph);
  return m;
}

/* ---- loading and running -------------------------------------------------------------------- */

static int g_sentinel_storage;
#define SENTINEL ((qk_model*)&g_sentinel_storage)

/* Loads `m` from memory expecting `status` and a message mentioning `needle`, with the output
 * pointer untouched; frees m. */
static void expect_refused(pb m, qk_status status, const char* needle) {
  qk_model* out = SENTINEL;
  assert_status(qk_model_load_onnx_memory(m.p, m.n, NULL, &out), status);
  assert_ptr_equal(out, SENTINEL);
  assert_error_mentions(needle);
  free(m.p);
}

static qk_model* load_ok(const pb* m) {
  qk_model* out = NULL;
  assert_ok(qk_model_load_onnx_memory(m->p, m->n, NULL, &out));
  assert_non_null(out);
  qk_model_state state;
  assert_ok(qk_model_get_state(out, &state));
  assert_int_equal(state, QK_MODEL_FLOAT);
  return out;
}

/* Runs a one-input one-output model; returns the number of output floats written to y. */
static size_t run1(const qk_model* m, const char* in, const float* x, const int64_t* shape, size_t rank,
                   const char* out, float* y, size_t cap) {
  qk_run* r = NULL;
  assert_ok(qk_run_create(m, &r));
  assert_ok(qk_run_set_input(r, in, QK_DTYPE_F32, x, count_of(shape, rank) * sizeof(float), shape, rank));
  assert_ok(qk_run_invoke(r, NULL));
  int64_t oshape[QK_MAX_RANK];
  size_t orank = 0;
  assert_ok(qk_run_output_shape(r, out, oshape, QK_MAX_RANK, &orank));
  const size_t n = count_of(oshape, orank);
  assert_true(n <= cap);
  assert_ok(qk_run_get_output(r, out, QK_DTYPE_F32, y, n * sizeof(float)));
  qk_run_destroy(r);
  return n;
}

static void assert_close(const float* got, const float* want, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!(fabsf(got[i] - want[i]) <= 1e-5f * (1.0f + fabsf(want[i]))))
      fail_msg("element %zu: got %.9g, expected %.9g", i, (double)got[i], (double)want[i]);
}

static void fill(float* v, size_t n, uint64_t seed) {
  qk_test_rng rng = {seed * 0x9E3779B97F4A7C15ULL + 1};
  for (size_t i = 0; i < n; ++i) v[i] = qk_test_uniform(&rng, -1.0f, 1.0f);
}

/* Temp folders for the file-based cases. */
static char g_dir[256];
static void make_dir(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/qk_onnx_hostile_XXXXXX");
  assert_non_null(mkdtemp(g_dir));
}
static const char* in_dir(char* buf, size_t cap, const char* name) {
  snprintf(buf, cap, "%s/%s", g_dir, name);
  return buf;
}
static void write_file(const char* path, const void* data, size_t n) {
  FILE* f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}
static void remove_dir(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  assert_int_equal(system(cmd), 0);
}

/* ---- valid models ----------------------------------------------------------------------------- */

/* y = relu(x W + b), x {2, 3}, W {3, 4}, b {4}. */
static pb matmul_model(const float* w, const float* b) {
  pb g = {0};
  g_node(&g, node("MatMul", "mm", NAMES("x", "W"), NAMES("xw"), NULL, 0));
  g_node(&g, node("Add", "add", NAMES("xw", "b"), NAMES("s"), NULL, 0));
  g_node(&g, node("Relu", "relu", NAMES("s"), NAMES("y"), NULL, 0));
  g_init(&g, tensor_f32("W", DIMS(3, 4), w));
  g_init(&g, tensor_f32("b", DIMS(4), b));
  g_input(&g, value_info("x", T_FLOAT, DIMS(2, 3)));
  g_output(&g, value_info("y", T_FLOAT, DIMS(2, 4)));
  return model(g, 13);
}

static void matmul_reference(const float* x, const float* w, const float* b, float* y) {
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) {
      float s = 0.0f;
      for (int k = 0; k < 3; ++k) s += x[i * 3 + k] * w[k * 4 + j];
      s += b[j];
      y[i * 4 + j] = s > 0.0f ? s : 0.0f;
    }
}

static void test_valid_matmul_add_relu(void** state) {
  (void)state;
  float w[12], b[4], x[6], want[8], y[8];
  fill(w, 12, 1);
  fill(b, 4, 2);
  fill(x, 6, 3);
  pb m = matmul_model(w, b);
  qk_model* model_ = load_ok(&m);
  size_t n = 0;
  const char* name = NULL;
  assert_ok(qk_model_input_count(model_, &n));
  assert_int_equal(n, 1);
  assert_ok(qk_model_input_name(model_, 0, &name));
  assert_string_equal(name, "x");
  matmul_reference(x, w, b, want);
  assert_int_equal(run1(model_, "x", x, DIMS(2, 3), "y", y, 8), 8);
  assert_close(y, want, 8);
  /* and through a file, then saved and reloaded as a QuantKit model */
  make_dir();
  char path[300], saved[300];
  write_file(in_dir(path, sizeof path, "m.onnx"), m.p, m.n);
  qk_model* from_file = NULL;
  assert_ok(qk_model_load_onnx(path, NULL, &from_file));
  assert_int_equal(run1(from_file, "x", x, DIMS(2, 3), "y", y, 8), 8);
  assert_close(y, want, 8);
  assert_ok(qk_model_save(from_file, in_dir(saved, sizeof saved, "m.qkw")));
  qk_model* back = NULL;
  assert_ok(qk_model_load(saved, &back));
  assert_int_equal(run1(back, "x", x, DIMS(2, 3), "y", y, 8), 8);
  assert_close(y, want, 8);
  qk_model_destroy(back);
  qk_model_destroy(from_file);
  qk_model_destroy(model_);
  remove_dir();
  free(m.p);
}

/* y = relu(conv(x, W, B)), x {1, 2, 5, 5}, W {3, 2, 3, 3}, pads 1, stride 1. */
static void test_valid_conv_relu(void** state) {
  (void)state;
  float w[54], bias[3], x[50], want[75], y[75];
  fill(w, 54, 4);
  fill(bias, 3, 5);
  fill(x, 50, 6);
  pb a[2] = {attr_ints("pads", DIMS(1, 1, 1, 1)), attr_ints("kernel_shape", DIMS(3, 3))};
  pb g = {0};
  g_node(&g, node("Conv", "conv", NAMES("x", "W", "B"), NAMES("c"), a, 2));
  g_node(&g, node("Relu", "relu", NAMES("c"), NAMES("y"), NULL, 0));
  g_init(&g, tensor_f32("W", DIMS(3, 2, 3, 3), w));
  g_init(&g, tensor_f32("B", DIMS(3), bias));
  g_input(&g, value_info("x", T_FLOAT, DIMS(1, 2, 5, 5)));
  g_output(&g, value_info("y", T_FLOAT, DIMS(1, 3, 5, 5)));
  pb m = model(g, 13);
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j) {
        float s = bias[o];
        for (int c = 0; c < 2; ++c)
          for (int kh = 0; kh < 3; ++kh)
            for (int kw = 0; kw < 3; ++kw) {
              const int r = i + kh - 1, q = j + kw - 1;
              if (r >= 0 && r < 5 && q >= 0 && q < 5) s += w[((o * 2 + c) * 3 + kh) * 3 + kw] * x[(c * 5 + r) * 5 + q];
            }
        want[(o * 5 + i) * 5 + j] = s > 0.0f ? s : 0.0f;
      }
  qk_model* mdl = load_ok(&m);
  assert_int_equal(run1(mdl, "x", x, DIMS(1, 2, 5, 5), "y", y, 75), 75);
  assert_close(y, want, 75);
  qk_model_destroy(mdl);
  free(m.p);
}

/* The exporters' flatten with a symbolic batch: Shape -> Gather(0) -> Unsqueeze -> Concat([n, -1])
 * -> Reshape, then MatMul; imported with the batch symbolic and run at batch 3. */
static void test_valid_symbolic_batch_shape_arithmetic(void** state) {
  (void)state;
  float w[12 * 2], x[3 * 12], want[6], y[6];
  fill(w, 24, 7);
  fill(x, 36, 8);
  pb g = {0};
  g_node(&g, node("Shape", "shape", NAMES("x"), NAMES("s"), NULL, 0));
  g_node(&g, node("Gather", "gather", NAMES("s", "zero"), NAMES("n"), NULL, 0));
  g_node(&g, node("Unsqueeze", "unsq", NAMES("n", "axes"), NAMES("n1"), NULL, 0));
  g_node(&g, node("Concat", "cat", NAMES("n1", "minus1"), NAMES("shp"), (pb[]){attr_int("axis", 0)}, 1));
  g_node(&g, node("Reshape", "reshape", NAMES("x", "shp"), NAMES("r"), NULL, 0));
  g_node(&g, node("MatMul", "mm", NAMES("r", "W"), NAMES("y"), NULL, 0));
  g_init(&g, tensor_i64("zero", NULL, 0, (const int64_t[]){0}));
  g_init(&g, tensor_i64("axes", DIMS(1), (const int64_t[]){0}));
  g_init(&g, tensor_i64("minus1", DIMS(1), (const int64_t[]){-1}));
  g_init(&g, tensor_f32("W", DIMS(12, 2), w));
  g_input(&g, value_info("x", T_FLOAT, DIMS(-1, 3, 2, 2)));
  g_output(&g, value_info("y", T_FLOAT, DIMS(-1, 2)));
  pb m = model(g, 13);
  qk_model* mdl = load_ok(&m);
  int64_t dims[QK_MAX_RANK];
  const char* syms[QK_MAX_RANK];
  size_t rank = 0;
  qk_dtype dt;
  assert_ok(qk_model_value_shape(mdl, "x", dims, syms, QK_MAX_RANK, &rank, &dt));
  assert_int_equal(rank, 4);
  assert_true(dims[0] < 0);
  assert_string_equal(syms[0], "N");
  for (int b = 0; b < 3; ++b)
    for (int j = 0; j < 2; ++j) {
      float s = 0.0f;
      for (int k = 0; k < 12; ++k) s += x[b * 12 + k] * w[k * 2 + j];
      want[b * 2 + j] = s;
    }
  assert_int_equal(run1(mdl, "x", x, DIMS(3, 3, 2, 2), "y", y, 6), 6);
  assert_close(y, want, 6);
  qk_model_destroy(mdl);
  free(m.p);
}

/* ---- the protobuf ------------------------------------------------------------------------------- */

static void test_every_truncation_fails_cleanly(void** state) {
  (void)state;
  float w[12], b[4];
  fill(w, 12, 1);
  fill(b, 4, 2);
  pb m = matmul_model(w, b);
  size_t refused = 0, loaded = 0;
  for (size_t len = 0; len < m.n; ++len) {
    qk_model* out = SENTINEL;
    uint8_t* copy = malloc(len ? len : 1); /* exactly len bytes: ASan sees any read past them */
    memcpy(copy, m.p, len);
    const qk_status st = qk_model_load_onnx_memory(copy, len, NULL, &out);
    if (st == QK_OK) { /* a prefix that ends between fields can still be a model */
      assert_ptr_not_equal(out, SENTINEL);
      qk_model_destroy(out);
      ++loaded;
    } else {
      if (st != QK_ERR_CORRUPT && st != QK_ERR_UNSUPPORTED && st != QK_ERR_INVALID_ARGUMENT)
        fail_msg("prefix of %zu bytes: status %s: %s", len, qk_status_string(st), qk_last_error());
      assert_ptr_equal(out, SENTINEL);
      assert_true(strlen(qk_last_error()) > 0);
      ++refused;
    }
    free(copy);
  }
  assert_int_equal(refused + loaded, m.n);
  /* the graph is the last field: no strict prefix holds the whole model */
  assert_int_equal(loaded, 0);
  free(m.p);
}

static void test_huge_length_prefix(void** state) {
  (void)state;
  pb m = {0};
  f_int(&m, 1, 8);
  pb_key(&m, 7, 2); /* graph: 2^62 bytes claimed, 3 present */
  pb_varint(&m, (uint64_t)1 << 62);
  pb_put(&m, "\x0a\x01x", 3);
  expect_refused(m, QK_ERR_CORRUPT, "runs past the end");
  /* the largest varint there is, and an unterminated one */
  pb m2 = {0};
  pb_key(&m2, 7, 2);
  pb_put(&m2, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
  expect_refused(m2, QK_ERR_CORRUPT, "past the end");
  pb m3 = {0};
  pb_key(&m3, 7, 2);
  pb_put(&m3, "\xff\xff\xff", 3);
  expect_refused(m3, QK_ERR_CORRUPT, "truncated length");
}

/* Prepends a varint to the message being built backwards in buf[*start, end). */
static void prepend_varint(uint8_t* buf, size_t* start, uint64_t v) {
  uint8_t tmp[10];
  const size_t n = varint_bytes(v, tmp);
  *start -= n;
  memcpy(buf + *start, tmp, n);
}
static void prepend(uint8_t* buf, size_t* start, const void* data, size_t n) {
  *start -= n;
  memcpy(buf + *start, data, n);
}

/* GraphProto { node { attribute { name "g" type GRAPH g { node { attribute { ... } } } } } },
 * `levels` times: built from the inside out in one buffer (linear time). */
static pb deep_model(size_t levels) {
  const size_t cap = levels * 32 + 64;
  uint8_t* buf = malloc(cap);
  assert_non_null(buf);
  size_t start = cap;
  for (size_t i = 0; i < levels; ++i) {
    const size_t graph_len = cap - start;
    prepend_varint(buf, &start, graph_len); /* AttributeProto.g */
    prepend_varint(buf, &start, (6 << 3) | 2);
    prepend(buf, &start, "\xa0\x01\x05", 3); /* type (20) = GRAPH */
    prepend(buf, &start, "\x0a\x01g", 3);    /* name = "g" */
    const size_t attr_len = cap - start;
    prepend_varint(buf, &start, attr_len); /* NodeProto.attribute */
    prepend_varint(buf, &start, (5 << 3) | 2);
    prepend(buf, &start, "\x22\x02If", 4); /* op_type = "If" */
    const size_t node_len = cap - start;
    prepend_varint(buf, &start, node_len); /* GraphProto.node */
    prepend_varint(buf, &start, (1 << 3) | 2);
  }
  pb g = {0};
  pb_put(&g, buf + start, cap - start);
  free(buf);
  return model(g, 13);
}

static void test_deep_nesting_is_corrupt(void** state) {
  (void)state;
  pb m = deep_model(100000);
  assert_true(m.n > 1000000);
  expect_refused(m, QK_ERR_CORRUPT, "nested deeper than");
  /* 20 levels (60 messages deep) are within the bound: the protobuf parses, and the If is
   * refused as an op */
  expect_refused(deep_model(20), QK_ERR_UNSUPPORTED, "If (node '#0')");
}

/* ---- tensors ------------------------------------------------------------------------------------ */

/* A graph y = x + C around initializer `c` (of any shape: the import fails before broadcasting). */
static pb add_model(pb c) {
  pb g = {0};
  g_node(&g, node("Add", "add", NAMES("x", "C"), NAMES("y"), NULL, 0));
  g_init(&g, c);
  g_input(&g, value_info("x", T_FLOAT, DIMS(2)));
  g_output(&g, value_info("y", T_FLOAT, DIMS(2)));
  return model(g, 13);
}

static void test_negative_dims(void** state) {
  (void)state;
  const float v[2] = {1, 2};
  expect_refused(add_model(tensor_raw("C", T_FLOAT, DIMS(-1, -2), v, 8)), QK_ERR_CORRUPT, "negative dimension");
  /* a graph input with dim_value -3 */
  pb g = {0};
  g_node(&g, node("Relu", "relu", NAMES("x"), NAMES("y"), NULL, 0));
  g_input(&g, value_info("x", T_FLOAT, DIMS(2, INT64_MIN)));
  g_output(&g, value_info("y", T_FLOAT, DIMS(2)));
  expect_refused(model(g, 13), QK_ERR_CORRUPT, "dimension 1 is -3");
}

static void test_huge_initializer_with_tiny_raw_data(void** state) {
  (void)state;
  /* 10^12 elements (under the graph's 2^40 element bound), 4 bytes of data: refused before
   * anything is allocated for it */
  const float v = 1.0f;
  expect_refused(add_model(tensor_raw("C", T_FLOAT, DIMS(1000000, 1000000), &v, 4)), QK_ERR_CORRUPT,
                 "4 raw bytes for 1000000000000 elements");
  /* the same in the typed field float_data (4): one value */
  pb t = tensor_raw("C", T_FLOAT, DIMS(1000000, 1000000), NULL, 0);
  pb_key(&t, 4, 2);
  pb_varint(&t, 4);
  pb_put(&t, &v, 4);
  expect_refused(add_model(t), QK_ERR_CORRUPT, "1 values for 1000000000000 elements");
  /* and no data at all, beyond 2^40 elements */
  expect_refused(add_model(tensor_raw("C", T_FLOAT, DIMS(1 << 30, 1 << 30, 1 << 30), NULL, 0)),
                 QK_ERR_INVALID_ARGUMENT, "too many elements");
}

static void test_raw_data_size_mismatch(void** state) {
  (void)state;
  const float v[6] = {0};
  expect_refused(add_model(tensor_raw("C", T_FLOAT, DIMS(2, 3), v, 20)), QK_ERR_CORRUPT, "20 raw bytes for 6 elements");
  expect_refused(add_model(tensor_raw("C", T_INT64, DIMS(2), v, 12)), QK_ERR_CORRUPT, "12 raw bytes for 2 elements");
}

static void test_initializer_claiming_4_gib(void** state) {
  (void)state;
  /* the TensorProto's raw_data says 4 GiB; the message around it holds the 16 bytes there are */
  pb t = tensor_raw("C", T_FLOAT, DIMS(1 << 30), NULL, 0);
  pb_key(&t, 9, 2);
  pb_varint(&t, (uint64_t)1 << 32);
  pb_put(&t, "0123456789abcdef", 16);
  expect_refused(add_model(t), QK_ERR_CORRUPT, "4294967296 bytes");
}

static void test_constant_string_tensor(void** state) {
  (void)state;
  pb t = {0};
  f_int(&t, 1, 1);
  f_int(&t, 2, T_STRING);
  f_bytes(&t, 6, "hello", 5); /* string_data */
  pb g = {0};
  g_node(&g, node("Constant", "const_s", NONE, NAMES("s"), (pb[]){attr_tensor("value", t)}, 1));
  g_node(&g, node("Identity", "id", NAMES("x"), NAMES("y"), NULL, 0));
  g_input(&g, value_info("x", T_FLOAT, DIMS(1)));
  g_output(&g, value_info("y", T_FLOAT, DIMS(1)));
  expect_refused(model(g, 13), QK_ERR_UNSUPPORTED, "element type 8");
}

/* ---- the graph ---------------------------------------------------------------------------------- */

/* One input x {2}, the given nodes, one output `out`. */
static pb graph_model(pb* nodes, size_t n, const char* out, int64_t opset) {
  pb g = {0};
  for (size_t i = 0; i < n; ++i) g_node(&g, nodes[i]);
  g_input(&g, value_info("x", T_FLOAT, DIMS(2)));
  g_output(&g, value_info(out, T_FLOAT, DIMS(2)));
  return model(g, opset);
}

static void test_undefined_input(void** state) {
  (void)state;
  pb n[1] = {node("Relu", "relu", NAMES("nowhere"), NAMES("y"), NULL, 0)};
  expect_refused(graph_model(n, 1, "y", 13), QK_ERR_CORRUPT, "input 'nowhere' is not defined before this node");
  /* a graph output nothing defines */
  pb n2[1] = {node("Relu", "relu", NAMES("x"), NAMES("y"), NULL, 0)};
  expect_refused(graph_model(n2, 1, "z", 13), QK_ERR_CORRUPT, "'z' is read before anything defines it");
}

static void test_cycles(void** state) {
  (void)state;
  /* a node reading its own output */
  pb n[1] = {node("Add", "self", NAMES("x", "a"), NAMES("a"), NULL, 0)};
  expect_refused(graph_model(n, 1, "a", 13), QK_ERR_CORRUPT, "node 'self' (Add): input 'a' is not defined");
  /* two nodes reading each other's output */
  pb n2[2] = {node("Add", "first", NAMES("x", "b"), NAMES("a"), NULL, 0),
              node("Relu", "second", NAMES("a"), NAMES("b"), NULL, 0)};
  expect_refused(graph_model(n2, 2, "b", 13), QK_ERR_CORRUPT, "node 'first' (Add): input 'b' is not defined");
}

static void test_duplicate_outputs(void** state) {
  (void)state;
  pb n[2] = {node("Relu", "one", NAMES("x"), NAMES("y"), NULL, 0), node("Sigmoid", "two", NAMES("x"), NAMES("y"), NULL, 0)};
  expect_refused(graph_model(n, 2, "y", 13), QK_ERR_CORRUPT, "value 'y' is defined twice");
  /* a node output named as the graph input */
  pb n2[1] = {node("Relu", "shadow", NAMES("x"), NAMES("x"), NULL, 0)};
  expect_refused(graph_model(n2, 1, "x", 13), QK_ERR_CORRUPT, "value 'x' is defined twice");
}

static void test_opset(void** state) {
  (void)state;
  pb n[1] = {node("Relu", "relu", NAMES("x"), NAMES("y"), NULL, 0)};
  expect_refused(graph_model(n, 1, "y", -1), QK_ERR_CORRUPT, "imports no opset of the default ONNX domain");
  pb n2[1] = {node("Relu", "relu", NAMES("x"), NAMES("y"), NULL, 0)};
  expect_refused(graph_model(n2, 1, "y", 99), QK_ERR_UNSUPPORTED, "opset 99");
  pb n3[1] = {node("Relu", "relu", NAMES("x"), NAMES("y"), NULL, 0)};
  expect_refused(graph_model(n3, 1, "y", 6), QK_ERR_UNSUPPORTED, "opset 6");
}

static void test_two_unsupported_op_types(void** state) {
  (void)state;
  pb n[4] = {node("NonMaxSuppression", "nms_a", NAMES("x"), NAMES("a"), NULL, 0),
             node("Relu", "relu", NAMES("a"), NAMES("b"), NULL, 0),
             node("NonMaxSuppression", "nms_b", NAMES("b"), NAMES("c"), NULL, 0),
             node("RoiAlign", "roi", NAMES("c"), NAMES("y"), NULL, 0)};
  qk_model* out = SENTINEL;
  pb m = graph_model(n, 4, "y", 13);
  assert_status(qk_model_load_onnx_memory(m.p, m.n, NULL, &out), QK_ERR_UNSUPPORTED);
  assert_ptr_equal(out, SENTINEL);
  assert_error_mentions("2 unsupported op types");
  assert_error_mentions("NonMaxSuppression (node 'nms_a')");
  assert_error_mentions("RoiAlign (node 'roi')");
  assert_null(strstr(qk_last_error(), "nms_b")); /* one node per type */
  free(m.p);
}

/* A Resize whose sizes change N (known dims): refused when the node is added, not at run. */
static void test_resize_sizes_must_repeat_n_c(void** state) {
  (void)state;
  pb g = {0};
  g_node(&g, node("Resize", "resize", NAMES("x", "", "", "sizes"), NAMES("y"), NULL, 0));
  g_init(&g, tensor_i64("sizes", DIMS(4), (const int64_t[]){2, 1, 4, 4}));
  g_input(&g, value_info("x", T_FLOAT, DIMS(1, 1, 2, 2)));
  g_output(&g, value_info("y", T_FLOAT, DIMS(2, 1, 4, 4)));
  expect_refused(model(g, 13), QK_ERR_UNSUPPORTED, "only H and W are resized");
}

/* ---- external data -------------------------------------------------------------------------------- */

/* y = x W, x {1, 2}, W {2, 3} external. */
static pb external_model(const char* location, const char* offset, const char* length) {
  pb g = {0};
  g_node(&g, node("MatMul", "mm", NAMES("x", "W"), NAMES("y"), NULL, 0));
  g_init(&g, tensor_external("W", DIMS(2, 3), location, offset, length));
  g_input(&g, value_info("x", T_FLOAT, DIMS(1, 2)));
  g_output(&g, value_info("y", T_FLOAT, DIMS(1, 3)));
  return model(g, 13);
}

/* Writes `m` as <dir>/model.onnx (consumes it) and loads it expecting status + message. */
static void expect_file_refused(pb m, qk_status status, const char* needle) {
  char path[300];
  write_file(in_dir(path, sizeof path, "model.onnx"), m.p, m.n);
  free(m.p);
  qk_model* out = SENTINEL;
  assert_status(qk_model_load_onnx(path, NULL, &out), status);
  assert_ptr_equal(out, SENTINEL);
  assert_error_mentions(needle);
}

static void test_external_data_valid(void** state) {
  (void)state;
  make_dir();
  /* 16 bytes of something else, then W */
  float file[4 + 6];
  fill(file, 10, 9);
  const float* w = file + 4;
  char path[300];
  write_file(in_dir(path, sizeof path, "weights.bin"), file, sizeof file);
  pb m = external_model("weights.bin", "16", "24");
  write_file(in_dir(path, sizeof path, "model.onnx"), m.p, m.n);
  qk_model* mdl = NULL;
  assert_ok(qk_model_load_onnx(path, NULL, &mdl));
  const float x[2] = {0.5f, -2.0f};
  float y[3], want[3];
  for (int j = 0; j < 3; ++j) want[j] = x[0] * w[j] + x[1] * w[3 + j];
  assert_int_equal(run1(mdl, "x", x, DIMS(1, 2), "y", y, 3), 3);
  assert_close(y, want, 3);
  qk_model_destroy(mdl);
  /* in a sub-folder, without offset and length (the whole file) */
  char sub[300];
  assert_int_equal(mkdir(in_dir(sub, sizeof sub, "data"), 0700), 0);
  write_file(in_dir(path, sizeof path, "data/w.bin"), w, 24);
  pb m2 = external_model("data/w.bin", NULL, NULL);
  write_file(in_dir(path, sizeof path, "model.onnx"), m2.p, m2.n);
  free(m2.p);
  mdl = NULL;
  assert_ok(qk_model_load_onnx(path, NULL, &mdl));
  assert_int_equal(run1(mdl, "x", x, DIMS(1, 2), "y", y, 3), 3);
  assert_close(y, want, 3);
  qk_model_destroy(mdl);
  /* the same bytes from memory: refused, there is no folder */
  expect_refused(m, QK_ERR_UNSUPPORTED, "only a model loaded from a file may have external data");
  remove_dir();
}

static void test_external_data_hostile(void** state) {
  (void)state;
  make_dir();
  char path[300], target[300];
  const float w[6] = {1, 2, 3, 4, 5, 6};
  write_file(in_dir(path, sizeof path, "w.bin"), w, sizeof w);
  expect_file_refused(external_model("/etc/passwd", NULL, NULL), QK_ERR_CORRUPT, "must be a relative path");
  expect_file_refused(external_model("../w.bin", NULL, NULL), QK_ERR_CORRUPT, "leaves the model's folder");
  expect_file_refused(external_model("data/../../w.bin", NULL, NULL), QK_ERR_CORRUPT, "leaves the model's folder");
  expect_file_refused(external_model("data//w.bin", NULL, NULL), QK_ERR_CORRUPT, "leaves the model's folder");
  /* a symbolic link inside the folder to a file outside it (absolute and relative) */
  char outside[300];
  snprintf(outside, sizeof outside, "%s_outside.bin", g_dir);
  write_file(outside, w, sizeof w);
  assert_int_equal(symlink(outside, in_dir(path, sizeof path, "link.bin")), 0);
  expect_file_refused(external_model("link.bin", NULL, NULL), QK_ERR_CORRUPT, "resolves outside the model's folder");
  snprintf(target, sizeof target, "../%s", strrchr(outside, '/') + 1);
  assert_int_equal(symlink(target, in_dir(path, sizeof path, "rel.bin")), 0);
  expect_file_refused(external_model("rel.bin", NULL, NULL), QK_ERR_CORRUPT, "resolves outside the model's folder");
  unlink(outside);
  /* offset + length past the end of the 24-byte file, and the offset alone */
  expect_file_refused(external_model("w.bin", "8", "24"), QK_ERR_CORRUPT, "does not fit the file (24 bytes)");
  expect_file_refused(external_model("w.bin", "18446744073709551615", "24"), QK_ERR_CORRUPT, "does not fit");
  expect_file_refused(external_model("w.bin", "99999999999999999999", "24"), QK_ERR_CORRUPT, "is not a size");
  expect_file_refused(external_model("w.bin", "-8", "24"), QK_ERR_CORRUPT, "is not a size");
  /* a length that is not the tensor's 24 bytes (within the file) */
  expect_file_refused(external_model("w.bin", "0", "20"), QK_ERR_CORRUPT, "or the tensor (24 bytes)");
  /* a file shorter than the tensor, with no length given */
  write_file(in_dir(path, sizeof path, "short.bin"), w, 12);
  expect_file_refused(external_model("short.bin", NULL, NULL), QK_ERR_CORRUPT, "does not fit");
  /* no such file; a folder */
  expect_file_refused(external_model("missing.bin", NULL, NULL), QK_ERR_IO, "missing.bin");
  char sub[300];
  assert_int_equal(mkdir(in_dir(sub, sizeof sub, "dir"), 0700), 0);
  expect_file_refused(external_model("dir", NULL, NULL), QK_ERR_IO, "external data 'dir'");
  /* from memory: refused before any path is looked at */
  expect_refused(external_model("/etc/passwd", NULL, NULL), QK_ERR_UNSUPPORTED, "only a model loaded from a file");
  remove_dir();
}

static void test_arguments(void** state) {
  (void)state;
  float w[12] = {0}, b[4] = {0};
  pb m = matmul_model(w, b);
  qk_model* out = SENTINEL;
  assert_status(qk_model_load_onnx_memory(m.p, m.n, NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_model_load_onnx_memory(NULL, 10, NULL, &out), QK_ERR_INVALID_ARGUMENT);
  assert_ptr_equal(out, SENTINEL);
  assert_status(qk_model_load_onnx(NULL, NULL, &out), QK_ERR_INVALID_ARGUMENT);
  assert_ptr_equal(out, SENTINEL);
  qk_attrs* opts = NULL;
  assert_ok(qk_attrs_create(&opts));
  assert_ok(qk_attrs_set_int(opts, "fold_constants", 1));
  assert_status(qk_model_load_onnx_memory(m.p, m.n, opts, &out), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("fold_constants");
  assert_ptr_equal(out, SENTINEL);
  qk_attrs_destroy(opts);
  assert_status(qk_model_load_onnx("/nonexistent/qk/model.onnx", NULL, &out), QK_ERR_IO);
  assert_error_mentions("/nonexistent/qk/model.onnx");
  assert_ptr_equal(out, SENTINEL);
  /* empty input: no graph */
  assert_status(qk_model_load_onnx_memory("", 0, NULL, &out), QK_ERR_CORRUPT);
  assert_ptr_equal(out, SENTINEL);
  free(m.p);
}

/* ---- findings of the first fuzz campaign and review (fixed), with the behaviour they must keep --- */

/* Loads `m`; if it imports, it must run on zeros (inputs x {2} f32) or the import should have
 * refused it. */
static void expect_refused_or_runs(pb m, const int64_t* shape, size_t rank, qk_dtype dtype) {
  qk_model* out = SENTINEL;
  const qk_status st = qk_model_load_onnx_memory(m.p, m.n, NULL, &out);
  free(m.p);
  if (st != QK_OK) {
    assert_ptr_equal(out, SENTINEL);
    if (st != QK_ERR_CORRUPT && st != QK_ERR_UNSUPPORTED && st != QK_ERR_INVALID_ARGUMENT)
      fail_msg("status %s: %s", qk_status_string(st), qk_last_error());
    return;
  }
  qk_run* r = NULL;
  assert_ok(qk_run_create(out, &r));
  static const uint8_t zeros[4096] = {0};
  assert_ok(qk_run_set_input(r, "x", dtype, zeros, count_of(shape, rank) * (dtype == QK_DTYPE_S64 ? 8 : 4), shape, rank));
  assert_ok(qk_run_invoke(r, NULL));
  qk_run_destroy(r);
  qk_model_destroy(out);
}

/* Fuzz finding (regress-node-without-outputs.onnx): a node with no outputs. Today: SIGSEGV in
 * ImportContext::emit (node_.output[0] read past n_output = 0). Fix: CORRUPT. */
static void test_finding_node_without_outputs(void** state) {
  (void)state;
  pb n[2] = {node("Pad", "pad", NAMES("x"), NONE, (pb[]){attr_ints("pads", DIMS(1, 1))}, 1),
             node("Relu", "relu", NAMES("x"), NAMES("y"), NULL, 0)};
  expect_refused(graph_model(n, 2, "y", 7), QK_ERR_CORRUPT, "output");
  pb n2[2] = {node("Shape", "shape", NAMES("x"), NONE, NULL, 0), node("Relu", "relu", NAMES("x"), NAMES("y"), NULL, 0)};
  expect_refused(graph_model(n2, 2, "y", 13), QK_ERR_CORRUPT, "output");
}

/* Fuzz finding (regress-identity-without-inputs.onnx): Identity / Dropout with no input. Today:
 * SIGSEGV in ImportContext::alias (node_.input[0] read past n_input = 0). Fix: CORRUPT. */
static void test_finding_identity_without_inputs(void** state) {
  (void)state;
  pb n[1] = {node("Identity", "id", NONE, NAMES("y"), NULL, 0)};
  expect_refused(graph_model(n, 1, "y", 13), QK_ERR_CORRUPT, "input");
  pb n2[1] = {node("Dropout", "drop", NONE, NAMES("y"), NULL, 0)};
  expect_refused(graph_model(n2, 1, "y", 13), QK_ERR_CORRUPT, "input");
}

/* Fuzz finding (regress-graph-without-outputs.onnx): a graph without outputs imports, and then
 * every run fails ("the model has no outputs"). Fix: CORRUPT at import. */
static void test_finding_graph_without_outputs(void** state) {
  (void)state;
  pb g = {0};
  g_node(&g, node("Relu", "relu", NAMES("x"), NAMES("y"), NULL, 0));
  g_input(&g, value_info("x", T_FLOAT, DIMS(2)));
  expect_refused(model(g, 13), QK_ERR_CORRUPT, "output");
}

/* Fuzz finding (regress-shape-without-input.onnx): Shape with an absent input (""). Today:
 * QK_ERR_INTERNAL "input has no type" (convert_Shape). Fix: CORRUPT. */
static void test_finding_shape_without_input(void** state) {
  (void)state;
  pb n[2] = {node("Shape", "shape", NAMES(""), NAMES("s"), NULL, 0),
             node("Reshape", "reshape", NAMES("x", "s"), NAMES("y"), NULL, 0)};
  expect_refused(graph_model(n, 2, "y", 13), QK_ERR_CORRUPT, "input");
}

/* Fuzz finding (regress-fold-symbolic-internal.onnx): a node whose inputs are all constants is
 * folded at import; when its output has a symbolic dim (a constant Reshaped to the shape of an
 * input with a symbolic batch, or Expand-like broadcasting against a shape value), evaluate()
 * calls graph::concrete on it. Today: QK_ERR_INTERNAL "dimension 'N' is not resolved". Fix:
 * UNSUPPORTED (or not folding such a node). */
static void test_finding_fold_to_symbolic_shape(void** state) {
  (void)state;
  pb g = {0};
  g_node(&g, node("Shape", "shape", NAMES("x"), NAMES("s"), NULL, 0));
  g_node(&g, node("Reshape", "reshape", NAMES("c", "s"), NAMES("r"), NULL, 0));
  g_node(&g, node("Add", "add", NAMES("x", "r"), NAMES("y"), NULL, 0));
  g_init(&g, tensor_f32("c", DIMS(2), (const float[]){1, 2}));
  g_input(&g, value_info("x", T_FLOAT, DIMS(-1, 2)));
  g_output(&g, value_info("y", T_FLOAT, DIMS(-1, 2)));
  pb m = model(g, 13);
  qk_model* out = SENTINEL;
  const qk_status st = qk_model_load_onnx_memory(m.p, m.n, NULL, &out);
  free(m.p);
  if (st == QK_OK) {
    qk_model_destroy(out);
    return;
  }
  assert_ptr_equal(out, SENTINEL);
  if (st != QK_ERR_UNSUPPORTED && st != QK_ERR_INVALID_ARGUMENT && st != QK_ERR_CORRUPT)
    fail_msg("status %s: %s", qk_status_string(st), qk_last_error());
}

/* Fuzz finding (regress-relu-int-input-fails-at-run.onnx): Relu (or any float-only op) on an
 * int32 graph input is accepted when the node is added (infer_same checks no dtype) and fails
 * every run ("input is s32, expected f32"). Fix: refuse at import (or in the graph op's infer). */
static void test_finding_float_op_on_int_input(void** state) {
  (void)state;
  pb g = {0};
  g_node(&g, node("Relu", "relu", NAMES("x"), NAMES("y"), NULL, 0));
  g_input(&g, value_info("x", T_INT32, DIMS(2)));
  g_output(&g, value_info("y", T_INT32, DIMS(2)));
  expect_refused_or_runs(model(g, 13), DIMS(2), QK_DTYPE_S32);
}

/* Fuzz finding (regress-convtranspose-empty-input-fails-at-run.onnx): ConvTranspose of an input
 * with a zero-sized spatial dim imports and fails every run ("the height output would be 0").
 * Fix: the same rule when the node is added. */
static void test_finding_convtranspose_empty_input(void** state) {
  (void)state;
  float w[8] = {0};
  pb g = {0};
  g_node(&g, node("ConvTranspose", "deconv", NAMES("x", "W"), NAMES("y"), (pb[]){attr_ints("strides", DIMS(2, 2))}, 1));
  g_init(&g, tensor_f32("W", DIMS(2, 1, 2, 2), w));
  g_input(&g, value_info("x", T_FLOAT, DIMS(1, 2, 0, 3)));
  g_output(&g, value_info("y", T_FLOAT, DIMS(1, 1, 0, 6)));
  expect_refused_or_runs(model(g, 13), DIMS(1, 2, 0, 3), QK_DTYPE_F32);
}

/* Review finding: Cast of a constant out of the target type's range converts with a C++ cast
 * (int32_t(std::trunc(1e20))): undefined behaviour, which UBSan's float-cast-overflow reports
 * (the project's sanitizer build has it). Fix: saturate, or refuse with INVALID_ARGUMENT. */
static void test_finding_cast_out_of_range(void** state) {
  (void)state;
  pb g = {0};
  g_node(&g, node("Cast", "cast", NAMES("big"), NAMES("i"), (pb[]){attr_int("to", T_INT32)}, 1));
  g_node(&g, node("Cast", "back", NAMES("i"), NAMES("f"), (pb[]){attr_int("to", T_FLOAT)}, 1));
  g_node(&g, node("Add", "add", NAMES("x", "f"), NAMES("y"), NULL, 0));
  g_init(&g, tensor_f32("big", DIMS(2), (const float[]){1e20f, -1e20f}));
  g_input(&g, value_info("x", T_FLOAT, DIMS(2)));
  g_output(&g, value_info("y", T_FLOAT, DIMS(2)));
  expect_refused_or_runs(model(g, 13), DIMS(2), QK_DTYPE_F32);
  pb g2 = {0};
  g_node(&g2, node("Cast", "cast", NAMES("big"), NAMES("i"), (pb[]){attr_int("to", T_UINT8)}, 1));
  g_node(&g2, node("Cast", "back", NAMES("i"), NAMES("f"), (pb[]){attr_int("to", T_FLOAT)}, 1));
  g_node(&g2, node("Add", "add", NAMES("x", "f"), NAMES("y"), NULL, 0));
  g_init(&g2, tensor_f32("big", DIMS(2), (const float[]){300.0f, -1.0f}));
  g_input(&g2, value_info("x", T_FLOAT, DIMS(2)));
  g_output(&g2, value_info("y", T_FLOAT, DIMS(2)));
  expect_refused_or_runs(model(g2, 13), DIMS(2), QK_DTYPE_F32);
}

/* Review finding: MaxPool with ceil_mode = 1 computes the window span d * (k - 1) + 1 and the
 * padded size in int64 from the attributes unchecked: dilations of 2^62 with a kernel of 3
 * overflow (signed overflow, which UBSan reports). Fix: bound kernel, dilation, stride and pads
 * (say below 2^31) before that arithmetic, INVALID_ARGUMENT otherwise. */
static void test_finding_maxpool_ceil_mode_overflow(void** state) {
  (void)state;
  pb a[3] = {attr_ints("kernel_shape", DIMS(3, 3)), attr_int("ceil_mode", 1),
             attr_ints("dilations", DIMS(INT64_C(1) << 62, 1))};
  pb g = {0};
  g_node(&g, node("MaxPool", "pool", NAMES("x"), NAMES("y"), a, 3));
  g_input(&g, value_info("x", T_FLOAT, DIMS(1, 1, 4, 4)));
  g_output(&g, value_info("y", T_FLOAT, DIMS(1, 1, 2, 2)));
  expect_refused_or_runs(model(g, 13), DIMS(1, 1, 4, 4), QK_DTYPE_F32);
  pb a2[3] = {attr_ints("kernel_shape", DIMS(2, 2)), attr_int("ceil_mode", 1),
              attr_ints("pads", DIMS(INT64_MAX - 1, 0, INT64_MAX - 1, 0))};
  pb g2 = {0};
  g_node(&g2, node("MaxPool", "pool", NAMES("x"), NAMES("y"), a2, 3));
  g_input(&g2, value_info("x", T_FLOAT, DIMS(1, 1, 4, 4)));
  g_output(&g2, value_info("y", T_FLOAT, DIMS(1, 1, 2, 2)));
  expect_refused_or_runs(model(g2, 13), DIMS(1, 1, 4, 4), QK_DTYPE_F32);
}

/* Review finding (slow input): node and value names are made unique by trying base, base_1,
 * base_2, ... from 1 each time (Importer::fresh_value_name), so n nodes without a name (their
 * name is their op type) or sharing one cost O(n^2) set lookups: 4000 unnamed Relu nodes take
 * 1.8 s, 100000 (a 2.4 MB file) about 20 minutes. Fix: remember the next free suffix per base.
 * The bound below is generous: it is about 0.1 s once names are linear. */
static void test_finding_many_unnamed_nodes_import_in_linear_time(void** state) {
  (void)state;
  enum { kNodes = 50000 };
  pb g = {0};
  char in[32], out[32];
  for (int i = 0; i < kNodes; ++i) {
    snprintf(in, sizeof in, "v%d", i);
    snprintf(out, sizeof out, "v%d", i + 1);
    pb n = {0};
    f_str(&n, 1, in);
    f_str(&n, 2, out);
    f_str(&n, 4, "Relu"); /* no name */
    g_node(&g, n);
  }
  g_input(&g, value_info("v0", T_FLOAT, DIMS(2)));
  snprintf(out, sizeof out, "v%d", kNodes);
  g_output(&g, value_info(out, T_FLOAT, DIMS(2)));
  pb m = model(g, 13);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  qk_model* mdl = load_ok(&m);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  const double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  size_t count = 0;
  assert_ok(qk_model_node_count(mdl, &count));
  assert_int_equal(count, kNodes);
  qk_model_destroy(mdl);
  free(m.p);
  if (secs > 10.0) fail_msg("%d unnamed nodes took %.1f s to import", kNodes, secs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_matmul_add_relu),
      cmocka_unit_test(test_valid_conv_relu),
      cmocka_unit_test(test_valid_symbolic_batch_shape_arithmetic),
      cmocka_unit_test(test_every_truncation_fails_cleanly),
      cmocka_unit_test(test_huge_length_prefix),
      cmocka_unit_test(test_deep_nesting_is_corrupt),
      cmocka_unit_test(test_negative_dims),
      cmocka_unit_test(test_huge_initializer_with_tiny_raw_data),
      cmocka_unit_test(test_raw_data_size_mismatch),
      cmocka_unit_test(test_initializer_claiming_4_gib),
      cmocka_unit_test(test_constant_string_tensor),
      cmocka_unit_test(test_undefined_input),
      cmocka_unit_test(test_cycles),
      cmocka_unit_test(test_duplicate_outputs),
      cmocka_unit_test(test_opset),
      cmocka_unit_test(test_two_unsupported_op_types),
      cmocka_unit_test(test_resize_sizes_must_repeat_n_c),
      cmocka_unit_test(test_external_data_valid),
      cmocka_unit_test(test_external_data_hostile),
      cmocka_unit_test(test_arguments),
      cmocka_unit_test(test_finding_node_without_outputs),
      cmocka_unit_test(test_finding_identity_without_inputs),
      cmocka_unit_test(test_finding_graph_without_outputs),
      cmocka_unit_test(test_finding_shape_without_input),
      cmocka_unit_test(test_finding_fold_to_symbolic_shape),
      cmocka_unit_test(test_finding_float_op_on_int_input),
      cmocka_unit_test(test_finding_convtranspose_empty_input),
      cmocka_unit_test(test_finding_cast_out_of_range),
      cmocka_unit_test(test_finding_maxpool_ceil_mode_overflow),
      cmocka_unit_test(test_finding_many_unnamed_nodes_import_in_linear_time),
  };
  /* QK_ONNX_TEST_FILTER=test_finding_cast*: one case (a sanitizer report aborts the process) */
  if (getenv("QK_ONNX_TEST_FILTER")) cmocka_set_test_filter(getenv("QK_ONNX_TEST_FILTER"));
  return cmocka_run_group_tests_name("onnx_hostile", tests, NULL, NULL);
}
