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
    Copy c = new Copy(this);
    c.limit = l;
    return c.build();
  }

  public Range withRevision(long r) {
    Copy c = new Copy(this);
    c.revision = r;
    return c.build();
  }

  public Range withSort(SortOrder order, SortTarget target) {
    Copy c = new Copy(this);
    c.sortOrder = order;
    c.sortTarget = target;
    return c.build();
  }

  public Range withKeysOnly(boolean b) {
    Copy c = new Copy(this);
    c.keysOnly = b;
    return c.build();
  }

  public Range withCountOnly(boolean b) {
    Copy c = new Copy(this);
    c.countOnly = b;
    return c.build();
  }

  public Range withModRevisions(long min, long max) {
    Copy c = new Copy(this);
    c.minModRevision = min;
    c.maxModRevision = max;
    return c.build();
  }

  public Range withCreateRevisions(long min, long max) {
    Copy c = new Copy(this);
    c.minCreateRevision = min;
    c.maxCreateRevision = max;
    return c.build();
  }

  /** A mutable copy of a range, so each wither names only the fields it changes. */
  private static final class Copy {
    private final byte[] key;
    private final byte[] rangeEnd;
    private final boolean serializable;
    long limit;
    long revision;
    SortOrder sortOrder;
    SortTarget sortTarget;
    boolean keysOnly;
    boolean countOnly;
    long minModRevision;
    long maxModRevision;
    long minCreateRevision;
    long maxCreateRevision;

    Copy(Range r) {
      key = r.key;
      rangeEnd = r.rangeEnd;
      serializable = r.serializable;
      limit = r.limit;
      revision = r.revision;
      sortOrder = r.sortOrder;
      sortTarget = r.sortTarget;
      keysOnly = r.keysOnly;
      countOnly = r.countOnly;
      minModRevision = r.minModRevision;
      maxModRevision = r.maxModRevision;
      minCreateRevision = r.minCreateRevision;
      maxCreateRevision = r.maxCreateRevision;
    }

    Range build() {
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
          minCreateRevision,
          maxCreateRevision);
    }
  }
}
