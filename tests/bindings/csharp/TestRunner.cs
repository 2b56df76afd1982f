// SPDX-License-Identifier: Apache-2.0
// A minimal test runner (no NUnit on this machine): every public static void method of
// QuantKitTests whose name starts with "Test" runs once; prints "N passed, N failed" and exits 1
// on any failure.
using System;
using System.Reflection;

static class TestRunner {
  public static void Equal<T>(T want, T got, string what = "") {
    if (!Equals(want, got)) throw new Exception(string.Format("{0}: expected {1}, got {2}", what, want, got));
  }

  public static void SeqEqual<T>(T[] want, T[] got, string what = "") {
    if (want == null || got == null || want.Length != got.Length)
      throw new Exception(string.Format("{0}: lengths {1} vs {2}", what, want == null ? -1 : want.Length,
                                        got == null ? -1 : got.Length));
    for (int i = 0; i < want.Length; i++)
      if (!Equals(want[i], got[i]))
        throw new Exception(string.Format("{0}[{1}]: expected {2}, got {3}", what, i, want[i], got[i]));
  }

  public static void True(bool cond, string what) {
    if (!cond) throw new Exception(what);
  }

  public static QuantKit.QuantKitException Throws(int status, Action a) {
    try {
      a();
    } catch (QuantKit.QuantKitException e) {
      if (e.StatusCode != status) throw new Exception(string.Format("status {0} instead of {1}: {2}", e.StatusCode, status, e.Message));
      return e;
    }
    throw new Exception("no QuantKitException (status " + status + ")");
  }

  static int Main() {
    int passed = 0, failed = 0;
    foreach (MethodInfo m in typeof(QuantKitTests).GetMethods(BindingFlags.Public | BindingFlags.Static)) {
      if (!m.Name.StartsWith("Test") || m.GetParameters().Length != 0) continue;
      try {
        m.Invoke(null, null);
        passed++;
        Console.WriteLine("PASS " + m.Name);
      } catch (TargetInvocationException e) {
        failed++;
        Console.WriteLine("FAIL " + m.Name + ": " + e.InnerException);
      }
    }
    Console.WriteLine("{0} passed, {1} failed", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
  }
}
