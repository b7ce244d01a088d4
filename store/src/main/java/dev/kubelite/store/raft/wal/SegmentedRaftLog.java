package dev.kubelite.store.raft.wal;

import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.HardState;
import dev.kubelite.store.raft.MemoryRaftStorage;
import dev.kubelite.store.raft.RaftLogStorage;
import dev.kubelite.store.raft.Snapshot;
import dev.kubelite.store.raft.wal.LogReplay.Segment;
import dev.kubelite.store.raft.wal.WalFormat.SegmentHeader;
import dev.kubelite.store.raft.wal.WalFormat.SnapshotMeta;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable Raft log: append-only, checksummed segment files plus one snapshot file, with an
 * in-memory {@link MemoryRaftStorage} view that serves every read. Format, recovery rules and crash
 * guarantees are described in docs/store-raft-wal.md.
 *
 * <p>Every {@link #save} and {@link #compact} call is one batch: its records are written with as
 * few write calls as possible, closed by an end-of-batch marker, and made durable with a single
 * {@code fdatasync} before the call returns and before the memory view changes — except a save
 * whose only change is the commit index, which is written but not synced (etcd's {@code MustSync}:
 * the commit index need not be durable; the next synced batch, a segment roll or a close makes it
 * so). After a crash, recovery yields the state after some prefix of the calls, including every
 * call that returned (every synced call, after a machine crash).
 *
 * <p>Thread-safety: single writer. All calls, reads included, must come from one thread (the node's
 * IO thread) or be externally synchronized. Only one instance may have a directory open; a lock
 * file enforces that across processes.
 *
 * <p>If a write or sync fails, the on-disk state is unknown, so the log refuses all further writes;
 * reopen it (restart the node) to recover what is durable.
 */
public final class SegmentedRaftLog implements RaftLogStorage, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SegmentedRaftLog.class);

  /** Segments roll over once they reach this size. */
  public static final long DEFAULT_SEGMENT_BYTES = 64L * 1024 * 1024;

  private static final Pattern SEGMENT_NAME = Pattern.compile("(\\d{20})\\.wal");
  private static final String LOCK_FILE = "LOCK";
  private static final int INITIAL_BUFFER_BYTES = 1 << 20;
  private static final int MAX_RETAINED_BUFFER_BYTES = 8 << 20;

  private final Path dir;
  private final long segmentBytes;

  /** Whether the current segment holds written batches not yet synced (commit-index only). */
  private boolean unsynced;

  /** How many times a segment was synced (for tests). */
  private long syncs;

  private final FileChannel lockChannel;
  private final FileLock lock;
  private final MemoryRaftStorage view;
  private SnapshotMeta snapshotMeta; // of view.snapshot(), with its data checksum
  private final List<Segment> segments; // oldest first; the last one is being appended to

  private FileChannel out; // the last segment
  private long outSize;
  private ByteBuffer buf = ByteBuffer.allocateDirect(INITIAL_BUFFER_BYTES);
  private final CRC32C crc = new CRC32C();
  private int batchRecords;
  private Throwable failure;
  private boolean closed;

  private SegmentedRaftLog(
      Path dir,
      long segmentBytes,
      FileChannel lockChannel,
      FileLock lock,
      MemoryRaftStorage view,
      SnapshotMeta snapshotMeta,
      List<Segment> segments) {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.view = view;
    this.segments = segments;
    this.snapshotMeta = snapshotMeta;
  }

  /** Opens the log in {@code dir}, creating the directory if missing and recovering if present. */
  public static SegmentedRaftLog open(Path dir) {
    return open(dir, DEFAULT_SEGMENT_BYTES);
  }

  /** As {@link #open(Path)}, rolling segments over at {@code segmentBytes} (small in tests). */
  public static SegmentedRaftLog open(Path dir, long segmentBytes) {
    if (segmentBytes <= 0) {
      throw new IllegalArgumentException("segment size must be positive: " + segmentBytes);
    }
    FileChannel lockChannel = null;
    FileLock lock = null;
    try {
      Files.createDirectories(dir);
      lockChannel =
          FileChannel.open(
              dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      try {
        lock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        throw new IllegalStateException("the Raft log in " + dir + " is already open elsewhere");
      }
      SegmentedRaftLog log = recover(dir, segmentBytes, lockChannel, lock);
      lockChannel = null; // owned by the log now
      return log;
    } catch (IOException e) {
      throw new UncheckedIOException("failed to open the Raft log in " + dir, e);
    } finally {
      if (lockChannel != null) {
        try {
          lockChannel.close(); // also releases the lock
        } catch (IOException e) {
          LOG.warn("failed to close lock file in {}", dir, e);
        }
      }
    }
  }

  private static SegmentedRaftLog recover(
      Path dir, long segmentBytes, FileChannel lockChannel, FileLock lock) throws IOException {
    List<Segment> segments = listSegments(dir);
    LogReplay replay = new LogReplay();
    for (int i = 0; i < segments.size(); i++) {
      boolean last = i == segments.size() - 1;
      if (!replay.replaySegment(segments.get(i), last)) {
        if (i == 0 && segments.get(i).seq != 1) {
          throw new WalCorruptionException(
              "WAL segment "
                  + segments.get(i).path
                  + " is the only segment left but has no intact header: earlier segments are"
                  + " gone.");
        }
        Files.delete(segments.get(i).path);
        Dirs.fsync(dir);
        segments.remove(i);
      }
    }
    SnapshotMeta meta = replay.snapshotMeta();
    byte[] snapData = meta.index() == 0 ? new byte[0] : SnapshotFiles.read(dir, meta);
    MemoryRaftStorage view = replay.build(snapData, dir);
    removeStaleSnapshotFiles(dir, segments.isEmpty() ? -1 : meta.index());

    SegmentedRaftLog log =
        new SegmentedRaftLog(dir, segmentBytes, lockChannel, lock, view, meta, segments);
    try {
      if (segments.isEmpty()) {
        log.startSegment(1);
        log.flushAndSync(true);
      } else {
        Segment last = segments.get(segments.size() - 1);
        log.out = FileChannel.open(last.path, StandardOpenOption.WRITE);
        log.outSize = log.out.size();
        log.out.position(log.outSize);
      }
    } catch (IOException | RuntimeException e) {
      if (log.out != null) {
        try {
          log.out.close();
        } catch (IOException closeError) {
          e.addSuppressed(closeError);
        }
      }
      throw e;
    }
    LOG.debug(
        "opened Raft log {}: {} segment(s), entries {}..{}, snapshot at {}",
        dir,
        segments.size(),
        view.firstIndex(),
        view.lastIndex(),
        view.snapshot().index());
    return log;
  }

  private static List<Segment> listSegments(Path dir) throws IOException {
    List<Segment> segments = new ArrayList<>();
    boolean snapshots = false;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String name = p.getFileName().toString();
        Matcher m = SEGMENT_NAME.matcher(name);
        if (m.matches()) {
          segments.add(new Segment(Long.parseLong(m.group(1)), p));
        } else if (SnapshotFiles.indexOf(name) > 0) {
          snapshots = true;
        }
      }
    }
    segments.sort((a, b) -> Long.compare(a.seq, b.seq));
    for (int i = 1; i < segments.size(); i++) {
      if (segments.get(i).seq != segments.get(i - 1).seq + 1) {
        throw new WalCorruptionException(
            "WAL segment "
                + (segments.get(i - 1).seq + 1)
                + " is missing from "
                + dir
                + " (found "
                + segments.get(i - 1).path.getFileName()
                + " then "
                + segments.get(i).path.getFileName()
                + ").");
      }
    }
    if (segments.isEmpty() && snapshots) {
      throw new WalCorruptionException(
          dir + " holds snapshot files but no WAL segments: the log files are gone.");
    }
    return segments;
  }

  /** Deletes snapshot files other than {@code keepIndex} and leftover temp files. */
  private static void removeStaleSnapshotFiles(Path dir, long keepIndex) throws IOException {
    List<Path> stale = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String name = p.getFileName().toString();
        long index = SnapshotFiles.indexOf(name);
        boolean temp =
            name.endsWith(SnapshotFiles.TEMP_SUFFIX)
                && SnapshotFiles.indexOf(
                        name.substring(0, name.length() - SnapshotFiles.TEMP_SUFFIX.length()))
                    > 0;
        if (temp || (index > 0 && index != keepIndex)) {
          stale.add(p);
        }
      }
    }
    for (Path p : stale) {
      LOG.info("removing stale snapshot file {}", p);
      Files.delete(p);
    }
  }

  // ---- reads: served by the memory view ------------------------------------------------------

  @Override
  public HardState hardState() {
    return view.hardState();
  }

  @Override
  public Snapshot snapshot() {
    return view.snapshot();
  }

  @Override
  public long firstIndex() {
    return view.firstIndex();
  }

  @Override
  public long lastIndex() {
    return view.lastIndex();
  }

  @Override
  public long term(long index) {
    return view.term(index);
  }

  @Override
  public List<Entry> entries(long lo, long hi, long maxBytes) {
    return view.entries(lo, hi, maxBytes);
  }

  /** The directory this log lives in. */
  public Path dir() {
    return dir;
  }

  // ---- writes --------------------------------------------------------------------------------

  @Override
  public void save(HardState hardState, List<Entry> entries, Snapshot snapshot) {
    checkWritable();
    boolean install = snapshot != null && !snapshot.isEmpty();
    // Validate against the memory view before touching the disk, with its semantics.
    long offset = install ? snapshot.index() : view.firstIndex() - 1;
    long last = install ? snapshot.index() : view.lastIndex();
    List<Entry> toAppend = List.of();
    if (entries != null && !entries.isEmpty()) {
      for (int i = 1; i < entries.size(); i++) {
        if (entries.get(i).index() != entries.get(i - 1).index() + 1) {
          throw new IllegalArgumentException(
              "entries are not contiguous: "
                  + entries.get(i - 1).index()
                  + " then "
                  + entries.get(i).index());
        }
      }
      int skip = (int) Math.max(0, Math.min(entries.size(), offset + 1 - entries.get(0).index()));
      toAppend = entries.subList(skip, entries.size());
      if (!toAppend.isEmpty() && toAppend.get(0).index() > last + 1) {
        throw new IllegalArgumentException(
            "append at " + toAppend.get(0).index() + " leaves a gap after last index " + last);
      }
      for (Entry e : toAppend) {
        if (WalFormat.entrySize(e) > WalFormat.MAX_PAYLOAD_BYTES) {
          throw new IllegalArgumentException(
              "entry "
                  + e.index()
                  + " has "
                  + e.data().length
                  + " bytes, more than a record holds");
        }
      }
    }
    boolean writeHardState =
        hardState != null && !hardState.isEmpty() && !hardState.equals(view.hardState());
    if (!install && toAppend.isEmpty() && !writeHardState) {
      return; // nothing to persist
    }
    long oldSnapshotIndex = view.snapshot().index();
    try {
      SnapshotMeta meta = null;
      if (install) {
        // The same snapshot again needs no new file (and must not replace the durable one).
        meta = snapshot.equals(view.snapshot()) ? snapshotMeta : writeSnapshotFile(snapshot);
      }
      boolean rolled = rollIfFull();
      if (meta != null) {
        putSnapshotMeta(WalFormat.SNAPSHOT_INSTALLED, meta);
        snapshotMeta = meta;
      }
      Segment seg = segments.get(segments.size() - 1);
      if (install) {
        // The installed snapshot replaces the whole log: no entry written before it is live.
        for (Segment s : segments) {
          s.maxEntryIndex = 0;
        }
      }
      for (Entry e : toAppend) {
        ensure(WalFormat.entrySize(e));
        int start = beginRecord(WalFormat.ENTRY);
        WalFormat.putEntry(buf, e);
        endRecord(start);
        seg.maxEntryIndex = Math.max(seg.maxEntryIndex, e.index());
      }
      if (writeHardState) {
        ensure(WalFormat.HARD_STATE_SIZE);
        int start = beginRecord(WalFormat.HARD_STATE);
        WalFormat.putHardState(buf, hardState);
        endRecord(start);
      }
      endBatch();
      if (install || !toAppend.isEmpty() || rolled || termOrVoteChanges(hardState)) {
        flushAndSync(rolled);
      } else {
        writeBuffer(); // only the commit index moved: written, synced with the next batch
        unsynced = true;
      }
    } catch (IOException e) {
      throw fail("failed to append to the Raft log in " + dir, e);
    } catch (RuntimeException e) {
      throw fail(e);
    }
    view.save(writeHardState ? hardState : null, toAppend, install ? snapshot : null);
    if (install) {
      deleteOldSnapshotFile(oldSnapshotIndex);
    }
  }

  /**
   * Whether saving {@code hs} changes the term or the vote, which must be durable before anything
   * depends on them (a vote given twice in one term breaks Raft); a commit index need not be.
   */
  private boolean termOrVoteChanges(HardState hs) {
    HardState durable = view.hardState();
    return hs != null
        && !hs.isEmpty()
        && (hs.term() != durable.term() || hs.vote() != durable.vote());
  }

  @Override
  public void compact(Snapshot snapshot, long compactIndex) {
    checkWritable();
    Snapshot current = view.snapshot();
    if (snapshot.isEmpty() && !snapshot.equals(Snapshot.EMPTY)) {
      // MemoryRaftStorage would record it, but a state-machine image "at index 0" is meaningless.
      throw new IllegalArgumentException("a snapshot to compact to must have an index above 0");
    }
    if (snapshot.index() < current.index()) {
      return; // older than what we hold, as in MemoryRaftStorage
    }
    if (snapshot.index() > view.lastIndex() || compactIndex > snapshot.index()) {
      throw new IllegalArgumentException(
          "snapshot at "
              + snapshot.index()
              + " compacting to "
              + compactIndex
              + " beyond last index "
              + view.lastIndex());
    }
    boolean moves = compactIndex > view.firstIndex() - 1;
    boolean same = snapshot.equals(current);
    if (same && !moves) {
      return; // nothing would change
    }
    long compactTerm = moves ? view.term(compactIndex) : 0;
    try {
      SnapshotMeta meta;
      if (snapshot.isEmpty()) {
        meta = SnapshotMeta.EMPTY;
      } else if (same) {
        meta = snapshotMeta; // its file is already durable
      } else {
        meta = writeSnapshotFile(snapshot);
      }
      boolean rolled = rollIfFull();
      putSnapshotMeta(WalFormat.SNAPSHOT_LOCAL, meta);
      snapshotMeta = meta;
      if (moves) {
        ensure(WalFormat.COMPACTION_SIZE);
        int start = beginRecord(WalFormat.COMPACTION);
        buf.putLong(compactIndex).putLong(compactTerm);
        endRecord(start);
      }
      endBatch();
      flushAndSync(rolled);
    } catch (IOException e) {
      throw fail("failed to record a compaction in the Raft log in " + dir, e);
    } catch (RuntimeException e) {
      throw fail(e);
    }
    view.compact(snapshot, compactIndex);
    if (snapshot.index() != current.index()) {
      deleteOldSnapshotFile(current.index());
    }
    deleteDeadSegments();
  }

  /** Deletes the oldest segments while every entry they hold is compacted away. */
  private void deleteDeadSegments() {
    long compacted = view.firstIndex() - 1;
    try {
      while (segments.size() > 1 && segments.get(0).maxEntryIndex <= compacted) {
        Segment dead = segments.get(0);
        Files.delete(dead.path);
        // One directory sync per deletion keeps the surviving segments contiguous after a crash.
        Dirs.fsync(dir);
        segments.remove(0);
        LOG.debug("deleted compacted WAL segment {}", dead.path);
      }
    } catch (IOException e) {
      throw fail("failed to delete compacted WAL segments in " + dir, e);
    }
  }

  private void deleteOldSnapshotFile(long oldIndex) {
    if (oldIndex == 0 || oldIndex == view.snapshot().index()) {
      return;
    }
    Path old = dir.resolve(SnapshotFiles.name(oldIndex));
    try {
      Files.deleteIfExists(old); // a crash before this leaves a stale file open() removes
    } catch (IOException e) {
      throw fail("failed to delete old snapshot file " + old, e);
    }
  }

  private SnapshotMeta writeSnapshotFile(Snapshot s) throws IOException {
    int dataCrc = WalFormat.crc32c(s.data());
    SnapshotFiles.write(dir, s.index(), s.term(), s.data(), dataCrc);
    return metaOf(s, dataCrc);
  }

  private static SnapshotMeta metaOf(Snapshot s, int dataCrc) {
    return new SnapshotMeta(s.index(), s.term(), s.conf(), s.data().length, dataCrc);
  }

  /** How many times a segment file was synced so far. */
  long syncs() {
    return syncs;
  }

  // ---- segment files -------------------------------------------------------------------------

  /** Starts a new segment if the current one is full; true if it did (the dir needs a sync). */
  private boolean rollIfFull() throws IOException {
    if (outSize < segmentBytes) {
      return false;
    }
    long next = segments.get(segments.size() - 1).seq + 1;
    if (unsynced) {
      // Only the last segment may end in a torn batch: sync this one before starting the next.
      out.force(false);
      syncs++;
      unsynced = false;
    }
    out.close();
    out = null;
    startSegment(next);
    return true;
  }

  /** Creates segment {@code seq} and buffers its header re-stating the current state. */
  private void startSegment(long seq) throws IOException {
    Path path = dir.resolve(String.format("%020d.wal", seq));
    out =
        FileChannel.open(
            path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
    outSize = 0;
    segments.add(new Segment(seq, path));
    long compactIndex = view.firstIndex() - 1;
    SegmentHeader h =
        new SegmentHeader(
            seq,
            view.hardState(),
            snapshotMeta,
            compactIndex,
            Math.max(0, view.term(compactIndex)));
    buf.clear();
    ensure(WalFormat.headerSize(h));
    int start = buf.position();
    buf.putLong(0).put(WalFormat.SEGMENT_HEADER);
    WalFormat.putHeader(buf, h);
    endRecord(start);
    batchRecords = 0; // the header stands alone, outside any batch
  }

  private void putSnapshotMeta(byte kind, SnapshotMeta meta) throws IOException {
    ensure(WalFormat.snapshotMetaRecordSize(meta));
    int start = beginRecord(WalFormat.SNAPSHOT_META);
    buf.put(kind);
    WalFormat.putSnapshotMeta(buf, meta);
    endRecord(start);
  }

  private void endBatch() throws IOException {
    ensure(WalFormat.BATCH_END_SIZE);
    int count = batchRecords;
    int start = beginRecord(WalFormat.BATCH_END);
    buf.putInt(count);
    endRecord(start);
    batchRecords = 0;
  }

  /** Makes room for a record with {@code payloadBytes}, writing out what is buffered if needed. */
  private void ensure(int payloadBytes) throws IOException {
    int need = WalFormat.FRAME_HEADER_BYTES + payloadBytes;
    if (buf.remaining() >= need) {
      return;
    }
    writeBuffer();
    if (buf.capacity() < need) {
      buf = ByteBuffer.allocateDirect(Math.max(need, buf.capacity() * 2));
    }
  }

  private int beginRecord(byte type) {
    int start = buf.position();
    buf.putLong(0).put(type); // length and checksum are filled in by endRecord
    batchRecords++;
    return start;
  }

  private void endRecord(int start) {
    int end = buf.position();
    int payloadLength = end - start - WalFormat.FRAME_HEADER_BYTES;
    crc.reset();
    crc.update(buf.duplicate().position(start + 8).limit(end));
    buf.putInt(start, payloadLength);
    buf.putInt(start + 4, (int) crc.getValue());
  }

  private void writeBuffer() throws IOException {
    buf.flip();
    while (buf.hasRemaining()) {
      outSize += out.write(buf);
    }
    buf.clear();
  }

  private void flushAndSync(boolean newFile) throws IOException {
    writeBuffer();
    out.force(false);
    syncs++;
    unsynced = false;
    if (newFile) {
      Dirs.fsync(dir);
    }
    if (buf.capacity() > MAX_RETAINED_BUFFER_BYTES) {
      buf = ByteBuffer.allocateDirect(INITIAL_BUFFER_BYTES); // grown for a huge entry; give it back
    }
  }

  // ---- failure and lifecycle -----------------------------------------------------------------

  private void checkWritable() {
    if (closed) {
      throw new IllegalStateException("the Raft log in " + dir + " is closed");
    }
    if (failure != null) {
      throw new IllegalStateException(
          "the Raft log in "
              + dir
              + " failed an earlier write and accepts no more; restart to recover from disk",
          failure);
    }
  }

  private UncheckedIOException fail(String what, IOException e) {
    UncheckedIOException u = new UncheckedIOException(what, e);
    failure = u;
    buf.clear();
    return u;
  }

  private RuntimeException fail(RuntimeException e) {
    failure = e;
    buf.clear();
    return e;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    IOException error = null;
    try {
      if (out != null) {
        if (unsynced && failure == null) {
          out.force(false);
        }
        out.close();
      }
    } catch (IOException e) {
      error = e;
    }
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      if (error == null) {
        error = e;
      } else {
        error.addSuppressed(e);
      }
    }
    if (error != null) {
      throw new UncheckedIOException("failed to close the Raft log in " + dir, error);
    }
  }
}
