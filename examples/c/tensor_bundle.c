/* SPDX-License-Identifier: Apache-2.0 */
/* Bounds-checked reader for .qktb bundles: every count is checked against the bytes left. */
#include "tensor_bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cursor {
  const unsigned char* p;
  size_t left;
} cursor;

static int take(cursor* c, void* dst, size_t n) {
  if (c->left < n) return -1;
  memcpy(dst, c->p, n);
  c->p += n;
  c->left -= n;
  return 0;
}

static int parse(cursor* c, tensor_bundle* out) {
  char magic[4];
  uint32_t count;
  if (take(c, magic, 4) || memcmp(magic, "QKTB", 4) != 0 || take(c, &count, 4)) return -1;
  if (count > 4096) return -1;
  out->tensors = calloc(count ? count : 1, sizeof(bundle_tensor));
  if (!out->tensors) return -1;
  out->count = count;
  for (uint32_t i = 0; i < count; ++i) {
    bundle_tensor* t = &out->tensors[i];
    uint32_t name_len, rank;
    if (take(c, &name_len, 4) || name_len >= sizeof t->name || take(c, t->name, name_len)) return -1;
    t->name[name_len] = '\0';
    if (take(c, &rank, 4) || rank > 8) return -1;
    t->rank = rank;
    t->count = 1;
    for (uint32_t d = 0; d < rank; ++d) {
      if (take(c, &t->shape[d], 8) || t->shape[d] < 0 || t->shape[d] > (1 << 28)) return -1;
      t->count *= (uint64_t)t->shape[d];
    }
    if (t->count > c->left / 4) return -1;
    t->data = malloc(t->count ? t->count * 4 : 4);
    if (!t->data || take(c, t->data, t->count * 4)) return -1;
  }
  return c->left == 0 ? 0 : -1;
}

int bundle_load(const char* path, tensor_bundle* out) {
  memset(out, 0, sizeof *out);
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return -1;
  }
  unsigned char* bytes = NULL;
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
  if (size > 0 && fseek(f, 0, SEEK_SET) == 0 && (bytes = malloc((size_t)size)) != NULL &&
      fread(bytes, 1, (size_t)size, f) == (size_t)size) {
    cursor c = {bytes, (size_t)size};
    if (parse(&c, out) == 0) {
      free(bytes);
      fclose(f);
      return 0;
    }
  }
  fprintf(stderr, "%s is not a valid tensor bundle\n", path);
  free(bytes);
  fclose(f);
  bundle_free(out);
  return -1;
}

const bundle_tensor* bundle_find(const tensor_bundle* bundle, const char* name) {
  for (size_t i = 0; i < bundle->count; ++i)
    if (strcmp(bundle->tensors[i].name, name) == 0) return &bundle->tensors[i];
  return NULL;
}

void bundle_free(tensor_bundle* bundle) {
  if (bundle->tensors)
    for (size_t i = 0; i < bundle->count; ++i) free(bundle->tensors[i].data);
  free(bundle->tensors);
  bundle->tensors = NULL;
  bundle->count = 0;
}
