package dev.kubelite.client;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request the API server refused: carries the Kubernetes {@code Status} it answered with (code,
 * reason, message), or a synthesized one when the answer was not a Status.
 */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int code;
  private final String reason;
  private final transient ObjectNode status;

  public ApiException(int code, String reason, String message, ObjectNode status) {
    super(code + " " + reason + ": " + message);
    this.code = code;
    this.reason = reason;
    this.status = status;
  }

  /** The HTTP status code (404, 409, 410, ...). */
  public int code() {
    return code;
  }

  /** The Status reason (NotFound, AlreadyExists, Conflict, Expired, ...). */
  public String reason() {
    return reason;
  }

  /** The Status object as the server sent it (or synthesized). */
  public ObjectNode status() {
    return status;
  }

  public boolean isNotFound() {
    return code == 404;
  }

  public boolean isConflict() {
    return code == 409;
  }

  /** 410 Gone: the resourceVersion asked for has been compacted ({@code Expired}). */
  public boolean isGone() {
    return code == 410;
  }
}
