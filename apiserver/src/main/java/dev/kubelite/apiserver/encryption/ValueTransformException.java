package dev.kubelite.apiserver.encryption;

/** A stored value that cannot be read (or a value that cannot be written) with the providers. */
public final class ValueTransformException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ValueTransformException(String message, Throwable cause) {
    super(message, cause);
  }

  public ValueTransformException(String message) {
    super(message);
  }

  /** Whether {@code t} or one of its causes is a {@link ValueTransformException}. */
  public static boolean in(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ValueTransformException) {
        return true;
      }
      if (c.getCause() == c) {
        return false;
      }
    }
    return false;
  }
}
