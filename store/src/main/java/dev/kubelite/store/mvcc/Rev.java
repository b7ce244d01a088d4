package dev.kubelite.store.mvcc;

import java.nio.ByteBuffer;

/** A revision: main = the store revision of a write txn, sub = position of the change in it. */
record Rev(long main, long sub) implements Comparable<Rev> {
  static final byte PREFIX = 'r';

  byte[] toKey() {
    return ByteBuffer.allocate(17).put(PREFIX).putLong(main).putLong(sub).array();
  }

  static Rev fromKey(byte[] k) {
    ByteBuffer b = ByteBuffer.wrap(k);
    b.get();
    return new Rev(b.getLong(), b.getLong());
  }

  @Override
  public int compareTo(Rev o) {
    int c = Long.compare(main, o.main);
    return c != 0 ? c : Long.compare(sub, o.sub);
  }
}
