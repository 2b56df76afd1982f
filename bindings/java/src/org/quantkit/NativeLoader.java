// SPDX-License-Identifier: Apache-2.0
package org.quantkit;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads the JNI glue (libquantkit_jni.so, which links libquantkit.so.1) once, before the first
 * native call (QuantKitJNI's static initialiser calls {@link #load()}). Order:
 *
 * <ol>
 *   <li>system property {@code org.quantkit.native.dir}: a directory holding both libraries;
 *   <li>{@code System.loadLibrary("quantkit_jni")}: java.library.path, and on Android the APK's
 *       jniLibs/&lt;abi&gt;/ (the platform extracts and links them);
 *   <li>the jar's resources {@code /native/<os>-<arch>/}: every file of that folder (listed in
 *       its {@code files} index) is copied to one temporary directory, so the glue's RUNPATH
 *       $ORIGIN finds libquantkit.so.1 beside it, then System.load()ed.
 * </ol>
 */
public final class NativeLoader {
  private static String loadedFrom;

  private NativeLoader() {}

  /** Where the glue came from: "dir:&lt;path&gt;", "library-path" or "resource:&lt;folder&gt;". */
  public static synchronized String loadedFrom() {
    load();
    return loadedFrom;
  }

  /** The resource folder for this JVM: linux-x86_64, linux-aarch64, ... */
  public static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (os.startsWith("linux")) os = "linux";
    else if (os.startsWith("mac") || os.startsWith("darwin")) os = "osx";
    else if (os.startsWith("windows")) os = "windows";
    if (arch.equals("amd64") || arch.equals("x86_64")) arch = "x86_64";
    else if (arch.equals("arm64") || arch.equals("aarch64")) arch = "aarch64";
    return os + "-" + arch;
  }

  public static synchronized void load() {
    if (loadedFrom != null) return;
    String dir = System.getProperty("org.quantkit.native.dir");
    if (dir != null && !dir.isEmpty()) {
      System.load(new File(dir, System.mapLibraryName("quantkit_jni")).getAbsolutePath());
      loadedFrom = "dir:" + dir;
      return;
    }
    UnsatisfiedLinkError fromPath;
    try {
      System.loadLibrary("quantkit_jni");
      loadedFrom = "library-path";
      return;
    } catch (UnsatisfiedLinkError e) {
      fromPath = e;
    }
    String folder = "/native/" + platform() + "/";
    try {
      Path tmp = extract(folder);
      if (tmp == null) {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError(
            "QuantKit: no native library for " + platform() + " in the jar (" + folder + ") and "
                + fromPath.getMessage());
        throw e;
      }
      System.load(tmp.resolve(System.mapLibraryName("quantkit_jni")).toString());
      loadedFrom = "resource:" + folder;
    } catch (IOException e) {
      UnsatisfiedLinkError err = new UnsatisfiedLinkError("QuantKit: cannot extract " + folder + ": " + e);
      err.initCause(e);
      throw err;
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    for (int n; (n = in.read(buf)) > 0;) out.write(buf, 0, n);
    return out.toByteArray();
  }

  /** Copies the folder's files to a new temporary directory (deleted when the JVM exits; the
   *  mapped libraries stay valid after unlinking). Null when the jar has no such folder. */
  private static Path extract(String folder) throws IOException {
    String[] names;
    try (InputStream index = NativeLoader.class.getResourceAsStream(folder + "files")) {
      if (index == null) return null;
      names = new String(readAll(index), StandardCharsets.UTF_8).trim().split("\\s+");
    }
    Path tmp = Files.createTempDirectory("quantkit-native");
    tmp.toFile().deleteOnExit();
    for (String name : names) {
      if (name.isEmpty() || name.contains("/") || name.contains("\\")) continue;
      try (InputStream in = NativeLoader.class.getResourceAsStream(folder + name)) {
        if (in == null) throw new IOException("resource " + folder + name + " listed but missing");
        Path dst = tmp.resolve(name);
        Files.copy(in, dst, StandardCopyOption.REPLACE_EXISTING);
        dst.toFile().deleteOnExit();
      }
    }
    return tmp;
  }
}
