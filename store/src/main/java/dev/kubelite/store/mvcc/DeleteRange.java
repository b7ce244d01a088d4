package dev.kubelite.store.mvcc;

/** etcd's {@code DeleteRangeRequest}; key ranges as in {@link Range}. */
public record DeleteRange(byte[] key, byte[] rangeEnd, boolean prevKv) implements Op, WriteCommand {

  public DeleteRange {
    key = Bytes.orEmpty(key);
    rangeEnd = Bytes.orEmpty(rangeEnd);
  }

  public static DeleteRange of(byte[] key, byte[] rangeEnd) {
    return new DeleteRange(key, rangeEnd, false);
  }
}
