/* SPDX-License-Identifier: Apache-2.0 */
/* bench_graph: what the general graph (graph v2) costs against the layer engine it replaced, on
 * the same network, and the executor's own overhead per node.
 *
 *   build/tests/bench/bench_graph [rounds]
 *
 * 1. The digits CNN three ways: the layer engine (src/model/, which now only runs v1 files: the
 *    committed tests/data/model_v1 files, float then fused here, and converted), the layer calls
 *    (qk_model_add_conv2d ..., now sugar over graph v2) and the generic builder (constants + Conv
 *    / BatchNormalization / Relu / MaxPool / Flatten / Linear / Dropout nodes). All fused; int8:
 *    calibrated on the same 16 images as the v1 file. Prints float and int8 latency per batch at
 *    batch 1 and 64, ratios to the layer engine measured in the same run (best of `rounds`
 *    interleaved rounds), and whether the three agree bit for bit.
 * 2. A chain of 1,000 Relu nodes on a {1, 8} tensor, float and int8: microseconds per node
 *    (the whole run divided by the node count: allocation, shape inference, dispatch).
 * Timings only; nothing here is a test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digits_model.h"
#include "quantkit/quantkit.h"
#include "tensor_bundle.h"

#define CK(call)                                                                    \
  do {                                                                              \
    qk_status s_ = (call);                                                          \
    if (s_ != QK_OK) {                                                              \
      fprintf(stderr, "%s:%d: %s -> %d: %s\n", __FILE__, __LINE__, #call, (int)s_,  \
              qk_last_error());                                                     \
      exit(1);                                                                      \
    }                                                                               \
  } while (0)

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const float* weight(const tensor_bundle* b, const char* layer, const char* suffix, const int64_t** shape,
                           size_t* rank) {
  char key[128];
  snprintf(key, sizeof key, "%s.%s", layer, suffix);
  const bundle_tensor* t = bundle_find(b, key);
  if (!t) {
    fprintf(stderr, "missing tensor %s\n", key);
    exit(1);
  }
  *shape = t->shape;
  *rank = t->rank;
  return t->data;
}

static void constant(qk_model* m, const tensor_bundle* b, const char* layer, const char* suffix) {
  const int64_t* shape;
  size_t rank, n = 1;
  const float* data = weight(b, layer, suffix, &shape, &rank);
  for (size_t i = 0; i < rank; ++i) n *= (size_t)shape[i];
  char name[128];
  snprintf(name, sizeof name, "%s.%s", layer, suffix);
  CK(qk_model_add_constant(m, name, QK_DTYPE_F32, shape, rank, data, n * sizeof(float)));
}

static void node(qk_model* m, const char* op, const char* name, const char* const* in, size_t n_in, const char* out,
                 const qk_attrs* attrs) {
  CK(qk_model_add_node(m, op, name, in, n_in, &out, 1, attrs));
}

static void conv_bn_relu(qk_model* m, const tensor_bundle* b, int i, const char* in, const char* out) {
  char conv[16], bn[16], relu[16], c[16], bo[16], w[32], bias[32], g[32], be[32], mu[32], var[32];
  snprintf(conv, sizeof conv, "conv%d", i);
  snprintf(bn, sizeof bn, "bn%d", i);
  snprintf(relu, sizeof relu, "relu%d", i);
  snprintf(c, sizeof c, "c%d", i);
  snprintf(bo, sizeof bo, "b%d", i);
  constant(m, b, conv, "weight");
  constant(m, b, conv, "bias");
  snprintf(w, sizeof w, "%s.weight", conv);
  snprintf(bias, sizeof bias, "%s.bias", conv);
  qk_attrs* a = NULL;
  CK(qk_attrs_create(&a));
  const int64_t pads[4] = {1, 1, 1, 1};
  CK(qk_attrs_set_ints(a, "pads", pads, 4));
  const char* cin[3] = {in, w, bias};
  node(m, "Conv", conv, cin, 3, c, a);
  qk_attrs_destroy(a);
  constant(m, b, bn, "weight");
  constant(m, b, bn, "bias");
  constant(m, b, bn, "running_mean");
  constant(m, b, bn, "running_var");
  snprintf(g, sizeof g, "%s.weight", bn);
  snprintf(be, sizeof be, "%s.bias", bn);
  snprintf(mu, sizeof mu, "%s.running_mean", bn);
  snprintf(var, sizeof var, "%s.running_var", bn);
  const char* bin[5] = {c, g, be, mu, var};
  node(m, "BatchNormalization", bn, bin, 5, bo, NULL);
  const char* rin[1] = {bo};
  node(m, "Relu", relu, rin, 1, out, NULL);
}

static void max_pool(qk_model* m, const char* name, const char* in, const char* out) {
  qk_attrs* a = NULL;
  CK(qk_attrs_create(&a));
  const int64_t k[2] = {2, 2};
  CK(qk_attrs_set_ints(a, "kernel_shape", k, 2));
  CK(qk_attrs_set_ints(a, "strides", k, 2));
  const char* pin[1] = {in};
  node(m, "MaxPool", name, pin, 1, out, a);
  qk_attrs_destroy(a);
}

/* The digits CNN of examples/c/digits_model.c through the generic builder. */
static qk_model* digits_graph(const tensor_bundle* b) {
  qk_model* m = NULL;
  CK(qk_model_create_graph(&m));
  const int64_t dims[4] = {-1, 1, 16, 16};
  const char* names[4] = {"N", NULL, NULL, NULL};
  CK(qk_model_add_input(m, "image", QK_DTYPE_F32, dims, names, 4));
  conv_bn_relu(m, b, 1, "image", "r1");
  conv_bn_relu(m, b, 2, "r1", "r2");
  max_pool(m, "pool2", "r2", "p2");
  conv_bn_relu(m, b, 3, "p2", "r3");
  max_pool(m, "pool3", "r3", "p3");
  const char* fin[1] = {"p3"};
  node(m, "Flatten", "flatten", fin, 1, "flat", NULL);
  constant(m, b, "fc1", "weight");
  constant(m, b, "fc1", "bias");
  const char* l1[3] = {"flat", "fc1.weight", "fc1.bias"};
  node(m, "Linear", "fc1", l1, 3, "f1", NULL);
  constant(m, b, "bn4", "weight");
  constant(m, b, "bn4", "bias");
  constant(m, b, "bn4", "running_mean");
  constant(m, b, "bn4", "running_var");
  const char* b4[5] = {"f1", "bn4.weight", "bn4.bias", "bn4.running_mean", "bn4.running_var"};
  node(m, "BatchNormalization", "bn4", b4, 5, "b4", NULL);
  const char* r4[1] = {"b4"};
  node(m, "Relu", "relu4", r4, 1, "r4", NULL);
  const char* d4[1] = {"r4"};
  node(m, "Dropout", "dropout", d4, 1, "d4", NULL);
  constant(m, b, "fc2", "weight");
  constant(m, b, "fc2", "bias");
  const char* l2[3] = {"d4", "fc2.weight", "fc2.bias"};
  node(m, "Linear", "fc2", l2, 3, "logits", NULL);
  CK(qk_model_add_output(m, "logits"));
  return m;
}

/* Best seconds per call of qk_model_run over `reps` calls, one round. */
static double time_run(const qk_model* m, const float* x, int64_t batch, float* y, int reps) {
  const int64_t shape[4] = {batch, 1, 16, 16};
  const double t0 = now_seconds();
  for (int r = 0; r < reps; ++r) CK(qk_model_run(m, x, shape, 4, y, (size_t)batch * 10, NULL));
  return (now_seconds() - t0) / reps;
}

static qk_model* relu_chain(int nodes) {
  qk_model* m = NULL;
  CK(qk_model_create_graph(&m));
  const int64_t dims[2] = {1, 8};
  CK(qk_model_add_input(m, "v0", QK_DTYPE_F32, dims, NULL, 2));
  char in[32], out[32], name[32];
  for (int i = 0; i < nodes; ++i) {
    snprintf(in, sizeof in, "v%d", i);
    snprintf(out, sizeof out, "v%d", i + 1);
    snprintf(name, sizeof name, "relu%d", i);
    const char* ins[1] = {in};
    node(m, "Relu", name, ins, 1, out, NULL);
  }
  CK(qk_model_add_output(m, out));
  return m;
}

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? atoi(argv[1]) : 5;
  tensor_bundle weights, images;
  if (bundle_load(QK_BENCH_DATA_DIR "/digits_cnn.qktb", &weights) != 0 ||
      bundle_load(QK_BENCH_DATA_DIR "/digits_images.qktb", &images) != 0) {
    fprintf(stderr, "cannot read the fixtures in %s\n", QK_BENCH_DATA_DIR);
    return 1;
  }
  const bundle_tensor* im = bundle_find(&images, "calibration");
  if (!im) {
    fprintf(stderr, "no calibration tensor\n");
    return 1;
  }
  const float* x = im->data;  /* {N, 1, 16, 16} */
  /* models[engine][float, int8]: engine 0 the layer engine (v1 files), 1 layer calls, 2 generic. */
  qk_model* models[3][2] = {{NULL, NULL}, {NULL, NULL}, {digits_graph(&weights), digits_graph(&weights)}};
  CK(qk_model_load(QK_BENCH_V1_DIR "/digits_float.qkw", &models[0][0]));
  CK(qk_model_load(QK_BENCH_V1_DIR "/digits_converted.qkw", &models[0][1]));
  CK(digits_model_build(&weights, &models[1][0]));
  CK(digits_model_build(&weights, &models[1][1]));
  CK(qk_model_fuse(models[0][0]));
  const int64_t calib[4] = {16, 1, 16, 16}; /* as tests/data/model_v1/make_v1_files.c */
  for (int e = 1; e < 3; ++e) {
    CK(qk_model_fuse(models[e][0]));
    CK(qk_model_fuse(models[e][1]));
    CK(qk_model_prepare(models[e][1]));
    CK(qk_model_calibrate(models[e][1], x, calib, 4));
    CK(qk_model_convert(models[e][1]));
  }
  static float y[3][64 * 10];
  const char* kind[2] = {"float", "int8"};
  printf("digits CNN: the layer engine (v1 files) vs graph v2 built by the layer calls and by the generic\n"
         "builder (same weights, fused; int8: the same 16 calibration images); us per batch, best of %d\n",
         rounds);
  printf("%-6s %5s %12s %12s %12s %12s %12s %s\n", "run", "batch", "layer engine", "layer calls", "generic",
         "calls/engine", "generic/eng.", "outputs");
  const int64_t batches[2] = {1, 64};
  for (int k = 0; k < 2; ++k)
    for (int bi = 0; bi < 2; ++bi) {
      const int64_t batch = batches[bi];
      const int reps = batch == 1 ? 2000 : 60;
      double best[3] = {1e9, 1e9, 1e9};
      for (int r = 0; r < rounds; ++r) /* interleaved: all see the same machine state */
        for (int e = 0; e < 3; ++e) {
          const double t = time_run(models[e][k], x, batch, y[e], reps);
          best[e] = t < best[e] ? t : best[e];
        }
      const size_t bytes = (size_t)batch * 10 * sizeof(float);
      const int same = memcmp(y[0], y[1], bytes) == 0 && memcmp(y[0], y[2], bytes) == 0;
      printf("%-6s %5lld %12.1f %12.1f %12.1f %12.3f %12.3f %s\n", kind[k], (long long)batch, best[0] * 1e6,
             best[1] * 1e6, best[2] * 1e6, best[1] / best[0], best[2] / best[0], same ? "bit-identical" : "DIFFER");
    }
  printf("\nexecutor overhead: a chain of Relu nodes on a {1, 8} tensor\n");
  printf("%-6s %6s %12s %12s\n", "run", "nodes", "us/run", "us/node");
  const int chain = 1000;
  qk_model* cf = relu_chain(chain);
  qk_model* cq = relu_chain(chain);
  float in8[8] = {-1, 0.5f, 2, -3, 4, 0.25f, -0.5f, 1}, out8[8];
  const int64_t s8[2] = {1, 8};
  CK(qk_model_prepare(cq));
  CK(qk_model_calibrate(cq, in8, s8, 2));
  CK(qk_model_convert(cq));
  qk_model* chains[2] = {cf, cq};
  for (int k = 0; k < 2; ++k) {
    double best = 1e9;
    for (int r = 0; r < rounds; ++r) {
      const double t0 = now_seconds();
      for (int i = 0; i < 50; ++i) CK(qk_model_run(chains[k], in8, s8, 2, out8, 8, NULL));
      const double t = (now_seconds() - t0) / 50;
      best = t < best ? t : best;
    }
    printf("%-6s %6d %12.1f %12.3f\n", kind[k], chain, best * 1e6, best * 1e6 / chain);
  }
  for (int e = 0; e < 3; ++e) {
    qk_model_destroy(models[e][0]);
    qk_model_destroy(models[e][1]);
  }
  qk_model_destroy(cf);
  qk_model_destroy(cq);
  bundle_free(&weights);
  bundle_free(&images);
  return 0;
}
