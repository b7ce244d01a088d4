package dev.kubelite.store.raft.wal;

import dev.kubelite.store.raft.ConfState;
import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.HardState;
import dev.kubelite.store.raft.MemoryRaftStorage;
import dev.kubelite.store.raft.Snapshot;
import dev.kubelite.store.raft.wal.WalFormat.FormatException;
import dev.kubelite.store.raft.wal.WalFormat.SegmentHeader;
import dev.kubelite.store.raft.wal.WalFormat.SnapshotMeta;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the log state from the segments on disk, repairing a torn tail in the last segment.
 *
 * <p>Replay applies the records with the semantics of {@link MemoryRaftStorage}. Segments that
 * compaction deleted held only entries at or below the final compaction point, so when replay
 * starts from a segment header later than the log's beginning, an entry may arrive above a gap: the
 * gap is filled with placeholders, which must all be compacted away by the end of replay (checked).
 */
final class LogReplay {
  private static final Logger LOG = LoggerFactory.getLogger(LogReplay.class);

  /** One segment file and the highest entry index written into it. */
  static final class Segment {
    final long seq;
    final Path path;
    long maxEntryIndex;

    Segment(long seq, Path path) {
      this.seq = seq;
      this.path = path;
    }
  }

  private record SnapshotOp(byte kind, SnapshotMeta meta) {}

  private record CompactionOp(long index, long term) {}

  // The replayed state; entries.get(i) is at offIndex + 1 + i, null while unknown.
  private HardState hardState = HardState.EMPTY;
  private SnapshotMeta snapshot = SnapshotMeta.EMPTY;
  private long offIndex;
  private long offTerm;
  private final ArrayList<Entry> entries = new ArrayList<>();

  private final CRC32C crc = new CRC32C();

  HardState hardState() {
    return hardState;
  }

  SnapshotMeta snapshotMeta() {
    return snapshot;
  }

  /**
   * Replays one segment. Returns false if this is the last segment and not even its header is
   * intact (a crash while creating it): the caller deletes it. Truncates a torn tail of the last
   * segment; throws {@link WalCorruptionException} for damage anywhere else.
   */
  boolean replaySegment(Segment seg, boolean last) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(seg.path);
    } catch (IOException e) {
      throw new UncheckedIOException("failed to read WAL segment " + seg.path, e);
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    Frame header = readFrame(buf, 0);
    if (header.problem != null) {
      if (last) {
        LOG.warn(
            "WAL segment {} has no intact header ({}): a crash while creating it; removing it",
            seg.path,
            header.problem);
        return false;
      }
      throw corrupt(seg, 0, header.problem);
    }
    if (header.type != WalFormat.SEGMENT_HEADER) {
      throw corrupt(
          seg, 0, "first record is " + WalFormat.typeName(header.type) + ", not a header");
    }
    SegmentHeader h;
    try {
      h = WalFormat.getHeader(header.payload);
    } catch (FormatException e) {
      throw corrupt(seg, 0, e.getMessage());
    }
    if (h.seq() != seg.seq) {
      throw corrupt(seg, 0, "header names segment " + h.seq());
    }
    applyHeader(h);

    List<Object> pending = new ArrayList<>();
    int batchStart = header.end;
    int pos = header.end;
    while (pos < bytes.length) {
      Frame f = readFrame(buf, pos);
      if (f.problem != null) {
        if (last) {
          truncateTornTail(seg, batchStart, pos, f.problem);
          return true;
        }
        throw corrupt(seg, pos, f.problem);
      }
      try {
        switch (f.type) {
          case WalFormat.ENTRY -> pending.add(WalFormat.getEntry(f.payload));
          case WalFormat.HARD_STATE -> pending.add(WalFormat.getHardState(f.payload));
          case WalFormat.SNAPSHOT_META -> {
            byte kind = f.payload.get();
            if (kind != WalFormat.SNAPSHOT_INSTALLED && kind != WalFormat.SNAPSHOT_LOCAL) {
              throw new FormatException("SNAPSHOT_META has unknown kind " + kind);
            }
            SnapshotMeta meta = WalFormat.getSnapshotMeta(f.payload);
            WalFormat.done(f.payload, "SNAPSHOT_META");
            pending.add(new SnapshotOp(kind, meta));
          }
          case WalFormat.COMPACTION -> {
            long[] c = WalFormat.getCompaction(f.payload);
            pending.add(new CompactionOp(c[0], c[1]));
          }
          case WalFormat.BATCH_END -> {
            int count = WalFormat.getBatchEnd(f.payload);
            if (count != pending.size()) {
              throw new FormatException(
                  "batch end counts " + count + " records, found " + pending.size());
            }
            for (Object op : pending) {
              apply(op, seg);
            }
            pending.clear();
            batchStart = f.end;
          }
          default -> throw new FormatException("unexpected " + WalFormat.typeName(f.type));
        }
      } catch (FormatException | java.nio.BufferUnderflowException e) {
        throw corrupt(seg, pos, "record with a valid checksum does not parse: " + e.getMessage());
      }
      pos = f.end;
    }
    if (!pending.isEmpty()) {
      if (last) {
        truncateTornTail(seg, batchStart, pos, "the last batch has no end marker");
        return true;
      }
      throw corrupt(seg, batchStart, "the segment ends inside a batch");
    }
    return true;
  }

  private void apply(Object op, Segment seg) {
    if (op instanceof Entry e) {
      append(e);
      seg.maxEntryIndex = Math.max(seg.maxEntryIndex, e.index());
    } else if (op instanceof HardState hs) {
      hardState = hs;
    } else if (op instanceof SnapshotOp s) {
      snapshot = s.meta();
      if (s.kind() == WalFormat.SNAPSHOT_INSTALLED) {
        offIndex = s.meta().index();
        offTerm = s.meta().term();
        entries.clear();
      }
    } else if (op instanceof CompactionOp c) {
      compact(c.index(), c.term());
    } else {
      throw new IllegalStateException("unknown replay op " + op);
    }
  }

  private void applyHeader(SegmentHeader h) {
    hardState = h.hardState();
    snapshot = h.snapshot();
    compact(h.compactIndex(), h.compactTerm());
  }

  private void compact(long index, long term) {
    if (index <= offIndex) {
      return;
    }
    int drop = (int) Math.min(index - offIndex, entries.size());
    entries.subList(0, drop).clear();
    offIndex = index;
    offTerm = term;
  }

  private void append(Entry e) {
    if (e.index() <= offIndex) {
      return;
    }
    long last = offIndex + entries.size();
    if (e.index() > last + 1) {
      // Entries below came from segments compaction deleted; placeholders until compacted away.
      for (long i = last + 1; i < e.index(); i++) {
        entries.add(null);
      }
    } else {
      entries.subList((int) (e.index() - offIndex - 1), entries.size()).clear();
    }
    entries.add(e);
  }

  /**
   * The replayed state as a memory view. {@code snapshotData} is the verified content of the file
   * the final snapshot metadata points to.
   */
  MemoryRaftStorage build(byte[] snapshotData, Path dir) {
    for (int i = 0; i < entries.size(); i++) {
      if (entries.get(i) == null) {
        throw new WalCorruptionException(
            "The Raft log in "
                + dir
                + " lacks entry "
                + (offIndex + 1 + i)
                + ": a segment file that still held live entries is gone.");
      }
    }
    Snapshot snap = new Snapshot(snapshot.index(), snapshot.term(), snapshot.conf(), snapshotData);
    // Reach (snapshot, compaction point, entries) through MemoryRaftStorage's own operations: a
    // stand-in snapshot at the compaction point sets the dummy entry, then the real snapshot is
    // recorded without compacting further.
    MemoryRaftStorage m = new MemoryRaftStorage();
    if (offIndex > 0) {
      m.save(null, null, new Snapshot(offIndex, offTerm, ConfState.EMPTY, null));
    }
    long lastIndex = offIndex + entries.size();
    if (snap.index() <= lastIndex) {
      if (!entries.isEmpty()) {
        m.save(null, entries, null);
      }
      m.compact(snap, offIndex);
    } else if (!entries.isEmpty()) {
      // Entries above the compaction point were overwritten below the snapshot index (Raft never
      // does this, MemoryRaftStorage allows it): record the snapshot over stand-in entries first.
      List<Entry> standIns = new ArrayList<>();
      for (long i = offIndex + 1; i <= snap.index(); i++) {
        standIns.add(Entry.normal(0, i, null));
      }
      m.save(null, standIns, null);
      m.compact(snap, offIndex);
      m.save(null, entries, null);
    } else {
      throw new WalCorruptionException(
          "The Raft log in "
              + dir
              + " has its snapshot at "
              + snap.index()
              + " beyond its last entry "
              + lastIndex
              + ".");
    }
    m.save(hardState, null, null);
    return m;
  }

  // ---- framing -------------------------------------------------------------------------------

  private static final class Frame {
    byte type;
    ByteBuffer payload;
    int end;
    String problem;
  }

  private Frame readFrame(ByteBuffer buf, int pos) {
    Frame f = new Frame();
    int left = buf.limit() - pos;
    if (left < WalFormat.FRAME_HEADER_BYTES) {
      f.problem = "incomplete record header (" + left + " bytes before end of file)";
      return f;
    }
    long length = Integer.toUnsignedLong(buf.getInt(pos));
    int storedCrc = buf.getInt(pos + 4);
    if (length > WalFormat.MAX_PAYLOAD_BYTES) {
      f.problem = "record length " + length + " exceeds the maximum";
      return f;
    }
    if (length > left - WalFormat.FRAME_HEADER_BYTES) {
      f.problem = "record length " + length + " runs past the end of the file";
      return f;
    }
    crc.reset();
    crc.update(buf.array(), pos + 8, (int) length + 1);
    if ((int) crc.getValue() != storedCrc) {
      f.problem = "checksum mismatch";
      return f;
    }
    f.type = buf.get(pos + 8);
    int start = pos + WalFormat.FRAME_HEADER_BYTES;
    f.payload = buf.duplicate().position(start).limit(start + (int) length).slice();
    f.end = start + (int) length;
    return f;
  }

  private static void truncateTornTail(Segment seg, int at, int badRecord, String problem) {
    LOG.warn(
        "WAL segment {}: torn write at offset {} ({}), most likely a crash mid-write; truncating"
            + " the file to offset {}, the end of the last complete batch",
        seg.path,
        badRecord,
        problem,
        at);
    try (FileChannel ch = FileChannel.open(seg.path, StandardOpenOption.WRITE)) {
      ch.truncate(at);
      ch.force(true);
    } catch (IOException e) {
      throw new UncheckedIOException("failed to truncate torn tail of WAL segment " + seg.path, e);
    }
  }

  private static WalCorruptionException corrupt(Segment seg, long offset, String problem) {
    return new WalCorruptionException(
        "WAL segment "
            + seg.path
            + " is corrupt at offset "
            + offset
            + " ("
            + problem
            + "). It is not a torn write at the tail of the log (only the last segment can have"
            + " one), so the log cannot be trusted.");
  }
}
