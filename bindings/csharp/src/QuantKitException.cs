// SPDX-License-Identifier: Apache-2.0
namespace QuantKit {
  /// <summary>A QuantKit call failed. Thrown by every wrapped method and function (the glue's one
  /// error mapping, bindings/csharp/quantkit_csharp.i). <see cref="StatusCode"/> is the qk_status
  /// value, or <see cref="Closed"/> for a method called on a disposed handle; <see cref="Detail"/>
  /// is the library's message (qk_last_error()) or the binding's own argument check.</summary>
  public class QuantKitException : System.Exception {
    /// <summary>Status of a method called after Dispose(). Not a qk_status value.</summary>
    public const int Closed = -1;

    public int StatusCode { get; private set; }
    public string Detail { get; private set; }

    public QuantKitException(int status, string detail) : base(NameOf(status) + ": " + detail) {
      StatusCode = status;
      Detail = detail;
    }

    /// <summary>The status as the Status enum; null for Closed.</summary>
    public Status? StatusEnum {
      get { return System.Enum.IsDefined(typeof(Status), StatusCode) ? (Status?)(Status)StatusCode : null; }
    }

    public string StatusName { get { return NameOf(StatusCode); } }

    public bool IsClosed { get { return StatusCode == Closed; } }

    static string NameOf(int status) {
      if (status == Closed) return "CLOSED";
      return System.Enum.IsDefined(typeof(Status), status) ? ((Status)status).ToString() : "QK_STATUS_" + status;
    }
  }
}
