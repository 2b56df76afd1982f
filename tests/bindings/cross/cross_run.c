/* SPDX-License-Identifier: Apache-2.0 */
/* cross_run DIR: loads DIR/model.qkw with the C API only, runs DIR/input.f32 (shape in
 * DIR/input.shape) and exits 0 only if the output bytes equal DIR/expected.f32 exactly (the file
 * the Python binding wrote from its own Model.run). Prints the first mismatch otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quantkit/quantkit.h"

/* The whole file in a malloc'd buffer; NULL (with a message) on failure. */
static unsigned char* slurp(const char* dir, const char* name, size_t* size) {
  char path[4096];
  unsigned char* data = NULL;
  long n = -1;
  FILE* f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "cross_run: cannot open %s\n", path);
    return NULL;
  }
  if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n + 1)) != NULL &&
      fread(data, 1, (size_t)n, f) == (size_t)n) {
    data[n] = '\0';
    *size = (size_t)n;
  } else {
    fprintf(stderr, "cross_run: cannot read %s\n", path);
    free(data);
    data = NULL;
  }
  fclose(f);
  return data;
}

int main(int argc, char** argv) {
  size_t shape_len = 0, in_len = 0, want_len = 0, rank = 0, out_rank = 0;
  int64_t shape[QK_MAX_RANK], out_shape[QK_MAX_RANK];
  uint64_t in_count = 0, out_count = 1;
  unsigned char *shape_txt, *input, *want;
  float* got;
  qk_model* model = NULL;
  qk_status s;
  char *p, *end;
  int rc = 1;
  if (argc != 2) {
    fprintf(stderr, "usage: cross_run DIR (DIR holds model.qkw input.f32 input.shape expected.f32)\n");
    return 2;
  }
  shape_txt = slurp(argv[1], "input.shape", &shape_len);
  input = slurp(argv[1], "input.f32", &in_len);
  want = slurp(argv[1], "expected.f32", &want_len);
  if (shape_txt == NULL || input == NULL || want == NULL) goto done;
  for (p = (char*)shape_txt; rank < QK_MAX_RANK; p = end) {
    long long d = strtoll(p, &end, 10);
    if (end == p) break;
    shape[rank++] = (int64_t)d;
  }
  if (rank < 2 || qk_shape_element_count(shape, rank, &in_count) != QK_OK || in_count * 4 != in_len) {
    fprintf(stderr, "cross_run: input.shape does not describe input.f32 (%zu bytes)\n", in_len);
    goto done;
  }
  {
    char path[4096];
    snprintf(path, sizeof path, "%s/model.qkw", argv[1]);
    s = qk_model_load(path, &model);
  }
  if (s != QK_OK || (s = qk_model_output_shape(model, out_shape, QK_MAX_RANK, &out_rank)) != QK_OK) {
    fprintf(stderr, "cross_run: %s: %s\n", qk_status_string(s), qk_last_error());
    goto done;
  }
  out_count = (uint64_t)shape[0];
  for (size_t i = 0; i < out_rank; ++i) out_count *= (uint64_t)out_shape[i];
  if (out_count * 4 != want_len) {
    fprintf(stderr, "cross_run: expected.f32 has %zu bytes, the model writes %llu floats\n", want_len,
            (unsigned long long)out_count);
    goto done;
  }
  got = malloc((size_t)out_count * sizeof(float));
  if (got == NULL) goto done;
  /* The files are little-endian; so is every platform this runs on (memcpy keeps it exact). */
  {
    float* x = malloc((size_t)in_count * sizeof(float));
    if (x == NULL) {
      free(got);
      goto done;
    }
    memcpy(x, input, in_len);
    s = qk_model_run(model, x, shape, rank, got, (size_t)out_count, NULL);
    free(x);
  }
  if (s != QK_OK) {
    fprintf(stderr, "cross_run: qk_model_run: %s: %s\n", qk_status_string(s), qk_last_error());
  } else if (memcmp(got, want, want_len) != 0) {
    for (uint64_t i = 0; i < out_count; ++i) {
      float w;
      memcpy(&w, want + 4 * i, 4);
      if (memcmp(&got[i], &w, 4) != 0) {
        fprintf(stderr, "cross_run: output %llu: C %.9g, Python %.9g (of %llu)\n", (unsigned long long)i,
                (double)got[i], (double)w, (unsigned long long)out_count);
        break;
      }
    }
  } else {
    printf("cross_run: %llu outputs bit-identical to the Python binding's\n", (unsigned long long)out_count);
    rc = 0;
  }
  free(got);
done:
  qk_model_destroy(model);
  free(shape_txt);
  free(input);
  free(want);
  return rc;
}
