/* SPDX-License-Identifier: Apache-2.0 */
/* Graph v2 core through the C API: the builder's validation (nothing changes on error), symbolic
 * dims resolved per run, several inputs and outputs by name, the run context, the life cycle
 * (fuse, prepare, calibrate, convert, dynamic), save/load of graph text v2 bit-identical, and the
 * layer calls refusing a graph model (and the graph calls a layer model). */
#include "graph_test_util.h"

static const int64_t kW[2] = {3, 4};
static const float kWeight[12] = {0.5f, -1.0f, 0.25f, 2.0f, -0.5f, 1.5f, 0.0f, -2.0f, 1.0f, 1.0f, -1.0f, 0.5f};
static const float kBias[3] = {0.1f, -0.2f, 0.3f};

/* x {batch, 4} -> Linear(3) -> Relu -> y;  x + z -> s (two inputs, two outputs). */
static qk_model* build_two_heads(void* ctx) {
  (void)ctx;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[2] = {-1, 4};
  const char* names[2] = {"batch", NULL};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, dims, names, 2));
  GT_OK(qk_model_add_input(m, "z", QK_DTYPE_F32, dims, names, 2));
  gt_add_const(m, "fc.weight", kW, 2, kWeight);
  const int64_t bs[1] = {3};
  gt_add_const(m, "fc.bias", bs, 1, kBias);
  const char* lin_in[3] = {"x", "fc.weight", "fc.bias"};
  const char* lin_out[1] = {"h"};
  GT_OK(qk_model_add_node(m, "Linear", "fc", lin_in, 3, lin_out, 1, NULL));
  const char* relu_in[1] = {"h"};
  const char* relu_out[1] = {"y"};
  GT_OK(qk_model_add_node(m, "Relu", "act", relu_in, 1, relu_out, 1, NULL));
  const char* add_in[2] = {"x", "z"};
  const char* add_out[1] = {"s"};
  GT_OK(qk_model_add_node(m, "Add", "sum", add_in, 2, add_out, 1, NULL));
  GT_OK(qk_model_add_output(m, "y"));
  GT_OK(qk_model_add_output(m, "s"));
  return m;
}

static void reference_two_heads(const float* x, const float* z, size_t batch, float* y, float* s) {
  for (size_t b = 0; b < batch; ++b) {
    for (size_t o = 0; o < 3; ++o) {
      float acc = 0.0f;
      for (size_t k = 0; k < 4; ++k) acc += x[b * 4 + k] * kWeight[o * 4 + k];
      acc += kBias[o];
      y[b * 3 + o] = acc > 0.0f ? acc : 0.0f;
    }
    for (size_t k = 0; k < 4; ++k) s[b * 4 + k] = x[b * 4 + k] + z[b * 4 + k];
  }
}

static void run_two(const qk_model* m, const float* x, const float* z, size_t batch, float* y, float* s) {
  const int64_t shape[2] = {(int64_t)batch, 4};
  qk_run* r = NULL;
  GT_OK(qk_run_create(m, &r));
  GT_OK(qk_run_set_input(r, "z", QK_DTYPE_F32, z, batch * 4 * sizeof(float), shape, 2));
  GT_OK(qk_run_set_input(r, "x", QK_DTYPE_F32, x, batch * 4 * sizeof(float), shape, 2));
  GT_OK(qk_run_invoke(r, NULL));
  int64_t out_shape[8];
  size_t rank = 0;
  GT_OK(qk_run_output_shape(r, "y", out_shape, 8, &rank));
  assert_int_equal(rank, 2);
  assert_int_equal(out_shape[0], (int64_t)batch);
  assert_int_equal(out_shape[1], 3);
  GT_OK(qk_run_get_output(r, "y", QK_DTYPE_F32, y, batch * 3 * sizeof(float)));
  GT_OK(qk_run_get_output(r, "s", QK_DTYPE_F32, s, batch * 4 * sizeof(float)));
  qk_run_destroy(r);
}

static void test_float_multi_io_symbolic_batch(void** state) {
  (void)state;
  qk_model* m = build_two_heads(NULL);
  for (size_t batch = 1; batch <= 5; batch += 4) { /* the symbolic batch takes two sizes */
    float x[20], z[20], y[15], s[20], ry[15], rs[20];
    gt_fill(x, batch * 4, -2.0f, 2.0f, 1 + (uint32_t)batch);
    gt_fill(z, batch * 4, -1.0f, 1.0f, 7 + (uint32_t)batch);
    run_two(m, x, z, batch, y, s);
    reference_two_heads(x, z, batch, ry, rs);
    for (size_t i = 0; i < batch * 3; ++i) assert_float_equal(y[i], ry[i], 1e-6f);
    for (size_t i = 0; i < batch * 4; ++i) assert_true(s[i] == rs[i]);
  }
  /* x and z share the symbol: different batches in one run are refused */
  qk_run* r = NULL;
  GT_OK(qk_run_create(m, &r));
  float buf[8] = {0};
  const int64_t s1[2] = {1, 4}, s2[2] = {2, 4};
  GT_OK(qk_run_set_input(r, "x", QK_DTYPE_F32, buf, 4 * sizeof(float), s1, 2));
  GT_OK(qk_run_set_input(r, "z", QK_DTYPE_F32, buf, 8 * sizeof(float), s2, 2));
  GT_FAILS(qk_run_invoke(r, NULL), QK_ERR_INVALID_ARGUMENT, "'batch'");
  /* a missing input, an unknown output */
  qk_run* r2 = NULL;
  GT_OK(qk_run_create(m, &r2));
  GT_OK(qk_run_set_input(r2, "x", QK_DTYPE_F32, buf, 4 * sizeof(float), s1, 2));
  GT_FAILS(qk_run_invoke(r2, NULL), QK_ERR_INVALID_ARGUMENT, "input 'z' is missing");
  GT_FAILS(qk_run_get_output(r2, "nope", QK_DTYPE_F32, buf, 4), QK_ERR_NOT_FOUND, "nope");
  qk_run_destroy(r);
  qk_run_destroy(r2);
  qk_model_destroy(m);
}

static void test_builder_validates_before_changing(void** state) {
  (void)state;
  qk_model* m = build_two_heads(NULL);
  size_t before = 0, after = 0;
  GT_OK(qk_model_node_count(m, &before));
  const char* in1[1] = {"nope"};
  const char* out1[1] = {"q"};
  GT_FAILS(qk_model_add_node(m, "Relu", "r2", in1, 1, out1, 1, NULL), QK_ERR_NOT_FOUND, "nope");
  GT_FAILS(qk_model_add_node(m, "NoSuchOp", "r2", in1, 1, out1, 1, NULL), QK_ERR_UNSUPPORTED, "NoSuchOp");
  const char* in2[1] = {"y"};
  const char* dup[1] = {"s"};
  GT_FAILS(qk_model_add_node(m, "Relu", "r2", in2, 1, dup, 1, NULL), QK_ERR_INVALID_ARGUMENT, "duplicate value");
  GT_FAILS(qk_model_add_node(m, "Relu", "fc", in2, 1, out1, 1, NULL), QK_ERR_INVALID_ARGUMENT, "duplicate node");
  /* an unknown attribute, a wrong attribute type */
  qk_attrs* a = NULL;
  GT_OK(qk_attrs_create(&a));
  GT_OK(qk_attrs_set_int(a, "alpha", 1));
  GT_FAILS(qk_model_add_node(m, "Relu", "r2", in2, 1, out1, 1, a), QK_ERR_INVALID_ARGUMENT, "no attribute 'alpha'");
  qk_attrs_destroy(a);
  GT_OK(qk_attrs_create(&a));
  GT_OK(qk_attrs_set_int(a, "clip_min", 0));
  const char* add_in[2] = {"y", "y"};
  GT_FAILS(qk_model_add_node(m, "Add", "a2", add_in, 2, out1, 1, a), QK_ERR_INVALID_ARGUMENT, "must be a float");
  qk_attrs_destroy(a);
  /* Linear: the input's last dim must match the weight; a non-constant weight is refused */
  const char* lin_bad[2] = {"y", "fc.weight"};
  GT_FAILS(qk_model_add_node(m, "Linear", "l2", lin_bad, 2, out1, 1, NULL), QK_ERR_INVALID_ARGUMENT, "in_features");
  const char* lin_var[2] = {"x", "z"};
  GT_FAILS(qk_model_add_node(m, "Linear", "l3", lin_var, 2, out1, 1, NULL), QK_ERR_INVALID_ARGUMENT, "constant");
  /* broadcast mismatch: {batch, 4} + {batch, 3} */
  const char* add_bad[2] = {"x", "y"};
  GT_FAILS(qk_model_add_node(m, "Add", "a3", add_bad, 2, out1, 1, NULL), QK_ERR_INVALID_ARGUMENT, "broadcast");
  /* constants: non-finite data, a wrong byte count; convert-only ops cannot be added */
  const float bad[2] = {1.0f, NAN};
  const int64_t two[1] = {2};
  GT_FAILS(qk_model_add_constant(m, "c", QK_DTYPE_F32, two, 1, bad, sizeof bad), QK_ERR_INVALID_ARGUMENT, "finite");
  GT_FAILS(qk_model_add_constant(m, "c", QK_DTYPE_F32, two, 1, bad, 4), QK_ERR_INVALID_ARGUMENT, "bytes");
  GT_FAILS(qk_model_add_node(m, "qk.Quantize", "qz", in2, 1, out1, 1, NULL), QK_ERR_INVALID_ARGUMENT, "convert");
  GT_OK(qk_model_node_count(m, &after));
  assert_int_equal(before, after);
  /* the model still runs as before */
  float x[4] = {1, 2, 3, 4}, z[4] = {0}, y[3], s[4], ry[3], rs[4];
  run_two(m, x, z, 1, y, s);
  reference_two_heads(x, z, 1, ry, rs);
  for (int i = 0; i < 3; ++i) assert_float_equal(y[i], ry[i], 1e-6f);
  /* engines do not mix */
  GT_FAILS(qk_model_add_relu(m, "r", "y", "w"), QK_ERR_UNSUPPORTED, "graph model");
  qk_model* legacy = NULL;
  const int64_t sample[1] = {4};
  GT_OK(qk_model_create("x", sample, 1, &legacy));
  GT_FAILS(qk_model_add_node(legacy, "Relu", "r", in2, 1, out1, 1, NULL), QK_ERR_UNSUPPORTED, "layer API");
  int is_graph = -1;
  GT_OK(qk_model_is_graph(legacy, &is_graph));
  assert_int_equal(is_graph, 0);
  GT_OK(qk_model_is_graph(m, &is_graph));
  assert_int_equal(is_graph, 1);
  qk_model_destroy(legacy);
  qk_model_destroy(m);
}

static void calibrate_two(qk_model* m) {
  float x[64], z[64];
  gt_fill(x, 64, -2.0f, 2.0f, 11);
  gt_fill(z, 64, -1.0f, 1.0f, 12);
  const gt_tensor in[2] = {{"x", (const int64_t[]){16, 4}, 2, x}, {"z", (const int64_t[]){16, 4}, 2, z}};
  gt_calibrate(m, in, 2);
}

static void save_load_check(const qk_model* m, const char* path) {
  GT_OK(qk_model_save(m, path));
  qk_model* back = NULL;
  GT_OK(qk_model_load(path, &back));
  int is_graph = 0;
  GT_OK(qk_model_is_graph(back, &is_graph));
  assert_int_equal(is_graph, 1);
  qk_model_state s1, s2;
  GT_OK(qk_model_get_state(m, &s1));
  GT_OK(qk_model_get_state(back, &s2));
  assert_int_equal(s1, s2);
  float x[12], z[12], y1[9], y2[9], a1[12], a2[12];
  gt_fill(x, 12, -3.0f, 3.0f, 21);
  gt_fill(z, 12, -3.0f, 3.0f, 22);
  run_two(m, x, z, 3, y1, a1);
  run_two(back, x, z, 3, y2, a2);
  assert_memory_equal(y1, y2, sizeof y1);
  assert_memory_equal(a1, a2, sizeof a1);
  qk_model_destroy(back);
  remove(path);
}

static void test_convert_and_dynamic_round_trip(void** state) {
  (void)state;
  const char* path = "graph_core_tmp.qkw";
  /* FLOAT saves and loads */
  qk_model* f = build_two_heads(NULL);
  save_load_check(f, path);
  /* static int8: Linear runs int8, its Relu keeps the qparams, Add requantizes */
  qk_model* q = build_two_heads(NULL);
  GT_OK(qk_model_prepare(q));
  GT_FAILS(qk_model_convert(q), QK_ERR_STATE, "calibration");
  calibrate_two(q);
  GT_OK(qk_model_convert(q));
  size_t n = 0;
  GT_OK(qk_model_node_count(q, &n));
  int quantizes = 0, dequantizes = 0;
  for (size_t i = 0; i < n; ++i) {
    const char* op = NULL;
    GT_OK(qk_model_node_info(q, i, NULL, &op));
    quantizes += strcmp(op, "qk.Quantize") == 0;
    dequantizes += strcmp(op, "qk.Dequantize") == 0;
  }
  assert_int_equal(quantizes, 2);  /* x and z, once each however many readers */
  assert_int_equal(dequantizes, 0); /* outputs are dequantized by the run itself */
  /* the first 3 calibration rows: inside the calibrated ranges (no saturation) */
  float x[64], z[64], y[9], s[12], ry[9], rs[12];
  gt_fill(x, 64, -2.0f, 2.0f, 11);
  gt_fill(z, 64, -1.0f, 1.0f, 12);
  run_two(q, x, z, 3, y, s);
  reference_two_heads(x, z, 3, ry, rs);
  float sy, ss;
  int32_t zp, lo, hi;
  gt_value_qparams(q, "y", &sy, &zp, &lo, &hi);
  gt_value_qparams(q, "s", &ss, &zp, &lo, &hi);
  for (int i = 0; i < 9; ++i) assert_true(fabsf(y[i] - ry[i]) <= 2.0f * sy);
  /* x and z are each rounded to their own step, then the sum: within 1.5 output steps */
  for (int i = 0; i < 12; ++i) assert_true(fabsf(s[i] - rs[i]) <= 1.5f * ss);
  save_load_check(q, path);
  /* dynamic: Linear only, the rest float */
  qk_model* d = build_two_heads(NULL);
  GT_OK(qk_model_quantize_dynamic(d));
  run_two(d, x, z, 3, y, s);
  for (int i = 0; i < 12; ++i) assert_true(s[i] == rs[i]);
  for (int i = 0; i < 9; ++i) assert_true(fabsf(y[i] - ry[i]) < 0.05f);
  save_load_check(d, path);
  qk_model_destroy(f);
  qk_model_destroy(q);
  qk_model_destroy(d);
}

/* The qk_model_run / qk_model_calibrate convenience for one input and one output. */
static void test_single_io_convenience(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[2] = {-1, 4};
  const char* names[2] = {"n", NULL};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, dims, names, 2));
  gt_add_const(m, "w", kW, 2, kWeight);
  const char* in[2] = {"x", "w"};
  const char* out[1] = {"y"};
  GT_OK(qk_model_add_node(m, "Linear", "fc", in, 2, out, 1, NULL));
  GT_OK(qk_model_add_output(m, "y"));
  float x[8] = {1, 2, 3, 4, -1, -2, -3, -4}, y[6];
  const int64_t shape[2] = {2, 4};
  GT_OK(qk_model_run(m, x, shape, 2, y, 6, NULL));
  assert_float_equal(y[0], 0.5f - 2.0f + 0.75f + 8.0f, 1e-6f);
  GT_FAILS(qk_model_run(m, x, shape, 2, y, 5, NULL), QK_ERR_INVALID_ARGUMENT, "output_count");
  GT_OK(qk_model_prepare(m));
  GT_OK(qk_model_calibrate(m, x, shape, 2));
  GT_OK(qk_model_convert(m));
  GT_OK(qk_model_run(m, x, shape, 2, y, 6, NULL));
  assert_float_equal(y[0], 7.25f, 0.1f);
  qk_model_destroy(m);
}

/* Split calibration: two halves merged convert like the whole (min/max observers are exact
 * under merging); the per-node report finds the int8 Linear's error and none for the float path. */
static void test_split_calibration_and_report(void** state) {
  (void)state;
  float x[64], z[64];
  gt_fill(x, 64, -2.0f, 2.0f, 11);
  gt_fill(z, 64, -1.0f, 1.0f, 12);
  const int64_t half[2] = {8, 4}, whole[2] = {16, 4};
  const gt_tensor all[2] = {{"x", whole, 2, x}, {"z", whole, 2, z}};
  const gt_tensor first[2] = {{"x", half, 2, x}, {"z", half, 2, z}};
  const gt_tensor second[2] = {{"x", half, 2, x + 32}, {"z", half, 2, z + 32}};
  qk_model* a = build_two_heads(NULL);
  qk_model* b = build_two_heads(NULL);
  qk_model* w = build_two_heads(NULL);
  qk_model* models[3] = {a, b, w};
  for (int i = 0; i < 3; ++i) {
    GT_OK(qk_model_set_activation_observer(models[i], NULL, QK_OBSERVER_MINMAX));
    GT_OK(qk_model_prepare(models[i]));
  }
  gt_calibrate(a, first, 2);
  gt_calibrate(b, second, 2);
  gt_calibrate(w, all, 2);
  size_t size = 0;
  GT_OK(qk_model_save_observers(b, NULL, 0, &size));
  unsigned char* blob = (unsigned char*)malloc(size);
  GT_OK(qk_model_save_observers(b, blob, size, &size));
  blob[size / 2] ^= 1; /* damaged: refused, nothing merged */
  GT_FAILS(qk_model_merge_observers(a, blob, size), QK_ERR_CORRUPT, "checksum");
  blob[size / 2] ^= 1;
  GT_OK(qk_model_merge_observers(a, blob, size));
  free(blob);
  GT_OK(qk_model_convert(a));
  GT_OK(qk_model_convert(w));
  float y1[9], s1[12], y2[9], s2[12];
  run_two(a, x, z, 3, y1, s1);
  run_two(w, x, z, 3, y2, s2);
  assert_memory_equal(y1, y2, sizeof y1);
  assert_memory_equal(s1, s2, sizeof s1);
  /* the report: one entry per node; the Linear is inexact, the qk.* nodes are NaN */
  size_t n = 0;
  GT_OK(qk_model_node_count(w, &n));
  double sqnr[16], err[16];
  assert_true(n <= 16);
  qk_run* r = NULL;
  GT_OK(qk_run_create(w, &r));
  GT_OK(qk_run_set_input(r, "x", QK_DTYPE_F32, x, 16 * 4 * sizeof(float), whole, 2));
  GT_OK(qk_run_set_input(r, "z", QK_DTYPE_F32, z, 16 * 4 * sizeof(float), whole, 2));
  GT_FAILS(qk_model_node_report(w, r, sqnr, err, n - 1), QK_ERR_BUFFER_TOO_SMALL, "capacity");
  GT_OK(qk_model_node_report(w, r, sqnr, err, n));
  int seen_fc = 0;
  for (size_t i = 0; i < n; ++i) {
    const char *name = NULL, *op = NULL;
    GT_OK(qk_model_node_info(w, i, &name, &op));
    if (strncmp(op, "qk.", 3) == 0) {
      assert_true(isnan(sqnr[i]));
    } else {
      assert_true(sqnr[i] > 25.0 && sqnr[i] < 80.0);
      assert_true(err[i] > 0.0 && err[i] < 0.1);
      seen_fc += strcmp(name, "fc") == 0;
    }
  }
  assert_int_equal(seen_fc, 1);
  qk_run_destroy(r);
  qk_model_destroy(a);
  qk_model_destroy(b);
  qk_model_destroy(w);
}

/* A converted graph with a constant int8 operand (x + c: c is quantized once, with its own
 * range) saves and loads bit-identically; inputs and outputs are listed by name. */
static void test_constant_operand_round_trip(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[2] = {-1, 4}, cshape[1] = {4};
  const char* names[2] = {"batch", NULL};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, dims, names, 2));
  const float c[4] = {0.5f, -0.25f, 1.0f, 0.0f};
  gt_add_const(m, "c", cshape, 1, c);
  const char* in[2] = {"x", "c"};
  const char* out[1] = {"y"};
  GT_OK(qk_model_add_node(m, "Add", "plus", in, 2, out, 1, NULL));
  GT_OK(qk_model_add_output(m, "y"));
  size_t count = 0;
  const char* name = NULL;
  GT_OK(qk_model_input_count(m, &count));
  assert_int_equal(count, 1);
  GT_OK(qk_model_output_name(m, 0, &name));
  assert_string_equal(name, "y");
  GT_FAILS(qk_model_input_name(m, 1, &name), QK_ERR_INVALID_ARGUMENT, "index");
  float x[32];
  gt_fill(x, 32, -1.0f, 1.0f, 5);
  const int64_t shape[2] = {8, 4};
  GT_OK(qk_model_prepare(m));
  GT_OK(qk_model_calibrate(m, x, shape, 2));
  GT_OK(qk_model_convert(m));
  float y1[32], y2[32];
  GT_OK(qk_model_run(m, x, shape, 2, y1, 32, NULL));
  for (int i = 0; i < 32; ++i) assert_true(fabsf(y1[i] - (x[i] + c[i % 4])) < 0.03f);
  GT_OK(qk_model_save(m, "graph_core_const.qkw"));
  qk_model* back = NULL;
  GT_OK(qk_model_load("graph_core_const.qkw", &back));
  GT_OK(qk_model_run(back, x, shape, 2, y2, 32, NULL));
  assert_memory_equal(y1, y2, sizeof y1);
  GT_OK(qk_model_output_count(back, &count));
  assert_int_equal(count, 1);
  remove("graph_core_const.qkw");
  qk_model_destroy(back);
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float_multi_io_symbolic_batch),
      cmocka_unit_test(test_builder_validates_before_changing),
      cmocka_unit_test(test_convert_and_dynamic_round_trip),
      cmocka_unit_test(test_single_io_convenience),
      cmocka_unit_test(test_split_calibration_and_report),
      cmocka_unit_test(test_constant_operand_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
