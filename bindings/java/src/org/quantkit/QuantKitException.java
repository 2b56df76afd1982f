// SPDX-License-Identifier: Apache-2.0
package org.quantkit;

/**
 * A QuantKit call failed. Thrown by every wrapped method and function (the glue's one error
 * mapping, bindings/java/quantkit_java.i). Unchecked: every method can fail (a closed handle, a
 * wrong array length), so a checked exception would only teach callers to wrap and rethrow.
 *
 * <p>{@link #getStatus()} is the {@code qk_status} value ({@code Status.QK_ERR_*.swigValue()}),
 * or {@link #CLOSED} for a method called on a closed handle; {@link #getDetail()} is the
 * library's message ({@code qk_last_error()}) or the binding's own argument check.
 */
public class QuantKitException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Status of a method called after close(). Not a qk_status value. */
  public static final int CLOSED = -1;

  private final int status;
  private final String detail;

  /** Called by the JNI glue. */
  public QuantKitException(int status, String detail) {
    super(statusName(status) + ": " + detail);
    this.status = status;
    this.detail = detail;
  }

  public int getStatus() { return status; }

  /** The status as the Status enum; null for CLOSED (or a status this jar does not know). */
  public Status getStatusEnum() {
    for (Status s : Status.values())
      if (s.swigValue() == status) return s;
    return null;
  }

  public String getStatusName() { return statusName(status); }

  public String getDetail() { return detail; }

  public boolean isClosed() { return status == CLOSED; }

  private static String statusName(int status) {
    if (status == CLOSED) return "CLOSED";
    for (Status s : Status.values())
      if (s.swigValue() == status) return s.name();
    return "QK_STATUS_" + status;
  }
}
