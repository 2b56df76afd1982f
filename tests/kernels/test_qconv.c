/* SPDX-License-Identifier: Apache-2.0 */
/* qk_qconv2d against the direct-convolution oracle (conv_oracle.c), bit for bit: hand-picked and
 * random geometries (1x1 direct, 3x3, 5x5, strides, dilation, asymmetric padding, groups,
 * depthwise with multipliers 1-3 and odd channel counts, batch > 1), u8/s8 on both sides,
 * per-tensor (with zero points) and per-channel weights, bias, clamps, both requantization
 * modes; the same bytes for every thread count and every kernel path this CPU runs; a float
 * reference within the stated quantization error; and argument / geometry errors that leave
 * outputs untouched. With QK_ISA=<path> (one CTest registration per path) the default path is
 * the forced one; a path this CPU lacks must make creation fail with QK_ERR_UNSUPPORTED. */
#include <math.h>
#include <stdlib.h>

#include "conv_oracle.h"
#include "qk_test_util.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char* const kIsas[] = {"scalar", "avx2", "avxvnni", "avx512vnni", "neon", "neondot"};

/* ---- cases ----------------------------------------------------------------------------------- */

typedef struct conv_case {
  conv_oracle_geometry g;
  qk_dtype in_dtype, out_dtype;
  int per_channel; /* per-channel symmetric weights; otherwise per-tensor with zero point w_zp */
  int32_t w_zp;
  int has_bias;
  int clamp; /* 0 none, 1 ReLU (0, Inf), 2 a window of codes */
  qk_requant_mode mode;
} conv_case;

/* Shorthand: batch, h, w, in_c, out_c, groups, kh, kw, sh, sw, pads (t, l, b, r), dh, dw; then
 * input dtype, output dtype, per_channel, w_zp, has_bias, clamp, mode. */
#define GEOM(b, h, w, ci, co, gr, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw) \
  { b, h, w, ci, co, gr, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw }
#define U8 QK_DTYPE_U8
#define S8 QK_DTYPE_S8
#define FLT QK_REQUANT_FLOAT
#define FXP QK_REQUANT_FIXED_POINT

static const conv_case kCases[] = {
    /* 1x1 stride 1 unpadded: the input is the GEMM's A (direct path), dense and grouped */
    {GEOM(2, 5, 7, 16, 24, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1), U8, U8, 1, 0, 1, 0, FLT},
    {GEOM(1, 4, 3, 6, 4, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1), S8, S8, 0, 3, 1, 1, FXP},
    /* 1x1 stride 2: im2col */
    {GEOM(1, 7, 6, 5, 9, 1, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1), U8, S8, 1, 0, 0, 0, FLT},
    /* the benchmark's 3x3 64->64 pad 1, several im2col blocks */
    {GEOM(2, 10, 10, 64, 64, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), U8, U8, 1, 0, 1, 1, FLT},
    /* 5x5 stride 2, asymmetric padding */
    {GEOM(1, 11, 13, 3, 8, 1, 5, 5, 2, 2, 2, 1, 0, 2, 1, 1), S8, U8, 0, -7, 1, 2, FXP},
    /* dilation 2 */
    {GEOM(1, 9, 8, 5, 7, 1, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2), U8, U8, 1, 0, 1, 0, FXP},
    /* groups 3 (2 in, 3 out per group) */
    {GEOM(2, 6, 5, 6, 9, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), S8, S8, 1, 0, 1, 0, FLT},
    /* depthwise, multiplier 1: two 16-channel blocks; 16 + 3; 16 + 16 + 8; a 1x1 kernel */
    {GEOM(1, 9, 9, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), U8, U8, 1, 0, 1, 1, FLT},
    {GEOM(1, 8, 7, 19, 19, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1), S8, U8, 1, 0, 1, 0, FXP},
    {GEOM(1, 9, 10, 40, 40, 40, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2), U8, S8, 0, 11, 1, 2, FLT},
    {GEOM(2, 3, 4, 24, 24, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1), S8, S8, 1, 0, 0, 0, FLT},
    /* depthwise, multiplier 2 and 3 (odd tap count 3x1) */
    {GEOM(1, 6, 6, 12, 24, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), S8, S8, 1, 0, 1, 0, FXP},
    {GEOM(2, 5, 4, 3, 9, 3, 3, 1, 1, 1, 1, 0, 1, 0, 1, 1), U8, U8, 0, -3, 1, 1, FLT},
    /* one input channel: depthwise with multiplier 16 */
    {GEOM(1, 7, 7, 1, 16, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), U8, U8, 1, 0, 1, 0, FLT},
    /* the kernel covers the whole input */
    {GEOM(1, 7, 7, 4, 5, 1, 7, 7, 1, 1, 0, 0, 0, 0, 1, 1), S8, S8, 0, 0, 1, 0, FLT},
    /* windows entirely in the padding (dense and depthwise): bias-only outputs */
    {GEOM(1, 2, 2, 3, 4, 1, 2, 2, 1, 1, 3, 3, 3, 3, 1, 1), U8, U8, 0, 5, 1, 0, FLT},
    {GEOM(1, 2, 2, 17, 17, 17, 2, 2, 1, 1, 3, 3, 3, 3, 1, 1), U8, S8, 0, 5, 1, 0, FLT},
    /* extreme weight zero points: w - w_zp spans [-255, 255] */
    {GEOM(3, 5, 5, 20, 20, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), U8, U8, 0, 127, 1, 0, FXP},
    {GEOM(1, 5, 5, 8, 6, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), S8, U8, 0, -128, 1, 0, FLT},
    /* more channels than the scalar kernel's 256-channel chunk */
    {GEOM(1, 4, 4, 300, 300, 300, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), U8, U8, 1, 0, 1, 1, FLT},
    /* 1x5 (odd taps), stride 1x3 */
    {GEOM(1, 3, 17, 33, 33, 33, 1, 5, 1, 3, 0, 2, 0, 2, 1, 1), S8, S8, 1, 0, 1, 2, FXP},
    /* depthwise with more than 4096 channels (AVX2 channel slabs), 8-channel block and tail */
    {GEOM(1, 2, 3, 4107, 4107, 4107, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), U8, U8, 1, 0, 1, 0, FLT},
    /* deep GEMM: k = 3 * 3 * 4096 = 36864, im2col blocks of the 16-row minimum */
    {GEOM(1, 4, 5, 4096, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), S8, U8, 0, 2, 1, 0, FXP},
    /* a wider image: several im2col blocks and depthwise interior runs */
    {GEOM(1, 23, 37, 24, 40, 1, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1), U8, U8, 1, 0, 1, 1, FLT},
    {GEOM(1, 29, 41, 48, 48, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), S8, U8, 1, 0, 1, 1, FLT},
};

/* ---- generated data -------------------------------------------------------------------------- */

typedef struct conv_data {
  conv_case c;
  int64_t out_h, out_w;
  size_t in_bytes, out_bytes, w_count;
  uint8_t* input;
  int8_t* weights;
  float* w_scale;
  int32_t* w_zp;
  float* bias;
  qk_qparams *in_qp, *out_qp, *w_qp;
  conv_oracle_quant q;
} conv_data;

static int32_t rand_int(qk_test_rng* rng, int32_t lo, int32_t hi) { /* inclusive */
  return lo + (int32_t)(qk_test_next(rng) % (uint64_t)(hi - lo + 1));
}

static int is_signed_dtype(qk_dtype d) { return d == QK_DTYPE_S8; }

static qk_qparams* activation_qparams(qk_dtype dtype, float scale, int32_t zp) {
  qk_qparams* qp = NULL;
  const int s = is_signed_dtype(dtype);
  assert_ok(qk_qparams_create(dtype, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &scale, &zp, NULL, 1, s ? -128 : 0,
                              s ? 127 : 255, &qp));
  return qp;
}

static void data_init(conv_data* d, const conv_case* c, qk_test_rng* rng) {
  memset(d, 0, sizeof *d);
  d->c = *c;
  const conv_oracle_geometry* g = &c->g;
  assert_true(conv_oracle_output_size(g, &d->out_h, &d->out_w));
  d->in_bytes = (size_t)(g->batch * g->in_h * g->in_w * g->in_c);
  d->out_bytes = (size_t)(g->batch * d->out_h * d->out_w * g->out_c);
  const int64_t cin_g = g->in_c / g->groups, k = cin_g * g->kh * g->kw;
  d->w_count = (size_t)(g->out_c * k);
  d->input = malloc(d->in_bytes ? d->in_bytes : 1);
  d->weights = malloc(d->w_count);
  d->w_scale = malloc(sizeof(float) * (size_t)g->out_c);
  d->w_zp = malloc(sizeof(int32_t) * (size_t)g->out_c);
  assert_non_null(d->input);
  for (size_t i = 0; i < d->in_bytes; ++i) d->input[i] = (uint8_t)qk_test_next(rng);
  for (size_t i = 0; i < d->w_count; ++i) d->weights[i] = (int8_t)(uint8_t)qk_test_next(rng);

  const int in_s = is_signed_dtype(c->in_dtype), out_s = is_signed_dtype(c->out_dtype);
  const float in_scale = qk_test_uniform(rng, 0.004f, 0.05f);
  const int32_t in_zp = in_s ? rand_int(rng, -128, 127) : rand_int(rng, 0, 255);
  float mean_w = 0;
  for (int64_t o = 0; o < g->out_c; ++o) {
    d->w_scale[o] = c->per_channel ? qk_test_uniform(rng, 0.002f, 0.02f) : 0.0f;
    d->w_zp[o] = c->per_channel ? 0 : c->w_zp;
  }
  if (!c->per_channel) {
    const float s = qk_test_uniform(rng, 0.002f, 0.02f);
    for (int64_t o = 0; o < g->out_c; ++o) d->w_scale[o] = s;
  }
  for (int64_t o = 0; o < g->out_c; ++o) mean_w += d->w_scale[o] / (float)g->out_c;
  /* Accumulators have a spread of about sqrt(k) * 74 * 74; aim the output scale so that outputs
   * spread over a few dozen codes, some of them clamped. */
  const float out_scale = in_scale * mean_w * sqrtf((float)k) * 137.0f * qk_test_uniform(rng, 0.3f, 3.0f);
  const int32_t out_zp = out_s ? rand_int(rng, -40, 40) : rand_int(rng, 60, 190);
  if (c->has_bias) {
    d->bias = malloc(sizeof(float) * (size_t)g->out_c);
    for (int64_t o = 0; o < g->out_c; ++o)
      d->bias[o] = qk_test_uniform(rng, -4000.0f, 4000.0f) * in_scale * d->w_scale[o];
  }

  d->in_qp = activation_qparams(c->in_dtype, in_scale, in_zp);
  d->out_qp = activation_qparams(c->out_dtype, out_scale, out_zp);
  if (c->per_channel) {
    assert_ok(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, 0, 1, d->w_scale, d->w_zp, NULL,
                                (size_t)g->out_c, -128, 127, &d->w_qp));
  } else {
    assert_ok(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, d->w_scale, d->w_zp, NULL, 1, -128,
                                127, &d->w_qp));
  }

  conv_oracle_quant* q = &d->q;
  q->in_signed = in_s;
  q->out_signed = out_s;
  q->in_scale = in_scale;
  q->in_zp = in_zp;
  q->w_scale = d->w_scale;
  q->w_zp = d->w_zp;
  q->bias = d->bias;
  q->out_scale = out_scale;
  q->out_zp = out_zp;
  q->out_min = -INFINITY;
  q->out_max = INFINITY;
  if (c->clamp == 1) q->out_min = 0.0f;
  if (c->clamp == 2) {
    q->out_min = -20.3f * out_scale;
    q->out_max = 30.6f * out_scale;
  }
  q->fixed_point = c->mode == QK_REQUANT_FIXED_POINT;
}

static void data_free(conv_data* d) {
  free(d->input);
  free(d->weights);
  free(d->w_scale);
  free(d->w_zp);
  free(d->bias);
  qk_qparams_destroy(d->in_qp);
  qk_qparams_destroy(d->out_qp);
  qk_qparams_destroy(d->w_qp);
}

static qk_status data_try_create(const conv_data* d, qk_qconv2d** op) {
  const conv_oracle_geometry* g = &d->c.g;
  const int64_t shape[4] = {g->out_c, g->in_c / g->groups, g->kh, g->kw};
  const int64_t stride[2] = {g->sh, g->sw}, dilation[2] = {g->dh, g->dw};
  const int64_t padding[4] = {g->pad_top, g->pad_left, g->pad_bottom, g->pad_right};
  return qk_qconv2d_create(d->weights, shape, d->w_qp, d->bias, stride, padding, dilation, g->groups, d->in_qp,
                           d->out_qp, d->q.out_min, d->q.out_max, d->c.mode, op);
}

static qk_qconv2d* data_create(const conv_data* d) {
  qk_qconv2d* op = NULL;
  assert_ok(data_try_create(d, &op));
  return op;
}

static void print_case(const conv_case* c) {
  const conv_oracle_geometry* g = &c->g;
  print_error(
      "case: batch %lld in %lldx%lldx%lld out_c %lld groups %lld kernel %lldx%lld stride %lldx%lld pad "
      "%lld,%lld,%lld,%lld dilation %lldx%lld in %s out %s %s w_zp %d bias %d clamp %d mode %d (isa %s)\n",
      (long long)g->batch, (long long)g->in_h, (long long)g->in_w, (long long)g->in_c, (long long)g->out_c,
      (long long)g->groups, (long long)g->kh, (long long)g->kw, (long long)g->sh, (long long)g->sw,
      (long long)g->pad_top, (long long)g->pad_left, (long long)g->pad_bottom, (long long)g->pad_right,
      (long long)g->dh, (long long)g->dw, qk_dtype_name(c->in_dtype), qk_dtype_name(c->out_dtype),
      c->per_channel ? "per-channel" : "per-tensor", c->w_zp, c->has_bias, c->clamp, (int)c->mode, qk_isa_name());
}

static void expect_bytes_equal(const conv_data* d, const uint8_t* got, const uint8_t* want, const char* what) {
  for (size_t i = 0; i < d->out_bytes; ++i) {
    if (got[i] != want[i]) {
      print_case(&d->c);
      print_error("%s: output byte %zu (channel %lld) is %d, the oracle says %d\n", what, i,
                  (long long)(i % (size_t)d->c.g.out_c), got[i], want[i]);
      fail();
    }
  }
}

static qk_threadpool* g_pools[2]; /* 2 and 3 threads */

/* Runs the data's conv with no pool and with each pool; every result must equal the oracle's
 * bytes. */
static void check_data(const conv_data* d) {
  const conv_case* c = &d->c;
  uint8_t* want = malloc(d->out_bytes + 1);
  uint8_t* got = malloc(d->out_bytes + 1);
  conv_oracle_qconv2d(&c->g, &d->q, d->input, d->weights, want);
  qk_qconv2d* op = data_create(d);
  int64_t oh = 0, ow = 0;
  assert_ok(qk_qconv2d_output_size(op, c->g.in_h, c->g.in_w, &oh, &ow));
  assert_int_equal(oh, d->out_h);
  assert_int_equal(ow, d->out_w);
  for (int p = -1; p < 2; ++p) {
    memset(got, 0xA5, d->out_bytes + 1);
    assert_ok(qk_qconv2d_run(op, c->g.batch, c->g.in_h, c->g.in_w, d->input, d->in_bytes, got, d->out_bytes,
                             p < 0 ? NULL : g_pools[p]));
    expect_bytes_equal(d, got, want, p < 0 ? "no pool" : (p == 0 ? "2 threads" : "3 threads"));
    assert_int_equal(got[d->out_bytes], 0xA5); /* nothing written past the output */
  }
  qk_qconv2d_destroy(op);
  free(want);
  free(got);
}

static void check_case(const conv_case* c, qk_test_rng* rng) {
  conv_data d;
  data_init(&d, c, rng);
  check_data(&d);
  data_free(&d);
}

/* Replaces the output qparams (and the oracle's copy). */
static void data_set_output(conv_data* d, float scale, int32_t zp) {
  qk_qparams_destroy(d->out_qp);
  d->out_qp = activation_qparams(d->c.out_dtype, scale, zp);
  d->q.out_scale = scale;
  d->q.out_zp = zp;
}

/* A random geometry that fits: dense, grouped, or depthwise with multiplier 1..3. */
static conv_case random_case(qk_test_rng* rng) {
  conv_case c;
  memset(&c, 0, sizeof c);
  conv_oracle_geometry* g = &c.g;
  g->batch = rand_int(rng, 1, 3);
  const int kind = rand_int(rng, 0, 3);
  if (kind == 0) {
    g->groups = 1;
    g->in_c = rand_int(rng, 1, 20);
    g->out_c = rand_int(rng, 1, 20);
  } else if (kind == 1) {
    g->groups = rand_int(rng, 2, 4);
    g->in_c = g->groups * rand_int(rng, 1, 4);
    g->out_c = g->groups * rand_int(rng, 1, 4);
  } else {
    g->in_c = rand_int(rng, 1, 40);
    g->groups = g->in_c;
    g->out_c = g->in_c * (kind == 2 ? 1 : rand_int(rng, 2, 3));
  }
  static const int64_t sizes[] = {1, 2, 3, 5};
  g->kh = sizes[rand_int(rng, 0, 3)];
  g->kw = sizes[rand_int(rng, 0, 3)];
  g->sh = rand_int(rng, 1, 3);
  g->sw = rand_int(rng, 1, 3);
  g->dh = rand_int(rng, 1, 2);
  g->dw = rand_int(rng, 1, 2);
  g->pad_top = rand_int(rng, 0, 2);
  g->pad_left = rand_int(rng, 0, 2);
  g->pad_bottom = rand_int(rng, 0, 2);
  g->pad_right = rand_int(rng, 0, 2);
  g->in_h = rand_int(rng, 1, 9);
  g->in_w = rand_int(rng, 1, 9);
  const int64_t eh = (g->kh - 1) * g->dh + 1, ew = (g->kw - 1) * g->dw + 1;
  if (g->in_h + g->pad_top + g->pad_bottom < eh) g->in_h = eh;
  if (g->in_w + g->pad_left + g->pad_right < ew) g->in_w = ew;
  c.in_dtype = rand_int(rng, 0, 1) ? QK_DTYPE_S8 : QK_DTYPE_U8;
  c.out_dtype = rand_int(rng, 0, 1) ? QK_DTYPE_S8 : QK_DTYPE_U8;
  c.per_channel = rand_int(rng, 0, 1);
  c.w_zp = c.per_channel ? 0 : (rand_int(rng, 0, 1) ? rand_int(rng, -128, 127) : 0);
  c.has_bias = rand_int(rng, 0, 3) != 0;
  c.clamp = rand_int(rng, 0, 2);
  c.mode = rand_int(rng, 0, 1) ? QK_REQUANT_FIXED_POINT : QK_REQUANT_FLOAT;
  return c;
}

/* ---- group set-up: pools, and skipping on a path this CPU lacks ------------------------------ */

static int g_isa_invalid;

static int group_setup(void** state) {
  (void)state;
  g_isa_invalid = strcmp(qk_isa_name(), "invalid") == 0;
  if (qk_threadpool_create(2, &g_pools[0]) != QK_OK || qk_threadpool_create(3, &g_pools[1]) != QK_OK) return -1;
  return 0;
}

static int group_teardown(void** state) {
  (void)state;
  qk_threadpool_destroy(g_pools[0]);
  qk_threadpool_destroy(g_pools[1]);
  return 0;
}

#define SKIP_IF_ISA_INVALID()  \
  do {                         \
    if (g_isa_invalid) skip(); \
  } while (0)

/* ---- tests ----------------------------------------------------------------------------------- */

/* The hand-picked cases give the oracle's bytes on the active path, with and without pools. */
static void test_qconv_cases_match_oracle(void** state) {
  (void)state;
  SKIP_IF_ISA_INVALID();
  qk_test_rng rng = {0x0C0117E5ull};
  for (size_t i = 0; i < ARRAY_LEN(kCases); ++i) check_case(&kCases[i], &rng);
}

/* 400 random geometries / dtypes / schemes / clamps / modes give the oracle's bytes. */
static void test_qconv_random_match_oracle(void** state) {
  (void)state;
  SKIP_IF_ISA_INVALID();
  qk_test_rng rng = {0x5EED5EED1234ull};
  for (int i = 0; i < 400; ++i) {
    const conv_case c = random_case(&rng);
    check_case(&c, &rng);
  }
}

/* Every kernel path this CPU runs (qk_set_isa) gives the oracle's bytes on the hand-picked cases. */
static void test_qconv_every_isa_matches_oracle(void** state) {
  (void)state;
  SKIP_IF_ISA_INVALID();
  const char* original = qk_isa_name();
  char saved[32];
  snprintf(saved, sizeof saved, "%s", original);
  for (size_t k = 0; k < ARRAY_LEN(kIsas); ++k) {
    int supported = 0;
    assert_ok(qk_isa_supported(kIsas[k], &supported));
    if (!supported) continue;
    assert_ok(qk_set_isa(kIsas[k]));
    qk_test_rng rng = {0xABCDEF01ull + k};
    for (size_t i = 0; i < ARRAY_LEN(kCases); ++i) check_case(&kCases[i], &rng);
  }
  assert_ok(qk_set_isa(saved));
}

/* Multipliers M >= 1 (fixed point: left shifts, wrapping x << 12) give the oracle's bytes on every path. */
static void test_qconv_large_multipliers(void** state) {
  (void)state;
  /* M = in_scale * w_scale / out_scale of 1, 2.5 and 3000, dense and depthwise (16 + 16 + 8 and
   * 16 + 3 channels). For M <= 2.5 the data keeps outputs mostly inside the range (inputs within 3
   * of the zero point, weights in [-4, 4]); for M = 3000 biases of about +-10^6 accumulator units
   * make x << 12 leave int32. */
  SKIP_IF_ISA_INVALID();
  static const conv_case kinds[3] = {
      {GEOM(1, 5, 6, 3, 5, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), U8, U8, 0, 0, 1, 0, FLT},
      {GEOM(1, 5, 6, 40, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), S8, S8, 0, 0, 1, 0, FLT},
      {GEOM(2, 4, 3, 19, 19, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), U8, S8, 0, 0, 0, 0, FLT}};
  static const float kMultipliers[3] = {1.0f, 2.5f, 3000.0f};
  char saved[32];
  snprintf(saved, sizeof saved, "%s", qk_isa_name());
  for (size_t k = 0; k < ARRAY_LEN(kIsas); ++k) {
    int supported = 0;
    assert_ok(qk_isa_supported(kIsas[k], &supported));
    if (!supported) continue;
    assert_ok(qk_set_isa(kIsas[k]));
    qk_test_rng rng = {0x3000ull + k};
    for (size_t i = 0; i < ARRAY_LEN(kinds); ++i)
      for (size_t m = 0; m < ARRAY_LEN(kMultipliers); ++m)
        for (int mode = 0; mode < 2; ++mode) {
          conv_case c = kinds[i];
          c.mode = mode ? QK_REQUANT_FIXED_POINT : QK_REQUANT_FLOAT;
          conv_data d;
          data_init(&d, &c, &rng);
          d.q.fixed_point = mode;
          if (kMultipliers[m] < 10.0f) {
            const int32_t lo = d.q.in_signed ? -128 : 0, hi = d.q.in_signed ? 127 : 255;
            for (size_t j = 0; j < d.in_bytes; ++j) {
              int32_t v = d.q.in_zp + rand_int(&rng, -3, 3);
              v = v < lo ? lo : (v > hi ? hi : v);
              d.input[j] = (uint8_t)v;
            }
            for (size_t j = 0; j < d.w_count; ++j) d.weights[j] = (int8_t)rand_int(&rng, -4, 4);
          } else if (d.bias != NULL) {
            /* accumulators near +-10^6: shifted left by 12 they leave int32 and wrap */
            for (int64_t o = 0; o < c.g.out_c; ++o)
              d.bias[o] = (float)rand_int(&rng, -1100000, 1100000) * d.q.in_scale * d.w_scale[o];
          }
          data_set_output(&d, d.q.in_scale * d.w_scale[0] / kMultipliers[m], d.q.out_signed ? 3 : 120);
          check_data(&d);
          data_free(&d);
        }
  }
  assert_ok(qk_set_isa(saved));
}

/* A 1-channel 3x3 input, 2x2 kernel: every output worked out by hand, ties rounding to even. */
static void test_qconv_hand_computed(void** state) {
  (void)state;
  SKIP_IF_ISA_INVALID();
  const uint8_t x[9] = {2, 3, 4, 5, 6, 7, 8, 9, 10};                          /* x - zp = 0..8 */
  const int8_t w[4] = {2, 1, 1, 3};                                           /* w - zp = 1, 0, 0, 2 */
  const float in_scale = 0.5f, w_scale = 0.5f, out_scale = 0.5f, bias = 1.0f; /* M = 0.5, bias_q = 4 */
  const int32_t in_zp = 2, w_zp = 1, out_zp = 10;
  qk_qparams *in_qp = NULL, *out_qp = NULL, *w_qp = NULL;
  assert_ok(
      qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &in_scale, &in_zp, NULL, 1, 0, 255, &in_qp));
  assert_ok(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &out_scale, &out_zp, NULL, 1, 0, 255,
                              &out_qp));
  assert_ok(
      qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &w_scale, &w_zp, NULL, 1, -128, 127, &w_qp));
  const int64_t shape[4] = {1, 1, 2, 2}, stride[2] = {1, 1}, padding[4] = {0, 0, 0, 0}, dilation[2] = {1, 1};
  qk_qconv2d* op = NULL;
  assert_ok(qk_qconv2d_create(w, shape, w_qp, &bias, stride, padding, dilation, 1, in_qp, out_qp, -INFINITY, INFINITY,
                              QK_REQUANT_FLOAT, &op));
  uint8_t out[4];
  assert_ok(qk_qconv2d_run(op, 1, 3, 3, x, 9, out, 4, NULL));
  /* acc = (x[y][x] - 2) * 1 + (x[y+1][x+1] - 2) * 2 + 4: 0+8+4 = 12, 1+10+4 = 15, 3+14+4 = 21,
   * 4+16+4 = 24; out = round_half_even(acc * 0.5) + 10: 6 + 10, 7.5 -> 8 (+10), 10.5 -> 10 (+10),
   * 12 + 10. */
  assert_int_equal(out[0], 16);
  assert_int_equal(out[1], 18);
  assert_int_equal(out[2], 20);
  assert_int_equal(out[3], 22);
  qk_qconv2d_destroy(op);
  /* A real-valued clamp to [0, 5] caps code 22 at quantize(5.0) = 5 / 0.5 + 10 = 20. */
  assert_ok(qk_qconv2d_create(w, shape, w_qp, &bias, stride, padding, dilation, 1, in_qp, out_qp, 0.0f, 5.0f,
                              QK_REQUANT_FLOAT, &op));
  assert_ok(qk_qconv2d_run(op, 1, 3, 3, x, 9, out, 4, NULL));
  assert_int_equal(out[0], 16);
  assert_int_equal(out[1], 18);
  assert_int_equal(out[2], 20);
  assert_int_equal(out[3], 20); /* clamped at quantize(5.0) = 10 + 10 */
  qk_qconv2d_destroy(op);
  qk_qparams_destroy(in_qp);
  qk_qparams_destroy(out_qp);
  qk_qparams_destroy(w_qp);
}

/* An all-zero-point input gives the bias-only code everywhere, borders included (GEMM, depthwise). */
static void test_qconv_padding_reads_zero_point(void** state) {
  (void)state;
  SKIP_IF_ISA_INVALID();
  const conv_case cases[2] = {{GEOM(1, 5, 6, 4, 3, 1, 3, 3, 1, 1, 2, 1, 0, 2, 1, 1), S8, S8, 1, 0, 1, 0, FLT},
                              {GEOM(1, 5, 6, 18, 18, 18, 3, 3, 1, 1, 2, 1, 0, 2, 1, 1), S8, S8, 1, 0, 1, 0, FLT}};
  for (int i = 0; i < 2; ++i) {
    qk_test_rng rng = {77u + (uint64_t)i};
    conv_data d;
    data_init(&d, &cases[i], &rng);
    memset(d.input, (uint8_t)(int8_t)d.q.in_zp, d.in_bytes);
    qk_qconv2d* op = data_create(&d);
    uint8_t* out = malloc(d.out_bytes);
    assert_ok(qk_qconv2d_run(op, 1, 5, 6, d.input, d.in_bytes, out, d.out_bytes, NULL));
    const int64_t oc = cases[i].g.out_c;
    for (size_t j = 0; j < d.out_bytes; ++j) assert_int_equal(out[j], out[j % (size_t)oc]);
    /* and that code is the requantized bias of its channel */
    for (int64_t c = 0; c < oc; ++c) {
      const float bq = nearbyintf(d.bias[c] / (d.q.in_scale * d.w_scale[c]));
      const float m = d.q.in_scale * d.w_scale[c] / d.q.out_scale;
      float r = nearbyintf(bq * m) + (float)d.q.out_zp;
      r = r < -128 ? -128 : (r > 127 ? 127 : r);
      assert_int_equal((int8_t)out[c], (int)r);
    }
    free(out);
    qk_qconv2d_destroy(op);
    data_free(&d);
  }
}

/* Against a float conv of the dequantized input and weights (plus the float bias), each output
 * dequantizes to within the bound
 *   |deq(out) - clamp(y)| <= e * out_scale + 0.5 * in_scale * w_scale[oc] + 1e-6 * (|y| + |bias|)
 *                            + 1e-3 * out_scale
 * with e = 0.5 (float requantization: one rounding) or 0.75 (fixed point: the high-mul rounding
 * adds at most 1/4 when a right shift follows, nothing otherwise); the second term is the bias
 * rounding, the third the float32 roundings of the multiplier and the conversions, the last the
 * float dequantization feeding the reference. clamp(y) is y limited to the output clamp range. */
static void test_qconv_float_reference_within_bound(void** state) {
  (void)state;
  SKIP_IF_ISA_INVALID();
  const size_t picks[] = {0, 3, 4, 5, 6, 8, 9, 11, 12, 17};
  qk_test_rng rng = {0xF10A7ull};
  double worst = 0.0; /* largest error / bound seen */
  for (size_t p = 0; p < ARRAY_LEN(picks); ++p) {
    const conv_case* c = &kCases[picks[p]];
    conv_data d;
    data_init(&d, c, &rng);
    const conv_oracle_geometry* g = &c->g;
    const int64_t cin_g = g->in_c / g->groups, k = cin_g * g->kh * g->kw;
    float* xf = malloc(sizeof(float) * (d.in_bytes ? d.in_bytes : 1));
    float* wf = malloc(sizeof(float) * d.w_count);
    float* y = malloc(sizeof(float) * d.out_bytes);
    for (size_t i = 0; i < d.in_bytes; ++i) {
      const int32_t code = d.q.in_signed ? (int32_t)(int8_t)d.input[i] : (int32_t)d.input[i];
      xf[i] = (float)(code - d.q.in_zp) * d.q.in_scale;
    }
    for (size_t i = 0; i < d.w_count; ++i) {
      const size_t oc = i / (size_t)k;
      wf[i] = (float)((int32_t)d.weights[i] - d.w_zp[oc]) * d.w_scale[oc];
    }
    conv_oracle_f32(g, xf, wf, d.bias, y);
    qk_qconv2d* op = data_create(&d);
    uint8_t* out = malloc(d.out_bytes);
    assert_ok(qk_qconv2d_run(op, g->batch, g->in_h, g->in_w, d.input, d.in_bytes, out, d.out_bytes, NULL));
    int32_t lo, hi;
    conv_oracle_clamp(&d.q, &lo, &hi);
    const double e = c->mode == QK_REQUANT_FIXED_POINT ? 0.75 : 0.5;
    for (size_t i = 0; i < d.out_bytes; ++i) {
      const size_t oc = i % (size_t)g->out_c;
      const int32_t code = d.q.out_signed ? (int32_t)(int8_t)out[i] : (int32_t)out[i];
      const double deq = (double)(code - d.q.out_zp) * d.q.out_scale;
      double ref = y[i];
      const double rlo = (double)(lo - d.q.out_zp) * d.q.out_scale, rhi = (double)(hi - d.q.out_zp) * d.q.out_scale;
      ref = ref < rlo ? rlo : (ref > rhi ? rhi : ref);
      const double b = d.bias ? fabs(d.bias[oc]) : 0.0;
      const double bound =
          e * d.q.out_scale + 0.5 * d.q.in_scale * d.w_scale[oc] + 1e-6 * (fabs(y[i]) + b) + 1e-3 * d.q.out_scale;
      const double err = fabs(deq - ref);
      if (err > bound) {
        print_case(c);
        print_error("output %zu: dequantized %g, float reference %g (clamped %g), error %g > bound %g\n", i, deq,
                    (double)y[i], ref, err, bound);
        fail();
      }
      if (err / bound > worst) worst = err / bound;
    }
    free(out);
    free(xf);
    free(wf);
    free(y);
    qk_qconv2d_destroy(op);
    data_free(&d);
  }
  /* The bound is tight enough to matter: some output uses most of it. */
  assert_true(worst > 0.5);
}

/* qk_qconv2d_output_size follows floor((in + pads - dilation*(k-1) - 1) / stride) + 1. */
static void test_qconv_output_size(void** state) {
  (void)state;
  SKIP_IF_ISA_INVALID();
  const conv_case c = {GEOM(1, 7, 9, 2, 2, 1, 3, 2, 2, 1, 1, 0, 2, 1, 2, 1), U8, U8, 1, 0, 0, 0, FLT};
  qk_test_rng rng = {5};
  conv_data d;
  data_init(&d, &c, &rng);
  qk_qconv2d* op = data_create(&d);
  int64_t oh = -1, ow = -1;
  assert_ok(qk_qconv2d_output_size(op, 7, 9, &oh, &ow));
  assert_int_equal(oh, 3); /* (7 + 1 + 2 - 5) / 2 + 1 */
  assert_int_equal(ow, 9); /* (9 + 0 + 1 - 2) / 1 + 1 */
  assert_ok(qk_qconv2d_output_size(op, 2, 1, &oh, &ow));
  assert_int_equal(oh, 1); /* 2 + 3 padded rows hold exactly the dilated 5 */
  assert_int_equal(ow, 1);
  oh = ow = -1;
  /* the dilated kernel (5 rows) does not fit 1 + 3 padded rows */
  assert_status(qk_qconv2d_output_size(op, 1, 9, &oh, &ow), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qconv2d_output_size(op, 0, 9, &oh, &ow), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qconv2d_output_size(op, 7, 9, NULL, &ow), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qconv2d_output_size(NULL, 7, 9, &oh, &ow), QK_ERR_INVALID_ARGUMENT);
  assert_int_equal(oh, -1);
  assert_int_equal(ow, -1);
  qk_qconv2d_destroy(op);
  data_free(&d);
}

/* Bad geometry, byte lengths, pointers, qparams, modes: QK_ERR_INVALID_ARGUMENT, outputs untouched. */
static void test_qconv_argument_errors(void** state) {
  (void)state;
  SKIP_IF_ISA_INVALID();
  const conv_case c = {GEOM(1, 6, 6, 4, 6, 2, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1), U8, U8, 1, 0, 1, 0, FLT};
  qk_test_rng rng = {99};
  conv_data d;
  data_init(&d, &c, &rng);
  static int sentinel_object;
  qk_qconv2d* const sentinel = (qk_qconv2d*)(void*)&sentinel_object;
  const int64_t shape[4] = {6, 2, 3, 3};
  const int64_t stride[2] = {1, 1}, padding[4] = {0, 0, 0, 0}, dilation[2] = {1, 1};
  qk_qconv2d* op = sentinel;
#define EXPECT_CREATE_FAILS(...)                                                 \
  do {                                                                           \
    op = sentinel;                                                               \
    assert_status(qk_qconv2d_create(__VA_ARGS__, &op), QK_ERR_INVALID_ARGUMENT); \
    assert_ptr_equal(op, sentinel);                                              \
  } while (0)
  const int64_t zero_stride[2] = {0, 1}, zero_dilation[2] = {1, 0}, neg_padding[4] = {0, -1, 0, 0};
  EXPECT_CREATE_FAILS(d.weights, shape, d.w_qp, d.bias, zero_stride, padding, dilation, 2, d.in_qp, d.out_qp, -INFINITY,
                      INFINITY, QK_REQUANT_FLOAT);
  EXPECT_CREATE_FAILS(d.weights, shape, d.w_qp, d.bias, stride, padding, zero_dilation, 2, d.in_qp, d.out_qp, -INFINITY,
                      INFINITY, QK_REQUANT_FLOAT);
  EXPECT_CREATE_FAILS(d.weights, shape, d.w_qp, d.bias, stride, neg_padding, dilation, 2, d.in_qp, d.out_qp, -INFINITY,
                      INFINITY, QK_REQUANT_FLOAT);
  /* groups must divide the output channels (6 % 4) and be >= 1 */
  EXPECT_CREATE_FAILS(d.weights, shape, d.w_qp, d.bias, stride, padding, dilation, 4, d.in_qp, d.out_qp, -INFINITY,
                      INFINITY, QK_REQUANT_FLOAT);
  EXPECT_CREATE_FAILS(d.weights, shape, d.w_qp, d.bias, stride, padding, dilation, 0, d.in_qp, d.out_qp, -INFINITY,
                      INFINITY, QK_REQUANT_FLOAT);
  const int64_t zero_dim[4] = {6, 2, 0, 3}, deep[4] = {6, 8192, 3, 3};
  EXPECT_CREATE_FAILS(d.weights, zero_dim, d.w_qp, d.bias, stride, padding, dilation, 2, d.in_qp, d.out_qp, -INFINITY,
                      INFINITY, QK_REQUANT_FLOAT);
  /* kh*kw*in/groups above 65536 */
  EXPECT_CREATE_FAILS(d.weights, deep, d.w_qp, d.bias, stride, padding, dilation, 2, d.in_qp, d.out_qp, -INFINITY,
                      INFINITY, QK_REQUANT_FLOAT);
  EXPECT_CREATE_FAILS(NULL, shape, d.w_qp, d.bias, stride, padding, dilation, 2, d.in_qp, d.out_qp, -INFINITY, INFINITY,
                      QK_REQUANT_FLOAT);
  EXPECT_CREATE_FAILS(d.weights, shape, d.w_qp, d.bias, stride, padding, dilation, 2, d.in_qp, NULL, -INFINITY,
                      INFINITY, QK_REQUANT_FLOAT);
  EXPECT_CREATE_FAILS(d.weights, shape, d.w_qp, d.bias, stride, padding, dilation, 2, d.in_qp, d.out_qp, -INFINITY,
                      INFINITY, (qk_requant_mode)7);
  EXPECT_CREATE_FAILS(d.weights, shape, d.w_qp, d.bias, stride, padding, dilation, 2, d.in_qp, d.out_qp, NAN, INFINITY,
                      QK_REQUANT_FLOAT);
  EXPECT_CREATE_FAILS(d.weights, shape, d.w_qp, d.bias, stride, padding, dilation, 2, d.in_qp, d.out_qp, 1.0f, 0.0f,
                      QK_REQUANT_FLOAT);
  /* qparams: u8 weights, per-channel count mismatch, per-channel activations, s32 output */
  qk_qparams *u8w = NULL, *pc_short = NULL, *pc_act = NULL, *s32_out = NULL;
  const float s1 = 0.1f, s4[4] = {0.1f, 0.1f, 0.1f, 0.1f};
  const int32_t z0 = 0, z4[4] = {0, 0, 0, 0};
  assert_ok(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &s1, &z0, NULL, 1, 0, 255, &u8w));
  assert_ok(
      qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, 0, 1, s4, z4, NULL, 4, -128, 127, &pc_short));
  assert_ok(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_CHANNEL_AFFINE, 0, 1, s4, z4, NULL, 4, 0, 255, &pc_act));
  assert_ok(qk_qparams_create(QK_DTYPE_S32, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &s1, &z0, NULL, 1, INT32_MIN, INT32_MAX,
                              &s32_out));
  EXPECT_CREATE_FAILS(d.weights, shape, u8w, d.bias, stride, padding, dilation, 2, d.in_qp, d.out_qp, -INFINITY,
                      INFINITY, QK_REQUANT_FLOAT);
  EXPECT_CREATE_FAILS(d.weights, shape, pc_short, d.bias, stride, padding, dilation, 2, d.in_qp, d.out_qp, -INFINITY,
                      INFINITY, QK_REQUANT_FLOAT);
  EXPECT_CREATE_FAILS(d.weights, shape, d.w_qp, d.bias, stride, padding, dilation, 2, pc_act, d.out_qp, -INFINITY,
                      INFINITY, QK_REQUANT_FLOAT);
  EXPECT_CREATE_FAILS(d.weights, shape, d.w_qp, d.bias, stride, padding, dilation, 2, d.in_qp, s32_out, -INFINITY,
                      INFINITY, QK_REQUANT_FLOAT);
  qk_qparams_destroy(u8w);
  qk_qparams_destroy(pc_short);
  qk_qparams_destroy(pc_act);
  qk_qparams_destroy(s32_out);
  /* a non-finite bias */
  float bad_bias[6] = {0, 0, 0, NAN, 0, 0};
  EXPECT_CREATE_FAILS(d.weights, shape, d.w_qp, bad_bias, stride, padding, dilation, 2, d.in_qp, d.out_qp, -INFINITY,
                      INFINITY, QK_REQUANT_FLOAT);
#undef EXPECT_CREATE_FAILS

  /* run: the 3x3 kernel does not fit a 2x6 input; byte lengths one short; NULLs; overlap. */
  op = data_create(&d);
  uint8_t out[4 * 4 * 6 + 1];
  uint8_t big[4096];
  memset(out, 0x5A, sizeof out);
  memset(big, 0x5A, sizeof big);
  assert_status(qk_qconv2d_run(op, 1, 2, 6, d.input, d.in_bytes, out, sizeof out, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qconv2d_run(op, 1, 6, 6, d.input, d.in_bytes - 1, out, sizeof out, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qconv2d_run(op, 1, 6, 6, d.input, d.in_bytes, out, 4 * 4 * 6 - 1, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qconv2d_run(op, -1, 6, 6, d.input, d.in_bytes, out, sizeof out, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qconv2d_run(op, 1, 0, 6, d.input, d.in_bytes, out, sizeof out, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qconv2d_run(op, 1, 6, 6, NULL, d.in_bytes, out, sizeof out, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qconv2d_run(op, 1, 6, 6, d.input, d.in_bytes, NULL, sizeof out, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qconv2d_run(NULL, 1, 6, 6, d.input, d.in_bytes, out, sizeof out, NULL), QK_ERR_INVALID_ARGUMENT);
  /* an element count that overflows */
  assert_status(qk_qconv2d_run(op, INT64_MAX / 2, 6, 6, d.input, d.in_bytes, out, sizeof out, NULL),
                QK_ERR_INVALID_ARGUMENT);
  for (size_t i = 0; i < sizeof out; ++i) assert_int_equal(out[i], 0x5A);
  /* input and output overlapping in one buffer */
  memcpy(big, d.input, d.in_bytes);
  assert_status(qk_qconv2d_run(op, 1, 6, 6, big, d.in_bytes, big + 10, 96, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_memory_equal(big, d.input, d.in_bytes);
  /* batch 0 is an empty run: OK and nothing written */
  assert_ok(qk_qconv2d_run(op, 0, 6, 6, NULL, 0, out, 0, NULL));
  for (size_t i = 0; i < sizeof out; ++i) assert_int_equal(out[i], 0x5A);
  qk_qconv2d_destroy(op);
  qk_qconv2d_destroy(NULL);
  data_free(&d);
}

/* Under a QK_ISA this CPU or build lacks, creation fails with QK_ERR_UNSUPPORTED (dense, depthwise). */
static void test_qconv_invalid_isa_is_unsupported(void** state) {
  (void)state;
  if (!g_isa_invalid) skip();
  for (size_t i = 0; i < 8; i += 7) { /* a dense and a depthwise case */
    qk_test_rng rng = {3};
    conv_data d;
    data_init(&d, &kCases[i], &rng);
    qk_qconv2d* op = NULL;
    assert_status(data_try_create(&d, &op), QK_ERR_UNSUPPORTED);
    assert_null(op);
    data_free(&d);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_qconv_cases_match_oracle),
      cmocka_unit_test(test_qconv_random_match_oracle),
      cmocka_unit_test(test_qconv_every_isa_matches_oracle),
      cmocka_unit_test(test_qconv_large_multipliers),
      cmocka_unit_test(test_qconv_hand_computed),
      cmocka_unit_test(test_qconv_padding_reads_zero_point),
      cmocka_unit_test(test_qconv_float_reference_within_bound),
      cmocka_unit_test(test_qconv_output_size),
      cmocka_unit_test(test_qconv_argument_errors),
      cmocka_unit_test(test_qconv_invalid_isa_is_unsupported),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
