package dev.kubelite.store.raft.driver;

import dev.kubelite.store.raft.ConfChange;
import dev.kubelite.store.raft.ConfState;
import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.Message;
import dev.kubelite.store.raft.MessageType;
import dev.kubelite.store.raft.ProposeResult;
import dev.kubelite.store.raft.RaftConfig;
import dev.kubelite.store.raft.RaftLogStorage;
import dev.kubelite.store.raft.RaftNode;
import dev.kubelite.store.raft.ReadState;
import dev.kubelite.store.raft.Ready;
import dev.kubelite.store.raft.Role;
import dev.kubelite.store.raft.Snapshot;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one {@link RaftNode} for real: a dedicated thread owns the node and its storage, drains an
 * inbox of messages, proposals and read requests, and executes each {@link Ready} in the contract's
 * order — persist (one fsync for everything that arrived since the last batch: group commit), send,
 * apply — except that a leader's appends and heartbeats go out before its fsync (see {@link
 * #mayReplicateBeforePersisting}). Ticks come from the thread's own timer.
 *
 * <p>Futures returned here complete on the driver thread: dependent stages must not block.
 */
public final class RaftDriver implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RaftDriver.class);

  /** The replicated state machine; every method is called on the driver thread, in log order. */
  public interface StateMachine {
    /** Applies committed entries (NORMAL and CONF_CHANGE) in order. */
    void apply(List<Entry> entries);

    /** Replaces the whole state with a snapshot's. */
    void restore(Snapshot snapshot);

    /**
     * Prepares a local snapshot at {@code index}, the last applied entry: called on the driver
     * thread, which then carries on. The returned future completes, on any thread, with the
     * snapshot's data once everything up to {@code index} is durable (see {@link
     * #durableAppliedIndex}); only then is the log compacted. A state machine kept in memory
     * returns its whole state, at once; one that holds its state durably (the store's MVCC
     * database) makes it durable up to {@code index} and returns only a small marker, as etcd's
     * snapshots carry only Raft's metadata (docs/decisions/0105). Whatever this costs on the driver
     * thread stops every write of the member, so it must not grow with the size of the state.
     */
    CompletableFuture<byte[]> prepareSnapshot(long index);

    /**
     * The last index whose effects this state machine holds durably (it survives a restart), or 0
     * for a state machine kept only in memory. On start the driver restores the latest snapshot
     * only if the state machine is behind it, and re-delivers entries after this index.
     */
    long durableAppliedIndex();
  }

  /** Delivers messages to peers. Must not block; loss is fine (Raft retries). */
  public interface Transport {
    void send(Message message);
  }

  /**
   * Driver settings: tick length and snapshot cadence. A snapshot is taken once {@code
   * snapshotEveryEntries} entries or {@code snapshotEveryBytes} bytes of entry data were applied
   * since the last one, whichever comes first; the log then keeps {@code keepEntriesAfterSnapshot}
   * entries before it for followers that are a little behind.
   */
  public record Options(
      Duration tick,
      long snapshotEveryEntries,
      long keepEntriesAfterSnapshot,
      long snapshotEveryBytes) {

    /** A cadence by entries only. */
    public Options(Duration tick, long snapshotEveryEntries, long keepEntriesAfterSnapshot) {
      this(tick, snapshotEveryEntries, keepEntriesAfterSnapshot, Long.MAX_VALUE);
    }

    /**
     * etcd 3.4's cadence (its {@code --snapshot-count} default, 100,000 entries, and its 5,000
     * entries kept for catch-up), capped at 64 MiB of entry data so that large values do not grow
     * the in-memory log without bound (docs/decisions/0016).
     */
    public static Options defaults() {
      return new Options(Duration.ofMillis(100), 100_000, 5_000, 64L << 20);
    }

    /**
     * These options with a snapshot after {@code entries} applied entries (etcd's
     * --snapshot-count).
     */
    public Options withSnapshotEveryEntries(long entries) {
      return new Options(tick, entries, keepEntriesAfterSnapshot, snapshotEveryBytes);
    }
  }

  /** Told about leader and role changes, on the driver thread, after the change is published. */
  public interface SoftStateListener {
    /** Must not block: it runs on the driver thread. */
    void onSoftStateChange(long leader, Role role, long term);
  }

  /** A consistent view of the node for status endpoints and tests. */
  public record Status(
      long id,
      long term,
      Role role,
      long leader,
      long commitIndex,
      long appliedIndex,
      long lastIndex,
      ConfState conf) {}

  private final RaftNode node;
  private final RaftLogStorage storage;
  private final StateMachine stateMachine;
  private final Transport transport;
  private final Options options;
  private final Thread thread;

  /** The most bytes of write proposals {@link #runAll} proposes as one batch. */
  private final long maxProposalBatchBytes;

  private final LinkedBlockingQueue<Task> inbox = new LinkedBlockingQueue<>();
  private final Map<ByteBuffer, CompletableFuture<Long>> pendingReads = new HashMap<>();
  private final TreeMap<Long, List<CompletableFuture<Long>>> appliedWaiters = new TreeMap<>();
  private volatile Status status;
  private volatile boolean running;
  private long readSeq;
  private volatile long lastSnapshotIndex;

  /** A local snapshot being made durable by the state machine, or 0 when none is. */
  private long pendingSnapshotIndex;

  /** Bytes of entry data applied since the last snapshot (taken or restored). */
  private long appliedBytesSinceSnapshot;

  private long leaderSeen = RaftNode.NONE;

  /** The term in the last hard state saved to storage. */
  private long durableTerm;

  private final List<SoftStateListener> softStateListeners = new CopyOnWriteArrayList<>();

  public RaftDriver(
      RaftConfig config,
      RaftLogStorage storage,
      StateMachine stateMachine,
      Transport transport,
      Options options) {
    this.storage = storage;
    this.stateMachine = stateMachine;
    this.transport = transport;
    this.options = options;
    Snapshot snapshot = storage.snapshot();
    long applied = stateMachine.durableAppliedIndex();
    if (applied < snapshot.index()) {
      stateMachine.restore(snapshot);
      applied = stateMachine.durableAppliedIndex();
    }
    // A state image installed from a leader may hold entries beyond this log's last one (it is
    // built from the leader's state at its applied index, as etcd's are): they are committed, the
    // log receives them again from the leader, and the state machine skips them.
    applied = Math.max(snapshot.index(), Math.min(applied, storage.lastIndex()));
    this.lastSnapshotIndex = snapshot.index();
    this.durableTerm = storage.hardState().term();
    this.node = new RaftNode(config.toBuilder().applied(applied).build(), storage);
    this.maxProposalBatchBytes = config.maxSizePerMessage();
    this.thread = new Thread(this::run, "raft-" + Long.toHexString(config.id()));
    this.thread.setDaemon(true);
    publishStatus();
  }

  public void start() {
    running = true;
    thread.start();
  }

  // -------------------------------------------------------------------------------------------
  // API (any thread)
  // -------------------------------------------------------------------------------------------

  /** Hands a message from a peer to the node (dropped once the member stopped). */
  public void receive(Message message) {
    submit(() -> node.step(message));
  }

  /** Queues an API call whose future fails, rather than hangs, if the member stops first. */
  private <T> CompletableFuture<T> call(CompletableFuture<T> f, Runnable task) {
    Runnable onDrop = () -> f.completeExceptionally(stopped());
    if (!enqueue(new Task(task, onDrop))) {
      onDrop.run();
    }
    return f;
  }

  private IllegalStateException stopped() {
    return new IllegalStateException("raft member " + node.id() + " is stopped");
  }

  /**
   * Work for the driver thread, and what to do instead if the member stops before running it. A
   * write proposal also carries its data and future, so that consecutive proposals can be proposed
   * together (see {@link #runAll}).
   */
  private record Task(
      Runnable run, Runnable onDrop, byte[] proposal, CompletableFuture<ProposeResult> proposed) {
    Task(Runnable run, Runnable onDrop) {
      this(run, onDrop, null, null);
    }
  }

  /** Proposes a write; completes when the node accepted (not committed) it, or says why not. */
  public CompletableFuture<ProposeResult> propose(byte[] data) {
    CompletableFuture<ProposeResult> f = new CompletableFuture<>();
    Runnable onDrop = () -> f.completeExceptionally(stopped());
    if (!enqueue(new Task(() -> f.complete(node.propose(data)), onDrop, data, f))) {
      onDrop.run();
    }
    return f;
  }

  public CompletableFuture<ProposeResult> proposeConfChange(ConfChange change) {
    CompletableFuture<ProposeResult> f = new CompletableFuture<>();
    return call(f, () -> f.complete(node.proposeConfChange(change)));
  }

  /**
   * A linearizable read point: completes with an index once the local state machine has applied it,
   * so a read served now reflects every write acknowledged before this call. Fails if leadership
   * changes meanwhile; callers add their own timeout.
   */
  public CompletableFuture<Long> readIndex() {
    CompletableFuture<Long> f = new CompletableFuture<>();
    return call(
        f,
        () -> {
          byte[] ctx = ByteBuffer.allocate(16).putLong(node.id()).putLong(++readSeq).array();
          pendingReads.put(ByteBuffer.wrap(ctx), f);
          node.readIndex(ctx);
        });
  }

  /** The leader's match indexes for itself and a peer (what etcd checks before a promotion). */
  public record Match(long leader, long peer) {}

  /**
   * The leader's Raft progress for {@code peer}: completes with its own and the peer's match index,
   * or with null if this node is not the leader or does not track {@code peer}.
   */
  public CompletableFuture<Match> leaderMatch(long peer) {
    CompletableFuture<Match> f = new CompletableFuture<>();
    return call(
        f,
        () -> {
          long self = node.matchIndex(node.id());
          long other = node.matchIndex(peer);
          f.complete(self < 0 || other < 0 ? null : new Match(self, other));
        });
  }

  /** Completes once the state machine has applied {@code index}. */
  public CompletableFuture<Long> waitApplied(long index) {
    CompletableFuture<Long> f = new CompletableFuture<>();
    return call(f, () -> waitForApplied(index, f));
  }

  public void transferLeadership(long target) {
    submit(() -> node.transferLeadership(target));
  }

  public void reportUnreachable(long peer) {
    submit(() -> node.reportUnreachable(peer));
  }

  public void reportSnapshot(long peer, boolean success) {
    submit(() -> node.reportSnapshot(peer, success));
  }

  public Status status() {
    return status;
  }

  /** The index of the latest snapshot taken or installed (0 if none). */
  public long snapshotIndex() {
    return lastSnapshotIndex;
  }

  /**
   * Adds a listener for leader and role changes. It only hears of changes after it was added, so
   * callers read {@link #status()} afterwards for the current state.
   */
  public void addSoftStateListener(SoftStateListener listener) {
    softStateListeners.add(listener);
  }

  @Override
  public void close() {
    running = false;
    // Wake the loop rather than interrupt it: an interrupt during a log write closes the file
    // channel under it (ClosedByInterruptException), which reads as a disk failure. The loop
    // finishes the write it is in, sees running == false and ends.
    inbox.add(new Task(() -> {}, () -> {}));
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
      if (thread.isAlive()) {
        log.warn("raft member {} did not stop within 10 s; interrupting it", node.id());
        thread.interrupt();
        thread.join(TimeUnit.SECONDS.toMillis(5));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    failWaiting();
  }

  /** Fails the queued tasks, pending reads and applied-index waiters of a stopped member. */
  private void failWaiting() {
    List<Task> dropped = new ArrayList<>();
    inbox.drainTo(dropped);
    dropped.forEach(t -> t.onDrop().run());
    RuntimeException stopped = stopped();
    pendingReads.values().forEach(f -> f.completeExceptionally(stopped));
    appliedWaiters.values().forEach(l -> l.forEach(f -> f.completeExceptionally(stopped)));
  }

  /** Queues peer traffic and reports; dropped silently once the member stopped. */
  private void submit(Runnable task) {
    enqueue(new Task(task, () -> {}));
  }

  private boolean enqueue(Task task) {
    if (!running) {
      return false;
    }
    inbox.add(task);
    if (!running && inbox.remove(task)) {
      return false; // stopped while we queued: close() may already have drained the inbox
    }
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // The driver thread
  // -------------------------------------------------------------------------------------------

  private void run() {
    long tickNanos = options.tick().toNanos();
    long nextTick = System.nanoTime() + tickNanos;
    List<Task> batch = new ArrayList<>();
    try {
      while (running) {
        long wait = nextTick - System.nanoTime();
        Task first = wait > 0 ? inbox.poll(wait, TimeUnit.NANOSECONDS) : inbox.poll();
        if (first != null) {
          batch.add(first);
          inbox.drainTo(batch);
          runAll(batch);
          batch.clear();
        }
        if (System.nanoTime() - nextTick >= 0) {
          node.tick();
          nextTick += tickNanos;
          if (System.nanoTime() - nextTick > tickNanos) {
            nextTick = System.nanoTime() + tickNanos; // we fell behind (GC, slow disk): resync
          }
        }
        while (node.hasReady()) {
          handle(node.ready());
        }
      }
    } catch (InterruptedException e) {
      if (running) {
        log.error("raft member {} interrupted unexpectedly; stopping", node.id(), e);
      }
    } catch (RuntimeException | Error e) {
      // A failed fsync, a broken invariant or a JVM error (OutOfMemoryError): continuing could
      // lose acknowledged data. Stop, and fail what waits rather than leave it to time out.
      running = false;
      log.error(
          "raft member {} stopped after an unrecoverable error; restart it to recover from disk",
          node.id(),
          e);
      failWaiting();
    }
  }

  /**
   * Runs queued tasks in order, proposing each run of consecutive write proposals as one batch (up
   * to {@link #maxProposalBatchBytes}): one append per follower for the batch instead of one per
   * write, and as many fewer acknowledgements and commit notices (docs/decisions/0017).
   */
  private void runAll(List<Task> tasks) {
    int from = -1; // start of the current run of proposals
    long bytes = 0;
    for (int i = 0; i < tasks.size(); i++) {
      Task task = tasks.get(i);
      if (task.proposal() == null) {
        if (from >= 0) {
          proposeBatch(tasks.subList(from, i));
          from = -1;
        }
        task.run().run();
        continue;
      }
      if (from >= 0 && bytes + task.proposal().length > maxProposalBatchBytes) {
        proposeBatch(tasks.subList(from, i));
        from = -1;
      }
      if (from < 0) {
        from = i;
        bytes = 0;
      }
      bytes += task.proposal().length;
    }
    if (from >= 0) {
      proposeBatch(tasks.subList(from, tasks.size()));
    }
  }

  private void proposeBatch(List<Task> proposals) {
    if (proposals.size() == 1) {
      proposals.get(0).run().run();
      return;
    }
    List<byte[]> data = new ArrayList<>(proposals.size());
    for (Task t : proposals) {
      data.add(t.proposal());
    }
    ProposeResult result = node.propose(data);
    for (Task t : proposals) {
      t.proposed().complete(result);
    }
  }

  private void handle(Ready rd) {
    List<Message> afterPersist = rd.messages();
    if (mayReplicateBeforePersisting(rd)) {
      afterPersist = new ArrayList<>(rd.messages().size());
      for (Message m : rd.messages()) {
        if (m.type() == MessageType.APPEND || m.type() == MessageType.HEARTBEAT) {
          transport.send(m);
        } else {
          afterPersist.add(m);
        }
      }
    }
    storage.save(rd.hardState(), rd.entries(), rd.snapshot());
    if (rd.hardState() != null) {
      durableTerm = rd.hardState().term();
    }
    for (Message m : afterPersist) {
      transport.send(m);
    }
    if (rd.snapshot() != null) {
      stateMachine.restore(rd.snapshot());
      lastSnapshotIndex = rd.snapshot().index();
      appliedBytesSinceSnapshot = 0;
    }
    if (!rd.committedEntries().isEmpty()) {
      stateMachine.apply(rd.committedEntries());
      for (Entry e : rd.committedEntries()) {
        appliedBytesSinceSnapshot += e.data().length;
      }
    }
    for (ReadState rs : rd.readStates()) {
      CompletableFuture<Long> f = pendingReads.remove(ByteBuffer.wrap(rs.context()));
      if (f != null) {
        waitForApplied(rs.index(), f);
      }
    }
    node.advance(rd);
    if (rd.softState() != null) {
      onSoftStateChange(rd.softState().leader(), rd.softState().role());
    }
    releaseAppliedWaiters();
    maybeSnapshot();
    publishStatus();
    if (rd.softState() != null) {
      notifySoftState(rd.softState().leader(), rd.softState().role());
    }
  }

  /**
   * A leader's appends and heartbeats may leave before its own fsync, so followers write while the
   * leader writes (docs/decisions/0011). Safe because followers persist before acknowledging and
   * the leader counts its own copy only after {@link #handle} saved it. Only when the term in the
   * messages is already durable: otherwise a crash could let this node lead the same term twice
   * with different entries (a single voter becomes leader in the very Ready that bumps its term).
   */
  private boolean mayReplicateBeforePersisting(Ready rd) {
    return rd.snapshot() == null
        && (rd.hardState() == null || rd.hardState().term() == durableTerm)
        && rd.messages().size() > 0;
  }

  private void notifySoftState(long leader, Role role) {
    for (SoftStateListener l : softStateListeners) {
      try {
        l.onSoftStateChange(leader, role, node.term());
      } catch (RuntimeException e) {
        log.error("member {}: soft state listener failed", node.id(), e);
      }
    }
  }

  private void onSoftStateChange(long leader, Role role) {
    log.info(
        "member {}: {} in term {}, leader {}",
        Long.toHexString(node.id()),
        role,
        node.term(),
        Long.toHexString(leader));
    if (leader != leaderSeen && !pendingReads.isEmpty()) {
      // Read requests in flight to the old leader will never be answered.
      RuntimeException lost =
          new IllegalStateException("leader changed from " + leaderSeen + " to " + leader);
      pendingReads.values().forEach(f -> f.completeExceptionally(lost));
      pendingReads.clear();
    }
    leaderSeen = leader;
  }

  private void waitForApplied(long index, CompletableFuture<Long> f) {
    if (node.appliedIndex() >= index) {
      f.complete(index);
    } else {
      appliedWaiters.computeIfAbsent(index, k -> new ArrayList<>()).add(f);
    }
  }

  private void releaseAppliedWaiters() {
    long applied = node.appliedIndex();
    while (!appliedWaiters.isEmpty() && appliedWaiters.firstKey() <= applied) {
      for (CompletableFuture<Long> f : appliedWaiters.pollFirstEntry().getValue()) {
        f.complete(applied);
      }
    }
  }

  /**
   * Starts a local snapshot when the cadence says so: the state machine makes its state durable up
   * to the applied index (off this thread if it likes), then {@link #finishSnapshot} records the
   * snapshot and compacts the log, on this thread. One at a time.
   */
  private void maybeSnapshot() {
    long applied = node.appliedIndex();
    if (pendingSnapshotIndex != 0
        || applied <= lastSnapshotIndex
        || (applied - lastSnapshotIndex < options.snapshotEveryEntries()
            && appliedBytesSinceSnapshot < options.snapshotEveryBytes())) {
      return;
    }
    long started = System.nanoTime();
    long term = node.termAt(applied);
    var conf = node.confState();
    pendingSnapshotIndex = applied;
    appliedBytesSinceSnapshot = 0;
    CompletableFuture<byte[]> data = stateMachine.prepareSnapshot(applied);
    long onThisThread = System.nanoTime() - started;
    data.whenComplete(
        (bytes, err) -> {
          Runnable finish =
              () -> {
                pendingSnapshotIndex = 0;
                Throwable cause =
                    err instanceof java.util.concurrent.CompletionException
                            && err.getCause() != null
                        ? err.getCause()
                        : err;
                if (cause instanceof java.util.concurrent.CancellationException) {
                  log.debug("member {}: snapshot at {} abandoned: {}", node.id(), applied, cause);
                  return;
                }
                if (err != null) {
                  // The state could not be made durable: compacting the log now could lose
                  // writes. Stop, as a failed fsync of the log does.
                  throw new IllegalStateException(
                      "cannot make the state durable for a snapshot at index " + applied, err);
                }
                finishSnapshot(new Snapshot(applied, term, conf, bytes), started, onThisThread);
              };
          if (!enqueue(new Task(finish, () -> {}))) {
            log.debug(
                "member {}: stopped before its snapshot at {} was recorded", node.id(), applied);
          }
        });
  }

  /** Records a snapshot whose state is durable and compacts the log behind it (driver thread). */
  private void finishSnapshot(Snapshot s, long started, long preparedNanos) {
    if (s.index() <= lastSnapshotIndex) {
      return; // a snapshot from the leader was installed meanwhile: it supersedes this one
    }
    long compacting = System.nanoTime();
    long compactTo =
        Math.max(storage.firstIndex() - 1, s.index() - options.keepEntriesAfterSnapshot());
    storage.compact(s, compactTo);
    lastSnapshotIndex = s.index();
    log.info(
        "member {}: snapshot at index {} ({} bytes of data; driver thread {} ms to prepare, {} ms"
            + " to record; durable after {} ms), log compacted to {}",
        node.id(),
        s.index(),
        s.data().length,
        TimeUnit.NANOSECONDS.toMillis(preparedNanos),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - compacting),
        TimeUnit.NANOSECONDS.toMillis(compacting - started),
        compactTo);
  }

  private void publishStatus() {
    status =
        new Status(
            node.id(),
            node.term(),
            node.role(),
            node.leader(),
            node.commitIndex(),
            node.appliedIndex(),
            node.lastIndex(),
            node.confState());
  }
}
