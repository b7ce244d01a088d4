package dev.kubelite.store.raft.wal;

import dev.kubelite.store.raft.ConfState;
import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.HardState;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The on-disk record format of the segmented Raft log. Every record is framed as {@code [u32
 * payload length][u32 CRC32C of type+payload][u8 type][payload]}, big-endian. See
 * docs/store-raft-wal.md.
 */
final class WalFormat {
  private WalFormat() {}

  static final int FORMAT_VERSION = 1;

  /** Frame overhead: length, checksum and type. */
  static final int FRAME_HEADER_BYTES = 9;

  /** Largest payload a reader accepts; anything claiming more is a torn or corrupt length. */
  static final int MAX_PAYLOAD_BYTES = 64 * 1024 * 1024 + 1024 * 1024;

  /** First record of every segment: re-states the whole log state except live entries. */
  static final byte SEGMENT_HEADER = 1;

  static final byte ENTRY = 2;
  static final byte HARD_STATE = 3;
  static final byte SNAPSHOT_META = 4;
  static final byte COMPACTION = 5;

  /** Closes the records of one save()/compact() call; a batch without it is never applied. */
  static final byte BATCH_END = 6;

  /** SNAPSHOT_META kinds. */
  static final byte SNAPSHOT_INSTALLED = 1; // received from a leader: replaces the whole log

  static final byte SNAPSHOT_LOCAL = 2; // taken locally: recorded, followed by a COMPACTION

  static String typeName(byte type) {
    return switch (type) {
      case SEGMENT_HEADER -> "SEGMENT_HEADER";
      case ENTRY -> "ENTRY";
      case HARD_STATE -> "HARD_STATE";
      case SNAPSHOT_META -> "SNAPSHOT_META";
      case COMPACTION -> "COMPACTION";
      case BATCH_END -> "BATCH_END";
      default -> "unknown type " + type;
    };
  }

  /** Snapshot metadata as the WAL records it; the data lives in its own file. */
  record SnapshotMeta(long index, long term, ConfState conf, long dataLength, int dataCrc) {
    static final SnapshotMeta EMPTY = new SnapshotMeta(0, 0, ConfState.EMPTY, 0, 0);

    int encodedSize() {
      return 8 + 8 + 8 + 4 + confSize(conf);
    }
  }

  /** The log state re-stated at the start of each segment. */
  record SegmentHeader(
      long seq, HardState hardState, SnapshotMeta snapshot, long compactIndex, long compactTerm) {}

  static int crc32c(byte[] data) {
    CRC32C crc = new CRC32C();
    crc.update(data, 0, data.length);
    return (int) crc.getValue();
  }

  // ---- payload sizes -------------------------------------------------------------------------

  static int entrySize(Entry e) {
    return 8 + 8 + 1 + e.data().length;
  }

  static final int HARD_STATE_SIZE = 24;
  static final int COMPACTION_SIZE = 16;
  static final int BATCH_END_SIZE = 4;

  static int snapshotMetaRecordSize(SnapshotMeta m) {
    return 1 + m.encodedSize();
  }

  static int headerSize(SegmentHeader h) {
    return 4 + 8 + HARD_STATE_SIZE + h.snapshot().encodedSize() + COMPACTION_SIZE;
  }

  private static int confSize(ConfState c) {
    return 4 + 8 * c.voters().size() + 4 + 8 * c.learners().size();
  }

  // ---- encoders (write the payload only) -----------------------------------------------------

  static void putEntry(ByteBuffer b, Entry e) {
    b.putLong(e.term()).putLong(e.index()).put((byte) e.type().ordinal()).put(e.data());
  }

  static void putHardState(ByteBuffer b, HardState hs) {
    b.putLong(hs.term()).putLong(hs.vote()).putLong(hs.commit());
  }

  static void putSnapshotMeta(ByteBuffer b, SnapshotMeta m) {
    b.putLong(m.index()).putLong(m.term()).putLong(m.dataLength()).putInt(m.dataCrc());
    putConf(b, m.conf());
  }

  static void putHeader(ByteBuffer b, SegmentHeader h) {
    b.putInt(FORMAT_VERSION).putLong(h.seq());
    putHardState(b, h.hardState());
    putSnapshotMeta(b, h.snapshot());
    b.putLong(h.compactIndex()).putLong(h.compactTerm());
  }

  private static void putConf(ByteBuffer b, ConfState c) {
    b.putInt(c.voters().size());
    for (long v : c.voters()) {
      b.putLong(v);
    }
    b.putInt(c.learners().size());
    for (long l : c.learners()) {
      b.putLong(l);
    }
  }

  // ---- decoders: throw FormatException on a payload that does not parse ----------------------

  /** A record whose checksum matched but whose payload does not parse. */
  static final class FormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    FormatException(String message) {
      super(message);
    }
  }

  static Entry getEntry(ByteBuffer b) {
    need(b, 17, "ENTRY");
    long term = b.getLong();
    long index = b.getLong();
    int type = b.get();
    if (type < 0 || type >= Entry.Type.values().length) {
      throw new FormatException("ENTRY has unknown entry type " + type);
    }
    byte[] data = new byte[b.remaining()];
    b.get(data);
    return new Entry(term, index, Entry.Type.values()[type], data);
  }

  static HardState getHardState(ByteBuffer b) {
    need(b, HARD_STATE_SIZE, "HARD_STATE");
    HardState hs = new HardState(b.getLong(), b.getLong(), b.getLong());
    done(b, "HARD_STATE");
    return hs;
  }

  static SnapshotMeta getSnapshotMeta(ByteBuffer b) {
    need(b, 28, "SNAPSHOT_META");
    long index = b.getLong();
    long term = b.getLong();
    long dataLength = b.getLong();
    int dataCrc = b.getInt();
    ConfState conf = getConf(b);
    if (index < 0 || dataLength < 0) {
      throw new FormatException("SNAPSHOT_META has negative index or length");
    }
    return new SnapshotMeta(index, term, conf, dataLength, dataCrc);
  }

  static long[] getCompaction(ByteBuffer b) {
    need(b, COMPACTION_SIZE, "COMPACTION");
    long[] c = {b.getLong(), b.getLong()};
    done(b, "COMPACTION");
    return c;
  }

  static int getBatchEnd(ByteBuffer b) {
    need(b, BATCH_END_SIZE, "BATCH_END");
    int count = b.getInt();
    done(b, "BATCH_END");
    return count;
  }

  static SegmentHeader getHeader(ByteBuffer b) {
    need(b, 12, "SEGMENT_HEADER");
    int version = b.getInt();
    if (version != FORMAT_VERSION) {
      throw new FormatException(
          "segment format version " + version + ", this build reads " + FORMAT_VERSION);
    }
    long seq = b.getLong();
    need(b, HARD_STATE_SIZE, "SEGMENT_HEADER");
    HardState hs = new HardState(b.getLong(), b.getLong(), b.getLong());
    SnapshotMeta snap = getSnapshotMeta(b);
    long[] c = getCompaction(b);
    return new SegmentHeader(seq, hs, snap, c[0], c[1]);
  }

  private static ConfState getConf(ByteBuffer b) {
    List<Long> voters = getLongs(b);
    List<Long> learners = getLongs(b);
    try {
      return new ConfState(new java.util.HashSet<>(voters), new java.util.HashSet<>(learners));
    } catch (IllegalArgumentException e) {
      throw new FormatException("invalid membership: " + e.getMessage());
    }
  }

  private static List<Long> getLongs(ByteBuffer b) {
    need(b, 4, "membership");
    int n = b.getInt();
    if (n < 0 || (long) n * 8 > b.remaining()) {
      throw new FormatException("membership count " + n + " does not fit the record");
    }
    List<Long> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(b.getLong());
    }
    return out;
  }

  private static void need(ByteBuffer b, int n, String what) {
    if (b.remaining() < n) {
      throw new FormatException(what + " payload too short: " + b.remaining() + " < " + n);
    }
  }

  static void done(ByteBuffer b, String what) {
    if (b.hasRemaining()) {
      throw new FormatException(what + " payload has " + b.remaining() + " trailing bytes");
    }
  }
}
