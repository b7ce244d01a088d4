package dev.kubelite.store.mvcc;

/**
 * etcd's {@code RangeRequest}. rangeEnd empty = single key; "\0" = every key >= key; otherwise
 * [key, rangeEnd). revision <= 0 reads the current revision. limit 0 = no limit. Min/max filters of
 * 0 are off. {@code serializable} is carried for the server and ignored by the engine.
 */
public record Range(
    byte[] key,
    byte[] rangeEnd,
    long limit,
    long revision,
    SortOrder sortOrder,
    SortTarget sortTarget,
    boolean serializable,
    boolean keysOnly,
    boolean countOnly,
    long minModRevision,
    long maxModRevision,
    long minCreateRevision,
    long maxCreateRevision)
    implements Op {

  /** Sort order. */
  public enum SortOrder {
    NONE,
    ASCEND,
    DESCEND
  }

  /** Sort field. */
  public enum SortTarget {
    KEY,
    VERSION,
    CREATE,
    MOD,
    VALUE
  }

  public Range {
    key = Bytes.orEmpty(key);
    rangeEnd = Bytes.orEmpty(rangeEnd);
    sortOrder = sortOrder == null ? SortOrder.NONE : sortOrder;
    sortTarget = sortTarget == null ? SortTarget.KEY : sortTarget;
  }

  /** Reads [key, rangeEnd) at the current revision with no options. */
  public static Range of(byte[] key, byte[] rangeEnd) {
    return new Range(
        key, rangeEnd, 0, 0, SortOrder.NONE, SortTarget.KEY, false, false, false, 0, 0, 0, 0);
  }

  /** Reads one key. */
  public static Range key(byte[] key) {
    return of(key, Bytes.EMPTY);
  }

  public Range withLimit(long l) {
    return new Range(
        key,
        rangeEnd,
        l,
        revision,
        sortOrder,
        sortTarget,
        serializable,
        keysOnly,
        countOnly,
        minModRevision,
        maxModRevision,
        minCreateRevision,
        maxCreateRevision);
  }

  public Range withRevision(long r) {
    return new Range(
        key,
        rangeEnd,
        limit,
        r,
        sortOrder,
        sortTarget,
        serializable,
        keysOnly,
        countOnly,
        minModRevision,
        maxModRevision,
        minCreateRevision,
        maxCreateRevision);
  }

  public Range withSort(SortOrder order, SortTarget target) {
    return new Range(
        key,
        rangeEnd,
        limit,
        revision,
        order,
        target,
        serializable,
        keysOnly,
        countOnly,
        minModRevision,
        maxModRevision,
        minCreateRevision,
        maxCreateRevision);
  }

  public Range withKeysOnly(boolean b) {
    return new Range(
        key,
        rangeEnd,
        limit,
        revision,
        sortOrder,
        sortTarget,
        serializable,
        b,
        countOnly,
        minModRevision,
        maxModRevision,
        minCreateRevision,
        maxCreateRevision);
  }

  public Range withCountOnly(boolean b) {
    return new Range(
        key,
        rangeEnd,
        limit,
        revision,
        sortOrder,
        sortTarget,
        serializable,
        keysOnly,
        b,
        minModRevision,
        maxModRevision,
        minCreateRevision,
        maxCreateRevision);
  }

  public Range withModRevisions(long min, long max) {
    return new Range(
        key,
        rangeEnd,
        limit,
        revision,
        sortOrder,
        sortTarget,
        serializable,
        keysOnly,
        countOnly,
        min,
        max,
        minCreateRevision,
        maxCreateRevision);
  }

  public Range withCreateRevisions(long min, long max) {
    return new Range(
        key,
        rangeEnd,
        limit,
        revision,
        sortOrder,
        sortTarget,
        serializable,
        keysOnly,
        countOnly,
        minModRevision,
        maxModRevision,
        min,
        max);
  }
}
