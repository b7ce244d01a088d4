package dev.kubelite.store.mvcc;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * The replicated table of applied client request ids (decision 0012): per client a session with a
 * floor (ids below it are finished or forgotten) and the ids at or above it that were applied, each
 * with the outcome it produced. Rows live in the MVCC store's RocksDB and change in the same {@link
 * WriteBatch} as the write they record, so a restart, a state image and every member agree on the
 * table at every applied index.
 *
 * <p>Everything that removes rows is a function of the applied entries only: a client's {@code
 * doneBelow} raises its floor, a client with more than {@link #MAX_RECORDS_PER_CLIENT} rows loses
 * its lowest ones (raising the floor), and a session not used by any entry for {@link
 * #SESSION_RETENTION_ENTRIES} applied Raft indexes is dropped whole.
 *
 * <p>Only the apply thread uses this class. In memory it keeps each session's floor, last index and
 * row fingerprints; outcomes are read from RocksDB when a retry hits them.
 *
 * <p>Layout: {@code 's' client(8)} -> floor(8) lastIndex(8); {@code 'q' client(8) seq(8)} ->
 * fingerprint(8) outcome ({@link OutcomeCodec}).
 */
final class RequestTable {
  /** A session idle for this many Raft indexes is forgotten (about 2 min at 8,000 writes/s). */
  static final long SESSION_RETENTION_ENTRIES = 1_000_000;

  /** Rows kept per client at most; a client that never says {@code doneBelow} loses old ones. */
  static final int MAX_RECORDS_PER_CLIENT = 10_000;

  private static final byte SESSION_PREFIX = 's';
  private static final byte RECORD_PREFIX = 'q';

  private static final class Session {
    final long client;
    long floor;
    long lastIndex;
    final TreeMap<Long, Long> fingerprints = new TreeMap<>();

    Session(long client) {
      this.client = client;
    }
  }

  private final RocksDB db;
  private final Path dir;
  private final Map<Long, Session> sessions = new HashMap<>();

  /** lastIndex -> client. One entry carries at most one client id, so indexes are unique. */
  private final TreeMap<Long, Long> byLastIndex = new TreeMap<>();

  private RequestTable(RocksDB db, Path dir) {
    this.db = db;
    this.dir = dir;
  }

  /** Reads the table's rows (at open). */
  static RequestTable load(RocksDB db, Path dir) {
    RequestTable t = new RequestTable(db, dir);
    try (RocksIterator it = db.newIterator()) {
      for (it.seek(new byte[] {SESSION_PREFIX});
          it.isValid() && it.key()[0] == SESSION_PREFIX;
          it.next()) {
        Session s = new Session(ByteBuffer.wrap(it.key(), 1, 8).getLong());
        ByteBuffer v = ByteBuffer.wrap(it.value());
        s.floor = v.getLong();
        s.lastIndex = v.getLong();
        t.sessions.put(s.client, s);
        t.byLastIndex.put(s.lastIndex, s.client);
      }
      it.status();
      for (it.seek(new byte[] {RECORD_PREFIX});
          it.isValid() && it.key()[0] == RECORD_PREFIX;
          it.next()) {
        ByteBuffer k = ByteBuffer.wrap(it.key(), 1, 16);
        long client = k.getLong();
        long seq = k.getLong();
        Session s = t.sessions.get(client);
        if (s == null) {
          throw new MvccStorageException(
              "request table row "
                  + new ClientRequest(client, seq, 0, 0)
                  + " has no session in "
                  + dir
                  + ": the database is inconsistent; restore from a snapshot",
              null);
        }
        s.fingerprints.put(seq, ByteBuffer.wrap(it.value(), 0, 8).getLong());
      }
      it.status();
    } catch (RocksDBException e) {
      throw new MvccStorageException(
          "cannot read the request table from " + dir + ": the database may be corrupt", e);
    }
    return t;
  }

  /** What an incoming request is, given the table before its entry. */
  enum Seen {
    /** Not applied before: apply it and record the outcome. */
    NEW,
    /** Applied before with the same fingerprint: answer with the recorded outcome. */
    APPLIED,
    /** Applied before as a different request. */
    REUSED,
    /** Below the client's floor: may or may not have been applied; not applied now. */
    EXPIRED
  }

  Seen check(ClientRequest r) {
    Session s = sessions.get(r.client());
    if (s == null) {
      return Seen.NEW;
    }
    Long fp = s.fingerprints.get(r.seq());
    if (fp != null) {
      return fp == r.fingerprint() ? Seen.APPLIED : Seen.REUSED;
    }
    return r.seq() < s.floor ? Seen.EXPIRED : Seen.NEW;
  }

  /** The outcome recorded for {@code r} (which {@link #check} found APPLIED). */
  Responses.Response replay(ClientRequest r) throws MvccException {
    byte[] v;
    try {
      v = db.get(recordKey(r.client(), r.seq()));
    } catch (RocksDBException e) {
      throw new MvccStorageException("cannot read request " + r + " from " + dir, e);
    }
    if (v == null) {
      throw new MvccStorageException(
          "request " + r + " is in the request table but its row is missing from " + dir, null);
    }
    return OutcomeCodec.decode(java.util.Arrays.copyOfRange(v, 8, v.length));
  }

  /** Rows of the given client: seq -> fingerprint. */
  Map<Long, Long> rows(long client) {
    Session s = sessions.get(client);
    return s == null ? Map.of() : Map.copyOf(s.fingerprints);
  }

  long floor(long client) {
    Session s = sessions.get(client);
    return s == null ? 0 : s.floor;
  }

  int sessionCount() {
    return sessions.size();
  }

  /**
   * The table's changes for the entry at {@code raftIndex}: sessions idle for too long go; if
   * {@code r} is set its session is touched, {@code outcome} (if not null) recorded, and its floor
   * raised. Nothing changes until {@link Changes#applied()} is called after the batch is written.
   */
  Changes changes(long raftIndex, ClientRequest r, byte[] outcome) {
    Changes c = new Changes();
    long horizon = raftIndex - SESSION_RETENTION_ENTRIES;
    List<Long> expired = new ArrayList<>(byLastIndex.headMap(horizon, false).values());
    for (long client : expired) {
      Session s = sessions.get(client);
      c.batch.add(b -> b.delete(sessionKey(s.client)));
      for (long seq : s.fingerprints.keySet()) {
        c.batch.add(b -> b.delete(recordKey(s.client, seq)));
      }
      c.memory.add(
          () -> {
            sessions.remove(s.client);
            byLastIndex.remove(s.lastIndex);
          });
    }
    if (r == null) {
      return c;
    }
    Session existing = expired.contains(r.client()) ? null : sessions.get(r.client());
    long floor = existing == null ? 0 : existing.floor;
    TreeMap<Long, Long> rows =
        existing == null ? new TreeMap<>() : new TreeMap<>(existing.fingerprints);
    if (outcome != null) {
      rows.put(r.seq(), r.fingerprint());
      byte[] value =
          ByteBuffer.allocate(8 + outcome.length).putLong(r.fingerprint()).put(outcome).array();
      c.batch.add(b -> b.put(recordKey(r.client(), r.seq()), value));
    }
    floor = Math.max(floor, r.doneBelow());
    while (rows.size() > MAX_RECORDS_PER_CLIENT) {
      floor = Math.max(floor, rows.firstKey() + 1);
      rows.pollFirstEntry();
    }
    rows.headMap(floor, false).clear();
    // Rows below the new floor go (including, if the client said so, the one just recorded: the
    // batch applies the put and then the delete).
    if (existing != null) {
      for (long seq : existing.fingerprints.headMap(floor, false).keySet()) {
        c.batch.add(b -> b.delete(recordKey(r.client(), seq)));
      }
    }
    if (outcome != null && r.seq() < floor) {
      c.batch.add(b -> b.delete(recordKey(r.client(), r.seq())));
    }
    long newFloor = floor;
    c.batch.add(
        b ->
            b.put(
                sessionKey(r.client()),
                ByteBuffer.allocate(16).putLong(newFloor).putLong(raftIndex).array()));
    c.memory.add(
        () -> {
          Session s = sessions.computeIfAbsent(r.client(), Session::new);
          if (existing != null) {
            byLastIndex.remove(s.lastIndex);
          }
          s.floor = newFloor;
          s.lastIndex = raftIndex;
          s.fingerprints.clear();
          s.fingerprints.putAll(rows);
          byLastIndex.put(raftIndex, r.client());
        });
    return c;
  }

  /** Pending changes of one entry: batch operations, then in-memory updates once written. */
  static final class Changes {
    interface BatchOp {
      void addTo(WriteBatch b) throws RocksDBException;
    }

    private final List<BatchOp> batch = new ArrayList<>();
    private final List<Runnable> memory = new ArrayList<>();

    void addTo(WriteBatch b) throws RocksDBException {
      for (BatchOp op : batch) {
        op.addTo(b);
      }
    }

    void applied() {
      memory.forEach(Runnable::run);
    }
  }

  private static byte[] sessionKey(long client) {
    return ByteBuffer.allocate(9).put(SESSION_PREFIX).putLong(client).array();
  }

  private static byte[] recordKey(long client, long seq) {
    return ByteBuffer.allocate(17).put(RECORD_PREFIX).putLong(client).putLong(seq).array();
  }
}
