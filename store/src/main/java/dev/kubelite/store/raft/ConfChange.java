package dev.kubelite.store.raft;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * A single-server membership change. Changes take effect on each node when the entry carrying them
 * is applied; the leader admits only one unapplied change at a time, which keeps any two successive
 * configurations' majorities overlapping.
 *
 * @param context opaque to Raft: the store puts the member's attributes here (name, peer URLs), so
 *     every member learns them from the log
 */
public record ConfChange(Type type, long nodeId, byte[] context) {

  /** Kinds of change; promoting a learner is ADD_VOTER on a learner. */
  public enum Type {
    ADD_VOTER,
    ADD_LEARNER,
    REMOVE_NODE
  }

  public ConfChange {
    Objects.requireNonNull(type, "type");
    context = context == null ? new byte[0] : context;
  }

  public ConfChange(Type type, long nodeId) {
    this(type, nodeId, null);
  }

  public byte[] encode() {
    return ByteBuffer.allocate(13 + context.length)
        .put((byte) type.ordinal())
        .putLong(nodeId)
        .putInt(context.length)
        .put(context)
        .array();
  }

  public static ConfChange decode(byte[] data) {
    if (data.length < 13) {
      throw new IllegalArgumentException("conf change needs at least 13 bytes, got " + data.length);
    }
    ByteBuffer buf = ByteBuffer.wrap(data);
    int type = buf.get();
    if (type < 0 || type >= Type.values().length) {
      throw new IllegalArgumentException("unknown conf change type " + type);
    }
    long nodeId = buf.getLong();
    int len = buf.getInt();
    if (len != buf.remaining()) {
      throw new IllegalArgumentException(
          "conf change context of " + len + " bytes, but " + buf.remaining() + " follow");
    }
    byte[] context = new byte[len];
    buf.get(context);
    return new ConfChange(Type.values()[type], nodeId, context);
  }

  /** Applies this change to a membership, returning the new one. */
  public ConfState applyTo(ConfState conf) {
    var voters = new java.util.TreeSet<>(conf.voters());
    var learners = new java.util.TreeSet<>(conf.learners());
    switch (type) {
      case ADD_VOTER -> {
        learners.remove(nodeId);
        voters.add(nodeId);
      }
      case ADD_LEARNER -> {
        if (!voters.contains(nodeId)) {
          learners.add(nodeId);
        }
      }
      case REMOVE_NODE -> {
        voters.remove(nodeId);
        learners.remove(nodeId);
      }
    }
    return new ConfState(voters, learners);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ConfChange c
        && c.type == type
        && c.nodeId == nodeId
        && Arrays.equals(c.context, context);
  }

  @Override
  public int hashCode() {
    return Objects.hash(type, nodeId) * 31 + Arrays.hashCode(context);
  }

  @Override
  public String toString() {
    return "ConfChange[" + type + " " + nodeId + (context.length > 0 ? " +ctx" : "") + "]";
  }
}
