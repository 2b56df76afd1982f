/* SPDX-License-Identifier: Apache-2.0 */
/* Writes the seed corpus of the model-loader fuzz target (fuzz_model_load.c) into a folder
 * (argv[1], created if missing), using the public C API only. Four small networks cover every
 * layer kind (conv2d, depthwise conv2d, linear, 2-D and 1-D batchnorm, relu, hardtanh, max, avg
 * and global average pooling, flatten, add, dropout, softmax, sigmoid, hardswish, concat,
 * reshape), each saved in every state: float, fused, converted with u8 and with s8 activations,
 * converted with per-tensor weight schemes and a layer kept in float, and dynamic; plus an NHWC
 * I/O float model. Each saved file gives two seeds: "<net>_<state>.qkw" (mode byte 1 + the whole
 * file) and "<net>_<state>.graph" (mode byte 0 + its graph text). Where the header has the
 * experimental general-graph API (graph v2), a graph model saved float, converted and dynamic
 * adds "graph_<state>.qkw" seeds in the v2 format. Deterministic. Run by CTest (fixture
 * fuzz_model_load_corpus); refresh the committed copy with: make fuzz-corpus */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "quantkit/quantkit.h"

static const char* dir;
static int failures, written;

#define CK(call)                                                                                   \
  do {                                                                                             \
    const qk_status s_ = (call);                                                                   \
    if (s_ != QK_OK) {                                                                             \
      fprintf(stderr, "make_model_load_corpus: %s: %s %s\n", #call, qk_status_string(s_), qk_last_error()); \
      ++failures;                                                                                  \
    }                                                                                              \
  } while (0)

static float* weights(size_t n, uint32_t seed, float scale) {
  static float buf[4096];
  uint32_t s = seed * 2654435761u + 7;
  for (size_t i = 0; i < n && i < 4096; ++i) {
    s = s * 1664525u + 1013904223u;
    buf[i] = ((float)(s >> 8) / 16777216.0f * 2.0f - 1.0f) * scale;
  }
  return buf;
}

static const int64_t k1[2] = {1, 1}, k2[2] = {2, 2}, k3[2] = {3, 3}, pad0[4] = {0, 0, 0, 0}, pad1[4] = {1, 1, 1, 1};

static void conv(qk_model* m, const char* name, const char* in, const char* out, int64_t o, int64_t i, int64_t k,
                 int64_t groups, uint32_t seed) {
  const int64_t shape[4] = {o, i / groups, k, k};
  float bias[64];
  memcpy(bias, weights((size_t)o, seed + 100, 0.1f), sizeof(float) * (size_t)o);
  CK(qk_model_add_conv2d(m, name, in, out, weights((size_t)(o * (i / groups) * k * k), seed, 0.5f), shape, bias, k1,
                         k == 3 ? pad1 : pad0, k1, groups));
}

static void linear(qk_model* m, const char* name, const char* in, const char* out, int64_t o, int64_t i, uint32_t seed) {
  float bias[64];
  memcpy(bias, weights((size_t)o, seed + 100, 0.1f), sizeof(float) * (size_t)o);
  CK(qk_model_add_linear(m, name, in, out, weights((size_t)(o * i), seed, 0.3f), o, i, bias));
}

static void batchnorm(qk_model* m, const char* name, const char* in, const char* out, int64_t c, uint32_t seed) {
  float mean[64], var[64], gamma[64], beta[64];
  memcpy(mean, weights((size_t)c, seed, 0.2f), sizeof(float) * (size_t)c);
  memcpy(var, weights((size_t)c, seed + 1, 0.2f), sizeof(float) * (size_t)c);
  memcpy(gamma, weights((size_t)c, seed + 2, 0.3f), sizeof(float) * (size_t)c);
  memcpy(beta, weights((size_t)c, seed + 3, 0.1f), sizeof(float) * (size_t)c);
  for (int64_t j = 0; j < c; ++j) {
    var[j] += 1.0f;
    gamma[j] += 1.0f;
  }
  CK(qk_model_add_batchnorm(m, name, in, out, c, mean, var, gamma, beta, 1e-5f));
}

/* Every network: its input shape and builder. */
typedef struct net {
  const char* name;
  int64_t input[3];
  size_t rank;
  void (*build)(qk_model* m);
} net;

/* conv + bn + relu (fusable), max pool, flatten, linear, dropout, softmax */
static void build_cnn(qk_model* m) {
  conv(m, "conv1", "x", "c1", 4, 3, 3, 1, 1);
  batchnorm(m, "bn1", "c1", "b1", 4, 2);
  CK(qk_model_add_relu(m, "relu1", "b1", "r1"));
  CK(qk_model_add_max_pool2d(m, "pool1", "r1", "p1", k2, k2, pad0, k1));
  CK(qk_model_add_flatten(m, "flatten", "p1", "f"));
  linear(m, "fc", "f", "y", 5, 4 * 4 * 4, 3);
  CK(qk_model_add_dropout(m, "dropout", "y", "d"));
  CK(qk_model_add_softmax(m, "softmax", "d", "prob"));
}

/* residual: 1x1 conv + relu and a 3x3 conv, add (+relu fusable), hardswish, global average
 * pool, flatten, linear, sigmoid */
static void build_residual(qk_model* m) {
  conv(m, "a", "x", "ca", 4, 4, 1, 1, 4);
  CK(qk_model_add_relu(m, "ra", "ca", "xa"));
  conv(m, "b", "x", "cb", 4, 4, 3, 1, 5);
  CK(qk_model_add_add(m, "add", "xa", "cb", "s"));
  CK(qk_model_add_relu(m, "relu", "s", "sr"));
  CK(qk_model_add_hardswish(m, "hswish", "sr", "h"));
  CK(qk_model_add_global_avg_pool2d(m, "gap", "h", "g"));
  CK(qk_model_add_flatten(m, "flatten", "g", "f"));
  linear(m, "fc", "f", "y", 3, 4, 6);
  CK(qk_model_add_sigmoid(m, "sigmoid", "y", "p"));
}

/* depthwise conv + hardtanh, average pool (count_include_pad), concat, reshape, linear */
static void build_concat(qk_model* m) {
  conv(m, "dw", "x", "cd", 2, 2, 3, 2, 7);
  CK(qk_model_add_hardtanh(m, "ht", "cd", "t", -1.0f, 1.0f));
  CK(qk_model_add_avg_pool2d(m, "avg", "x", "av", k3, k1, pad1, 1));
  const char* ins[2] = {"t", "av"};
  CK(qk_model_add_concat(m, "cat", ins, 2, "cat"));
  const int64_t flat[1] = {64};
  CK(qk_model_add_reshape(m, "reshape", "cat", flat, 1, "r"));
  linear(m, "fc", "r", "y", 6, 64, 8);
  const int64_t back[3] = {6, 1, 1};
  CK(qk_model_add_reshape(m, "unflatten", "y", back, 3, "y3"));
  CK(qk_model_add_flatten(m, "flatten", "y3", "out"));
}

/* MLP on {F}: linear + 1-D batchnorm + relu (fusable), linear + hardtanh (ReLU6), dropout, avg
 * of two branches via add, softmax */
static void build_mlp(qk_model* m) {
  linear(m, "fc1", "x", "h1", 8, 16, 9);
  batchnorm(m, "bn1", "h1", "b1", 8, 10);
  CK(qk_model_add_relu(m, "relu1", "b1", "r1"));
  linear(m, "fc2", "r1", "h2", 8, 8, 11);
  CK(qk_model_add_hardtanh(m, "relu6", "h2", "r2", 0.0f, 6.0f));
  CK(qk_model_add_dropout(m, "dropout", "r2", "d"));
  CK(qk_model_add_add(m, "add", "d", "r1", "s"));
  linear(m, "fc3", "s", "y", 4, 8, 12);
  CK(qk_model_add_softmax(m, "softmax", "y", "p"));
}

static const net nets[] = {{"cnn", {3, 8, 8}, 3, build_cnn},
                           {"residual", {4, 6, 6}, 3, build_residual},
                           {"concat", {2, 4, 4}, 3, build_concat},
                           {"mlp", {16, 0, 0}, 1, build_mlp}};

typedef enum variant {
  kFloat,
  kFused,
  kConvertedU8,
  kConvertedS8,
  kConvertedPerTensor, /* qnnpack weights (per-tensor symmetric), one affine layer, one float layer */
  kDynamic,
  kNhwc,
  kVariants
} variant;
static const char* variant_names[kVariants] = {"float",     "fused",   "converted_u8", "converted_s8",
                                               "converted_per_tensor", "dynamic", "float_nhwc"};

static void write_seed(const char* name, const char* ext, uint8_t mode, const void* bytes, size_t size) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
  FILE* f = fopen(path, "wb");
  if (!f || fwrite(&mode, 1, 1, f) != 1 || fwrite(bytes, 1, size, f) != size) {
    fprintf(stderr, "make_model_load_corpus: cannot write %s\n", path);
    ++failures;
  } else {
    ++written;
  }
  if (f) fclose(f);
}

/* The saved file at `path` as seeds (removes the file). */
static void emit_file(const char* name, const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    ++failures;
    return;
  }
  fseek(f, 0, SEEK_END);
  const long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t* bytes = malloc((size_t)size);
  if (fread(bytes, 1, (size_t)size, f) != (size_t)size) ++failures;
  fclose(f);
  unlink(path);
  write_seed(name, "qkw", 1, bytes, (size_t)size);
  qk_qkw_reader* r = NULL;
  const char* text = NULL;
  CK(qk_qkw_open_memory(bytes, (size_t)size, QK_VERIFY_FULL, 0, &r));
  if (r && qk_qkw_metadata_get(r, "model.graph", &text) == QK_OK) write_seed(name, "graph", 0, text, strlen(text));
  qk_qkw_close(r);
  free(bytes);
}

static void emit(const net* n, variant v) {
  qk_model* m = NULL;
  CK(qk_model_create("x", n->input, n->rank, &m));
  if (!m) return;
  n->build(m);
  const int64_t batch = 4;
  int64_t shape[4] = {batch, n->input[0], n->input[1], n->input[2]};
  size_t count = (size_t)batch;
  for (size_t i = 0; i < n->rank; ++i) count *= (size_t)n->input[i];
  float* x = malloc(count * sizeof(float));
  memcpy(x, weights(count, 77, 2.0f), count * sizeof(float));
  if (v == kNhwc && n->rank == 3) CK(qk_model_set_io_layout(m, QK_LAYOUT_NHWC));
  if (v != kFloat && v != kDynamic && v != kNhwc) CK(qk_model_fuse(m));
  if (v == kConvertedU8 || v == kConvertedS8 || v == kConvertedPerTensor) {
    CK(qk_model_set_activation_observer(m, NULL, QK_OBSERVER_MINMAX));
    if (v == kConvertedS8) CK(qk_model_set_activation_dtype(m, NULL, QK_DTYPE_S8));
    if (v == kConvertedPerTensor) {
      CK(qk_model_set_weight_scheme(m, NULL, QK_QSCHEME_PER_TENSOR_SYMMETRIC));
      CK(qk_model_set_weight_scheme(m, n->rank == 3 ? "fc" : "fc3", QK_QSCHEME_PER_TENSOR_AFFINE));
      CK(qk_model_set_layer_skip(m, n->rank == 3 ? "flatten" : "fc2", 1));
    }
    CK(qk_model_prepare(m));
    CK(qk_model_calibrate(m, x, shape, n->rank + 1));
    CK(qk_model_convert(m));
  }
  if (v == kDynamic) CK(qk_model_quantize_dynamic(m));
  char name[128], path[1024];
  snprintf(name, sizeof name, "%s_%s", n->name, variant_names[v]);
  snprintf(path, sizeof path, "%s/.%s.tmp.qkw", dir, name);
  CK(qk_model_save(m, path));
  qk_model_destroy(m);
  free(x);
  emit_file(name, path);
}

#if defined(QK_DTYPE_BOOL) && !defined(QK_NO_EXPERIMENTAL) /* the general-graph API is in the header */
/* x {batch, 8} -> Linear(8) -> Add x -> Relu -> Linear(4) -> Sigmoid -> y. */
static void emit_graph_v2(int state) { /* 0 float, 1 converted, 2 dynamic */
  static const char* states[3] = {"float", "converted", "dynamic"};
  qk_model* m = NULL;
  CK(qk_model_create_graph(&m));
  if (!m) return;
  const int64_t dims[2] = {-1, 8}, w1[2] = {4, 8}, b1[1] = {4}, w2[2] = {8, 8}, b2[1] = {8};
  const char* dim_names[2] = {"batch", NULL};
  CK(qk_model_add_input(m, "x", QK_DTYPE_F32, dims, dim_names, 2));
  float buf[64];
  memcpy(buf, weights(32, 21, 0.4f), 32 * sizeof(float));
  CK(qk_model_add_constant(m, "fc.weight", QK_DTYPE_F32, w1, 2, buf, 32 * sizeof(float)));
  CK(qk_model_add_constant(m, "fc.bias", QK_DTYPE_F32, b1, 1, weights(4, 22, 0.1f), 4 * sizeof(float)));
  memcpy(buf, weights(64, 23, 0.3f), 64 * sizeof(float));
  CK(qk_model_add_constant(m, "sq.weight", QK_DTYPE_F32, w2, 2, buf, 64 * sizeof(float)));
  CK(qk_model_add_constant(m, "sq.bias", QK_DTYPE_F32, b2, 1, weights(8, 24, 0.1f), 8 * sizeof(float)));
  const char *sq_in[3] = {"x", "sq.weight", "sq.bias"}, *sq_out[1] = {"h"};
  const char *add_in[2] = {"h", "x"}, *add_out[1] = {"a"};
  const char *relu_in[1] = {"a"}, *relu_out[1] = {"r"};
  const char *fc_in[3] = {"r", "fc.weight", "fc.bias"}, *fc_out[1] = {"l"};
  const char *sig_in[1] = {"l"}, *sig_out[1] = {"y"};
  CK(qk_model_add_node(m, "Linear", "sq", sq_in, 3, sq_out, 1, NULL));
  CK(qk_model_add_node(m, "Add", "add", add_in, 2, add_out, 1, NULL));
  CK(qk_model_add_node(m, "Relu", "relu", relu_in, 1, relu_out, 1, NULL));
  CK(qk_model_add_node(m, "Linear", "fc", fc_in, 3, fc_out, 1, NULL));
  CK(qk_model_add_node(m, "Sigmoid", "sigmoid", sig_in, 1, sig_out, 1, NULL));
  CK(qk_model_add_output(m, "y"));
  if (state == 1) {
    float x[4 * 8];
    memcpy(x, weights(32, 25, 2.0f), sizeof x);
    const int64_t shape[2] = {4, 8};
    CK(qk_model_set_activation_observer(m, NULL, QK_OBSERVER_MINMAX));
    CK(qk_model_prepare(m));
    CK(qk_model_calibrate(m, x, shape, 2));
    CK(qk_model_convert(m));
  } else if (state == 2) {
    CK(qk_model_quantize_dynamic(m));
  }
  char name[64], path[1024];
  snprintf(name, sizeof name, "graph_%s", states[state]);
  snprintf(path, sizeof path, "%s/.%s.tmp.qkw", dir, name);
  CK(qk_model_save(m, path));
  qk_model_destroy(m);
  emit_file(name, path);
}
#endif

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_model_load_corpus <folder>\n");
    return 2;
  }
  dir = argv[1];
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    perror(dir);
    return 1;
  }
  for (size_t i = 0; i < sizeof nets / sizeof nets[0]; ++i)
    for (int v = 0; v < kVariants; ++v)
      if (!(v == kNhwc && nets[i].rank != 3)) emit(&nets[i], (variant)v);
#if defined(QK_DTYPE_BOOL) && !defined(QK_NO_EXPERIMENTAL)
  for (int state = 0; state < 3; ++state) emit_graph_v2(state);
#endif
  printf("make_model_load_corpus: %d seeds written to %s, %d failures\n", written, dir, failures);
  return failures ? 1 : 0;
}
