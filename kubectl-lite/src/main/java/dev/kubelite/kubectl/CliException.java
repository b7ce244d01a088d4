package dev.kubelite.kubectl;

/** A failure the user can fix; printed as {@code error: <message>} with exit code 1. */
public final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CliException(String message) {
    super(message);
  }
}
