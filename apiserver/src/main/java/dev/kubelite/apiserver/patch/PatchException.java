package dev.kubelite.apiserver.patch;

/** A patch that cannot be applied to the object (answered 422, as Kubernetes does). */
public final class PatchException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public PatchException(String message) {
    super(message);
  }
}
