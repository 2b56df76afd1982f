/* SPDX-License-Identifier: Apache-2.0 */
/* Dropout at inference: the identity with or without ratio / training_mode 0 / seed, symbolic
 * and rank-0 shapes, int8 (u8 and s8) keeping the input's qparams with the codes copied (0 steps
 * from the float op on the dequantized input), and bad input: ratio outside [0, 1), training
 * mode, the unsupported second output (mask), unknown attributes. */
#include "unary_test_util.h"

static double ref_identity(double x, const void* p) {
  (void)p;
  return x;
}

static void attrs_onnx(qk_attrs* a) {
  GT_OK(qk_attrs_set_float(a, "ratio", 0.3f));
  GT_OK(qk_attrs_set_int(a, "training_mode", 0));
  GT_OK(qk_attrs_set_int(a, "seed", 42));
}
static void attr_ratio_one(qk_attrs* a) { GT_OK(qk_attrs_set_float(a, "ratio", 1.0f)); }
static void attr_ratio_negative(qk_attrs* a) { GT_OK(qk_attrs_set_float(a, "ratio", -0.1f)); }
static void attr_training(qk_attrs* a) { GT_OK(qk_attrs_set_int(a, "training_mode", 1)); }
static void attr_p(qk_attrs* a) { GT_OK(qk_attrs_set_float(a, "p", 0.5f)); }

static void test_float(void** state) {
  (void)state;
  const int64_t dims[3] = {2, 3, 5};
  float x[30];
  gt_fill(x, 30, -100.0f, 100.0f, 18);
  ut_case c = {"Dropout", NULL, dims, NULL, 3, 0};
  ut_check_float(&c, dims, 3, x, ref_identity, NULL, 0.0);
  c.attrs = attrs_onnx;
  ut_check_float(&c, dims, 3, x, ref_identity, NULL, 0.0);
}

static void test_shapes(void** state) {
  (void)state;
  ut_check_symbolic("Dropout", attrs_onnx);
  ut_case c = {"Dropout", NULL, NULL, NULL, 0, 0};
  const float x = 4.0f;
  ut_check_float(&c, NULL, 0, &x, ref_identity, NULL, 0.0);
}

static void check_int8(int s8) {
  const int64_t dims[4] = {2, 3, 4, 4};
  ut_case c = {"Dropout", attrs_onnx, dims, NULL, 4, s8};
  float x[96];
  gt_fill(x, 96, -1.0f, 7.0f, 19);
  gt_tensor in = {"x", dims, 4, x};
  gt_check_int8(ut_build, &c, &in, 1, "y", 0.0);
  qk_model* q = ut_convert(&c, &in);
  assert_int_equal(ut_count_nodes(q, "qk.Quantize"), 1); /* the node ran int8 */
  float sx;
  int32_t zx, a, b;
  gt_value_qparams(q, "x", &sx, &zx, &a, &b);
  ut_expect_qparams(q, "y", sx, zx); /* kept the input's */
  qk_model_destroy(q);
}

static void test_int8_u8(void** state) {
  (void)state;
  check_int8(0);
}

static void test_int8_s8(void** state) {
  (void)state;
  check_int8(1);
}

static void test_bad_input(void** state) {
  (void)state;
  GT_FAILS(ut_try_add("Dropout", attr_ratio_one, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT,
           "ratio 1 is outside [0, 1)");
  GT_FAILS(ut_try_add("Dropout", attr_ratio_negative, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT,
           "ratio -0.1 is outside [0, 1)");
  GT_FAILS(ut_try_add("Dropout", attr_training, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT,
           "training_mode must be 0");
  GT_FAILS(ut_try_add("Dropout", attr_p, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT, "no attribute 'p'");
  /* ratio / training_mode are attributes here, not inputs */
  GT_FAILS(ut_try_add("Dropout", NULL, QK_DTYPE_F32, 2, 2), QK_ERR_INVALID_ARGUMENT, "takes 1..1 inputs");
  /* ONNX's optional second output (the mask) is not supported */
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[1] = {3};
  gt_add_input(m, "x", dims, 1);
  const char* ins[] = {"x"};
  const char* outs[] = {"y", "mask"};
  GT_FAILS(qk_model_add_node(m, "Dropout", "n", ins, 1, outs, 2, NULL), QK_ERR_INVALID_ARGUMENT, "has 1..1 outputs");
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),   cmocka_unit_test(test_shapes),   cmocka_unit_test(test_int8_u8),
      cmocka_unit_test(test_int8_s8), cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
