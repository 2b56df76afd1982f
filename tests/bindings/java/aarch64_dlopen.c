/* SPDX-License-Identifier: Apache-2.0 */
/* Loads the linux-aarch64 JNI glue of quantkit.jar (and through it libquantkit.so.1) with every
 * symbol resolved, then calls two of its JNI entry points that never touch the JNIEnv (no error:
 * the glue only reads the thread-local error slot): the glue and its core really run on aarch64.
 * usage: aarch64_dlopen <dir>/libquantkit_jni.so */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "quantkit/quantkit.h" /* the version macros only: the library comes from the glue */

typedef long long (*jni_u32_fn)(void* env, void* cls);

int main(int argc, char** argv) {
  void* h;
  jni_u32_fn abi, version;
  const long long want = QK_VERSION_NUMBER;
  if (argc != 2) {
    fprintf(stderr, "usage: %s libquantkit_jni.so\n", argv[0]);
    return 2;
  }
  h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  abi = (jni_u32_fn)dlsym(h, "Java_org_quantkit_QuantKitJNI_qk_1abi_1version");
  version = (jni_u32_fn)dlsym(h, "Java_org_quantkit_QuantKitJNI_qk_1version_1number");
  if (abi == NULL || version == NULL) {
    fprintf(stderr, "dlsym: JNI entry points missing\n");
    return 1;
  }
  printf("aarch64 glue: qk_abi_version %lld, qk_version_number %lld\n", abi(NULL, NULL), version(NULL, NULL));
  if (abi(NULL, NULL) != QK_ABI_VERSION || version(NULL, NULL) != want) {
    fprintf(stderr, "unexpected values (want abi %d, version %lld)\n", QK_ABI_VERSION, want);
    return 1;
  }
  dlclose(h);
  return 0;
}
