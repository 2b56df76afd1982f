/* SPDX-License-Identifier: Apache-2.0 */
#include "fuzz_model_text.h"

#include <stdio.h>
#include <string.h>

#include "qkw_builder.h"
#include "quantkit/quantkit.h"

/* ---- scan ------------------------------------------------------------------------------ */

static int parse_i64(const char* p, size_t n, int64_t* out) {
  size_t i = 0;
  int neg = 0;
  if (n > 0 && p[0] == '-') neg = i = 1;
  if (i == n) return 0;
  uint64_t v = 0;
  for (; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9' || v > (UINT64_MAX - 9) / 10) return 0;
    v = v * 10 + (uint64_t)(p[i] - '0');
  }
  if (v > (uint64_t)INT64_MAX) return 0;
  *out = neg ? -(int64_t)v : (int64_t)v;
  return 1;
}

/* Comma-separated integers; returns how many (0 on a bad one or more than `max`). */
static int parse_list(const char* p, size_t n, int64_t* out, int max) {
  int count = 0;
  size_t start = 0;
  for (size_t i = 0; i <= n; ++i) {
    if (i < n && p[i] != ',') continue;
    if (count == max || !parse_i64(p + start, i - start, &out[count])) return 0;
    ++count;
    start = i + 1;
  }
  return count;
}

static void copy_name(char* dst, const char* p, size_t n, size_t cap) {
  if (n > cap) n = cap;
  memcpy(dst, p, n);
  dst[n] = '\0';
}

static int key_is(const char* k, size_t kn, const char* want) { return kn == strlen(want) && memcmp(k, want, kn) == 0; }

static void scan_kv(qkm_layer* l, const char* k, size_t kn, const char* v, size_t vn) {
  int64_t x = 0, two[2];
  if (key_is(k, kn, "op")) {
    copy_name(l->op, v, vn, sizeof l->op - 1);
  } else if (key_is(k, kn, "name")) {
    copy_name(l->name, v, vn, QKM_NAME_MAX);
  } else if (key_is(k, kn, "out")) {
    copy_name(l->out, v, vn, QKM_NAME_MAX);
  } else if (key_is(k, kn, "wshape")) {
    const int r = parse_list(v, vn, l->wshape, 4);
    l->wrank = r == 2 || r == 4 ? r : 0;
  } else if (key_is(k, kn, "bias")) {
    l->bias = parse_i64(v, vn, &x) && x != 0;
  } else if (key_is(k, kn, "wq")) {
    l->wq = parse_i64(v, vn, &x) && x != 0;
  } else if (key_is(k, kn, "wscheme")) {
    l->has_wscheme = parse_i64(v, vn, &l->wscheme);
  } else if (key_is(k, kn, "wrange")) {
    if ((l->has_wrange = parse_list(v, vn, two, 2) == 2)) {
      l->wlo = two[0];
      l->whi = two[1];
    }
  } else if (key_is(k, kn, "channels")) {
    if (!parse_i64(v, vn, &l->channels)) l->channels = 0;
  } else if (key_is(k, kn, "kernel")) {
    if (parse_list(v, vn, two, 2) == 2) memcpy(l->kernel, two, sizeof two);
  }
}

void qkm_scan(const char* text, size_t len, qkm_graph* g) {
  g->input[0] = '\0';
  g->count = 0;
  g->truncated = 0;
  size_t line = 0;
  while (line < len) {
    size_t end = line;
    while (end < len && text[end] != '\n') ++end;
    const char* p = text + line;
    const size_t n = end - line;
    if (n > 6 && memcmp(p, "input ", 6) == 0 && g->input[0] == '\0') {
      size_t e = 6;
      while (e < n && p[e] != ' ') ++e;
      copy_name(g->input, p + 6, e - 6, QKM_NAME_MAX);
    } else if (n > 6 && memcmp(p, "layer ", 6) == 0) {
      if (g->count == QKM_MAX_LAYERS) {
        g->truncated = 1;
      } else {
        qkm_layer* l = &g->layers[g->count++];
        memset(l, 0, sizeof *l);
        size_t t = 6;
        while (t < n) {
          size_t te = t;
          while (te < n && p[te] != ' ') ++te;
          const char* eq = memchr(p + t, '=', te - t);
          if (eq) scan_kv(l, p + t, (size_t)(eq - (p + t)), eq + 1, (size_t)(p + te - eq - 1));
          t = te + 1;
        }
      }
    }
    line = end + 1;
  }
}

/* ---- synthesize ------------------------------------------------------------------------ */

#define QKM_MAX_ELEMENTS (UINT64_C(1) << 20)
#define QKM_SLOTS 4096 /* > 4 tensors x QKM_MAX_LAYERS */

typedef struct synth {
  qkw_builder b;
  uint32_t slots[QKM_SLOTS]; /* builder index + 1, by name hash */
  uint64_t elements;
  float* values; /* scratch, QKM_MAX_ELEMENTS floats */
} synth;

static uint32_t hash_name(const char* s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

/* Claims `name` (1 if new; 0 if a tensor of that name exists: the first one stays). */
static int claim(synth* s, const char* name) {
  const size_t n = strlen(name);
  uint32_t i = hash_name(name, n) % QKM_SLOTS;
  for (;; i = (i + 1) % QKM_SLOTS) {
    if (s->slots[i] == 0) return 1;
    const qkwb_tensor* t = &s->b.t[s->slots[i] - 1];
    if (t->name_len == n && memcmp(t->name, name, n) == 0) return 0;
  }
}

static void record(synth* s, const char* name, size_t index) {
  uint32_t i = hash_name(name, strlen(name)) % QKM_SLOTS;
  while (s->slots[i] != 0) i = (i + 1) % QKM_SLOTS;
  s->slots[i] = (uint32_t)index + 1;
}

/* Deterministic weights in [-0.25, 0.25) (exact in f32), different per tensor. */
static float* values(synth* s, uint64_t n, uint32_t salt) {
  for (uint64_t i = 0; i < n; ++i) s->values[i] = (float)((int)((i * 7919u + salt * 104729u) % 2001u) - 1000) / 4000.0f;
  return s->values;
}

static int add_f32(synth* s, const char* layer, const char* suffix, size_t rank, const int64_t* dims, float offset) {
  char name[QKM_NAME_MAX + 32];
  snprintf(name, sizeof name, "%s%s", layer, suffix);
  uint64_t n = 1;
  for (size_t d = 0; d < rank; ++d) n *= (uint64_t)dims[d];
  if (n > QKM_MAX_ELEMENTS - s->elements) return 0;
  if (!claim(s, name)) return 1;
  float* v = values(s, n, (uint32_t)s->b.count);
  for (uint64_t i = 0; i < n; ++i) v[i] += offset;
  s->elements += n;
  record(s, name, qkwb_add_raw_f32(&s->b, name, rank, dims, v, (size_t)n));
  return 1;
}

/* int8 weights as the model writer stores them: AFFINE s8, per channel (axis 0) or per tensor,
 * codes inside the layer's wrange, zero points 0 except for a per-tensor affine scheme. */
static int add_s8(synth* s, const qkm_layer* l, uint64_t n) {
  char name[QKM_NAME_MAX + 32];
  snprintf(name, sizeof name, "%s.weight", l->name);
  if (n > QKM_MAX_ELEMENTS - s->elements) return 0;
  if (!claim(s, name)) return 1;
  int64_t lo = l->has_wrange ? l->wlo : -128, hi = l->has_wrange ? l->whi : 127;
  lo = lo < -128 ? -128 : lo > 127 ? 127 : lo;
  hi = hi < -128 ? -128 : hi > 127 ? 127 : hi;
  const int64_t scheme = l->has_wscheme ? l->wscheme : QK_QSCHEME_PER_CHANNEL_SYMMETRIC;
  const int per_channel = scheme == QK_QSCHEME_PER_CHANNEL_SYMMETRIC;
  const size_t c = per_channel ? (size_t)l->wshape[0] : 1;
  float* params = s->values; /* scales then zero points */
  int8_t* codes = (int8_t*)(s->values + 2 * c);
  if (2 * c + n / 4 + 1 > QKM_MAX_ELEMENTS) return 0;
  const float zp = scheme == QK_QSCHEME_PER_TENSOR_AFFINE && lo <= 2 && 2 <= hi ? 2.0f : 0.0f;
  for (size_t i = 0; i < c; ++i) {
    params[i] = (float)(1 + i % 5) / 256.0f;
    params[c + i] = zp;
  }
  for (uint64_t i = 0; i < n; ++i) codes[i] = hi >= lo ? (int8_t)(lo + (int64_t)((i * 37 + 11) % (uint64_t)(hi - lo + 1))) : 0;
  s->elements += n;
  record(s, name,
         qkwb_add(&s->b, name, (size_t)l->wrank, l->wshape, QK_CODEC_AFFINE, QK_DTYPE_S8, per_channel ? 0 : -1, 0, 0,
                  params, 2 * c, codes, (size_t)n));
  return 1;
}

static int add_layer(synth* s, const qkm_layer* l) {
  if (strcmp(l->op, "conv2d") == 0 || strcmp(l->op, "linear") == 0) {
    if (l->wrank == 0) return 1;
    uint64_t n = 1;
    for (int d = 0; d < l->wrank; ++d) {
      if (l->wshape[d] < 1 || l->wshape[d] > (int64_t)QKM_MAX_ELEMENTS) return 1;
      n *= (uint64_t)l->wshape[d];
      if (n > QKM_MAX_ELEMENTS) return 0;
    }
    if (!(l->wq ? add_s8(s, l, n) : add_f32(s, l->name, ".weight", (size_t)l->wrank, l->wshape, 0.0f))) return 0;
    return !l->bias || add_f32(s, l->name, ".bias", 1, l->wshape, 0.0f);
  }
  if (strcmp(l->op, "batchnorm") == 0 && l->channels >= 1 && l->channels <= (int64_t)QKM_MAX_ELEMENTS) {
    const int64_t c[1] = {l->channels};
    return add_f32(s, l->name, ".running_mean", 1, c, 0.0f) && add_f32(s, l->name, ".running_var", 1, c, 0.5f) &&
           add_f32(s, l->name, ".weight", 1, c, 1.0f) && add_f32(s, l->name, ".bias", 1, c, 0.0f);
  }
  return 1;
}

uint8_t* qkm_synthesize(const qkm_graph* g, const char* text, size_t len, size_t* size_out) {
  static synth s; /* large: static, the fuzz target is single-threaded */
  static float scratch[QKM_MAX_ELEMENTS];
  memset(s.slots, 0, sizeof s.slots);
  s.elements = 0;
  s.values = scratch;
  qkwb_init(&s.b);
  int ok = 1;
  for (size_t i = 0; i < g->count && ok; ++i) ok = add_layer(&s, &g->layers[i]);
  uint8_t* img = NULL;
  if (ok) {
    qkwb_meta_n(&s.b, "model.graph", 11, text, len);
    img = qkwb_build(&s.b, size_out);
  }
  qkwb_free(&s.b);
  return img;
}

/* ---- mutate ---------------------------------------------------------------------------- */

/* Replaces text[at, at + old) by `rep`; returns the new size (unchanged if it does not fit). */
static size_t splice(uint8_t* t, size_t size, size_t cap, size_t at, size_t old, const char* rep, size_t n) {
  if (at > size || old > size - at || size - old + n > cap) return size;
  memmove(t + at + n, t + at + old, size - at - old);
  memcpy(t + at, rep, n);
  return size - old + n;
}

/* Start of a random line and its length (without the newline). */
static size_t pick_line(const uint8_t* t, size_t size, qk_fuzz_rng* rng, size_t* len) {
  size_t at = (size_t)(qk_fuzz_next(rng) % size);
  while (at > 0 && t[at - 1] != '\n') --at;
  size_t e = at;
  while (e < size && t[e] != '\n') ++e;
  *len = e - at;
  return at;
}

/* Position just after the next occurrence of `key` from a random point (wrapping), or size. */
static size_t find_value(const uint8_t* t, size_t size, const char* key, qk_fuzz_rng* rng, size_t* vlen) {
  const size_t kn = strlen(key), start = (size_t)(qk_fuzz_next(rng) % size);
  for (size_t k = 0; k < size; ++k) {
    const size_t i = (start + k) % size;
    if (i + kn <= size && memcmp(t + i, key, kn) == 0 && (i == 0 || t[i - 1] == ' ')) {
      size_t e = i + kn;
      while (e < size && t[e] != ' ' && t[e] != '\n') ++e;
      *vlen = e - i - kn;
      return i + kn;
    }
  }
  return size;
}

size_t qkm_mutate_text(uint8_t* t, size_t size, size_t cap, qk_fuzz_rng* rng) {
  static const char* numbers[] = {"0", "1", "2", "3", "-1", "4", "5", "127", "-128", "255", "256", "-129", "65536",
                                  "2147483647", "2147483648", "4294967296", "-9223372036854775808",
                                  "9223372036854775807", "99999999999999999999", "16", "1,1", ""};
  static const char* ops[] = {"conv2d", "linear", "batchnorm", "relu", "hardtanh", "max_pool2d", "avg_pool2d",
                              "global_avg_pool2d", "flatten", "add", "dropout", "softmax", "sigmoid", "hardswish",
                              "concat", "reshape", "bogus"};
  static const char* floats[] = {"0p+0", "-0p+0", "inf", "-inf", "nan", "1p+127", "1.fffffep+127", "1p+128", "1p-149",
                                 "1p-126", "-1p+0", "6p+0", "1p-8", "0x1p-4", "1e3"};
  static const char* name_keys[] = {"in=", "in2=", "in3=", "out=", "name=", "input "};
  static const char* float_keys[] = {"lo=", "hi=", "eps=", "scale="};
  static const char* lines[] = {"output x\n", "io_layout nhwc\n", "io_layout nchw\n", "fused a+b\n", "state converted\n",
                                "state dynamic\n", "tensor name=x dtype=5 scale=1p-4 zp=0 qmin=0 qmax=255\n",
                                "tensor name=x dtype=4 scale=1p-4 zp=0 qmin=-128 qmax=127\n",
                                "layer op=relu name=zz in=x out=zz quant=0\n",
                                "layer op=concat name=cc in=x in2=x out=cc quant=0\n",
                                "layer op=add name=aa in=x in2=x out=aa quant=0\n", "qkmodel 1\n", "qkmodel 2\n"};
#define PICK(a) a[qk_fuzz_next(rng) % (sizeof a / sizeof a[0])]
  size_t len = 0, vlen = 0, at;
  if (size == 0) {
    const char* l = PICK(lines);
    return splice(t, size, cap, 0, 0, l, strlen(l));
  }
  switch (qk_fuzz_next(rng) % 9) {
    case 0: { /* a number */
      at = (size_t)(qk_fuzz_next(rng) % size);
      while (at < size && !(t[at] >= '0' && t[at] <= '9')) ++at;
      if (at == size) return size;
      if (at > 0 && t[at - 1] == '-') --at;
      size_t e = at + 1;
      while (e < size && t[e] >= '0' && t[e] <= '9') ++e;
      const char* n = PICK(numbers);
      return splice(t, size, cap, at, e - at, n, strlen(n));
    }
    case 1: /* delete a line */
      at = pick_line(t, size, rng, &len);
      return splice(t, size, cap, at, len + (at + len < size), "", 0);
    case 2: { /* duplicate a line */
      at = pick_line(t, size, rng, &len);
      if (len + 1 > cap - size || len > 4096) return size;
      char buf[4097];
      memcpy(buf, t + at, len);
      buf[len] = '\n';
      return splice(t, size, cap, at, 0, buf, len + 1);
    }
    case 3: { /* move a line to the end */
      at = pick_line(t, size, rng, &len);
      if (len > 4096 || at + len >= size) return size;
      char buf[4098];
      memcpy(buf, t + at, len + 1);
      size = splice(t, size, cap, at, len + 1, "", 0);
      if (size > 0 && t[size - 1] != '\n') buf[len] = '\n';
      return splice(t, size, cap, size, 0, buf, len + 1);
    }
    case 4: { /* drop a key=value token */
      at = (size_t)(qk_fuzz_next(rng) % size);
      while (at < size && t[at] != ' ') ++at;
      if (at == size) return size;
      size_t e = at + 1;
      while (e < size && t[e] != ' ' && t[e] != '\n') ++e;
      return splice(t, size, cap, at, e - at, "", 0);
    }
    case 5: { /* another op */
      at = find_value(t, size, "op=", rng, &vlen);
      const char* op = PICK(ops);
      return at == size ? size : splice(t, size, cap, at, vlen, op, strlen(op));
    }
    case 6: { /* a name becomes another name of the graph */
      at = find_value(t, size, PICK(name_keys), rng, &vlen);
      size_t olen = 0;
      const size_t other = find_value(t, size, qk_fuzz_next(rng) % 2 ? "out=" : "name=", rng, &olen);
      if (at == size || other == size || olen > 256) return size;
      char buf[257];
      memcpy(buf, t + other, olen);
      return splice(t, size, cap, at, vlen, buf, olen);
    }
    case 7: { /* a float value */
      at = find_value(t, size, PICK(float_keys), rng, &vlen);
      const char* f = PICK(floats);
      return at == size ? size : splice(t, size, cap, at, vlen, f, strlen(f));
    }
    default: { /* insert a known line */
      at = pick_line(t, size, rng, &len);
      const char* l = PICK(lines);
      return splice(t, size, cap, at, 0, l, strlen(l));
    }
  }
#undef PICK
}
