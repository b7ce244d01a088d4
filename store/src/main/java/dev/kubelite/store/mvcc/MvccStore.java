package dev.kubelite.store.mvcc;

import dev.kubelite.store.mvcc.MvccException.Code;
import dev.kubelite.store.mvcc.Responses.CompactResponse;
import dev.kubelite.store.mvcc.Responses.DeleteRangeResponse;
import dev.kubelite.store.mvcc.Responses.EventsResult;
import dev.kubelite.store.mvcc.Responses.LeaseGrantResponse;
import dev.kubelite.store.mvcc.Responses.LeaseRevokeResponse;
import dev.kubelite.store.mvcc.Responses.OpResponse;
import dev.kubelite.store.mvcc.Responses.PutResponse;
import dev.kubelite.store.mvcc.Responses.RangeResponse;
import dev.kubelite.store.mvcc.Responses.Response;
import dev.kubelite.store.mvcc.Responses.TxnResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.rocksdb.Checkpoint;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd v3 MVCC key-value semantics on RocksDB.
 *
 * <p><b>Threading.</b> Writes ({@link #apply}) are not thread-safe by contract: the store's single
 * apply thread calls them in Raft-index order (the method is synchronized as a guard). Reads
 * ({@link #range}, {@link #events}, lease lookups, {@link #snapshot}) may run on any thread
 * concurrently with the apply thread: they resolve revisions in the in-memory index under a read
 * lock and read values through a RocksDB snapshot taken under that lock, while the apply thread
 * writes its batch first and publishes the new revision in the index under the write lock.
 *
 * <p><b>Durability.</b> Each applied Raft entry is one atomic RocksDB {@link WriteBatch} holding
 * the new revision records, lease changes, compaction deletes and the meta keys (current revision,
 * compacted revision, applied Raft index). Writes use {@code sync=false}: the Raft log is the
 * durability point, and after a crash the store replays entries above {@link #appliedIndex()}.
 * Because the applied index is in the same batch as the state it produced, an entry is never
 * applied twice nor skipped.
 *
 * <p><b>Layout</b> (one column family): {@code 'r' main(8) sub(8)} -> record (flags, create, mod,
 * version, lease, key, value; flag bit 0 = tombstone); {@code 'm' name} -> 8-byte meta value;
 * {@code 'l' id(8)} -> TTL seconds; {@code 'a' member(8) type(4)} -> empty, one per active alarm;
 * {@code 's'} and {@code 'q'} -> the client request table ({@link RequestTable}). The key index is
 * in memory and rebuilt at open (see docs/decisions/0008-mvcc-key-index.md).
 */
public final class MvccStore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MvccStore.class);

  /** etcd's default --max-txn-ops. */
  public static final int MAX_TXN_OPS = 128;

  /** etcd's MaxLeaseTTL. */
  public static final long MAX_LEASE_TTL = 9_000_000_000L;

  private static final byte LEASE_PREFIX = 'l';
  private static final byte ALARM_PREFIX = 'a';
  private static final long ARENA_BLOCK_BYTES = 64 * 1024;
  private static final byte[] META_CURRENT = meta("current_revision");
  private static final byte[] META_COMPACTED = meta("compacted_revision");
  private static final byte[] META_APPLIED = meta("applied_index");

  static {
    RocksDB.loadLibrary();
  }

  private final Path dir;
  private final Options options;
  private final RocksDB db;
  private final WriteOptions writeOptions;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final KeyIndex index = new KeyIndex();
  private final Map<Long, Long> leases = new HashMap<>();
  private final Map<Long, TreeSet<byte[]>> leaseKeys = new HashMap<>();
  private final List<MvccListener> listeners = new CopyOnWriteArrayList<>();
  private RequestTable requests;

  /** Active alarms; changed only by the apply thread, under the write lock. */
  private final TreeSet<Alarm> alarms = new TreeSet<>();

  /** Guards {@link #closed} and {@link #defrags}: close cancels running defragmentations. */
  private final Object lifecycle = new Object();

  private final List<CompactRangeOptions> defrags = new ArrayList<>();
  private boolean closed;

  private volatile long currentRev = 1;
  private volatile long compactRev = -1;
  private volatile long appliedIndex = 0;

  private MvccStore(Path dir, Options options, RocksDB db) {
    this.dir = dir;
    this.options = options;
    this.db = db;
    this.writeOptions = new WriteOptions().setSync(false);
  }

  /** Opens (creating if missing) the store in {@code dir}, rebuilding the key index. */
  public static MvccStore open(Path dir) {
    // Memtable memory in 64 KiB arena blocks (RocksDB's default is up to 1 MiB), so that the
    // memtable share of dbSizeBytes() grows with the data written rather than in 1 MiB steps.
    Options options = new Options().setCreateIfMissing(true).setArenaBlockSize(ARENA_BLOCK_BYTES);
    RocksDB db;
    try {
      Files.createDirectories(dir);
      db = RocksDB.open(options, dir.toString());
    } catch (RocksDBException | IOException e) {
      options.close();
      throw new MvccStorageException(
          "cannot open MVCC store at "
              + dir
              + ": check that the directory is writable and not opened by another process",
          e);
    }
    MvccStore s = new MvccStore(dir, options, db);
    try {
      s.load();
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
    return s;
  }

  /**
   * Copies a checkpoint made by {@link #snapshot} into {@code dataDir} (which must not exist or be
   * empty) and opens it.
   */
  public static MvccStore restoreFrom(Path checkpointDir, Path dataDir) {
    try {
      if (Files.isDirectory(dataDir)) {
        try (Stream<Path> s = Files.list(dataDir)) {
          if (s.findAny().isPresent()) {
            throw new IllegalArgumentException(
                "cannot restore into " + dataDir + ": it is not empty; remove it first");
          }
        }
      }
      Files.createDirectories(dataDir);
      try (Stream<Path> files = Files.list(checkpointDir)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.copy(f, dataDir.resolve(f.getFileName()));
        }
      }
    } catch (IOException e) {
      throw new MvccStorageException(
          "cannot copy checkpoint " + checkpointDir + " to " + dataDir + ": check disk space", e);
    }
    return open(dataDir);
  }

  private void load() {
    requests = RequestTable.load(db, dir);
    currentRev = readMeta(META_CURRENT, 1);
    compactRev = readMeta(META_COMPACTED, -1);
    appliedIndex = readMeta(META_APPLIED, 0);
    long records = 0;
    try (RocksIterator it = db.newIterator()) {
      for (it.seek(new byte[] {Rev.PREFIX}); it.isValid() && it.key()[0] == Rev.PREFIX; it.next()) {
        Rev rev = Rev.fromKey(it.key());
        byte[] v = it.value();
        KeyValue kv = decode(v, rev.main());
        if (isTombstone(v)) {
          index.tombstone(kv.key(), rev);
        } else {
          index.put(kv.key(), rev, kv.lease());
        }
        records++;
      }
      it.status();
      for (it.seek(new byte[] {LEASE_PREFIX});
          it.isValid() && it.key()[0] == LEASE_PREFIX;
          it.next()) {
        long id = ByteBuffer.wrap(it.key(), 1, 8).getLong();
        leases.put(id, ByteBuffer.wrap(it.value()).getLong());
        leaseKeys.put(id, new TreeSet<>(Bytes.ORDER));
      }
      it.status();
      for (it.seek(new byte[] {ALARM_PREFIX});
          it.isValid() && it.key()[0] == ALARM_PREFIX;
          it.next()) {
        ByteBuffer k = ByteBuffer.wrap(it.key(), 1, 12);
        alarms.add(new Alarm(k.getLong(), k.getInt()));
      }
      it.status();
    } catch (RocksDBException e) {
      throw new MvccStorageException(
          "cannot scan MVCC store at "
              + dir
              + " to rebuild the key index: the database may be"
              + " corrupt; restore from a snapshot",
          e);
    }
    index.forEachLiveLease(
        (key, lease) -> {
          TreeSet<byte[]> keys = leaseKeys.get(lease);
          if (keys == null) {
            throw new MvccStorageException(
                "key "
                    + Bytes.show(key)
                    + " is attached to lease "
                    + lease
                    + " which is not in the lease table: the database at "
                    + dir
                    + " is inconsistent; restore from a snapshot",
                null);
          }
          keys.add(key);
        });
    LOG.info(
        "Opened MVCC store at {}: revision {}, compacted {}, applied index {}, {} records, {}"
            + " leases, alarms {}",
        dir,
        currentRev,
        compactRev,
        appliedIndex,
        records,
        leases.size(),
        alarms);
  }

  private long readMeta(byte[] key, long dflt) {
    try {
      byte[] v = db.get(key);
      return v == null ? dflt : ByteBuffer.wrap(v).getLong();
    } catch (RocksDBException e) {
      throw new MvccStorageException("cannot read meta key from " + dir, e);
    }
  }

  // ---------------------------------------------------------------- public read API

  /** Current (latest committed) revision; 1 for an empty store, as in etcd. */
  public long currentRevision() {
    return currentRev;
  }

  /** Compacted revision, -1 if never compacted (etcd's initial compactMainRev). */
  public long compactRevision() {
    return compactRev;
  }

  /** Highest Raft index applied; entries at or below it are skipped by {@link #apply}. */
  public long appliedIndex() {
    return appliedIndex;
  }

  /**
   * Records that every Raft entry up to {@code raftIndex} is applied, when the last ones changed
   * nothing here (membership changes, a new leader's empty entry): a local Raft snapshot at {@code
   * raftIndex} then finds this store at or beyond it after a restart (docs/decisions/0105). Written
   * like an applied entry ({@code sync=false}, in apply order); {@link #syncWal} makes it durable.
   * Does nothing if the store is already there.
   */
  public synchronized void markApplied(long raftIndex) {
    if (raftIndex <= appliedIndex) {
      return;
    }
    try {
      db.put(writeOptions, META_APPLIED, longBytes(raftIndex));
    } catch (RocksDBException e) {
      throw new MvccStorageException(
          "cannot record applied Raft index " + raftIndex + " in the MVCC store at " + dir, e);
    }
    lock.writeLock().lock();
    try {
      appliedIndex = raftIndex;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * Makes every write made so far durable: fsyncs RocksDB's write-ahead log, which the writes
   * ({@code sync=false}) only handed to the OS. Its cost is the unsynced WAL bytes, not the size of
   * the database. Safe beside the apply thread (RocksDB syncs what was written before the call);
   * blocks on disk IO, so not for the Raft thread or an event loop.
   */
  public void syncWal() {
    try {
      db.syncWal();
    } catch (RocksDBException e) {
      throw new MvccStorageException(
          "cannot fsync the write-ahead log of the MVCC store at "
              + dir
              + ": check the disk; the member stops rather than compact its Raft log",
          e);
    }
  }

  /** Registers a listener called after each committed write revision, on the apply thread. */
  public void addListener(MvccListener listener) {
    listeners.add(listener);
  }

  public void removeListener(MvccListener listener) {
    listeners.remove(listener);
  }

  /** TTL of a granted lease, or empty if there is no such lease. */
  public Optional<Long> leaseTtl(long id) {
    lock.readLock().lock();
    try {
      return Optional.ofNullable(leases.get(id));
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Keys attached to a lease, sorted; empty if none or no such lease. */
  public List<byte[]> leaseKeys(long id) {
    lock.readLock().lock();
    try {
      TreeSet<byte[]> keys = leaseKeys.get(id);
      return keys == null ? List.of() : keys.stream().map(byte[]::clone).toList();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** All granted leases, id -> TTL seconds. */
  public Map<Long, Long> leases() {
    lock.readLock().lock();
    try {
      return Map.copyOf(leases);
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Active alarms of {@code type} ({@link Alarm#NONE}: every type), in {@link Alarm} order (etcd's
   * {@code AlarmStore.Get}).
   */
  public List<Alarm> alarms(int type) {
    lock.readLock().lock();
    try {
      return alarmsOf(type);
    } finally {
      lock.readLock().unlock();
    }
  }

  private List<Alarm> alarmsOf(int type) {
    return alarms.stream().filter(a -> type == Alarm.NONE || a.type() == type).toList();
  }

  /** etcd Range; safe to call concurrently with the apply thread. */
  public RangeResponse range(Range r) throws MvccException {
    checkRange(r);
    return doRange(r, new SnapshotReader());
  }

  /**
   * A read-only txn (compares and ranges only, nested allowed) served outside Raft at the current
   * revision, safe to call concurrently with the apply thread; the result equals applying it, which
   * would not bump the revision either. Writes must be proposed and go through {@link #apply}.
   */
  public TxnResponse readTxn(Txn t) throws MvccException {
    if (!readOnly(t)) {
      throw new IllegalArgumentException(
          "txn contains writes: propose it through Raft and apply() it instead of readTxn()");
    }
    checkTxn(t);
    SnapshotReader rd = new SnapshotReader();
    return readTxn(t, rd);
  }

  private static boolean readOnly(Txn t) {
    for (List<Op> branch : List.of(t.success(), t.failure())) {
      for (Op op : branch) {
        if (op instanceof Put || op instanceof DeleteRange) {
          return false;
        }
        if (op instanceof Txn nested && !readOnly(nested)) {
          return false;
        }
      }
    }
    return true;
  }

  private TxnResponse readTxn(Txn t, SnapshotReader rd) throws MvccException {
    boolean ok = true;
    for (Compare c : t.compare()) {
      if (!compare(c, rd, rd.currentRev())) {
        ok = false;
        break;
      }
    }
    List<OpResponse> out = new ArrayList<>();
    for (Op op : ok ? t.success() : t.failure()) {
      if (op instanceof Range r) {
        out.add(doRange(r, rd));
      } else if (op instanceof Txn nested) {
        out.add(readTxn(nested, rd));
      }
    }
    return new TxnResponse(ok, out, rd.currentRev());
  }

  /**
   * History for watch catch-up: events on keys in the range with revisions in [fromRevision,
   * toRevision] (toRevision <= 0: current), in revision order, each with its prevKv (null when the
   * key did not exist just before or that state is compacted). With {@code limit} > 0 reading stops
   * at the end of the revision in which the limit was reached, so a revision's events are never
   * split; resume from {@code lastRevision + 1}. Throws COMPACTED (carrying the compact revision)
   * if fromRevision is below the compacted revision, as etcd's watch does.
   */
  public EventsResult events(
      byte[] key, byte[] rangeEnd, long fromRevision, long toRevision, int limit)
      throws MvccException {
    byte[] end = Bytes.orEmpty(rangeEnd);
    long from = Math.max(fromRevision, 1);
    long cur;
    long compactedAt;
    Snapshot snap;
    lock.readLock().lock();
    try {
      cur = currentRev;
      compactedAt = compactRev;
      if (from < compactedAt) {
        throw compacted(from, compactedAt);
      }
      snap = db.getSnapshot();
    } finally {
      lock.readLock().unlock();
    }
    long to = toRevision <= 0 ? cur : Math.min(toRevision, cur);
    List<Event> events = new ArrayList<>();
    long last = to;
    try (ReadOptions ro = new ReadOptions().setSnapshot(snap);
        RocksIterator it = db.newIterator(ro)) {
      for (it.seek(new Rev(from, 0).toKey()); it.isValid(); it.next()) {
        byte[] k = it.key();
        if (k[0] != Rev.PREFIX) {
          break;
        }
        Rev rev = Rev.fromKey(k);
        if (rev.main() > to) {
          break;
        }
        if (limit > 0 && events.size() >= limit && rev.main() > last) {
          break;
        }
        byte[] v = it.value();
        KeyValue kv = decode(v, rev.main());
        if (!Bytes.inRange(kv.key(), key, end)) {
          continue;
        }
        events.add(new Event(isTombstone(v) ? Event.Type.DELETE : Event.Type.PUT, kv, null));
        if (limit > 0 && events.size() >= limit) {
          last = rev.main();
        }
      }
      it.status();
      if (limit <= 0 || events.size() < limit) {
        last = to;
      }
      return new EventsResult(withPrevKvs(events, snap, ro), last, cur);
    } catch (RocksDBException e) {
      throw new MvccStorageException("cannot read event history from " + dir, e);
    } finally {
      db.releaseSnapshot(snap);
    }
  }

  private List<Event> withPrevKvs(List<Event> events, Snapshot snap, ReadOptions ro)
      throws MvccException, RocksDBException {
    List<byte[]> revKeys = new ArrayList<>();
    List<Integer> at = new ArrayList<>();
    lock.readLock().lock();
    try {
      for (int i = 0; i < events.size(); i++) {
        KeyValue kv = events.get(i).kv();
        long prevAt = kv.modRevision() - 1;
        if (prevAt < compactRev) {
          continue;
        }
        Rev r = index.get(kv.key(), prevAt);
        if (r != null) {
          revKeys.add(r.toKey());
          at.add(i);
        }
      }
    } finally {
      lock.readLock().unlock();
    }
    if (revKeys.isEmpty()) {
      return events;
    }
    List<byte[]> values = db.multiGetAsList(ro, revKeys);
    List<Event> out = new ArrayList<>(events);
    for (int j = 0; j < at.size(); j++) {
      byte[] v = values.get(j);
      if (v == null) {
        // Compacted between our snapshot and the index lookup: the watcher must re-sync.
        throw compacted(events.get(at.get(j)).kv().modRevision(), compactRev);
      }
      Event e = out.get(at.get(j));
      out.set(
          at.get(j), new Event(e.type(), e.kv(), decode(v, Rev.fromKey(revKeys.get(j)).main())));
    }
    return out;
  }

  /** Writes a consistent RocksDB checkpoint (state, meta and applied index) to {@code target}. */
  public void snapshot(Path target) {
    try (Checkpoint cp = Checkpoint.create(db)) {
      cp.createCheckpoint(target.toString());
    } catch (RocksDBException e) {
      throw new MvccStorageException(
          "cannot create checkpoint at "
              + target
              + ": the target must not exist and must be on a writable file system",
          e);
    }
  }

  /** The revision and applied-index meta keys of a store or checkpoint. */
  public record CheckpointMeta(long revision, long compactRevision, long appliedIndex) {}

  /**
   * Reads the meta keys of a closed store or a checkpoint in {@code dir} (opened read-only, so the
   * directory is not changed).
   */
  public static CheckpointMeta readCheckpointMeta(Path dir) {
    try (Options o = new Options();
        RocksDB ro = RocksDB.openReadOnly(o, dir.toString())) {
      return new CheckpointMeta(
          metaOf(ro, META_CURRENT, 1), metaOf(ro, META_COMPACTED, -1), metaOf(ro, META_APPLIED, 0));
    } catch (RocksDBException e) {
      throw new MvccStorageException("cannot read the meta keys of the checkpoint at " + dir, e);
    }
  }

  private static long metaOf(RocksDB db, byte[] key, long dflt) throws RocksDBException {
    byte[] v = db.get(key);
    return v == null ? dflt : ByteBuffer.wrap(v).getLong();
  }

  /** The registered listeners, e.g. to move them to a store that replaces this one. */
  public List<MvccListener> listeners() {
    return List.copyOf(listeners);
  }

  /**
   * The backend size the quota is checked against and {@code Status.dbSize} reports: the SST files
   * of the current LSM version ({@code rocksdb.live-sst-files-size}: files only older versions
   * still pin are not counted) plus the memtables ({@code rocksdb.cur-size-all-mem-tables}: data
   * not flushed yet). Deleted and compacted data keeps counting until RocksDB compacts it away — as
   * etcd's bbolt file keeps its size until a defragmentation. Reads in-memory statistics only. See
   * docs/decisions/0014-backend-quota-and-alarms.md.
   */
  public long dbSizeBytes() {
    try {
      return db.getLongProperty("rocksdb.live-sst-files-size")
          + db.getLongProperty("rocksdb.cur-size-all-mem-tables");
    } catch (RocksDBException e) {
      throw new MvccStorageException("cannot read database size of " + dir, e);
    }
  }

  /**
   * What {@code Status.dbSizeInUse} reports: RocksDB's estimate of the live data in the SST files
   * ({@code rocksdb.estimate-live-data-size}) plus the memtables, at most {@link #dbSizeBytes()}.
   */
  public long dbSizeInUseBytes() {
    try {
      long inUse =
          db.getLongProperty("rocksdb.estimate-live-data-size")
              + db.getLongProperty("rocksdb.cur-size-all-mem-tables");
      return Math.min(inUse, dbSizeBytes());
    } catch (RocksDBException e) {
      throw new MvccStorageException("cannot read database size of " + dir, e);
    }
  }

  /**
   * etcd's defragmentation: rewrites the whole database (a full RocksDB manual compaction, the
   * bottommost level included) so that deleted and compacted revisions stop taking space. Blocks
   * for as long as that takes — call it on a thread of its own. Reads and the apply thread carry on
   * meanwhile (RocksDB compacts from immutable files). {@link #close()} cancels it; it then throws.
   */
  public void defragment() {
    CompactRangeOptions o =
        new CompactRangeOptions()
            .setBottommostLevelCompaction(CompactRangeOptions.BottommostLevelCompaction.kForce)
            .setExclusiveManualCompaction(true);
    synchronized (lifecycle) {
      if (closed) {
        o.close();
        throw new MvccStorageException(
            "cannot defragment the MVCC store at " + dir + ": it is closed", null);
      }
      defrags.add(o);
    }
    try {
      long before = dbSizeBytes();
      db.compactRange(db.getDefaultColumnFamily(), null, null, o);
      LOG.info("Defragmented MVCC store at {}: {} -> {} bytes", dir, before, dbSizeBytes());
    } catch (RocksDBException e) {
      throw new MvccStorageException(
          o.canceled()
              ? "defragmentation of " + dir + " was cancelled: the store is closing"
              : "cannot defragment the MVCC store at " + dir + ": check disk space",
          e);
    } finally {
      synchronized (lifecycle) {
        defrags.remove(o);
        lifecycle.notifyAll();
      }
      o.close();
    }
  }

  /** How many {@link #defragment} calls are running (for tests). */
  int runningDefragmentations() {
    synchronized (lifecycle) {
      return defrags.size();
    }
  }

  /** Result of {@link #hash} and {@link #hashKv}: the hash and the revisions it was taken at. */
  public record HashResult(int hash, long revision, long compactRevision) {}

  /**
   * etcd's {@code HashKV}: a CRC-32C of every MVCC revision up to {@code revision} (0: the current
   * one) that a compaction at the compacted revision kept, in etcd's own bucket encoding ({@link
   * EtcdKeyBucket}), so members (and etcd) with the same history return the same hash (a negative
   * {@code revision} hashes no revision at all, as etcd's does). Revisions at or below the
   * compacted revision count only if they hold a key's value as of {@code revision} (etcd's {@code
   * Keep}; all of them when no key is live then). Throws COMPACTED for {@code 0 < revision <=
   * compacted} and FUTURE_REV beyond the current revision, as etcd. Reads a RocksDB snapshot: safe
   * beside the apply thread, but reads every revision — not for event loops.
   */
  public HashResult hashKv(long revision) throws MvccException {
    long cur;
    long compacted;
    long at;
    Set<Rev> keep = new HashSet<>();
    long[] live = {0};
    Snapshot snap;
    lock.readLock().lock();
    try {
      cur = currentRev;
      compacted = compactRev;
      if (revision > 0 && revision <= compacted) {
        throw compacted(revision, compacted);
      }
      if (revision > cur) {
        throw futureRev(revision, cur);
      }
      // As etcd, a negative revision is taken literally: no revision is at or below it.
      at = revision == 0 ? cur : revision;
      long c = compacted;
      index.range(
          FIRST_KEY,
          FIRST_KEY,
          at,
          0,
          (k, r) -> {
            live[0]++;
            if (r.main() <= c) {
              keep.add(r);
            }
          });
      snap = db.getSnapshot();
    } finally {
      lock.readLock().unlock();
    }
    EtcdKeyBucket bucket = new EtcdKeyBucket();
    try (ReadOptions ro = new ReadOptions().setSnapshot(snap);
        RocksIterator it = db.newIterator(ro)) {
      for (it.seek(new byte[] {Rev.PREFIX}); it.isValid() && it.key()[0] == Rev.PREFIX; it.next()) {
        Rev r = Rev.fromKey(it.key());
        if (r.main() > at) {
          break;
        }
        byte[] v = it.value();
        boolean tombstone = isTombstone(v);
        if (r.main() <= compacted) {
          // A tombstone at the compacted revision is kept for watchers (KeyIndex.compact);
          // etcd 3.4 drops it, so it does not count here either.
          if (tombstone || (live[0] > 0 && !keep.contains(r))) {
            continue;
          }
        }
        bucket.add(r, decode(v, r.main()), tombstone);
      }
      it.status();
    } catch (RocksDBException e) {
      throw new MvccStorageException("cannot read revisions from " + dir + " to hash them", e);
    } finally {
      db.releaseSnapshot(snap);
    }
    return new HashResult(bucket.hash(), cur, compacted);
  }

  /**
   * etcd's {@code Hash}: a CRC-32C of every key and value in the database — revisions, leases,
   * alarms and the revision meta keys — except the applied Raft index (as etcd leaves out its
   * consistent index), so members holding the same state return the same hash. Not comparable with
   * etcd's (a different layout). Reads a RocksDB snapshot; not for event loops.
   */
  public HashResult hash() {
    long cur;
    long compacted;
    Snapshot snap;
    lock.readLock().lock();
    try {
      cur = currentRev;
      compacted = compactRev;
      snap = db.getSnapshot();
    } finally {
      lock.readLock().unlock();
    }
    CRC32C crc = new CRC32C();
    try (ReadOptions ro = new ReadOptions().setSnapshot(snap);
        RocksIterator it = db.newIterator(ro)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] k = it.key();
        if (Arrays.equals(k, META_APPLIED)) {
          continue;
        }
        crc.update(k);
        crc.update(it.value());
      }
      it.status();
    } catch (RocksDBException e) {
      throw new MvccStorageException("cannot read " + dir + " to hash it", e);
    } finally {
      db.releaseSnapshot(snap);
    }
    return new HashResult((int) crc.getValue(), cur, compacted);
  }

  /** Range start and end that select every key (etcd's "\0" from-key range). */
  private static final byte[] FIRST_KEY = {0};

  /** Closes the store; a running {@link #defragment} is cancelled first and waited for. */
  @Override
  public void close() {
    synchronized (lifecycle) {
      closed = true;
      defrags.forEach(o -> o.setCanceled(true));
      boolean interrupted = false;
      while (!defrags.isEmpty()) {
        try {
          lifecycle.wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    writeOptions.close();
    db.close();
    options.close();
  }

  // ---------------------------------------------------------------- apply

  /**
   * Applies the Raft entry at {@code raftIndex}. Returns empty if the index is at or below {@link
   * #appliedIndex()} (already applied). A command rejected with {@link MvccException} is still
   * recorded as applied: the rejection is the entry's deterministic result.
   */
  public synchronized Optional<Response> apply(long raftIndex, WriteCommand cmd)
      throws MvccException {
    return apply(raftIndex, cmd, null);
  }

  /**
   * As {@link #apply(long, WriteCommand)}, for a command that carries the client's id for its call
   * ({@code client} may be null). An id this store already applied is not applied again: the entry
   * returns (or throws) what the first one did, or is rejected with REQUEST_ID_REUSED (same id,
   * different fingerprint) or REQUEST_ID_EXPIRED (below the client's window). The request table
   * changes in the same batch as the write (decision 0012).
   */
  public synchronized Optional<Response> apply(
      long raftIndex, WriteCommand cmd, ClientRequest client) throws MvccException {
    if (raftIndex <= appliedIndex) {
      return Optional.empty();
    }
    RequestTable.Seen seen = client == null ? RequestTable.Seen.NEW : requests.check(client);
    if (seen != RequestTable.Seen.NEW) {
      WriteTxn none = new WriteTxn(currentRev);
      none.requests = requests.changes(raftIndex, client, null);
      commit(raftIndex, none);
      return switch (seen) {
        case APPLIED -> Optional.of(requests.replay(client));
        case REUSED ->
            throw new MvccException(
                Code.REQUEST_ID_REUSED,
                "request id "
                    + client
                    + " was already used for a different request; use a new id for a new request");
        default ->
            throw new MvccException(
                Code.REQUEST_ID_EXPIRED,
                "request id "
                    + client
                    + " is below this client's deduplication window, so whether it was applied is"
                    + " no longer known; it was not applied now: read the current state and decide");
      };
    }
    WriteTxn w = new WriteTxn(currentRev);
    Response resp;
    try {
      resp = execute(cmd, w);
    } catch (MvccException e) {
      WriteTxn failed = new WriteTxn(currentRev);
      failed.requests =
          requests.changes(raftIndex, client, client == null ? null : OutcomeCodec.encode(e));
      commit(raftIndex, failed);
      throw e;
    }
    w.requests =
        requests.changes(raftIndex, client, client == null ? null : OutcomeCodec.encode(resp));
    commit(raftIndex, w);
    return Optional.of(resp);
  }

  /**
   * The request table's rows for {@code client} (seq -> fingerprint) and its floor, as {@code floor
   * -> rows}; for tests and diagnostics.
   */
  public synchronized Map.Entry<Long, Map<Long, Long>> clientRequests(long client) {
    return Map.entry(requests.floor(client), requests.rows(client));
  }

  /** How many clients the request table holds a session for. */
  public synchronized int clientSessions() {
    return requests.sessionCount();
  }

  private Response execute(WriteCommand cmd, WriteTxn w) throws MvccException {
    checkAlarms(cmd);
    if (cmd instanceof Put p) {
      checkPut(p);
      if (p.lease() != 0 && !leases.containsKey(p.lease())) {
        throw leaseNotFound(p.lease());
      }
      return put(p, w);
    } else if (cmd instanceof DeleteRange d) {
      checkKey(d.key());
      return deleteRange(d, w);
    } else if (cmd instanceof Txn t) {
      return txn(t, w);
    } else if (cmd instanceof Compact c) {
      if (c.revision() <= compactRev) {
        throw compacted(c.revision(), compactRev);
      }
      if (c.revision() > currentRev) {
        throw futureRev(c.revision(), currentRev);
      }
      w.compactTo = c.revision();
      index.compact(c.revision(), false, w.compactRemoved);
      return new CompactResponse(currentRev);
    } else if (cmd instanceof LeaseGrant g) {
      if (g.id() == 0) {
        throw new MvccException(
            Code.LEASE_NOT_FOUND, "lease id 0 is reserved for 'no lease': choose a non-zero id");
      }
      if (leases.containsKey(g.id())) {
        throw new MvccException(
            Code.LEASE_EXISTS, "lease " + g.id() + " already exists: grant a different id");
      }
      if (g.ttlSeconds() > MAX_LEASE_TTL) {
        throw new MvccException(
            Code.LEASE_TTL_TOO_LARGE,
            "lease TTL " + g.ttlSeconds() + "s exceeds the maximum " + MAX_LEASE_TTL + "s");
      }
      w.leaseGrants.put(g.id(), g.ttlSeconds());
      return new LeaseGrantResponse(g.id(), g.ttlSeconds(), currentRev);
    } else if (cmd instanceof LeaseRevoke r) {
      if (!leases.containsKey(r.id())) {
        throw leaseNotFound(r.id());
      }
      for (byte[] key : leaseKeys.get(r.id())) {
        deleteRange(DeleteRange.of(key, Bytes.EMPTY), w);
      }
      w.leaseRevokes.add(r.id());
      return new LeaseRevokeResponse(w.rev());
    } else if (cmd instanceof AlarmChange a) {
      return alarm(a, w);
    }
    throw new IllegalArgumentException("unknown write command " + cmd);
  }

  /**
   * What active alarms refuse, as etcd's appliers do: with CORRUPT every write; with NOSPACE the
   * writes that add data (puts, txns with a put anywhere in them, lease grants), while deletes,
   * compactions and lease revocations still go through so that space can be reclaimed. Alarm
   * changes themselves always apply.
   */
  private void checkAlarms(WriteCommand cmd) throws MvccException {
    if (alarms.isEmpty() || cmd instanceof AlarmChange) {
      return;
    }
    if (!alarmsOf(Alarm.CORRUPT).isEmpty()) {
      throw new MvccException(
          Code.CORRUPT,
          "corrupt cluster: a CORRUPT alarm is active ("
              + alarmsOf(Alarm.CORRUPT)
              + "); writes are refused until the data is checked and the alarm disarmed");
    }
    if (!alarmsOf(Alarm.NOSPACE).isEmpty() && addsData(cmd)) {
      throw new MvccException(
          Code.NO_SPACE,
          "database space exceeded: a NOSPACE alarm is active; delete or compact, defragment,"
              + " then disarm the alarm (etcdctl alarm disarm)");
    }
  }

  private static boolean addsData(WriteCommand cmd) {
    return cmd instanceof Put || cmd instanceof LeaseGrant || (cmd instanceof Txn t && hasPut(t));
  }

  /** Whether a txn has a put in either branch, nested txns included. */
  public static boolean hasPut(Txn t) {
    for (List<Op> branch : List.of(t.success(), t.failure())) {
      for (Op op : branch) {
        if (op instanceof Put || (op instanceof Txn nested && hasPut(nested))) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * etcd's alarm apply: ACTIVATE is idempotent, DEACTIVATE of an inactive alarm changes nothing.
   */
  private Response alarm(AlarmChange a, WriteTxn w) {
    Alarm alarm = new Alarm(a.memberId(), a.type());
    return switch (a.action()) {
      case GET -> new Responses.AlarmResponse(alarmsOf(a.type()), currentRev);
      case ACTIVATE -> {
        // etcd 3.4 records even an alarm of type NONE (it refuses nothing; disarm clears it).
        if (!alarms.contains(alarm)) {
          w.alarmsRaised.add(alarm);
          LOG.warn("alarm raised: {} by member {}", Alarm.typeName(a.type()), a.memberId());
        }
        yield new Responses.AlarmResponse(List.of(alarm), currentRev);
      }
      case DEACTIVATE -> {
        if (!alarms.contains(alarm)) {
          yield new Responses.AlarmResponse(List.of(), currentRev);
        }
        w.alarmsCleared.add(alarm);
        LOG.warn("alarm cleared: {} of member {}", Alarm.typeName(a.type()), a.memberId());
        yield new Responses.AlarmResponse(List.of(alarm), currentRev);
      }
    };
  }

  private PutResponse put(Put p, WriteTxn w) throws MvccException {
    KeyValue prev = w.latest(p.key());
    if ((p.ignoreValue() || p.ignoreLease()) && prev == null) {
      throw new MvccException(
          Code.KEY_NOT_FOUND,
          "key "
              + Bytes.show(p.key())
              + " not found: ignore_value/ignore_lease need an existing key; put it first");
    }
    // Copies: the index and the records must not share arrays the caller may reuse.
    byte[] value = p.ignoreValue() ? prev.value() : p.value().clone();
    long lease = p.ignoreLease() ? prev.lease() : p.lease();
    long rev = w.beginRev + 1;
    KeyValue kv =
        new KeyValue(
            p.key().clone(),
            prev == null ? rev : prev.createRevision(),
            rev,
            prev == null ? 1 : prev.version() + 1,
            value,
            lease);
    w.record(Event.Type.PUT, kv, prev);
    return new PutResponse(p.prevKv() ? prev : null, rev);
  }

  private DeleteRangeResponse deleteRange(DeleteRange d, WriteTxn w) throws MvccException {
    List<KeyValue> existing = w.pending(d.key(), d.rangeEnd());
    for (KeyValue kv : existing) {
      w.record(Event.Type.DELETE, KeyValue.tombstone(kv.key(), w.beginRev + 1), kv);
    }
    return new DeleteRangeResponse(existing.size(), d.prevKv() ? existing : List.of(), w.rev());
  }

  private TxnResponse txn(Txn t, WriteTxn w) throws MvccException {
    checkTxn(t);
    checkIntervals(t.success());
    checkIntervals(t.failure());
    IdentityHashMap<Txn, Boolean> path = new IdentityHashMap<>();
    decide(t, w, path);
    checkPath(t, path, w);
    return executeTxn(t, path, w);
  }

  /** Evaluates the compares of t and of every nested txn on the chosen path at the begin state. */
  private void decide(Txn t, WriteTxn w, IdentityHashMap<Txn, Boolean> path) throws MvccException {
    boolean ok = true;
    for (Compare c : t.compare()) {
      if (!compare(c, w)) {
        ok = false;
        break;
      }
    }
    path.put(t, ok);
    for (Op op : ok ? t.success() : t.failure()) {
      if (op instanceof Txn nested) {
        decide(nested, w, path);
      }
    }
  }

  /**
   * etcd's checkTxn: before any write, checks the puts and ranges of the chosen path in op order
   * against the begin state, so execution cannot fail half-way.
   */
  private void checkPath(Txn t, IdentityHashMap<Txn, Boolean> path, WriteTxn w)
      throws MvccException {
    for (Op op : path.get(t) ? t.success() : t.failure()) {
      if (op instanceof Txn nested) {
        checkPath(nested, path, w);
      } else if (op instanceof Put p) {
        if ((p.ignoreValue() || p.ignoreLease()) && index.get(p.key(), w.beginRev) == null) {
          throw new MvccException(
              Code.KEY_NOT_FOUND,
              "key "
                  + Bytes.show(p.key())
                  + " not found: ignore_value/ignore_lease need an existing key");
        }
        if (p.lease() != 0 && !leases.containsKey(p.lease())) {
          throw leaseNotFound(p.lease());
        }
      } else if (op instanceof Range r && r.revision() != 0) {
        if (r.revision() > w.beginRev) {
          throw futureRev(r.revision(), w.beginRev);
        }
        if (r.revision() < compactRev) {
          throw compacted(r.revision(), compactRev);
        }
      }
    }
  }

  private TxnResponse executeTxn(Txn t, IdentityHashMap<Txn, Boolean> path, WriteTxn w)
      throws MvccException {
    boolean ok = path.get(t);
    List<OpResponse> out = new ArrayList<>();
    for (Op op : ok ? t.success() : t.failure()) {
      if (op instanceof Range r) {
        out.add(doRange(r, w));
      } else if (op instanceof Put p) {
        out.add(put(p, w));
      } else if (op instanceof DeleteRange d) {
        out.add(deleteRange(d, w));
      } else if (op instanceof Txn nested) {
        out.add(executeTxn(nested, path, w));
      }
    }
    return new TxnResponse(ok, out, w.rev());
  }

  private boolean compare(Compare c, WriteTxn w) throws MvccException {
    return compare(c, w, w.beginRev);
  }

  private static boolean compare(Compare c, Reader rd, long at) throws MvccException {
    List<KeyValue> kvs = rd.fetch(c.key(), c.rangeEnd(), at, 0, false).kvs;
    if (kvs.isEmpty()) {
      return c.target() != Compare.Target.VALUE
          && compareKv(c, new KeyValue(c.key(), 0, 0, 0, Bytes.EMPTY, 0));
    }
    for (KeyValue kv : kvs) {
      if (!compareKv(c, kv)) {
        return false;
      }
    }
    return true;
  }

  static boolean compareKv(Compare c, KeyValue kv) {
    int r =
        switch (c.target()) {
          case VALUE -> Bytes.ORDER.compare(kv.value(), c.value());
          case CREATE -> Long.compare(kv.createRevision(), c.number());
          case MOD -> Long.compare(kv.modRevision(), c.number());
          case VERSION -> Long.compare(kv.version(), c.number());
          case LEASE -> Long.compare(kv.lease(), c.number());
        };
    return switch (c.result()) {
      case EQUAL -> r == 0;
      case NOT_EQUAL -> r != 0;
      case GREATER -> r > 0;
      case LESS -> r < 0;
    };
  }

  private void commit(long raftIndex, WriteTxn w) {
    long newRev = w.changes.isEmpty() ? w.beginRev : w.beginRev + 1;
    if (w.compactTo != null) {
      // Publish the compacted revision before deleting, so no reader starts at a revision
      // whose records are about to disappear.
      lock.writeLock().lock();
      compactRev = w.compactTo;
      lock.writeLock().unlock();
    }
    try (WriteBatch b = new WriteBatch()) {
      for (Change c : w.changes) {
        b.put(c.rev.toKey(), encode(c.kv, c.type == Event.Type.DELETE));
      }
      for (Rev r : w.compactRemoved) {
        b.delete(r.toKey());
      }
      for (Map.Entry<Long, Long> g : w.leaseGrants.entrySet()) {
        b.put(leaseKey(g.getKey()), longBytes(g.getValue()));
      }
      for (long id : w.leaseRevokes) {
        b.delete(leaseKey(id));
      }
      for (Alarm a : w.alarmsRaised) {
        b.put(alarmKey(a), Bytes.EMPTY);
      }
      for (Alarm a : w.alarmsCleared) {
        b.delete(alarmKey(a));
      }
      b.put(META_CURRENT, longBytes(newRev));
      if (w.compactTo != null) {
        b.put(META_COMPACTED, longBytes(w.compactTo));
      }
      b.put(META_APPLIED, longBytes(raftIndex));
      if (w.requests != null) {
        w.requests.addTo(b);
      }
      db.write(writeOptions, b);
    } catch (RocksDBException e) {
      throw new MvccStorageException(
          "cannot write Raft entry " + raftIndex + " to the MVCC store at " + dir, e);
    }
    lock.writeLock().lock();
    try {
      for (Change c : w.changes) {
        byte[] key = c.kv.key();
        long oldLease = c.prev == null ? 0 : c.prev.lease();
        if (oldLease != 0 && leaseKeys.containsKey(oldLease)) {
          leaseKeys.get(oldLease).remove(key);
        }
        if (c.type == Event.Type.PUT) {
          index.put(key, c.rev, c.kv.lease());
          if (c.kv.lease() != 0) {
            leaseKeys.get(c.kv.lease()).add(key);
          }
        } else {
          index.tombstone(key, c.rev);
        }
      }
      if (w.compactTo != null) {
        index.compact(w.compactTo, true, new ArrayList<>());
      }
      for (Map.Entry<Long, Long> g : w.leaseGrants.entrySet()) {
        leases.put(g.getKey(), g.getValue());
        leaseKeys.put(g.getKey(), new TreeSet<>(Bytes.ORDER));
      }
      for (long id : w.leaseRevokes) {
        leases.remove(id);
        leaseKeys.remove(id);
      }
      alarms.addAll(w.alarmsRaised);
      w.alarmsCleared.forEach(alarms::remove);
      currentRev = newRev;
      appliedIndex = raftIndex;
    } finally {
      lock.writeLock().unlock();
    }
    if (w.requests != null) {
      w.requests.applied();
    }
    if (!w.changes.isEmpty()) {
      List<Event> events = new ArrayList<>(w.changes.size());
      for (Change c : w.changes) {
        events.add(new Event(c.type, c.kv, c.prev));
      }
      List<Event> published = List.copyOf(events);
      for (MvccListener l : listeners) {
        try {
          l.onRevision(newRev, published);
        } catch (RuntimeException e) {
          LOG.error("MVCC listener {} failed on revision {}", l, newRev, e);
          throw new IllegalStateException(
              "listener "
                  + l
                  + " threw on revision "
                  + newRev
                  + " (the revision is committed); listeners must not throw",
              e);
        }
      }
    }
  }

  // ---------------------------------------------------------------- range

  private static final class Fetched {
    final List<KeyValue> kvs;
    final long total;

    Fetched(List<KeyValue> kvs, long total) {
      this.kvs = kvs;
      this.total = total;
    }
  }

  private interface Reader {
    long currentRev();

    long compactRev();

    Fetched fetch(byte[] key, byte[] end, long at, long limit, boolean countOnly)
        throws MvccException;
  }

  /** Concurrent reader: index under the read lock, values through a RocksDB snapshot. */
  private final class SnapshotReader implements Reader {
    private final long cur = currentRev;
    private final long compacted = compactRev;

    @Override
    public long currentRev() {
      return cur;
    }

    @Override
    public long compactRev() {
      return compacted;
    }

    @Override
    public Fetched fetch(byte[] key, byte[] end, long at, long limit, boolean countOnly)
        throws MvccException {
      List<byte[]> revKeys = new ArrayList<>();
      long total;
      Snapshot snap;
      lock.readLock().lock();
      try {
        if (at < MvccStore.this.compactRev) {
          throw compacted(at, MvccStore.this.compactRev);
        }
        total = index.range(key, end, at, countOnly ? -1 : limit, (k, r) -> revKeys.add(r.toKey()));
        if (countOnly) {
          return new Fetched(List.of(), total);
        }
        snap = db.getSnapshot();
      } finally {
        lock.readLock().unlock();
      }
      try (ReadOptions ro = new ReadOptions().setSnapshot(snap)) {
        return new Fetched(multiGet(ro, revKeys), total);
      } finally {
        db.releaseSnapshot(snap);
      }
    }
  }

  private List<KeyValue> multiGet(ReadOptions ro, List<byte[]> revKeys) {
    if (revKeys.isEmpty()) {
      return new ArrayList<>();
    }
    try {
      List<byte[]> values = db.multiGetAsList(ro, revKeys);
      List<KeyValue> out = new ArrayList<>(values.size());
      for (int i = 0; i < values.size(); i++) {
        byte[] v = values.get(i);
        if (v == null) {
          throw new MvccStorageException(
              "revision "
                  + Rev.fromKey(revKeys.get(i))
                  + " is in the key index but missing from "
                  + dir
                  + ": the database is inconsistent; restore from a snapshot",
              null);
        }
        out.add(decode(v, Rev.fromKey(revKeys.get(i)).main()));
      }
      return out;
    } catch (RocksDBException e) {
      throw new MvccStorageException("cannot read revisions from " + dir, e);
    }
  }

  private RangeResponse doRange(Range r, Reader rd) throws MvccException {
    long cur = rd.currentRev();
    long rev = r.revision();
    if (rev > cur) {
      throw futureRev(rev, cur);
    }
    if (rev <= 0) {
      rev = cur;
    }
    if (rev < rd.compactRev()) {
      throw compacted(rev, rd.compactRev());
    }
    boolean filtered =
        r.minModRevision() != 0
            || r.maxModRevision() != 0
            || r.minCreateRevision() != 0
            || r.maxCreateRevision() != 0;
    long fetchLimit =
        r.sortOrder() != Range.SortOrder.NONE || filtered ? 0 : (r.limit() > 0 ? r.limit() + 1 : 0);
    Fetched f = rd.fetch(r.key(), r.rangeEnd(), rev, fetchLimit, r.countOnly());
    List<KeyValue> kvs = new ArrayList<>(f.kvs);
    if (r.maxModRevision() != 0) {
      kvs.removeIf(kv -> kv.modRevision() > r.maxModRevision());
    }
    if (r.minModRevision() != 0) {
      kvs.removeIf(kv -> kv.modRevision() < r.minModRevision());
    }
    if (r.maxCreateRevision() != 0) {
      kvs.removeIf(kv -> kv.createRevision() > r.maxCreateRevision());
    }
    if (r.minCreateRevision() != 0) {
      kvs.removeIf(kv -> kv.createRevision() < r.minCreateRevision());
    }
    sort(kvs, r.sortOrder(), r.sortTarget());
    boolean more = false;
    if (r.limit() > 0 && kvs.size() > r.limit()) {
      kvs = new ArrayList<>(kvs.subList(0, (int) r.limit()));
      more = true;
    }
    if (r.keysOnly()) {
      kvs.replaceAll(KeyValue::withoutValue);
    }
    return new RangeResponse(kvs, more, f.total, cur);
  }

  /** etcd's sort normalization; stable, so ties stay in key order. */
  static void sort(List<KeyValue> kvs, Range.SortOrder order, Range.SortTarget target) {
    if (target != Range.SortTarget.KEY && order == Range.SortOrder.NONE) {
      order = Range.SortOrder.ASCEND;
    } else if (target == Range.SortTarget.KEY && order == Range.SortOrder.ASCEND) {
      order = Range.SortOrder.NONE;
    }
    if (order == Range.SortOrder.NONE) {
      return;
    }
    Comparator<KeyValue> c =
        switch (target) {
          case KEY -> Comparator.comparing(KeyValue::key, Bytes.ORDER);
          case VERSION -> Comparator.comparingLong(KeyValue::version);
          case CREATE -> Comparator.comparingLong(KeyValue::createRevision);
          case MOD -> Comparator.comparingLong(KeyValue::modRevision);
          case VALUE -> Comparator.comparing(KeyValue::value, Bytes.ORDER);
        };
    kvs.sort(order == Range.SortOrder.DESCEND ? c.reversed() : c);
  }

  // ---------------------------------------------------------------- write txn state

  private record Change(Event.Type type, KeyValue kv, KeyValue prev, Rev rev) {}

  /** Pending changes of one applied entry; reads at revision 0 see them (etcd's txn view). */
  private final class WriteTxn implements Reader {
    final long beginRev;
    final List<Change> changes = new ArrayList<>();
    final TreeMap<byte[], Change> overlay = new TreeMap<>(Bytes.ORDER);
    final Map<Long, Long> leaseGrants = new HashMap<>();
    final Set<Long> leaseRevokes = new HashSet<>();
    final List<Rev> compactRemoved = new ArrayList<>();
    final List<Alarm> alarmsRaised = new ArrayList<>();
    final List<Alarm> alarmsCleared = new ArrayList<>();
    Long compactTo;
    RequestTable.Changes requests;

    WriteTxn(long beginRev) {
      this.beginRev = beginRev;
    }

    long rev() {
      return changes.isEmpty() ? beginRev : beginRev + 1;
    }

    void record(Event.Type type, KeyValue kv, KeyValue prev) {
      Change c = new Change(type, kv, prev, new Rev(beginRev + 1, changes.size()));
      changes.add(c);
      overlay.put(kv.key(), c);
    }

    KeyValue latest(byte[] key) throws MvccException {
      List<KeyValue> kvs = pending(key, Bytes.EMPTY);
      return kvs.isEmpty() ? null : kvs.get(0);
    }

    /** Live keys in the range in the state including this entry's changes so far. */
    List<KeyValue> pending(byte[] key, byte[] end) throws MvccException {
      return fetch(key, end, beginRev + 1, 0, false).kvs;
    }

    @Override
    public long currentRev() {
      return rev();
    }

    @Override
    public long compactRev() {
      return compactRev;
    }

    @Override
    public Fetched fetch(byte[] key, byte[] end, long at, long limit, boolean countOnly)
        throws MvccException {
      if (at <= beginRev || overlay.isEmpty()) {
        List<byte[]> revKeys = new ArrayList<>();
        long total =
            index.range(
                key,
                end,
                Math.min(at, beginRev),
                countOnly ? -1 : limit,
                (k, r) -> revKeys.add(r.toKey()));
        if (countOnly) {
          return new Fetched(List.of(), total);
        }
        try (ReadOptions ro = new ReadOptions()) {
          return new Fetched(multiGet(ro, revKeys), total);
        }
      }
      List<byte[]> keys = new ArrayList<>();
      List<byte[]> revKeys = new ArrayList<>();
      index.range(
          key,
          end,
          beginRev,
          0,
          (k, r) -> {
            if (!overlay.containsKey(k)) {
              keys.add(k);
              revKeys.add(r.toKey());
            }
          });
      TreeMap<byte[], KeyValue> merged = new TreeMap<>(Bytes.ORDER);
      try (ReadOptions ro = new ReadOptions()) {
        List<KeyValue> base = multiGet(ro, revKeys);
        for (KeyValue kv : base) {
          merged.put(kv.key(), kv);
        }
      }
      for (Change c : overlay.values()) {
        if (c.type == Event.Type.PUT && Bytes.inRange(c.kv.key(), key, end)) {
          merged.put(c.kv.key(), c.kv);
        }
      }
      List<KeyValue> all = new ArrayList<>(merged.values());
      long total = all.size();
      if (countOnly) {
        return new Fetched(List.of(), total);
      }
      if (limit > 0 && all.size() > limit) {
        all = new ArrayList<>(all.subList(0, (int) limit));
      }
      return new Fetched(all, total);
    }
  }

  // ---------------------------------------------------------------- validation (etcd v3rpc)

  private static void checkKey(byte[] key) throws MvccException {
    if (key.length == 0) {
      throw new MvccException(Code.EMPTY_KEY, "key is not provided: every request needs a key");
    }
  }

  private static void checkRange(Range r) throws MvccException {
    checkKey(r.key());
  }

  private static void checkPut(Put p) throws MvccException {
    checkKey(p.key());
    if (p.ignoreValue() && p.value().length != 0) {
      throw new MvccException(
          Code.VALUE_PROVIDED, "value is provided together with ignore_value: send one of them");
    }
    if (p.ignoreLease() && p.lease() != 0) {
      throw new MvccException(
          Code.LEASE_PROVIDED, "lease is provided together with ignore_lease: send one of them");
    }
  }

  private static void checkTxn(Txn t) throws MvccException {
    int opc = Math.max(t.compare().size(), Math.max(t.success().size(), t.failure().size()));
    if (opc > MAX_TXN_OPS) {
      throw new MvccException(
          Code.TOO_MANY_OPS,
          "too many operations in txn request: "
              + opc
              + " > "
              + MAX_TXN_OPS
              + "; split the transaction");
    }
    for (Compare c : t.compare()) {
      checkKey(c.key());
    }
    for (List<Op> branch : List.of(t.success(), t.failure())) {
      for (Op op : branch) {
        if (op instanceof Range r) {
          checkRange(r);
        } else if (op instanceof Put p) {
          checkPut(p);
        } else if (op instanceof DeleteRange d) {
          checkKey(d.key());
        } else if (op instanceof Txn nested) {
          checkTxn(nested);
        }
      }
    }
  }

  private record Interval(byte[] key, byte[] end) {}

  private record Writes(Set<byte[]> puts, List<Interval> dels) {}

  /** etcd's checkIntervals: a key may be put once per branch and not also deleted in it. */
  private static Writes checkIntervals(List<Op> ops) throws MvccException {
    List<Interval> dels = new ArrayList<>();
    for (Op op : ops) {
      if (op instanceof DeleteRange d) {
        dels.add(new Interval(d.key(), d.rangeEnd()));
      }
    }
    Set<byte[]> puts = new TreeSet<>(Bytes.ORDER);
    List<Interval> childDels = new ArrayList<>();
    for (Op op : ops) {
      if (!(op instanceof Txn t)) {
        continue;
      }
      Writes thenW = checkIntervals(t.success());
      Writes elseW = checkIntervals(t.failure());
      for (byte[] k : thenW.puts) {
        if (puts.contains(k) || deleted(dels, k)) {
          throw duplicateKey(k);
        }
        puts.add(k);
      }
      for (byte[] k : elseW.puts) {
        if ((puts.contains(k) && !thenW.puts.contains(k)) || deleted(dels, k)) {
          throw duplicateKey(k);
        }
        puts.add(k);
      }
      childDels.addAll(thenW.dels);
      childDels.addAll(elseW.dels);
    }
    dels.addAll(childDels);
    for (Op op : ops) {
      if (op instanceof Put p) {
        if (puts.contains(p.key()) || deleted(dels, p.key())) {
          throw duplicateKey(p.key());
        }
        puts.add(p.key());
      }
    }
    return new Writes(puts, dels);
  }

  private static boolean deleted(List<Interval> dels, byte[] k) {
    for (Interval d : dels) {
      if (Bytes.inRange(k, d.key(), d.end())) {
        return true;
      }
    }
    return false;
  }

  private static MvccException duplicateKey(byte[] k) {
    return new MvccException(
        Code.DUPLICATE_KEY,
        "duplicate key given in txn request: "
            + Bytes.show(k)
            + " is written more than once in one branch; write each key once");
  }

  private static MvccException compacted(long rev, long compactedAt) {
    return new MvccException(
        Code.COMPACTED,
        "required revision "
            + rev
            + " has been compacted (compacted revision "
            + compactedAt
            + "); read at or after the compacted revision",
        compactedAt);
  }

  private static MvccException futureRev(long rev, long current) {
    return new MvccException(
        Code.FUTURE_REV,
        "required revision " + rev + " is a future revision (current " + current + ")");
  }

  private static MvccException leaseNotFound(long id) {
    return new MvccException(
        Code.LEASE_NOT_FOUND, "requested lease " + id + " not found: grant it first");
  }

  // ---------------------------------------------------------------- encoding

  private static byte[] meta(String name) {
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    byte[] k = new byte[n.length + 1];
    k[0] = 'm';
    System.arraycopy(n, 0, k, 1, n.length);
    return k;
  }

  private static byte[] leaseKey(long id) {
    return ByteBuffer.allocate(9).put(LEASE_PREFIX).putLong(id).array();
  }

  private static byte[] alarmKey(Alarm a) {
    return ByteBuffer.allocate(13).put(ALARM_PREFIX).putLong(a.memberId()).putInt(a.type()).array();
  }

  private static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  static byte[] encode(KeyValue kv, boolean tombstone) {
    ByteBuffer b = ByteBuffer.allocate(1 + 8 * 4 + 4 + kv.key().length + kv.value().length);
    b.put((byte) (tombstone ? 1 : 0));
    b.putLong(kv.createRevision()).putLong(kv.modRevision()).putLong(kv.version());
    b.putLong(kv.lease()).putInt(kv.key().length).put(kv.key()).put(kv.value());
    return b.array();
  }

  static boolean isTombstone(byte[] record) {
    return (record[0] & 1) != 0;
  }

  static KeyValue decode(byte[] record, long expectedMod) {
    ByteBuffer b = ByteBuffer.wrap(record);
    b.get();
    long create = b.getLong();
    long mod = b.getLong();
    long version = b.getLong();
    long lease = b.getLong();
    byte[] key = new byte[b.getInt()];
    b.get(key);
    byte[] value = Arrays.copyOfRange(record, b.position(), record.length);
    if (mod != expectedMod) {
      throw new MvccStorageException(
          "record for revision " + expectedMod + " says mod revision " + mod + ": corrupt store",
          null);
    }
    return new KeyValue(key, create, mod, version, value, lease);
  }
}
