package dev.kubelite.store.raft;

import java.util.Objects;

/**
 * A state-machine image as of log position ({@code index}, {@code term}), with the membership in
 * force there. {@code data} is opaque to Raft.
 */
public record Snapshot(long index, long term, ConfState conf, byte[] data) {
  public static final Snapshot EMPTY = new Snapshot(0, 0, ConfState.EMPTY, new byte[0]);

  public Snapshot {
    Objects.requireNonNull(conf, "conf");
    data = data == null ? new byte[0] : data;
  }

  public boolean isEmpty() {
    return index == 0;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Snapshot s
        && s.index == index
        && s.term == term
        && s.conf.equals(conf)
        && java.util.Arrays.equals(s.data, data);
  }

  @Override
  public int hashCode() {
    return Objects.hash(index, term, conf) * 31 + java.util.Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "Snapshot{" + index + "@" + term + " " + conf + " " + data.length + "B}";
  }
}
