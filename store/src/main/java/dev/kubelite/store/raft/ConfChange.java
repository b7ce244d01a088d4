package dev.kubelite.store.raft;

import java.nio.ByteBuffer;

/**
 * A single-server membership change. Changes take effect on each node when the entry carrying them
 * is applied; the leader admits only one unapplied change at a time, which keeps any two successive
 * configurations' majorities overlapping.
 */
public record ConfChange(Type type, long nodeId) {

  /** Kinds of change; promoting a learner is ADD_VOTER on a learner. */
  public enum Type {
    ADD_VOTER,
    ADD_LEARNER,
    REMOVE_NODE
  }

  public byte[] encode() {
    return ByteBuffer.allocate(9).put((byte) type.ordinal()).putLong(nodeId).array();
  }

  public static ConfChange decode(byte[] data) {
    if (data.length != 9) {
      throw new IllegalArgumentException("conf change must be 9 bytes, got " + data.length);
    }
    ByteBuffer buf = ByteBuffer.wrap(data);
    int type = buf.get();
    if (type < 0 || type >= Type.values().length) {
      throw new IllegalArgumentException("unknown conf change type " + type);
    }
    return new ConfChange(Type.values()[type], buf.getLong());
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
}
