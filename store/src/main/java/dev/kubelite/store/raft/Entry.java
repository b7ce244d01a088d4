package dev.kubelite.store.raft;

import java.util.Arrays;
import java.util.Objects;

/**
 * One Raft log entry. {@code data} is opaque to Raft for {@link Type#NORMAL} entries and an encoded
 * {@link ConfChange} for {@link Type#CONF_CHANGE} entries. An empty NORMAL entry is the no-op a new
 * leader appends to commit entries from earlier terms.
 */
public record Entry(long term, long index, Type type, byte[] data) {

  /** What the entry carries. */
  public enum Type {
    NORMAL,
    CONF_CHANGE
  }

  private static final byte[] EMPTY = new byte[0];

  public Entry {
    Objects.requireNonNull(type, "type");
    data = data == null ? EMPTY : data;
  }

  public static Entry normal(long term, long index, byte[] data) {
    return new Entry(term, index, Type.NORMAL, data);
  }

  /** Approximate size for batching decisions: payload plus a fixed per-entry overhead. */
  public long sizeBytes() {
    return data.length + 24L;
  }

  public Entry withPosition(long newTerm, long newIndex) {
    return new Entry(newTerm, newIndex, type, data);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Entry e
        && e.term == term
        && e.index == index
        && e.type == type
        && Arrays.equals(e.data, data);
  }

  @Override
  public int hashCode() {
    return Objects.hash(term, index, type) * 31 + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "Entry{" + index + "@" + term + " " + type + " " + data.length + "B}";
  }
}
