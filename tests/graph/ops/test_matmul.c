/* SPDX-License-Identifier: Apache-2.0 */
/* MatMul (numpy matmul): shape inference (broadcast batch dims, 1-D promotions, symbolic dims,
 * errors at build and at run time), float against a naive loop written here, int8 activation x
 * constant (per-channel weights through the int8 GEMM), int8 activation x activation (u8, s8 and
 * mixed), a constant batched B staying float, and dynamic quantization against the float
 * result with a worst-case bound derived below. */
#include "graph_test_util.h"

/* |a - b| <= tol, failing on NaN (cmocka's assert_float_equal lets a NaN through). */
#define near(a, b, tol)                                                                                   \
  do {                                                                                                    \
    const double near_a_ = (double)(a), near_b_ = (double)(b);                                            \
    if (!(fabs(near_a_ - near_b_) <= (double)(tol))) fail_msg("%s = %.9g, expected %.9g", #a, near_a_, near_b_); \
  } while (0)

/* ---- An independent reference: numpy matmul as a plain loop --------------------------------- */

/* y = matmul(a, b) with numpy's promotions and batch broadcasting; writes y's shape. Double sums. */
static void ref_matmul(const float* a, const int64_t* as, size_t ar, const float* b, const int64_t* bs, size_t br,
                       float* y, int64_t* ys, size_t* yr) {
  const int64_t K = as[ar - 1];
  const int64_t M = ar >= 2 ? as[ar - 2] : 1;
  const int64_t N = br >= 2 ? bs[br - 1] : 1;
  const size_t abr = ar >= 2 ? ar - 2 : 0, bbr = br >= 2 ? br - 2 : 0; /* batch ranks */
  const size_t R = abr > bbr ? abr : bbr;
  int64_t batch[8], da[8], db[8];
  for (size_t i = 0; i < R; ++i) {
    da[i] = i + abr >= R ? as[i + abr - R] : 1;
    db[i] = i + bbr >= R ? bs[i + bbr - R] : 1;
    batch[i] = da[i] > db[i] ? da[i] : db[i];
  }
  size_t r = 0;
  for (size_t i = 0; i < R; ++i) ys[r++] = batch[i];
  if (ar >= 2) ys[r++] = M;
  if (br >= 2) ys[r++] = N;
  *yr = r;
  size_t nb = gt_count(batch, R);
  for (size_t o = 0; o < nb; ++o) {
    /* o -> multi-index -> a and b batch offsets (a dim of 1 repeats) */
    size_t rem = o, ao = 0, bo = 0, astride = 1, bstride = 1;
    for (size_t i = R; i-- > 0;) {
      const size_t idx = rem % (size_t)batch[i];
      rem /= (size_t)batch[i];
      ao += (da[i] == 1 ? 0 : idx) * astride;
      bo += (db[i] == 1 ? 0 : idx) * bstride;
      astride *= (size_t)da[i];
      bstride *= (size_t)db[i];
    }
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double s = 0.0;
        for (int64_t k = 0; k < K; ++k)
          s += (double)a[ao * (size_t)(M * K) + (size_t)(m * K + k)] * b[bo * (size_t)(K * N) + (size_t)(k * N + n)];
        y[o * (size_t)(M * N) + (size_t)(m * N + n)] = (float)s;
      }
  }
}

/* ---- Building ----------------------------------------------------------------------------------- */

typedef struct mm_case {
  int64_t a_shape[8];
  size_t a_rank;
  int64_t b_shape[8];
  size_t b_rank;
  const float* b_const; /* non-NULL: B is a constant with this data */
  int s8;               /* activations s8 (every node) */
  int b_s8_user;        /* B (an input) gets user s8 qparams, A stays u8: mixed dtypes */
  int per_tensor_w;     /* weight scheme per-tensor symmetric instead of the per-channel default */
} mm_case;

static qk_model* build_mm(void* vctx) {
  const mm_case* c = (const mm_case*)vctx;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  gt_add_input(m, "a", c->a_shape, c->a_rank);
  if (c->b_const)
    gt_add_const(m, "b", c->b_shape, c->b_rank, c->b_const);
  else
    gt_add_input(m, "b", c->b_shape, c->b_rank);
  const char* ins[] = {"a", "b"};
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, "MatMul", "mm", ins, 2, outs, 1, NULL));
  GT_OK(qk_model_add_output(m, "y"));
  if (c->s8) GT_OK(qk_model_set_activation_dtype(m, NULL, QK_DTYPE_S8));
  if (c->per_tensor_w) GT_OK(qk_model_set_weight_scheme(m, NULL, QK_QSCHEME_PER_TENSOR_SYMMETRIC));
  if (c->b_s8_user) {
    const float scale = 1.0f / 127.0f; /* B in [-1, 1) */
    const int32_t zp = 0;
    qk_qparams* qp = NULL;
    GT_OK(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &scale, &zp, NULL, 1, -128, 127, &qp));
    GT_OK(qk_model_set_tensor_qparams(m, "b", qp));
    qk_qparams_destroy(qp);
  }
  return m;
}

static size_t count_nodes(const qk_model* m, const char* op) {
  size_t n = 0, c = 0;
  GT_OK(qk_model_node_count(m, &n));
  for (size_t i = 0; i < n; ++i) {
    const char *name, *type;
    GT_OK(qk_model_node_info(m, i, &name, &type));
    if (strcmp(type, op) == 0) ++c;
  }
  return c;
}

static void expect_shape(const int64_t* got, size_t got_rank, const int64_t* want, size_t want_rank) {
  assert_int_equal(got_rank, want_rank);
  for (size_t i = 0; i < want_rank; ++i) assert_int_equal(got[i], want[i]);
}

/* Runs the float model of case c on a, b (b unused for a constant B); checks shape and values
 * against ref_matmul. */
static void check_float(const mm_case* c, const float* a, const float* b) {
  qk_model* m = build_mm((void*)c);
  gt_tensor in[2] = {{"a", c->a_shape, c->a_rank, a}, {"b", c->b_shape, c->b_rank, c->b_const ? c->b_const : b}};
  static float y[4096], r[4096];
  int64_t ys[8], rs[8];
  size_t yr = 0, rr = 0;
  gt_run(m, in, c->b_const ? 1 : 2, "y", y, 4096, ys, &yr);
  ref_matmul(a, c->a_shape, c->a_rank, in[1].data, c->b_shape, c->b_rank, r, rs, &rr);
  expect_shape(ys, yr, rs, rr);
  for (size_t i = 0, n = gt_count(rs, rr); i < n; ++i)
    if (!(fabsf(y[i] - r[i]) <= 1e-5f * (1.0f + fabsf(r[i])))) fail_msg("y[%zu] = %g, reference %g", i, (double)y[i], (double)r[i]);
  qk_model_destroy(m);
}

/* ---- Shape inference ----------------------------------------------------------------------------- */

static void test_declared_shapes(void** state) {
  (void)state;
  static const struct {
    int64_t a[4];
    size_t ar;
    int64_t b[4];
    size_t br;
    int64_t y[4];
    size_t yr;
  } cases[] = {
      {{2, 1, 3, 4}, 4, {5, 4, 6}, 3, {2, 5, 3, 6}, 4}, /* batch dims broadcast */
      {{3, 4}, 2, {4, 6}, 2, {3, 6}, 2},
      {{4}, 1, {4, 6}, 2, {6}, 1},           /* 1-D A: {1, K}, the 1 removed */
      {{3, 4}, 2, {4}, 1, {3}, 1},           /* 1-D B: {K, 1}, the 1 removed */
      {{4}, 1, {4}, 1, {0}, 0},              /* dot product: a scalar */
      {{2, 3, 4}, 3, {4}, 1, {2, 3}, 2},
      {{4}, 1, {2, 4, 5}, 3, {2, 5}, 2},
      {{1, 3, 4}, 3, {7, 4, 2}, 3, {7, 3, 2}, 3},
      {{3, 0}, 2, {0, 2}, 2, {3, 2}, 2},     /* K = 0: zeros */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    qk_model* m = NULL;
    GT_OK(qk_model_create_graph(&m));
    gt_add_input(m, "a", cases[i].a, cases[i].ar);
    gt_add_input(m, "b", cases[i].b, cases[i].br);
    const char* ins[] = {"a", "b"};
    const char* outs[] = {"y"};
    GT_OK(qk_model_add_node(m, "MatMul", "mm", ins, 2, outs, 1, NULL));
    int64_t dims[8];
    size_t rank = 99;
    qk_dtype dt;
    GT_OK(qk_model_value_shape(m, "y", dims, NULL, 8, &rank, &dt));
    assert_int_equal(dt, QK_DTYPE_F32);
    expect_shape(dims, rank, cases[i].y, cases[i].yr);
    qk_model_destroy(m);
  }
}

static void test_float_values(void** state) {
  (void)state;
  static float a[256], b[256];
  gt_fill(a, 256, -1.0f, 1.0f, 1);
  gt_fill(b, 256, -1.0f, 1.0f, 2);
  const mm_case cases[] = {
      {{2, 1, 3, 4}, 4, {5, 4, 6}, 3, NULL, 0, 0, 0},
      {{3, 4}, 2, {4, 6}, 2, NULL, 0, 0, 0},
      {{4}, 1, {4, 6}, 2, NULL, 0, 0, 0},
      {{3, 4}, 2, {4}, 1, NULL, 0, 0, 0},
      {{5}, 1, {5}, 1, NULL, 0, 0, 0},
      {{4}, 1, {2, 4, 5}, 3, NULL, 0, 0, 0},
      {{2, 3, 4}, 3, {2, 4, 3}, 3, NULL, 0, 0, 0},
      {{1, 2, 3, 4}, 4, {4, 1}, 2, NULL, 0, 0, 0},
      {{2, 3, 8}, 3, {8, 5}, 2, b, 0, 0, 0}, /* constant B */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) check_float(&cases[i], a, b);
}

/* A hand-computed product, so the reference itself is checked too. */
static void test_float_hand_computed(void** state) {
  (void)state;
  const float a[] = {1, 2, 3, 4, 5, 6};    /* {2, 3} */
  const float b[] = {1, 0, -1, 2, 0.5f, 1}; /* {3, 2} */
  const float want[] = {1 - 2 + 1.5f, 0 + 4 + 3, 4 - 5 + 3, 0 + 10 + 6};
  mm_case c = {{2, 3}, 2, {3, 2}, 2, NULL, 0, 0, 0};
  qk_model* m = build_mm(&c);
  gt_tensor in[2] = {{"a", c.a_shape, 2, a}, {"b", c.b_shape, 2, b}};
  float y[4];
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 2, "y", y, 4, ys, &yr);
  for (int i = 0; i < 4; ++i) near(y[i], want[i], 1e-6);
  qk_model_destroy(m);
}

static void test_zero_k(void** state) {
  (void)state;
  mm_case c = {{3, 0}, 2, {0, 2}, 2, NULL, 0, 0, 0};
  qk_model* m = build_mm(&c);
  float dummy[1] = {0};
  gt_tensor in[2] = {{"a", c.a_shape, 2, dummy}, {"b", c.b_shape, 2, dummy}};
  float y[6] = {9, 9, 9, 9, 9, 9};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 2, "y", y, 6, ys, &yr);
  const int64_t want[] = {3, 2};
  expect_shape(ys, yr, want, 2);
  for (int i = 0; i < 6; ++i) near(y[i], 0.0f, 0.0);
  qk_model_destroy(m);
}

/* Symbolic batch / sequence dims pass through (attention's Q K^T and a projection). */
static void test_symbolic(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t qd[] = {-1, -1, 8};
  const char* qn[] = {"batch", "seq", NULL};
  const int64_t kd[] = {-1, 8, -1};
  const char* kn[] = {"batch", NULL, "seq"};
  GT_OK(qk_model_add_input(m, "q", QK_DTYPE_F32, qd, qn, 3));
  GT_OK(qk_model_add_input(m, "kt", QK_DTYPE_F32, kd, kn, 3));
  static float w[8 * 5];
  gt_fill(w, 40, -1.0f, 1.0f, 3);
  const int64_t ws[] = {8, 5};
  gt_add_const(m, "w", ws, 2, w);
  const char* in1[] = {"q", "kt"};
  const char* out1[] = {"scores"};
  GT_OK(qk_model_add_node(m, "MatMul", "qk", in1, 2, out1, 1, NULL));
  const char* in2[] = {"q", "w"};
  const char* out2[] = {"proj"};
  GT_OK(qk_model_add_node(m, "MatMul", "proj", in2, 2, out2, 1, NULL));
  GT_OK(qk_model_add_output(m, "scores"));
  GT_OK(qk_model_add_output(m, "proj"));

  int64_t dims[8];
  const char* names[8];
  size_t rank = 0;
  qk_dtype dt;
  GT_OK(qk_model_value_shape(m, "scores", dims, names, 8, &rank, &dt));
  assert_int_equal(rank, 3);
  assert_true(dims[0] < 0 && dims[1] < 0 && dims[2] < 0);
  assert_string_equal(names[0], "batch");
  assert_string_equal(names[1], "seq");
  assert_string_equal(names[2], "seq");
  GT_OK(qk_model_value_shape(m, "proj", dims, names, 8, &rank, &dt));
  assert_int_equal(rank, 3);
  assert_string_equal(names[0], "batch");
  assert_string_equal(names[1], "seq");
  assert_int_equal(dims[2], 5);
  assert_null(names[2]);

  /* run with batch = 2, seq = 3 */
  static float q[2 * 3 * 8], kt[2 * 8 * 3], y[64], r[64];
  gt_fill(q, 48, -1.0f, 1.0f, 4);
  gt_fill(kt, 48, -1.0f, 1.0f, 5);
  const int64_t qs[] = {2, 3, 8}, ks[] = {2, 8, 3};
  gt_tensor in[2] = {{"q", qs, 3, q}, {"kt", ks, 3, kt}};
  int64_t ys[8], rs[8];
  size_t yr = 0, rr = 0;
  gt_run(m, in, 2, "scores", y, 64, ys, &yr);
  ref_matmul(q, qs, 3, kt, ks, 3, r, rs, &rr);
  const int64_t want[] = {2, 3, 3};
  expect_shape(ys, yr, want, 3);
  for (size_t i = 0; i < 18; ++i) near(y[i], r[i], 1e-5);
  gt_run(m, in, 2, "proj", y, 64, ys, &yr);
  const int64_t want2[] = {2, 3, 5};
  expect_shape(ys, yr, want2, 3);
  ref_matmul(q, qs, 3, w, ws, 2, r, rs, &rr);
  for (size_t i = 0; i < 30; ++i) near(y[i], r[i], 1e-5);
  qk_model_destroy(m);
}

/* ---- Bad input ---------------------------------------------------------------------------------- */

static void test_bad_input(void** state) {
  (void)state;
  const int64_t a34[] = {3, 4}, b56[] = {5, 6}, b46[] = {4, 6}, a234[] = {2, 3, 4}, b345[] = {3, 4, 5};
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  GT_OK(qk_model_add_input(m, "a", QK_DTYPE_F32, a34, NULL, 2));
  GT_OK(qk_model_add_input(m, "b56", QK_DTYPE_F32, b56, NULL, 2));
  GT_OK(qk_model_add_input(m, "b46", QK_DTYPE_F32, b46, NULL, 2));
  GT_OK(qk_model_add_input(m, "a234", QK_DTYPE_F32, a234, NULL, 3));
  GT_OK(qk_model_add_input(m, "b345", QK_DTYPE_F32, b345, NULL, 3));
  GT_OK(qk_model_add_input(m, "scalar", QK_DTYPE_F32, NULL, NULL, 0));
  GT_OK(qk_model_add_input(m, "idx", QK_DTYPE_S64, b46, NULL, 2));
  const char* outs[] = {"y"};
  {
    const char* ins[] = {"a", "b56"};
    GT_FAILS(qk_model_add_node(m, "MatMul", "mm", ins, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT,
             "inner dimensions differ");
  }
  {
    const char* ins[] = {"a234", "b345"};
    GT_FAILS(qk_model_add_node(m, "MatMul", "mm", ins, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT,
             "do not broadcast");
  }
  {
    const char* ins[] = {"scalar", "b46"};
    GT_FAILS(qk_model_add_node(m, "MatMul", "mm", ins, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT, "rank >= 1");
  }
  {
    const char* ins[] = {"a", "scalar"};
    GT_FAILS(qk_model_add_node(m, "MatMul", "mm", ins, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT,
             "B must have rank >= 1");
  }
  {
    const char* ins[] = {"a", "idx"};
    GT_FAILS(qk_model_add_node(m, "MatMul", "mm", ins, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT, "expected f32");
  }
  {
    const char* ins[] = {"a"};
    GT_FAILS(qk_model_add_node(m, "MatMul", "mm", ins, 1, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT, "inputs");
  }
  {
    const char* ins[] = {"a", "b46"};
    qk_attrs* at = NULL;
    GT_OK(qk_attrs_create(&at));
    GT_OK(qk_attrs_set_int(at, "transA", 1));
    GT_FAILS(qk_model_add_node(m, "MatMul", "mm", ins, 2, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
             "has no attribute 'transA'");
    qk_attrs_destroy(at);
  }
  /* nothing was added by the failures: the same node goes in now */
  {
    const char* ins[] = {"a", "b46"};
    GT_OK(qk_model_add_node(m, "MatMul", "mm", ins, 2, outs, 1, NULL));
  }
  qk_model_destroy(m);
}

/* Symbols hide a mismatch at build time; the run, with concrete dims, reports it. */
static void test_bad_runtime_dims(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t ad[] = {3, -1}, bd[] = {-1, 2}, cd[] = {-1, 3, 4}, dd[] = {2, 4, 5};
  const char* an[] = {NULL, "k1"};
  const char* bn[] = {"k2", NULL};
  const char* cn[] = {"n", NULL, NULL};
  GT_OK(qk_model_add_input(m, "a", QK_DTYPE_F32, ad, an, 2));
  GT_OK(qk_model_add_input(m, "b", QK_DTYPE_F32, bd, bn, 2));
  GT_OK(qk_model_add_input(m, "c", QK_DTYPE_F32, cd, cn, 3));
  GT_OK(qk_model_add_input(m, "d", QK_DTYPE_F32, dd, NULL, 3));
  const char* i1[] = {"a", "b"};
  const char* o1[] = {"y"};
  GT_OK(qk_model_add_node(m, "MatMul", "mm", i1, 2, o1, 1, NULL));
  const char* i2[] = {"c", "d"};
  const char* o2[] = {"z"};
  GT_OK(qk_model_add_node(m, "MatMul", "mm2", i2, 2, o2, 1, NULL));
  GT_OK(qk_model_add_output(m, "y"));
  GT_OK(qk_model_add_output(m, "z"));
  static float buf[256];
  const int64_t as[] = {3, 4}, bs[] = {5, 2}, cs[] = {3, 3, 4}, ds[] = {2, 4, 5}, bs_ok[] = {4, 2}, cs_ok[] = {2, 3, 4};
  qk_run* r = NULL;
  GT_OK(qk_run_create(m, &r));
  GT_OK(qk_run_set_input(r, "a", QK_DTYPE_F32, buf, 12 * 4, as, 2));
  GT_OK(qk_run_set_input(r, "b", QK_DTYPE_F32, buf, 10 * 4, bs, 2));
  GT_OK(qk_run_set_input(r, "c", QK_DTYPE_F32, buf, 24 * 4, cs_ok, 3));
  GT_OK(qk_run_set_input(r, "d", QK_DTYPE_F32, buf, 40 * 4, ds, 3));
  GT_FAILS(qk_run_invoke(r, NULL), QK_ERR_INVALID_ARGUMENT, "inner dimensions differ");
  GT_OK(qk_run_set_input(r, "b", QK_DTYPE_F32, buf, 8 * 4, bs_ok, 2));
  GT_OK(qk_run_set_input(r, "c", QK_DTYPE_F32, buf, 36 * 4, cs, 3));
  GT_FAILS(qk_run_invoke(r, NULL), QK_ERR_INVALID_ARGUMENT, "do not broadcast");
  GT_OK(qk_run_set_input(r, "c", QK_DTYPE_F32, buf, 24 * 4, cs_ok, 3));
  GT_OK(qk_run_invoke(r, NULL));
  qk_run_destroy(r);
  qk_model_destroy(m);
}

/* ---- int8 --------------------------------------------------------------------------------------- */

/* Converts case c on (a, b) and checks it within one output step; `quantize_nodes` is how many
 * qk.Quantize nodes the converted graph must have (1: A only, B is a float weight; 2: both
 * operands quantized; 0: the node stayed float). Returns the worst error in steps. */
static double check_int8(const mm_case* c, const float* a, const float* b, size_t quantize_nodes) {
  gt_tensor in[2] = {{"a", c->a_shape, c->a_rank, a}, {"b", c->b_shape, c->b_rank, b}};
  const size_t n_in = c->b_const ? 1 : 2;
  const double worst = gt_check_int8(build_mm, (void*)c, in, n_in, "y", 1.0);
  /* Which path ran: count the Q nodes of the converted graph. */
  qk_model* q = build_mm((void*)c);
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, in, n_in);
  GT_OK(qk_model_convert(q));
  assert_int_equal(count_nodes(q, "qk.Quantize"), quantize_nodes);
  assert_int_equal(count_nodes(q, "qk.Dequantize"), 0);
  qk_model_destroy(q);
  return worst;
}

/* Activation x constant: B quantized once per output column (PyTorch's symmetric s8: scale =
 * max|B[:, n]| / 127.5, codes rounded half to even and clamped to [-128, 127]), then the int8 GEMM.
 * The reference is the float matmul of the ROUNDED operands (A to its qparams, B to those
 * weight codes), quantized to y's qparams: the kernel's sums are exact, so only the output
 * rounding differs, within 1 step. (Against the unrounded B, the weight rounding alone moves
 * outputs with a small range by a few steps: the 1-D B case below has a step of ~0.005.) */
static void check_int8_weighted(const mm_case* c, const float* a) {
  qk_model* q = build_mm((void*)c);
  gt_tensor in[1] = {{"a", c->a_shape, c->a_rank, a}};
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, in, 1);
  GT_OK(qk_model_convert(q));
  assert_int_equal(count_nodes(q, "qk.Quantize"), 1); /* A only: B is a float weight */
  static float ar[4096], br[4096], y[4096], r[4096];
  float s;
  int32_t zp, lo, hi;
  gt_value_qparams(q, "a", &s, &zp, &lo, &hi);
  const size_t na = gt_count(c->a_shape, c->a_rank);
  for (size_t i = 0; i < na; ++i) ar[i] = gt_fake_quant(a[i], s, zp, lo, hi);
  const size_t K = (size_t)c->b_shape[0], N = c->b_rank == 2 ? (size_t)c->b_shape[1] : 1;
  float tensor_max = 0.0f;
  for (size_t i = 0; i < K * N; ++i) tensor_max = fmaxf(tensor_max, fabsf(c->b_const[i]));
  for (size_t n = 0; n < N; ++n) {
    float amax = 0.0f;
    for (size_t k = 0; k < K; ++k) amax = fmaxf(amax, fabsf(c->b_const[k * N + n]));
    const float ws = (c->per_tensor_w ? tensor_max : amax) / 127.5f;
    for (size_t k = 0; k < K; ++k) br[k * N + n] = gt_fake_quant(c->b_const[k * N + n], ws, 0, -128, 127);
  }
  int64_t ys[8], rs[8];
  size_t yr = 0, rr = 0;
  gt_run(q, in, 1, "y", y, 4096, ys, &yr);
  ref_matmul(ar, c->a_shape, c->a_rank, br, c->b_shape, c->b_rank, r, rs, &rr);
  expect_shape(ys, yr, rs, rr);
  gt_value_qparams(q, "y", &s, &zp, &lo, &hi);
  for (size_t i = 0, n = gt_count(rs, rr); i < n; ++i) {
    const double err = fabs((double)y[i] - gt_fake_quant(r[i], s, zp, lo, hi)) / s;
    if (!(err <= 1.0 + 1e-3)) fail_msg("y[%zu] = %g, reference %g: %.3f steps", i, (double)y[i], (double)r[i], err);
  }
  qk_model_destroy(q);
}

static void test_int8_act_x_const(void** state) {
  (void)state;
  static float a[2 * 3 * 16], b[16 * 8];
  gt_fill(a, 96, -1.0f, 1.0f, 11);
  gt_fill(b, 128, -1.0f, 1.0f, 12);
  for (int i = 0; i < 16; ++i) b[i * 8 + 3] *= 0.05f; /* a small column: per-channel matters */
  const mm_case cases[] = {
      {{2, 3, 16}, 3, {16, 8}, 2, b, 0, 0, 0},
      {{16}, 1, {16, 8}, 2, b, 0, 0, 0},    /* 1-D A */
      {{2, 3, 16}, 3, {16}, 1, b, 0, 0, 0}, /* 1-D B: one output column */
      {{2, 3, 16}, 3, {16, 8}, 2, b, 1, 0, 0}, /* s8 activations */
      {{3, 16}, 2, {16, 8}, 2, b, 0, 0, 1},    /* per-tensor weights */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) check_int8_weighted(&cases[i], a);
}

/* Activation x activation: exact integer sums, one rounding. Against the float op on the same
 * codes (gt_check_int8's reference) only the output rounding differs: within 1 step, and in
 * practice at most a tie away from 0 steps. */
static void test_int8_act_x_act(void** state) {
  (void)state;
  static float a[2 * 1 * 3 * 4 * 8], b[5 * 4 * 6 * 8];
  gt_fill(a, sizeof(a) / sizeof(a[0]), -1.0f, 1.0f, 21);
  gt_fill(b, sizeof(b) / sizeof(b[0]), -0.5f, 1.5f, 22); /* asymmetric: non-trivial zero points */
  const mm_case cases[] = {
      {{2, 1, 3, 4}, 4, {5, 4, 6}, 3, NULL, 0, 0, 0}, /* broadcast batch */
      {{2, 3, 8}, 3, {2, 8, 3}, 3, NULL, 0, 0, 0},    /* Q K^T */
      {{1, 2, 3, 3}, 4, {1, 2, 3, 8}, 4, NULL, 0, 0, 0}, /* P V, heads as a batch dim */
      {{8}, 1, {8}, 1, NULL, 0, 0, 0},                /* a dot product: scalar */
      {{2, 3, 8}, 3, {8}, 1, NULL, 0, 0, 0},
      {{2, 1, 3, 4}, 4, {5, 4, 6}, 3, NULL, 1, 0, 0}, /* s8 x s8 */
      {{2, 3, 8}, 3, {2, 8, 3}, 3, NULL, 1, 0, 0},
      {{2, 3, 8}, 3, {2, 8, 3}, 3, NULL, 0, 1, 0},    /* u8 x s8 */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    const double w = check_int8(&cases[i], a, b, 2);
    if (w > 0.5 + 1e-3) fail_msg("case %zu: %.3f steps (expected one rounding, <= 0.5)", i, w);
  }
}

/* The zero-point corrections are exercised only when both zero points are far from 0: all-
 * positive A and all-negative B (u8 zero points 0 and 255). */
static void test_int8_act_x_act_extreme_zero_points(void** state) {
  (void)state;
  static float a[2 * 3 * 8], b[2 * 8 * 3];
  gt_fill(a, 48, 0.1f, 2.0f, 31);
  gt_fill(b, 48, -3.0f, -0.2f, 32);
  const mm_case c = {{2, 3, 8}, 3, {2, 8, 3}, 3, NULL, 0, 0, 0};
  check_int8(&c, a, b, 2);
  const mm_case s = {{2, 3, 8}, 3, {2, 8, 3}, 3, NULL, 1, 0, 0};
  check_int8(&s, a, b, 2);
}

/* A constant B of rank 3 is no weight matrix: the node stays float (no Q node), exact. */
static void test_int8_batched_const_stays_float(void** state) {
  (void)state;
  static float a[2 * 3 * 4], b[2 * 4 * 5];
  gt_fill(a, 24, -1.0f, 1.0f, 41);
  gt_fill(b, 40, -1.0f, 1.0f, 42);
  const mm_case c = {{2, 3, 4}, 3, {2, 4, 5}, 3, b, 0, 0, 0};
  const double w = check_int8(&c, a, NULL, 0);
  (void)w;
}

/* Dynamic: A quantized per run (u8, per tensor, scale sa from its min/max including 0), B per
 * column (s8 symmetric, scale sw[n] = max|B[:, n]| / 127 at most). With a = aq + ea, w = wq + ew,
 * |ea| <= sa/2, |ew| <= sw/2:  |a w - aq wq| = |ea w + a ew - ea ew| <= sa/2 |w| + |a| sw/2 +
 * sa sw / 4, summed over k; plus float rounding (relative 1e-5). The result must also differ
 * from the float one somewhere (the dynamic kernel ran). */
/* fuse: MatMul with a constant {K, N} + Add of a constant {N} (or {1, N}) bias becomes one Linear
   (the nn.Linear exporters write), the bias on either side of the Add; the output is unchanged
   but for float rounding. */
static void test_fuse_matmul_add_to_linear(void** state) {
  (void)state;
  for (int two_d_bias = 0; two_d_bias <= 1; ++two_d_bias) {
    qk_model* m = NULL;
    GT_OK(qk_model_create_graph(&m));
    const int64_t xd[3] = {-1, 5, 4};
    const char* xn[3] = {"batch", NULL, NULL};
    GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, xd, xn, 3));
    static float w[4 * 3], b[3];
    gt_fill(w, 12, -1.0f, 1.0f, 11);
    gt_fill(b, 3, -1.0f, 1.0f, 12);
    const int64_t ws[2] = {4, 3}, bs1[1] = {3}, bs2[2] = {1, 3};
    gt_add_const(m, "w", ws, 2, w);
    gt_add_const(m, "b", two_d_bias ? bs2 : bs1, two_d_bias ? 2 : 1, b);
    const char* mi[2] = {"x", "w"};
    const char* mo[1] = {"xw"};
    GT_OK(qk_model_add_node(m, "MatMul", "mm", mi, 2, mo, 1, NULL));
    const char* ai[2] = {"b", "xw"}; /* the bias first: either order */
    const char* ao[1] = {"y"};
    GT_OK(qk_model_add_node(m, "Add", "add", ai, 2, ao, 1, NULL));
    GT_OK(qk_model_add_output(m, "y"));
    static float x[2 * 5 * 4], y0[40], y1[40];
    gt_fill(x, 40, -2.0f, 2.0f, 13);
    const int64_t xs[3] = {2, 5, 4};
    gt_tensor in[1] = {{"x", xs, 3, x}};
    gt_run(m, in, 1, "y", y0, 30, NULL, NULL);
    GT_OK(qk_model_fuse(m));
    size_t count = 0;
    GT_OK(qk_model_node_count(m, &count));
    assert_int_equal(count, 1);
    const char *name, *op;
    GT_OK(qk_model_node_info(m, 0, &name, &op));
    assert_string_equal(op, "Linear");
    gt_run(m, in, 1, "y", y1, 30, NULL, NULL);
    for (int i = 0; i < 30; ++i) assert_true(fabsf(y0[i] - y1[i]) < 1e-5f);
    qk_model_destroy(m);
  }
}

static void test_dynamic(void** state) {
  (void)state;
  static float a[2 * 3 * 16], b[16 * 8], y[64], r[64];
  gt_fill(a, 96, -1.0f, 3.0f, 51);
  gt_fill(b, 128, -1.0f, 1.0f, 52);
  const mm_case c = {{2, 3, 16}, 3, {16, 8}, 2, b, 0, 0, 0};
  qk_model* m = build_mm((void*)&c);
  GT_OK(qk_model_quantize_dynamic(m));
  gt_tensor in[1] = {{"a", c.a_shape, 3, a}};
  int64_t ys[8], rs[8];
  size_t yr = 0, rr = 0;
  gt_run(m, in, 1, "y", y, 64, ys, &yr);
  ref_matmul(a, c.a_shape, 3, b, c.b_shape, 2, r, rs, &rr);
  expect_shape(ys, yr, rs, rr);
  float amin = 0.0f, amax = 0.0f;
  for (int i = 0; i < 96; ++i) {
    amin = fminf(amin, a[i]);
    amax = fmaxf(amax, a[i]);
  }
  const double sa = ((double)amax - amin) / 255.0;
  double worst_ratio = 0.0, max_err = 0.0;
  for (int mm = 0; mm < 6; ++mm)
    for (int n = 0; n < 8; ++n) {
      double wmax = 0.0;
      for (int k = 0; k < 16; ++k) wmax = fmax(wmax, fabs(b[k * 8 + n]));
      const double sw = wmax / 127.0;
      double bound = 1e-5 * (1.0 + fabs(r[mm * 8 + n]));
      for (int k = 0; k < 16; ++k)
        bound += sa / 2 * fabs(b[k * 8 + n]) + fabs(a[mm * 16 + k]) * sw / 2 + sa * sw / 4;
      const double err = fabs((double)y[mm * 8 + n] - r[mm * 8 + n]);
      if (!(err <= bound)) fail_msg("y[%d, %d] = %g, float %g: error %g > bound %g", mm, n, (double)y[mm * 8 + n],
                                (double)r[mm * 8 + n], err, bound);
      worst_ratio = fmax(worst_ratio, err / bound);
      max_err = fmax(max_err, err);
    }
  assert_true(max_err > 0.0);
  (void)worst_ratio;
  /* B activations cannot be dynamic: that node stays float and is exact. */
  const mm_case c2 = {{2, 3, 8}, 3, {2, 8, 3}, 3, NULL, 0, 0, 0};
  qk_model* m2 = build_mm((void*)&c2);
  GT_OK(qk_model_quantize_dynamic(m2));
  gt_tensor in2[2] = {{"a", c2.a_shape, 3, a}, {"b", c2.b_shape, 3, b}};
  gt_run(m2, in2, 2, "y", y, 64, ys, &yr);
  ref_matmul(a, c2.a_shape, 3, b, c2.b_shape, 3, r, rs, &rr);
  for (int i = 0; i < 18; ++i) near(y[i], r[i], 1e-5);
  qk_model_destroy(m2);
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_declared_shapes),
      cmocka_unit_test(test_float_values),
      cmocka_unit_test(test_float_hand_computed),
      cmocka_unit_test(test_zero_k),
      cmocka_unit_test(test_fuse_matmul_add_to_linear),
      cmocka_unit_test(test_symbolic),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_bad_runtime_dims),
      cmocka_unit_test(test_int8_act_x_const),
      cmocka_unit_test(test_int8_act_x_act),
      cmocka_unit_test(test_int8_act_x_act_extreme_zero_points),
      cmocka_unit_test(test_int8_batched_const_stays_float),
      cmocka_unit_test(test_dynamic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
