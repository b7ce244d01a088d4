package dev.kubelite.store.mvcc;

/**
 * A request the MVCC engine rejects. The code mirrors etcd's error so the gRPC layer can map it to
 * etcd's status code and message; the message says what failed and what the client can do.
 */
public final class MvccException extends Exception {
  private static final long serialVersionUID = 1L;

  /** etcd-equivalent error codes. */
  public enum Code {
    /** mvcc: required revision has been compacted (gRPC OutOfRange). */
    COMPACTED,
    /** mvcc: required revision is a future revision (gRPC OutOfRange). */
    FUTURE_REV,
    /** etcdserver: key not found (ignore_value/ignore_lease on a missing key; InvalidArgument). */
    KEY_NOT_FOUND,
    /** Ours: a client request id already applied for a different request (InvalidArgument). */
    REQUEST_ID_REUSED,
    /**
     * Ours: a client request id below the client's deduplication window; whether it was applied
     * before is no longer known, so it is not applied (FailedPrecondition).
     */
    REQUEST_ID_EXPIRED,
    /** etcdserver: key is not provided (InvalidArgument). */
    EMPTY_KEY,
    /** etcdserver: value is provided (ignore_value with a value; InvalidArgument). */
    VALUE_PROVIDED,
    /** etcdserver: lease is provided (ignore_lease with a lease; InvalidArgument). */
    LEASE_PROVIDED,
    /** etcdserver: too many operations in txn request (InvalidArgument). */
    TOO_MANY_OPS,
    /** etcdserver: duplicate key given in txn request (InvalidArgument). */
    DUPLICATE_KEY,
    /** etcdserver: requested lease not found (NotFound). */
    LEASE_NOT_FOUND,
    /** etcdserver: lease already exists (FailedPrecondition). */
    LEASE_EXISTS,
    /** etcdserver: too large lease TTL (OutOfRange). */
    LEASE_TTL_TOO_LARGE,
    /**
     * etcdserver: mvcc: database space exceeded (ResourceExhausted): a NOSPACE alarm is active and
     * the write would add data.
     */
    NO_SPACE,
    /** etcdserver: corrupt cluster (DataLoss): a CORRUPT alarm is active. */
    CORRUPT
  }

  private final Code code;
  private final long compactRevision;

  public MvccException(Code code, String message) {
    this(code, message, 0);
  }

  MvccException(Code code, String message, long compactRevision) {
    super(message);
    this.code = code;
    this.compactRevision = compactRevision;
  }

  public Code code() {
    return code;
  }

  /** For {@link Code#COMPACTED}: the store's compacted revision (etcd's compact_revision). */
  public long compactRevision() {
    return compactRevision;
  }

  @Override
  public String toString() {
    return "MvccException[" + code + "]: " + getMessage();
  }
}
