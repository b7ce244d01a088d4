package dev.kubelite.store.raft;

/**
 * A bounded window of APPEND messages sent to one follower and not yet acknowledged, recorded by
 * the last index each carried. Bounding it is the leader's flow control: pipelining stops when it
 * is full.
 */
final class Inflights {
  private final long[] buffer;
  private int start;
  private int count;

  Inflights(int capacity) {
    buffer = new long[capacity];
  }

  boolean full() {
    return count == buffer.length;
  }

  int count() {
    return count;
  }

  void add(long lastIndex) {
    if (full()) {
      throw new IllegalStateException("inflight window full");
    }
    buffer[(start + count) % buffer.length] = lastIndex;
    count++;
  }

  /** Frees every message whose last index is at most {@code index} (acknowledged). */
  void freeUpTo(long index) {
    while (count > 0 && buffer[start] <= index) {
      start = (start + 1) % buffer.length;
      count--;
    }
  }

  void freeFirst() {
    if (count > 0) {
      start = (start + 1) % buffer.length;
      count--;
    }
  }

  void reset() {
    start = 0;
    count = 0;
  }
}
