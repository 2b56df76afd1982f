/* SPDX-License-Identifier: Apache-2.0 */
/* Legacy parity: the digits CNN (examples/c/digits_model.c, weights from examples/data) built a
 * second time through the graph API (constants + Conv / BatchNormalization / Relu / MaxPool /
 * Flatten / Linear / Dropout nodes with the legacy layers' attributes) gives the same bits as
 * the legacy model: float unfused and fused, and after the same fusion + calibration + convert
 * the int8 outputs (u8 and s8 activations, per-channel and per-tensor weights), and the dynamic
 * model. A second, synthetic net covers the other ported layers (strided conv with asymmetric
 * pads + hardtanh / Clip, average pool with and without count_include_pad, depthwise conv, a
 * batch norm + relu left in float, global average pool). Every mismatch is reported with its
 * first differing element. */
#include <stdlib.h>

#include "digits_model.h"
#include "graph_test_util.h"
#include "tensor_bundle.h"

static tensor_bundle g_weights, g_images;
static const bundle_tensor *g_calib, *g_test;

static void add_param(qk_model* m, const char* layer, const char* suffix) {
  char key[128];
  snprintf(key, sizeof key, "%s.%s", layer, suffix);
  const bundle_tensor* t = bundle_find(&g_weights, key);
  assert_non_null(t);
  gt_add_const(m, key, t->shape, t->rank, t->data);
}

static void node(qk_model* m, const char* op, const char* name, const char* const* ins, size_t n_in, const char* out,
                 const qk_attrs* a) {
  const char* outs[] = {out};
  GT_OK(qk_model_add_node(m, op, name, ins, n_in, outs, 1, a));
}

/* digits_model.c's conv(): 3x3, stride 1, pads 1, dilation 1, group 1, with bias. */
static void conv(qk_model* m, const char* name, const char* in, const char* out) {
  add_param(m, name, "weight");
  add_param(m, name, "bias");
  char w[64], b[64];
  snprintf(w, sizeof w, "%s.weight", name);
  snprintf(b, sizeof b, "%s.bias", name);
  const char* ins[] = {in, w, b};
  qk_attrs* a = NULL;
  GT_OK(qk_attrs_create(&a));
  const int64_t pads[4] = {1, 1, 1, 1}, ones[2] = {1, 1};
  GT_OK(qk_attrs_set_ints(a, "pads", pads, 4));
  GT_OK(qk_attrs_set_ints(a, "strides", ones, 2));
  GT_OK(qk_attrs_set_ints(a, "dilations", ones, 2));
  GT_OK(qk_attrs_set_int(a, "group", 1));
  node(m, "Conv", name, ins, 3, out, a);
  qk_attrs_destroy(a);
}

/* digits_model.c's bn(): scale = weight, B = bias, running mean / var, eps 1e-5. */
static void bn(qk_model* m, const char* name, const char* in, const char* out) {
  const char* suffix[4] = {"weight", "bias", "running_mean", "running_var"};
  char keys[4][64];
  const char* ins[5] = {in};
  for (int i = 0; i < 4; ++i) {
    add_param(m, name, suffix[i]);
    snprintf(keys[i], sizeof keys[i], "%s.%s", name, suffix[i]);
    ins[i + 1] = keys[i];
  }
  qk_attrs* a = NULL;
  GT_OK(qk_attrs_create(&a));
  GT_OK(qk_attrs_set_float(a, "epsilon", 1e-5f));
  node(m, "BatchNormalization", name, ins, 5, out, a);
  qk_attrs_destroy(a);
}

static void unary(qk_model* m, const char* op, const char* name, const char* in, const char* out) {
  const char* ins[] = {in};
  node(m, op, name, ins, 1, out, NULL);
}

static void max_pool(qk_model* m, const char* name, const char* in, const char* out) {
  qk_attrs* a = NULL;
  GT_OK(qk_attrs_create(&a));
  const int64_t k2[2] = {2, 2}, pad0[4] = {0, 0, 0, 0}, ones[2] = {1, 1};
  GT_OK(qk_attrs_set_ints(a, "kernel_shape", k2, 2));
  GT_OK(qk_attrs_set_ints(a, "strides", k2, 2));
  GT_OK(qk_attrs_set_ints(a, "pads", pad0, 4));
  GT_OK(qk_attrs_set_ints(a, "dilations", ones, 2));
  const char* ins[] = {in};
  node(m, "MaxPool", name, ins, 1, out, a);
  qk_attrs_destroy(a);
}

static void linear(qk_model* m, const char* name, const char* in, const char* out) {
  add_param(m, name, "weight");
  add_param(m, name, "bias");
  char w[64], b[64];
  snprintf(w, sizeof w, "%s.weight", name);
  snprintf(b, sizeof b, "%s.bias", name);
  const char* ins[] = {in, w, b};
  node(m, "Linear", name, ins, 3, out, NULL);
}

/* The same network, layer names and tensor names as digits_model_build. */
static qk_model* digits_graph(void) {
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[4] = {-1, 1, 16, 16};
  const char* names[4] = {"batch", NULL, NULL, NULL};
  GT_OK(qk_model_add_input(m, "image", QK_DTYPE_F32, dims, names, 4));
  conv(m, "conv1", "image", "c1");
  bn(m, "bn1", "c1", "b1");
  unary(m, "Relu", "relu1", "b1", "r1");
  conv(m, "conv2", "r1", "c2");
  bn(m, "bn2", "c2", "b2");
  unary(m, "Relu", "relu2", "b2", "r2");
  max_pool(m, "pool2", "r2", "p2");
  conv(m, "conv3", "p2", "c3");
  bn(m, "bn3", "c3", "b3");
  unary(m, "Relu", "relu3", "b3", "r3");
  max_pool(m, "pool3", "r3", "p3");
  unary(m, "Flatten", "flatten", "p3", "flat");
  linear(m, "fc1", "flat", "f1");
  bn(m, "bn4", "f1", "b4");
  unary(m, "Relu", "relu4", "b4", "r4");
  unary(m, "Dropout", "dropout", "r4", "d4");
  linear(m, "fc2", "d4", "logits");
  GT_OK(qk_model_add_output(m, "logits"));
  return m;
}

static qk_model* digits_legacy(void) {
  qk_model* m = NULL;
  GT_OK(digits_model_build(&g_weights, &m));
  return m;
}

/* Images per comparison and per calibration: enough to exercise every path (and, for the
 * histogram observers, real distributions) while the aarch64 run under qemu stays short. */
enum { kTestImages = 16, kCalibImages = 64 };
static int64_t test_count(void) { return g_test->shape[0] < kTestImages ? g_test->shape[0] : kTestImages; }

/* The logits of the first test images. */
static float* logits(const qk_model* m) {
  const int64_t n = test_count();
  const int64_t s[4] = {n, 1, 16, 16};
  float* y = malloc(sizeof(float) * (size_t)n * 10);
  GT_OK(qk_model_run(m, g_test->data, s, 4, y, (size_t)n * 10, NULL));
  return y;
}

/* Bit-for-bit equality of the two models' logits, naming the first difference. */
static void expect_same_bits(const qk_model* legacy, const qk_model* graph, const char* what) {
  float* a = logits(legacy);
  float* b = logits(graph);
  const size_t n = (size_t)test_count() * 10;
  size_t diffs = 0, first = n;
  for (size_t i = 0; i < n; ++i)
    if (memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      if (first == n) first = i;
      ++diffs;
    }
  if (diffs)
    fail_msg("%s: %zu of %zu logits differ; first [%zu]: legacy %.9g, graph %.9g", what, diffs, n, first,
             (double)a[first], (double)b[first]);
  free(a);
  free(b);
}

static void fuse_both(qk_model* l, qk_model* g) {
  GT_OK(qk_model_fuse(l));
  GT_OK(qk_model_fuse(g));
  size_t nl = 0, ng = 0;
  GT_OK(qk_model_fused_count(l, &nl));
  GT_OK(qk_model_fused_count(g, &ng));
  assert_int_equal(nl, 4); /* conv1+bn1+relu1, conv2.., conv3.., fc1+bn4+relu4 */
  assert_int_equal(ng, nl);
  for (size_t i = 0; i < nl; ++i) {
    const char *a = NULL, *b = NULL;
    GT_OK(qk_model_fused_name(l, i, &a));
    GT_OK(qk_model_fused_name(g, i, &b));
    assert_string_equal(a, b);
  }
}

static void test_float(void** state) {
  (void)state;
  qk_model* l = digits_legacy();
  qk_model* g = digits_graph();
  expect_same_bits(l, g, "float, unfused");
  fuse_both(l, g);
  expect_same_bits(l, g, "float, fused");
  qk_model_destroy(l);
  qk_model_destroy(g);
}

/* Qparams of a value in both converted models: equal scale and zero point. */
static void expect_same_qparams(const qk_model* l, const qk_model* g, const char* value) {
  float sl, sg;
  int32_t zl, zg, lo, hi;
  gt_value_qparams(l, value, &sl, &zl, &lo, &hi);
  gt_value_qparams(g, value, &sg, &zg, &lo, &hi);
  if (sl != sg || zl != zg)
    fail_msg("qparams of '%s': legacy scale %.9g zp %d, graph scale %.9g zp %d", value, (double)sl, zl, (double)sg,
             zg);
}

static void check_int8(int s8, qk_qscheme scheme) {
  qk_model* l = digits_legacy();
  qk_model* g = digits_graph();
  fuse_both(l, g);
  if (s8) {
    GT_OK(qk_model_set_activation_dtype(l, NULL, QK_DTYPE_S8));
    GT_OK(qk_model_set_activation_dtype(g, NULL, QK_DTYPE_S8));
  }
  GT_OK(qk_model_set_weight_scheme(l, NULL, scheme));
  GT_OK(qk_model_set_weight_scheme(g, NULL, scheme));
  GT_OK(qk_model_prepare(l));
  GT_OK(qk_model_prepare(g));
  const int64_t cs[4] = {g_calib->shape[0] < kCalibImages ? g_calib->shape[0] : kCalibImages, 1, 16, 16};
  GT_OK(qk_model_calibrate(l, g_calib->data, cs, 4));
  GT_OK(qk_model_calibrate(g, g_calib->data, cs, 4));
  GT_OK(qk_model_convert(l));
  GT_OK(qk_model_convert(g));
  /* the observed values first: a difference there explains one in the logits */
  static const char* const observed[] = {"image", "r1", "r2", "r3", "r4", "logits"};
  for (size_t i = 0; i < sizeof observed / sizeof observed[0]; ++i) expect_same_qparams(l, g, observed[i]);
  expect_same_qparams(l, g, "p3"); /* kept from r3 by the max pool */
  expect_same_bits(l, g, s8 ? "int8 (s8 activations)" : "int8 (u8 activations)");
  qk_model_destroy(l);
  qk_model_destroy(g);
}

static void test_int8(void** state) {
  (void)state;
  check_int8(0, QK_QSCHEME_PER_CHANNEL_SYMMETRIC);
  check_int8(1, QK_QSCHEME_PER_CHANNEL_SYMMETRIC);
  check_int8(0, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
}

/* Dynamic: the linears run int8 with per-run input qparams, the 3x3 convs stay float. */
static void test_dynamic(void** state) {
  (void)state;
  qk_model* l = digits_legacy();
  qk_model* g = digits_graph();
  fuse_both(l, g);
  GT_OK(qk_model_quantize_dynamic(l));
  GT_OK(qk_model_quantize_dynamic(g));
  expect_same_bits(l, g, "dynamic");
  qk_model_destroy(l);
  qk_model_destroy(g);
}

/* ---- A second net: the other ported layers --------------------------------------------------- */

/* Strided conv with asymmetric pads + hardtanh (-> Clip), average pool (count_include_pad
 * as given), depthwise conv + relu, a batch norm + relu no conv absorbs (float in both), global
 * average pool, flatten, linear. Weights from gt_fill. */
static float g_cw[8 * 3 * 9], g_cb[8], g_dw[8 * 9], g_db[8], g_bnp[4][8], g_lw[5 * 8], g_lb[5];
static int g_cip;

static void make_weights(void) {
  gt_fill(g_cw, 8 * 3 * 9, -0.5f, 0.5f, 801);
  gt_fill(g_cb, 8, -0.2f, 0.2f, 802);
  gt_fill(g_dw, 8 * 9, -0.6f, 0.6f, 803);
  gt_fill(g_db, 8, -0.2f, 0.2f, 804);
  gt_fill(g_bnp[0], 8, -0.3f, 0.3f, 805); /* mean */
  gt_fill(g_bnp[1], 8, 0.2f, 1.5f, 806);  /* var */
  gt_fill(g_bnp[2], 8, 0.5f, 1.5f, 807);  /* gamma */
  gt_fill(g_bnp[3], 8, -0.3f, 0.3f, 808); /* beta */
  gt_fill(g_lw, 5 * 8, -0.7f, 0.7f, 809);
  gt_fill(g_lb, 5, -0.1f, 0.1f, 810);
}

static const int64_t kStride21[2] = {2, 1}, kPadA[4] = {0, 1, 2, 1}, kOnes[2] = {1, 1},
                     kK3[2] = {3, 3}, kS2[2] = {2, 2}, kPad1[4] = {1, 1, 1, 1}, kDw[4] = {8, 1, 3, 3};

static qk_model* second_legacy(void) {
  qk_model* m = NULL;
  const int64_t in[3] = {3, 9, 10};
  GT_OK(qk_model_create("x", in, 3, &m));
  const int64_t cw1[4] = {8, 3, 3, 3};
  GT_OK(qk_model_add_conv2d(m, "ca", "x", "a1", g_cw, cw1, g_cb, kStride21, kPadA, kOnes, 1));
  GT_OK(qk_model_add_hardtanh(m, "clip", "a1", "a2", 0.0f, 6.0f));
  GT_OK(qk_model_add_avg_pool2d(m, "avg", "a2", "p1", kK3, kS2, kPad1, g_cip));
  GT_OK(qk_model_add_conv2d(m, "dw", "p1", "d1", g_dw, kDw, g_db, kOnes, kPad1, kOnes, 8));
  GT_OK(qk_model_add_relu(m, "relu", "d1", "d2"));
  GT_OK(qk_model_add_batchnorm(m, "bn", "d2", "b1", 8, g_bnp[0], g_bnp[1], g_bnp[2], g_bnp[3], 1e-5f));
  GT_OK(qk_model_add_relu(m, "bnrelu", "b1", "b2"));
  GT_OK(qk_model_add_global_avg_pool2d(m, "gap", "b2", "g"));
  GT_OK(qk_model_add_flatten(m, "flatten", "g", "f"));
  GT_OK(qk_model_add_linear(m, "fc", "f", "out", g_lw, 5, 8, g_lb));
  return m;
}

static void add_ints(qk_attrs* a, const char* name, const int64_t* v, size_t n) { GT_OK(qk_attrs_set_ints(a, name, v, n)); }

static qk_model* second_graph(void) {
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[4] = {-1, 3, 9, 10}, cw1[4] = {8, 3, 3, 3}, c8[1] = {8}, lw[2] = {5, 8}, c5[1] = {5};
  const char* names[4] = {"batch", NULL, NULL, NULL};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, dims, names, 4));
  gt_add_const(m, "ca.w", cw1, 4, g_cw);
  gt_add_const(m, "ca.b", c8, 1, g_cb);
  gt_add_const(m, "dw.w", kDw, 4, g_dw);
  gt_add_const(m, "dw.b", c8, 1, g_db);
  gt_add_const(m, "bn.mean", c8, 1, g_bnp[0]);
  gt_add_const(m, "bn.var", c8, 1, g_bnp[1]);
  gt_add_const(m, "bn.gamma", c8, 1, g_bnp[2]);
  gt_add_const(m, "bn.beta", c8, 1, g_bnp[3]);
  gt_add_const(m, "fc.w", lw, 2, g_lw);
  gt_add_const(m, "fc.b", c5, 1, g_lb);
  qk_attrs* a = NULL;
  GT_OK(qk_attrs_create(&a));
  add_ints(a, "strides", kStride21, 2);
  add_ints(a, "pads", kPadA, 4);
  add_ints(a, "dilations", kOnes, 2);
  const char* ca[] = {"x", "ca.w", "ca.b"};
  node(m, "Conv", "ca", ca, 3, "a1", a);
  qk_attrs_destroy(a);
  GT_OK(qk_attrs_create(&a));
  GT_OK(qk_attrs_set_float(a, "min", 0.0f));
  GT_OK(qk_attrs_set_float(a, "max", 6.0f));
  const char* c[] = {"a1"};
  node(m, "Clip", "clip", c, 1, "a2", a);
  qk_attrs_destroy(a);
  GT_OK(qk_attrs_create(&a));
  add_ints(a, "kernel_shape", kK3, 2);
  add_ints(a, "strides", kS2, 2);
  add_ints(a, "pads", kPad1, 4);
  GT_OK(qk_attrs_set_int(a, "count_include_pad", g_cip)); /* explicit: the legacy layer has no default */
  const char* p[] = {"a2"};
  node(m, "AveragePool", "avg", p, 1, "p1", a);
  qk_attrs_destroy(a);
  GT_OK(qk_attrs_create(&a));
  add_ints(a, "pads", kPad1, 4);
  GT_OK(qk_attrs_set_int(a, "group", 8));
  const char* dw[] = {"p1", "dw.w", "dw.b"};
  node(m, "Conv", "dw", dw, 3, "d1", a);
  qk_attrs_destroy(a);
  unary(m, "Relu", "relu", "d1", "d2");
  const char* bn[] = {"d2", "bn.gamma", "bn.beta", "bn.mean", "bn.var"};
  node(m, "BatchNormalization", "bn", bn, 5, "b1", NULL);
  unary(m, "Relu", "bnrelu", "b1", "b2");
  unary(m, "GlobalAveragePool", "gap", "b2", "g");
  unary(m, "Flatten", "flatten", "g", "f");
  const char* fc[] = {"f", "fc.w", "fc.b"};
  node(m, "Linear", "fc", fc, 3, "out", NULL);
  GT_OK(qk_model_add_output(m, "out"));
  return m;
}

static void check_second(int cip, int s8) {
  g_cip = cip;
  make_weights();
  static float x[6 * 270], y[2][6 * 5];
  gt_fill(x, 6 * 270, -2.0f, 3.0f, 811);
  const int64_t calib[4] = {4, 3, 9, 10}, test[4] = {2, 3, 9, 10};
  qk_model* l = second_legacy();
  qk_model* g = second_graph();
  for (int stage = 0; stage < 3; ++stage) {
    if (stage == 1) {
      GT_OK(qk_model_fuse(l));
      GT_OK(qk_model_fuse(g));
      size_t nl = 0, ng = 0;
      GT_OK(qk_model_fused_count(l, &nl));
      GT_OK(qk_model_fused_count(g, &ng));
      assert_int_equal(nl, 3); /* ca+clip, dw+relu, bn+bnrelu */
      assert_int_equal(ng, nl);
    }
    if (stage == 2) {
      if (s8) {
        GT_OK(qk_model_set_activation_dtype(l, NULL, QK_DTYPE_S8));
        GT_OK(qk_model_set_activation_dtype(g, NULL, QK_DTYPE_S8));
      }
      GT_OK(qk_model_prepare(l));
      GT_OK(qk_model_prepare(g));
      GT_OK(qk_model_calibrate(l, x, calib, 4));
      GT_OK(qk_model_calibrate(g, x, calib, 4));
      GT_OK(qk_model_convert(l));
      GT_OK(qk_model_convert(g));
      expect_same_qparams(l, g, "a2");
      expect_same_qparams(l, g, "p1"); /* the input's, in both */
      expect_same_qparams(l, g, "g");
    }
    GT_OK(qk_model_run(l, x + 4 * 270, test, 4, y[0], 10, NULL));
    GT_OK(qk_model_run(g, x + 4 * 270, test, 4, y[1], 10, NULL));
    for (int i = 0; i < 10; ++i)
      if (memcmp(&y[0][i], &y[1][i], sizeof(float)) != 0)
        fail_msg("stage %d (cip %d, s8 %d): out[%d] legacy %.9g, graph %.9g", stage, cip, s8, i, (double)y[0][i],
                 (double)y[1][i]);
  }
  qk_model_destroy(l);
  qk_model_destroy(g);
}

static void test_second_net(void** state) {
  (void)state;
  check_second(1, 0);
  check_second(0, 0);
  check_second(1, 1);
}

static int setup(void** state) {
  (void)state;
  if (bundle_load(QK_EXAMPLES_DATA_DIR "/digits_cnn.qktb", &g_weights) != 0) return -1;
  if (bundle_load(QK_EXAMPLES_DATA_DIR "/digits_images.qktb", &g_images) != 0) return -1;
  g_calib = bundle_find(&g_images, "calibration");
  g_test = bundle_find(&g_images, "test_images");
  return g_calib && g_test ? 0 : -1;
}

static int teardown(void** state) {
  (void)state;
  bundle_free(&g_weights);
  bundle_free(&g_images);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),
      cmocka_unit_test(test_int8),
      cmocka_unit_test(test_dynamic),
      cmocka_unit_test(test_second_net),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
