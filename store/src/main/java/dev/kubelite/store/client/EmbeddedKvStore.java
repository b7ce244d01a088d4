package dev.kubelite.store.client;

import dev.kubelite.store.api.kubelitepb.ClientRequestId;
import dev.kubelite.store.api.kubelitepb.InternalRequest;
import dev.kubelite.store.mvcc.Bytes;
import dev.kubelite.store.mvcc.Event;
import dev.kubelite.store.mvcc.KeyValue;
import dev.kubelite.store.mvcc.MvccException;
import dev.kubelite.store.mvcc.MvccListener;
import dev.kubelite.store.mvcc.MvccStore;
import dev.kubelite.store.mvcc.Range;
import dev.kubelite.store.mvcc.Responses;
import dev.kubelite.store.server.StoreMember;
import dev.kubelite.store.server.StoreServer;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.server.StatusException;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link KvStore} inside the store's process: writes are proposed through the member's Raft log
 * ({@link StoreMember#write}, the same path the gRPC API takes, minus gRPC), reads run on the MVCC
 * engine after a ReadIndex round ({@link StoreMember#read}), and watches replay the engine's
 * history and then follow its apply listener. No gRPC, no network. Futures and watch callbacks
 * complete on the member's threads or this client's watch workers: do not block in them.
 */
public final class EmbeddedKvStore implements KvStore {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedKvStore.class);

  /** etcd's default --max-request-bytes, which the gRPC API enforces too. */
  public static final int MAX_REQUEST_BYTES = 1536 * 1024;

  private static final int MAX_ATTEMPTS = 5;
  private static final long BACKOFF_MILLIS = 100;
  private static final int CATCH_UP_BATCH = 1000;

  private final StoreMember member;
  private final ExecutorService watchWorkers;
  private final RequestIds ids = new RequestIds();
  private final List<EmbeddedWatch> watches = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile boolean closed;
  private GrpcClient peerClient;

  private EmbeddedKvStore(StoreMember member) {
    this.member = member;
    this.watchWorkers =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "kvstore-embedded-watch");
              t.setDaemon(true);
              return t;
            });
  }

  /** A client of {@code member}; closing the client does not close the member. */
  public static EmbeddedKvStore of(StoreMember member) {
    return new EmbeddedKvStore(member);
  }

  public static EmbeddedKvStore of(StoreServer server) {
    return new EmbeddedKvStore(server.member());
  }

  // ------------------------------------------------------------------------------- operations

  @Override
  public CompletableFuture<GetResult> get(byte[] key) {
    return read("get " + RemoteKvStore.show(key), mvcc -> mvcc.range(Range.key(key)))
        .thenApply(r -> new GetResult(r.kvs().isEmpty() ? null : kv(r.kvs().get(0)), r.revision()));
  }

  @Override
  public CompletableFuture<RangeResult> range(RangeQuery q) {
    Range r =
        new Range(
            q.key(),
            q.rangeEnd(),
            q.limit(),
            q.revision(),
            Range.SortOrder.NONE,
            Range.SortTarget.KEY,
            false,
            q.mode() == RangeQuery.Mode.KEYS_ONLY,
            q.mode() == RangeQuery.Mode.COUNT_ONLY,
            0,
            0,
            0,
            0);
    return read(
            "range " + RemoteKvStore.show(q.key()) + ".." + RemoteKvStore.show(q.rangeEnd()),
            mvcc -> mvcc.range(r))
        .thenApply(
            resp -> new RangeResult(kvs(resp.kvs()), resp.more(), resp.count(), resp.revision()));
  }

  @Override
  public CompletableFuture<WriteResult> put(byte[] key, byte[] value) {
    return write(
            "put " + RemoteKvStore.show(key),
            InternalRequest.newBuilder().setPut(EtcdProto.put(key, value)))
        .thenApply(r -> WriteResult.ok(r.revision(), null));
  }

  @Override
  public CompletableFuture<WriteResult> create(byte[] key, byte[] value) {
    return write(
            "create " + RemoteKvStore.show(key),
            InternalRequest.newBuilder().setTxn(EtcdProto.create(key, value)))
        .thenApply(r -> txnResult(r, WriteResult.Status.ALREADY_EXISTS));
  }

  @Override
  public CompletableFuture<WriteResult> update(byte[] key, byte[] value, long expectedModRevision) {
    if (expectedModRevision <= 0) {
      throw new IllegalArgumentException(
          "update needs the expected modRevision (> 0), got " + expectedModRevision);
    }
    java.util.concurrent.atomic.AtomicInteger attempts =
        new java.util.concurrent.atomic.AtomicInteger();
    return write(
            "update " + RemoteKvStore.show(key) + " at modRevision " + expectedModRevision,
            InternalRequest.newBuilder().setTxn(EtcdProto.update(key, value, expectedModRevision)),
            attempts)
        .thenApply(
            r ->
                RemoteKvStore.resolveRetriedUpdate(
                    txnResult(r, WriteResult.Status.CONFLICT),
                    value,
                    expectedModRevision,
                    attempts.get()));
  }

  @Override
  public CompletableFuture<WriteResult> delete(byte[] key, long expectedModRevision) {
    if (expectedModRevision == ANY_REVISION) {
      return write(
              "delete " + RemoteKvStore.show(key),
              InternalRequest.newBuilder().setDeleteRange(EtcdProto.deleteRange(key)))
          .thenApply(
              r -> {
                var d = (Responses.DeleteRangeResponse) r;
                return d.deleted() == 0
                    ? new WriteResult(WriteResult.Status.NOT_FOUND, d.revision(), null)
                    : WriteResult.ok(
                        d.revision(), d.prevKvs().isEmpty() ? null : kv(d.prevKvs().get(0)));
              });
    }
    if (expectedModRevision < 0) {
      throw new IllegalArgumentException(
          "delete needs an expected modRevision > 0 or ANY_REVISION, got " + expectedModRevision);
    }
    return write(
            "delete " + RemoteKvStore.show(key) + " at modRevision " + expectedModRevision,
            InternalRequest.newBuilder().setTxn(EtcdProto.delete(key, expectedModRevision)))
        .thenApply(r -> txnResult(r, WriteResult.Status.CONFLICT));
  }

  @Override
  public CompletableFuture<Long> compact(long revision) {
    return write(
            "compact to " + revision,
            InternalRequest.newBuilder()
                .setCompaction(
                    dev.kubelite.store.api.etcdserverpb.CompactionRequest.newBuilder()
                        .setRevision(revision)))
        .thenApply(Responses.Response::revision);
  }

  @Override
  public CompletableFuture<Long> currentRevision() {
    return read("current revision", MvccStore::currentRevision);
  }

  /**
   * The local member's status from memory ({@link StoreMember#status}), the members it knows, and
   * every other member's Maintenance.Status over gRPC at its client URL ({@link ClusterStatus});
   * the compact revision is the local engine's.
   */
  @Override
  public CompletableFuture<StoreStatus> status() {
    if (closed) {
      return CompletableFuture.failedFuture(
          new KvStoreException(KvStoreException.Code.CLOSED, "status: the client is closed"));
    }
    return ClusterStatus.collect(
            member.status(),
            member.members(),
            url -> ClusterStatus.statusAt(peerClient(), member.config().clientTls(), url))
        .thenApply(
            s ->
                ClusterStatus.withCompactRevision(s, Math.max(0, member.mvcc().compactRevision())));
  }

  /** The gRPC client for other members' status, on the member's Vert.x; made on first use. */
  private synchronized GrpcClient peerClient() {
    if (peerClient == null) {
      peerClient =
          member.newMemberClient(new GrpcClientOptions().setScheduleDeadlineAutomatically(true));
    }
    return peerClient;
  }

  // ------------------------------------------------------------------------------- plumbing

  private CompletableFuture<Responses.Response> write(
      String what, InternalRequest.Builder request) {
    return write(what, request, new java.util.concurrent.atomic.AtomicInteger());
  }

  private CompletableFuture<Responses.Response> write(
      String what,
      InternalRequest.Builder request,
      java.util.concurrent.atomic.AtomicInteger attempts) {
    int size = request.build().getSerializedSize();
    RequestIds.Id id = ids.next();
    String named = what + " (request " + id + ")";
    if (size > MAX_REQUEST_BYTES) {
      ids.finished(id);
      return CompletableFuture.failedFuture(
          new KvStoreException(
              KvStoreException.Code.TOO_LARGE,
              named
                  + ": request is "
                  + size
                  + " bytes, more than the store's limit of "
                  + MAX_REQUEST_BYTES
                  + " (etcdserver: request is too large)"));
    }
    CompletableFuture<Responses.Response> result =
        withRetry(
            named,
            () -> {
              attempts.incrementAndGet();
              return member.write(
                  request
                      .clone()
                      .setClientRequest(
                          ClientRequestId.newBuilder()
                              .setClient(id.client())
                              .setSeq(id.seq())
                              .setDoneBelow(ids.doneBelow())));
            });
    result.whenComplete((r, err) -> ids.finished(id));
    return result;
  }

  private <T> CompletableFuture<T> read(String what, StoreMember.MvccRead<T> read) {
    return withRetry(what, () -> member.read(false, read));
  }

  private <T> CompletableFuture<T> withRetry(String what, Supplier<CompletableFuture<T>> op) {
    CompletableFuture<T> result = new CompletableFuture<>();
    attempt(what, op, 1, result);
    return result;
  }

  private <T> void attempt(
      String what, Supplier<CompletableFuture<T>> op, int n, CompletableFuture<T> result) {
    if (closed) {
      result.completeExceptionally(
          new KvStoreException(KvStoreException.Code.CLOSED, what + ": the client is closed"));
      return;
    }
    CompletableFuture<T> f;
    try {
      f = op.get();
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete(
        (v, err) -> {
          if (err == null) {
            result.complete(v);
            return;
          }
          Failure failure = classify(what, err);
          // Every write carries a request id the member applies once (decision 0012), so even an
          // unguarded one is re-sent after an unknown outcome.
          boolean retryable = n < MAX_ATTEMPTS && failure.transientError();
          if (!retryable) {
            result.completeExceptionally(failure.error());
            return;
          }
          CompletableFuture.delayedExecutor(BACKOFF_MILLIS * n, TimeUnit.MILLISECONDS)
              .execute(() -> attempt(what, op, n + 1, result));
        });
  }

  private static Failure classify(String what, Throwable err) {
    Throwable c = err;
    while (c instanceof CompletionException && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof StatusException s) {
      return Failure.status(what, s.status(), s.message());
    }
    if (c instanceof KvStoreException k) {
      return new Failure(false, false, k);
    }
    return new Failure(
        false,
        false,
        new KvStoreException(KvStoreException.Code.INTERNAL, what + ": " + Failure.describe(c), c));
  }

  private static WriteResult txnResult(Responses.Response r, WriteResult.Status failed) {
    Responses.TxnResponse t = (Responses.TxnResponse) r;
    if (t.succeeded()) {
      if (t.responses().get(0) instanceof Responses.DeleteRangeResponse d) {
        if (d.deleted() == 0) {
          return new WriteResult(WriteResult.Status.NOT_FOUND, t.revision(), null);
        }
        return WriteResult.ok(t.revision(), d.prevKvs().isEmpty() ? null : kv(d.prevKvs().get(0)));
      }
      return WriteResult.ok(t.revision(), null);
    }
    Responses.RangeResponse got = (Responses.RangeResponse) t.responses().get(0);
    if (got.kvs().isEmpty()) {
      return new WriteResult(WriteResult.Status.NOT_FOUND, t.revision(), null);
    }
    return new WriteResult(failed, t.revision(), kv(got.kvs().get(0)));
  }

  static Kv kv(KeyValue kv) {
    return new Kv(
        kv.key(), kv.value(), kv.createRevision(), kv.modRevision(), kv.version(), kv.lease());
  }

  private static List<Kv> kvs(List<KeyValue> in) {
    List<Kv> out = new ArrayList<>(in.size());
    in.forEach(k -> out.add(kv(k)));
    return out;
  }

  // ------------------------------------------------------------------------------- watch

  @Override
  public Watch watch(WatchOptions options, WatchListener listener) {
    EmbeddedWatch w = new EmbeddedWatch(options, listener);
    watches.add(w);
    w.start();
    return w;
  }

  @Override
  public void close() {
    closed = true;
    watches.forEach(EmbeddedWatch::close);
    watchWorkers.shutdown();
    synchronized (this) {
      if (peerClient != null) {
        peerClient.close();
        peerClient = null;
      }
    }
  }

  /**
   * One watch. The engine listener only queues revisions (it runs on the apply thread); a worker
   * first replays history from the start revision up to a revision read after the listener was
   * registered, then delivers queued revisions, skipping those already replayed. The engine
   * publishes a revision before calling listeners, so every revision is either replayed or queued.
   */
  private final class EmbeddedWatch implements Watch, MvccListener {
    private record Batch(long revision, List<Event> events) {}

    private final WatchOptions opts;
    private final WatchListener listener;
    private final Queue<Batch> live = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicBoolean progressWanted = new AtomicBoolean();
    private volatile boolean stopped;
    // Worker-only state (one pump at a time).
    private long nextRevision;
    private boolean caughtUp;

    EmbeddedWatch(WatchOptions opts, WatchListener listener) {
      this.opts = opts;
      this.listener = listener;
    }

    void start() {
      MvccStore mvcc = member.mvcc();
      nextRevision = opts.startRevision() > 0 ? opts.startRevision() : mvcc.currentRevision() + 1;
      mvcc.addListener(this);
      schedule();
    }

    @Override
    public void onRevision(long revision, List<Event> events) {
      if (!stopped) {
        live.add(new Batch(revision, events));
        schedule();
      }
    }

    private void schedule() {
      if (!stopped && scheduled.compareAndSet(false, true)) {
        try {
          watchWorkers.execute(this::pump);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          scheduled.set(false);
        }
      }
    }

    private void pump() {
      try {
        if (!caughtUp) {
          catchUp();
          caughtUp = true;
        }
        Batch b;
        while (!stopped && (b = live.poll()) != null) {
          if (b.revision() < nextRevision) {
            continue;
          }
          deliver(b.events());
          nextRevision = b.revision() + 1;
        }
        // Every revision is queued here whether or not it has events for this watch, so with the
        // queue drained this watch has delivered everything up to the engine's latest revision.
        // A watch whose start revision is still ahead has nothing to confirm (etcd drops those).
        if (!stopped && live.isEmpty() && progressWanted.compareAndSet(true, false)) {
          long upTo = nextRevision - 1;
          if (upTo <= member.mvcc().currentRevision()) {
            listener.onProgress(upTo);
          }
        }
      } catch (MvccException e) {
        if (e.code() == MvccException.Code.COMPACTED) {
          stop();
          listener.onCompacted(e.compactRevision());
        } else {
          fail(e);
        }
      } catch (RuntimeException e) {
        fail(e);
      } finally {
        scheduled.set(false);
      }
      if (!live.isEmpty()) {
        schedule();
      }
    }

    private void catchUp() throws MvccException {
      MvccStore mvcc = member.mvcc();
      long target = mvcc.currentRevision();
      while (!stopped && nextRevision <= target) {
        Responses.EventsResult r =
            mvcc.events(opts.key(), opts.rangeEnd(), nextRevision, target, CATCH_UP_BATCH);
        deliver(r.events());
        nextRevision = Math.max(nextRevision, r.lastRevision() + 1);
        if (r.lastRevision() >= target || r.events().isEmpty()) {
          nextRevision = Math.max(nextRevision, target + 1);
        }
      }
    }

    private void deliver(List<Event> events) {
      List<WatchEvent> mine = new ArrayList<>();
      for (Event e : events) {
        if (matches(e.kv().key())) {
          mine.add(
              new WatchEvent(
                  e.type() == Event.Type.DELETE ? WatchEvent.Type.DELETE : WatchEvent.Type.PUT,
                  kv(e.kv()),
                  opts.prevKv() && e.prevKv() != null ? kv(e.prevKv()) : null));
        }
      }
      if (!mine.isEmpty() && !stopped) {
        listener.onEvents(mine);
      }
    }

    private boolean matches(byte[] k) {
      byte[] key = opts.key();
      byte[] end = opts.rangeEnd();
      if (end.length == 0) {
        return Bytes.ORDER.compare(k, key) == 0;
      }
      if (Bytes.ORDER.compare(k, key) < 0) {
        return false;
      }
      return (end.length == 1 && end[0] == 0) || Bytes.ORDER.compare(k, end) < 0;
    }

    private void fail(Exception e) {
      log.warn("embedded watch on {} failed", RemoteKvStore.show(opts.key()), e);
      stop();
      listener.onError(
          new KvStoreException(
              KvStoreException.Code.INTERNAL,
              "watch on "
                  + RemoteKvStore.show(opts.key())
                  + " at revision "
                  + nextRevision
                  + " failed: "
                  + Failure.describe(e),
              e));
    }

    private void stop() {
      stopped = true;
      member.mvcc().removeListener(this);
      watches.remove(this);
    }

    @Override
    public void requestProgress() {
      progressWanted.set(true);
      schedule();
    }

    @Override
    public void close() {
      stop();
    }
  }
}
