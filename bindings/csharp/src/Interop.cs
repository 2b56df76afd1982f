// SPDX-License-Identifier: Apache-2.0
// Array marshalling for the SWIG glue (quantkit_csharp.i): inputs are pinned in place for the
// call (no copy), results are copied once out of the native buffer and the buffer freed.
using System;
using System.Runtime.InteropServices;

namespace QuantKit {
  /// <summary>qk_cs_span: pointer + element count of a pinned array.</summary>
  [StructLayout(LayoutKind.Sequential)]
  internal struct QkSpan {
    public IntPtr Data;
    public UIntPtr Count;
  }

  /// <summary>Pins one array argument for the duration of a call; null stays a null pointer.</summary>
  internal struct QkPin {
    GCHandle handle;
    public QkSpan Span;

    public QkPin(Array array) {
      handle = default(GCHandle);
      Span = default(QkSpan);
      if (array != null) {
        handle = GCHandle.Alloc(array, GCHandleType.Pinned);
        Span.Data = handle.AddrOfPinnedObject();
        Span.Count = (UIntPtr)(ulong)array.LongLength;
      }
    }

    public void Free() {
      if (handle.IsAllocated) handle.Free();
    }
  }

  /// <summary>Copies a qk_swig_buf result (data pointer, then size_t byte count) into a new array.</summary>
  internal static class QkBuf {
    static long Bytes(IntPtr buf) { return (long)Marshal.ReadIntPtr(buf, IntPtr.Size); }
    static IntPtr Data(IntPtr buf) { return Marshal.ReadIntPtr(buf, 0); }

    public static float[] TakeFloats(IntPtr buf) {
      if (buf == IntPtr.Zero) return null;
      try {
        var a = new float[Bytes(buf) / 4];
        Marshal.Copy(Data(buf), a, 0, a.Length);
        return a;
      } finally { QkPINVOKE.QkBufFree(buf); }
    }

    public static int[] TakeInts(IntPtr buf) {
      if (buf == IntPtr.Zero) return null;
      try {
        var a = new int[Bytes(buf) / 4];
        Marshal.Copy(Data(buf), a, 0, a.Length);
        return a;
      } finally { QkPINVOKE.QkBufFree(buf); }
    }

    public static byte[] TakeBytes(IntPtr buf) {
      if (buf == IntPtr.Zero) return null;
      try {
        var a = new byte[Bytes(buf)];
        Marshal.Copy(Data(buf), a, 0, a.Length);
        return a;
      } finally { QkPINVOKE.QkBufFree(buf); }
    }

    public static ushort[] TakeUShorts(IntPtr buf) {
      if (buf == IntPtr.Zero) return null;
      try {
        var s = new short[Bytes(buf) / 2];
        Marshal.Copy(Data(buf), s, 0, s.Length);
        var a = new ushort[s.Length];
        Buffer.BlockCopy(s, 0, a, 0, s.Length * 2);
        return a;
      } finally { QkPINVOKE.QkBufFree(buf); }
    }
  }
}
