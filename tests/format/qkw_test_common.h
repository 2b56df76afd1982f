/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the .qkw tests: a private temporary folder, whole-file IO, deterministic data. */
#ifndef QKW_TEST_COMMON_H
#define QKW_TEST_COMMON_H

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qk_test_util.h"

static char qkwt_dir[256];

static inline void qkwt_rm_rf(const char* dir) {
  DIR* d = opendir(dir);
  if (!d) return;
  struct dirent* e;
  char p[1024];
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    /* a path that does not fit is skipped (test folders are short); checking the result also
     * tells GCC the truncation is handled */
    if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
    struct stat st;
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
      chmod(p, 0700);
      qkwt_rm_rf(p);
    } else {
      unlink(p);
    }
  }
  closedir(d);
  rmdir(dir);
}

static int qkwt_setup_dir(void** state) {
  (void)state;
  snprintf(qkwt_dir, sizeof qkwt_dir, "/tmp/qkw_test_XXXXXX");
  return mkdtemp(qkwt_dir) ? 0 : -1;
}
static int qkwt_teardown_dir(void** state) {
  (void)state;
  qkwt_rm_rf(qkwt_dir);
  return 0;
}

/* Path of `name` inside the private folder (static buffer rotation: 4 live at a time). */
static inline const char* qkwt_path(const char* name) {
  static char buf[4][1024];
  static int k = 0;
  k = (k + 1) & 3;
  snprintf(buf[k], sizeof buf[k], "%s/%s", qkwt_dir, name);
  return buf[k];
}

/* Number of entries (other than . and ..) in a folder, -1 if it cannot be opened. */
static inline int qkwt_count_entries(const char* dir) {
  DIR* d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) ++n;
  closedir(d);
  return n;
}

static inline uint8_t* qkwt_read_file(const char* path, size_t* size_out) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t* buf = (uint8_t*)malloc(n > 0 ? (size_t)n : 1);
  if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *size_out = (size_t)n;
  return buf;
}

static inline int qkwt_write_file(const char* path, const void* data, size_t size) {
  FILE* f = fopen(path, "wb");
  if (!f) return -1;
  const size_t w = size ? fwrite(data, 1, size, f) : 0;
  fclose(f);
  return w == size ? 0 : -1;
}

/* Approximately normal values (sum of 4 uniforms), deterministic. */
static inline void qkwt_gauss(qk_test_rng* r, float* x, size_t n, float sigma) {
  for (size_t i = 0; i < n; ++i) {
    float s = 0;
    for (int k = 0; k < 4; ++k) s += qk_test_uniform(r, -1.0f, 1.0f);
    x[i] = s * sigma * 0.866f;
  }
}

static inline int qkwt_rel_close(double a, double b, double rel) {
  if (isinf(a) || isinf(b)) return a == b;
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
  const double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
  return fabs(a - b) <= rel * m || fabs(a - b) < 1e-300;
}

#endif
