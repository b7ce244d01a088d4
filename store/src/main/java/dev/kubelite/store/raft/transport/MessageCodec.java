package dev.kubelite.store.raft.transport;

import dev.kubelite.store.raft.ConfState;
import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.Message;
import dev.kubelite.store.raft.MessageType;
import dev.kubelite.store.raft.Snapshot;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The binary form of a Raft {@link Message} between store members: a version byte, then the fields
 * in a fixed order (big-endian). Peers of different versions refuse each other's frames with a
 * clear error rather than misreading them.
 */
public final class MessageCodec {
  static final byte VERSION = 1;

  /** Frames larger than this are refused: a corrupt length must not allocate gigabytes. */
  public static final int MAX_FRAME_BYTES = 512 << 20;

  private MessageCodec() {}

  public static byte[] encode(Message m) {
    int size = 1 + 1 + 8 * 7 + 1 + 4 + 4;
    for (Entry e : m.entries()) {
      size += 8 + 8 + 1 + 4 + e.data().length;
    }
    if (m.snapshot() != null) {
      Snapshot s = m.snapshot();
      size +=
          8
              + 8
              + 4
              + 8 * s.conf().voters().size()
              + 4
              + 8 * s.conf().learners().size()
              + 4
              + s.data().length;
    }
    size += 1 + (m.context() == null ? 0 : 4 + m.context().length);
    ByteBuffer buf = ByteBuffer.allocate(size);
    buf.put(VERSION);
    buf.put((byte) m.type().ordinal());
    buf.putLong(m.from()).putLong(m.to()).putLong(m.term()).putLong(m.logTerm());
    buf.putLong(m.index()).putLong(m.commit()).putLong(m.rejectHint());
    buf.put((byte) (m.reject() ? 1 : 0));
    buf.putInt(m.entries().size());
    for (Entry e : m.entries()) {
      buf.putLong(e.term()).putLong(e.index()).put((byte) e.type().ordinal());
      buf.putInt(e.data().length).put(e.data());
    }
    if (m.snapshot() == null) {
      buf.putInt(-1);
    } else {
      Snapshot s = m.snapshot();
      buf.putInt(1);
      buf.putLong(s.index()).putLong(s.term());
      putIds(buf, s.conf().voters());
      putIds(buf, s.conf().learners());
      buf.putInt(s.data().length).put(s.data());
    }
    if (m.context() == null) {
      buf.put((byte) 0);
    } else {
      buf.put((byte) 1).putInt(m.context().length).put(m.context());
    }
    return buf.array();
  }

  /**
   * A SNAPSHOT message's frame around its snapshot data, for data sent from a file: {@code prefix}
   * is everything before the data (its length included), {@code suffix} everything after it. {@code
   * prefix}, the data and {@code suffix} together are {@link #encode} of the message with that
   * data.
   */
  public record Around(byte[] prefix, byte[] suffix) {
    /** The length of the whole frame with {@code dataLength} bytes of data. */
    public long frameLength(long dataLength) {
      return prefix.length + dataLength + suffix.length;
    }
  }

  /**
   * Encodes {@code m} (a message with a snapshot, whose own data is ignored) around {@code
   * dataLength} bytes of snapshot data, which must fit a frame ({@link #MAX_FRAME_BYTES}).
   */
  public static Around encodeAround(Message m, long dataLength) {
    Snapshot s = m.snapshot();
    if (s == null) {
      throw new IllegalArgumentException("a " + m.type() + " message carries no snapshot");
    }
    Message empty =
        m.toBuilder().snapshot(new Snapshot(s.index(), s.term(), s.conf(), new byte[0])).build();
    byte[] whole = encode(empty);
    int suffixLength = 1 + (m.context() == null ? 0 : 4 + m.context().length);
    int lengthAt = whole.length - suffixLength - 4;
    Around around =
        new Around(
            java.util.Arrays.copyOf(whole, lengthAt + 4),
            java.util.Arrays.copyOfRange(whole, lengthAt + 4, whole.length));
    if (dataLength < 0 || around.frameLength(dataLength) > MAX_FRAME_BYTES) {
      throw new IllegalArgumentException(
          "a snapshot of "
              + dataLength
              + " bytes does not fit a raft message (at most "
              + MAX_FRAME_BYTES
              + " bytes)");
    }
    ByteBuffer.wrap(around.prefix()).putInt(lengthAt, (int) dataLength);
    return around;
  }

  private static void putIds(ByteBuffer buf, Set<Long> ids) {
    buf.putInt(ids.size());
    for (long id : ids) {
      buf.putLong(id);
    }
  }

  /** Decodes one message; throws {@link IllegalArgumentException} naming what is wrong. */
  public static Message decode(byte[] frame) {
    return decode(ByteBuffer.wrap(frame));
  }

  /**
   * Decodes one message from the remaining bytes of {@code buf} (a frame without its length), as
   * {@link #decode(byte[])}; a large snapshot is copied once, into the message.
   */
  public static Message decode(ByteBuffer buf) {
    int frameLength = buf.remaining();
    try {
      byte version = buf.get();
      if (version != VERSION) {
        throw new IllegalArgumentException(
            "raft message version "
                + version
                + " (this member speaks "
                + VERSION
                + "); upgrade all members to the same release");
      }
      int type = buf.get();
      if (type < 0 || type >= MessageType.values().length) {
        throw new IllegalArgumentException("unknown raft message type " + type);
      }
      Message.Builder b = Message.builder(MessageType.values()[type]);
      b.from(buf.getLong()).to(buf.getLong()).term(buf.getLong()).logTerm(buf.getLong());
      b.index(buf.getLong()).commit(buf.getLong()).rejectHint(buf.getLong());
      b.reject(buf.get() != 0);
      int entryCount = count(buf, 8 + 8 + 1 + 4);
      List<Entry> entries = new ArrayList<>(entryCount);
      for (int i = 0; i < entryCount; i++) {
        long term = buf.getLong();
        long index = buf.getLong();
        int entryType = buf.get();
        if (entryType < 0 || entryType >= Entry.Type.values().length) {
          throw new IllegalArgumentException("unknown entry type " + entryType);
        }
        entries.add(new Entry(term, index, Entry.Type.values()[entryType], bytes(buf)));
      }
      b.entries(entries);
      if (buf.getInt() == 1) {
        long index = buf.getLong();
        long term = buf.getLong();
        Set<Long> voters = ids(buf);
        Set<Long> learners = ids(buf);
        b.snapshot(new Snapshot(index, term, new ConfState(voters, learners), bytes(buf)));
      }
      if (buf.get() == 1) {
        b.context(bytes(buf));
      }
      if (buf.hasRemaining()) {
        throw new IllegalArgumentException(buf.remaining() + " trailing bytes after raft message");
      }
      return b.build();
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated raft message of " + frameLength + " bytes", e);
    }
  }

  private static int count(ByteBuffer buf, int minBytesEach) {
    int n = buf.getInt();
    if (n < 0 || (long) n * minBytesEach > buf.remaining()) {
      throw new IllegalArgumentException("implausible element count " + n + " in raft message");
    }
    return n;
  }

  private static byte[] bytes(ByteBuffer buf) {
    int n = count(buf, 1);
    byte[] out = new byte[n];
    buf.get(out);
    return out;
  }

  private static Set<Long> ids(ByteBuffer buf) {
    int n = count(buf, 8);
    Set<Long> ids = new TreeSet<>();
    for (int i = 0; i < n; i++) {
      ids.add(buf.getLong());
    }
    return ids;
  }
}
