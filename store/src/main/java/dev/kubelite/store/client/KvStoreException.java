package dev.kubelite.store.client;

/**
 * A store request that failed. {@link Code} says what the caller can conclude; the message names
 * the operation, the key and the store's own error text.
 */
public final class KvStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Failure classes the API server maps to HTTP answers. */
  public enum Code {
    /** The requested revision is compacted (Kubernetes: 410 Gone). */
    COMPACTED,
    /** The requested revision is newer than the store's. */
    FUTURE_REVISION,
    /** The request exceeds the store's request size limit (etcd: 1.5 MiB by default). */
    TOO_LARGE,
    /** The store rejected the request as malformed. */
    INVALID_ARGUMENT,
    /** No endpoint could serve the request; a write was certainly not applied. */
    UNAVAILABLE,
    /** A write may or may not have been applied (timeout or connection lost after sending). */
    UNKNOWN_OUTCOME,
    /** The client was closed. */
    CLOSED,
    /** Anything else (a bug or an unexpected store answer). */
    INTERNAL
  }

  private final Code code;

  public KvStoreException(Code code, String message) {
    super(message);
    this.code = code;
  }

  public KvStoreException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public Code code() {
    return code;
  }

  @Override
  public String toString() {
    return "KvStoreException[" + code + "]: " + getMessage();
  }
}
