package dev.kubelite.kubectl.write;

import dev.kubelite.client.ApiException;

/**
 * A refusal from the server while working on one object of several, with what was being done
 * ({@code error when creating "pod.yaml"}); the command prints it and goes on with the others.
 */
public final class ApiFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final transient ApiException refusal;
  private final String when;

  public ApiFailure(ApiException refusal, String when) {
    super(when, refusal);
    this.refusal = refusal;
    this.when = when;
  }

  /** kubectl's line: {@code Error from server (Reason): <when>: <message>}. */
  public String message() {
    return WriteOutput.serverError(refusal, when);
  }
}
