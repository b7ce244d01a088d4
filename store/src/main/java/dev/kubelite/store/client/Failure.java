package dev.kubelite.store.client;

import io.vertx.grpc.common.GrpcStatus;

/**
 * One failed attempt, classified for the retry policy: whether the request certainly was not
 * applied ({@code notApplied}), and the exception the caller gets if it is not retried.
 */
record Failure(boolean notApplied, boolean transientError, KvStoreException error) {

  /** Failures that happened before the request left this process (e.g. connection refused). */
  static Failure notSent(String what, Throwable cause) {
    return new Failure(
        true,
        true,
        new KvStoreException(
            KvStoreException.Code.UNAVAILABLE, what + ": not sent: " + describe(cause), cause));
  }

  /** The request was sent and no answer came (timeout, connection reset). */
  static Failure lost(String what, Throwable cause) {
    return new Failure(
        false,
        true,
        new KvStoreException(
            KvStoreException.Code.UNKNOWN_OUTCOME,
            what + ": sent but no answer (" + describe(cause) + "); it may have been applied",
            cause));
  }

  /** The store answered with a non-OK gRPC status and etcd's message. */
  static Failure status(String what, GrpcStatus status, String message) {
    String text = what + ": " + status.name() + " " + (message == null ? "" : message);
    String m = message == null ? "" : message;
    KvStoreException.Code code;
    boolean notApplied = true;
    boolean transientError = false;
    switch (status) {
      case OUT_OF_RANGE ->
          code =
              m.contains("compacted")
                  ? KvStoreException.Code.COMPACTED
                  : m.contains("future")
                      ? KvStoreException.Code.FUTURE_REVISION
                      : KvStoreException.Code.INVALID_ARGUMENT;
      case INVALID_ARGUMENT ->
          code =
              m.contains("too large")
                  ? KvStoreException.Code.TOO_LARGE
                  : KvStoreException.Code.INVALID_ARGUMENT;
      case RESOURCE_EXHAUSTED ->
          // gRPC's own message size limit (etcd: max-request-bytes + 512 KiB).
          code = KvStoreException.Code.TOO_LARGE;
      case UNAVAILABLE -> {
        transientError = true;
        // etcd rejects requests before processing them while it has no leader; anything else
        // (request timed out, server stopped, leader changed) may have been applied.
        notApplied = m.contains("no leader");
        code =
            notApplied ? KvStoreException.Code.UNAVAILABLE : KvStoreException.Code.UNKNOWN_OUTCOME;
      }
      case FAILED_PRECONDITION ->
          // Our store: a re-sent request id below the client's deduplication window.
          code =
              m.contains("deduplication window")
                  ? KvStoreException.Code.UNKNOWN_OUTCOME
                  : KvStoreException.Code.INTERNAL;
      case DEADLINE_EXCEEDED, CANCELLED -> {
        transientError = true;
        notApplied = false;
        code = KvStoreException.Code.UNKNOWN_OUTCOME;
      }
      default -> code = KvStoreException.Code.INTERNAL;
    }
    return new Failure(notApplied, transientError, new KvStoreException(code, text));
  }

  static String describe(Throwable t) {
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }
}
