package dev.kubelite.store.server;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.kubelite.store.api.etcdserverpb.Member;
import dev.kubelite.store.api.etcdserverpb.ResponseHeader;
import dev.kubelite.store.api.etcdserverpb.StatusResponse;
import dev.kubelite.store.api.kubelitepb.InternalRequest;
import dev.kubelite.store.api.kubelitepb.MemberAttributes;
import dev.kubelite.store.mvcc.Alarm;
import dev.kubelite.store.mvcc.MvccException;
import dev.kubelite.store.mvcc.MvccStore;
import dev.kubelite.store.mvcc.Responses;
import dev.kubelite.store.mvcc.WriteCommand;
import dev.kubelite.store.raft.Bootstrap;
import dev.kubelite.store.raft.ConfChange;
import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.ProposeResult;
import dev.kubelite.store.raft.RaftConfig;
import dev.kubelite.store.raft.RaftNode;
import dev.kubelite.store.raft.Snapshot;
import dev.kubelite.store.raft.driver.RaftDriver;
import dev.kubelite.store.raft.transport.PeerTransport;
import dev.kubelite.store.raft.wal.SegmentedRaftLog;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One store member: its Raft log ({@code member/wal}), its MVCC state on RocksDB ({@code
 * member/snap/db}, the same layout as etcd's data dir), the Raft driver and the peer transport.
 * Writes are proposed as {@link InternalRequest} entries and answered when this member applies
 * them; reads are served from the local state after a ReadIndex round (or at once when
 * serializable).
 */
public final class StoreMember implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StoreMember.class);

  /** How long a client write may wait for its entry to commit and apply (etcd's default too). */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(7);

  private final MemberConfig config;
  private final long memberId;
  private final long clusterId;
  private final SegmentedRaftLog raftLog;

  /** Replaced when a snapshot image is installed; use under {@link #stateLock}'s read lock. */
  private volatile MvccStore mvcc;

  /**
   * Readers of {@link #mvcc} hold the read lock; installing a snapshot image takes the write lock
   * to close the old store and swap in the new one, so no read runs against a closed RocksDB.
   */
  private final ReentrantReadWriteLock stateLock = new ReentrantReadWriteLock();

  private final AtomicLong imagesInstalled = new AtomicLong();
  private final RaftDriver driver;
  private final PeerTransport peers;
  private final ExecutorService reads;
  private final Map<Long, CompletableFuture<Responses.Response>> waiters =
      new ConcurrentHashMap<>();
  private final AtomicLong requestSeq;
  private final MemberRegistry members;
  private final Map<Long, CompletableFuture<Void>> confWaiters = new ConcurrentHashMap<>();
  private final Vertx vertx;
  private long publishTimer = -1;

  /** Test hook: how many more applied client writes answer "request timed out" instead. */
  private final java.util.concurrent.atomic.AtomicInteger answersToLose =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Defragmentations run here, one at a time, never on an event loop or the Raft thread. */
  private final ExecutorService defragmenter = daemonExecutor("store-defrag");

  /**
   * Local snapshots make the MVCC store durable here (an fsync of RocksDB's write-ahead log), off
   * the Raft thread (docs/decisions/0105).
   */
  private final ExecutorService walSyncer = daemonExecutor("store-wal-sync");

  /**
   * State images for followers behind the log are built here, one at a time, from a fresh
   * checkpoint, off the Raft thread; at most one is in flight per follower ({@link
   * #imagesInFlight}).
   */
  private final ExecutorService imageBuilder = daemonExecutor("store-image-send");

  private final java.util.Set<Long> imagesInFlight = ConcurrentHashMap.newKeySet();
  private final AtomicLong imagesSent = new AtomicLong();

  private static ExecutorService daemonExecutor(String name) {
    return Executors.newSingleThreadExecutor(
        r -> {
          Thread t = new Thread(r, name);
          t.setDaemon(true);
          return t;
        });
  }

  private volatile long backendBytes;
  private volatile long backendInUse;
  private volatile boolean closing;

  private StoreMember(MemberConfig config, Vertx vertx, RaftDriver.Options options) {
    this.config = config;
    this.vertx = vertx;
    // Request ids: member id in the top 16 bits, a time-seeded counter below, unique across
    // restarts.
    this.requestSeq = new AtomicLong((System.currentTimeMillis() << 8) & 0x0000_FFFF_FFFF_FFFFL);
    Path member = config.dataDir().resolve("member");
    try {
      Files.createDirectories(member.resolve("snap"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the data dir " + member, e);
    }
    this.raftLog = SegmentedRaftLog.open(member.resolve("wal"));
    MemberIdentity identity =
        MemberIdentity.loadOrCreate(
            member.resolve("identity"), config.memberId(), config.clusterId());
    this.memberId = identity.memberId();
    this.clusterId = identity.clusterId();
    if (raftLog.lastIndex() == 0 && raftLog.hardState().isEmpty()) {
      if (config.initialClusterState() == MemberConfig.ClusterState.NEW) {
        Map<Long, byte[]> founders = new LinkedHashMap<>();
        config
            .initialCluster()
            .forEach(
                (name, urls) ->
                    founders.put(
                        MemberIds.memberId(urls, config.initialClusterToken(), null),
                        attributes(name, urls, List.of()).toByteArray()));
        Bootstrap.initialize(raftLog, founders);
        log.info(
            "founded cluster {} with members {}",
            MemberIds.hex(clusterId),
            config.initialCluster().keySet());
      }
    }
    recoverInterruptedInstall(member.resolve("snap"));
    this.mvcc = MvccStore.open(member.resolve("snap").resolve("db"));
    this.members = new MemberRegistry(member.resolve("members.pb"));
    this.reads =
        Executors.newFixedThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "store-read");
              t.setDaemon(true);
              return t;
            });
    this.peers =
        new PeerTransport(
            vertx,
            memberId,
            config.peerTls()
                ? new PeerTransport.Tls() {
                  @Override
                  public io.vertx.core.net.NetServerOptions server() {
                    return config.tls().peerServer();
                  }

                  @Override
                  public io.vertx.core.net.NetClientOptions client(
                      io.vertx.core.net.NetClientOptions options) {
                    return config.tls().peerClient(options);
                  }
                }
                : null);
    RaftConfig raftConfig = RaftConfig.builder(memberId).build();
    RaftDriver.Transport transport =
        m -> {
          if (m.type() == dev.kubelite.store.raft.MessageType.SNAPSHOT) {
            sendImage(m);
          } else {
            peers.send(m);
          }
        };
    this.driver = new RaftDriver(raftConfig, raftLog, new StateMachine(), transport, options);
    members.snapshot().forEach(this::connectPeer);
    if (config.initialClusterState() == MemberConfig.ClusterState.EXISTING
        && members.snapshot().isEmpty()) {
      // Joining: we learn the membership from the log, but must answer the leader before that.
      config
          .initialCluster()
          .forEach(
              (name, urls) ->
                  connectPeer(
                      MemberIds.memberId(urls, config.initialClusterToken(), null),
                      attributes(name, urls, List.of())));
    }
    peers.sink(
        new PeerTransport.Sink() {
          @Override
          public void receive(dev.kubelite.store.raft.Message m) {
            driver.receive(m);
          }

          @Override
          public void reportUnreachable(long peer) {
            driver.reportUnreachable(peer);
          }

          @Override
          public void reportSnapshot(long peer, boolean success) {
            driver.reportSnapshot(peer, success);
          }
        });
  }

  private void connectPeer(long id, MemberAttributes a) {
    if (id != memberId && a.getPeerUrlsCount() > 0) {
      URI u = URI.create(a.getPeerUrls(0));
      peers.addPeer(id, SocketAddress.inetSocketAddress(u.getPort(), u.getHost()));
    }
  }

  static MemberAttributes attributes(String name, List<URI> peerUrls, List<URI> clientUrls) {
    MemberAttributes.Builder b = MemberAttributes.newBuilder().setName(name);
    peerUrls.forEach(u -> b.addPeerUrls(u.toString()));
    clientUrls.forEach(u -> b.addClientUrls(u.toString()));
    return b.build();
  }

  /** Opens the data dir, starts Raft and the peer port. The client port is the server's job. */
  public static StoreMember start(MemberConfig config, Vertx vertx) throws Exception {
    return start(config, vertx, driverOptions(config));
  }

  /** The Raft driver's settings for {@code config}: etcd's, with its --snapshot-count. */
  static RaftDriver.Options driverOptions(MemberConfig config) {
    return RaftDriver.Options.defaults().withSnapshotEveryEntries(config.snapshotCount());
  }

  /** As {@link #start(MemberConfig, Vertx)}, with the Raft driver's tick and snapshot cadence. */
  static StoreMember start(MemberConfig config, Vertx vertx, RaftDriver.Options options)
      throws Exception {
    config.checkTls();
    StoreMember m = new StoreMember(config, vertx, options);
    URI peerListen = config.listenPeerUrls().get(0);
    m.peers
        .listen(peerListen.getHost(), peerListen.getPort())
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    m.driver.start();
    m.publishTimer = vertx.setPeriodic(500, id -> m.publishIfNeeded());
    return m;
  }

  /**
   * Announces this member's name and client URLs through the log once it is part of the cluster
   * (etcd's "publish"), so every member can list them.
   */
  private void publishIfNeeded() {
    MemberAttributes mine =
        attributes(config.name(), config.initialAdvertisePeerUrls(), config.advertiseClientUrls());
    MemberAttributes known = members.snapshot().get(memberId);
    // Like etcd's publish, only the name and client URLs: peer URLs change through the log only
    // (member add, member update).
    if (known != null
        && known.getName().equals(mine.getName())
        && known.getClientUrlsList().equals(mine.getClientUrlsList())) {
      vertx.cancelTimer(publishTimer);
      return;
    }
    RaftDriver.Status st = driver.status();
    if (st.leader() == dev.kubelite.store.raft.RaftNode.NONE || !st.conf().contains(memberId)) {
      return;
    }
    write(
            InternalRequest.newBuilder()
                .setPublish(
                    dev.kubelite.store.api.kubelitepb.PublishRequest.newBuilder()
                        .setMemberId(memberId)
                        .setAttributes(mine)))
        .whenComplete(
            (r, err) -> {
              if (err != null) {
                log.debug("publishing member attributes failed; will retry: {}", err.toString());
              }
            });
  }

  /** Proposes a membership change; completes once this member applied it. */
  public CompletableFuture<Void> changeMembership(ConfChange change) {
    CompletableFuture<Void> applied = new CompletableFuture<>();
    confWaiters.put(change.nodeId(), applied);
    driver
        .proposeConfChange(change)
        .whenComplete(
            (r, err) -> {
              if (err != null || !r.accepted()) {
                confWaiters.remove(change.nodeId(), applied);
                applied.completeExceptionally(
                    err != null
                        ? EtcdErrors.of(GrpcStatus.UNAVAILABLE, EtcdErrors.STOPPED)
                        : r == ProposeResult.DROPPED_CONF_CHANGE_PENDING
                            ? EtcdErrors.of(
                                GrpcStatus.UNAVAILABLE,
                                "etcdserver: another membership change is in progress; retry")
                            : rejection(r));
              }
            });
    applied.whenComplete((v, err) -> confWaiters.remove(change.nodeId(), applied));
    return withRequestTimeout(applied, err -> err);
  }

  /**
   * Fails {@code f} with etcd's "request timed out" unless it completes within {@link
   * #REQUEST_TIMEOUT}; any other failure becomes {@code otherwise.apply(failure)}.
   */
  private static <T> CompletableFuture<T> withRequestTimeout(
      CompletableFuture<T> f, java.util.function.Function<Throwable, Throwable> otherwise) {
    return f.orTimeout(REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionallyCompose(
            err ->
                CompletableFuture.failedFuture(
                    err instanceof java.util.concurrent.TimeoutException
                        ? EtcdErrors.of(GrpcStatus.UNAVAILABLE, EtcdErrors.TIMEOUT)
                        : otherwise.apply(err)));
  }

  /** The attributes a member added at runtime starts with: no name until it publishes. */
  static MemberAttributes newMemberAttributes(List<String> peerUrls) {
    return MemberAttributes.newBuilder().addAllPeerUrls(peerUrls).build();
  }

  public MemberRegistry registry() {
    return members;
  }

  /**
   * Tells {@code listener} about leader and role changes (on the Raft thread; it must not block).
   */
  public void addSoftStateListener(RaftDriver.SoftStateListener listener) {
    driver.addSoftStateListener(listener);
  }

  // -------------------------------------------------------------------------------------------
  // Requests
  // -------------------------------------------------------------------------------------------

  /** Proposes a write and completes with its result once this member applied it. */
  public CompletableFuture<Responses.Response> write(InternalRequest.Builder request) {
    if (request.hasClientRequest() && request.getClientRequest().getFingerprint() == 0) {
      request
          .getClientRequestBuilder()
          .setFingerprint(
              ClientRequestIds.fingerprint(request.clearId().clone().clearClientRequest()));
    }
    long id = ((memberId & 0xFFFFL) << 48) | requestSeq.incrementAndGet();
    byte[] data = request.setId(id).build().toByteArray();
    CompletableFuture<Responses.Response> result = new CompletableFuture<>();
    waiters.put(id, result);
    driver
        .propose(data)
        .whenComplete(
            (r, err) -> {
              if (err != null) {
                fail(id, EtcdErrors.of(GrpcStatus.UNAVAILABLE, EtcdErrors.STOPPED));
              } else if (!r.accepted()) {
                fail(id, rejection(r));
              }
            });
    result.whenComplete((r, err) -> waiters.remove(id));
    return withRequestTimeout(result, err -> err);
  }

  /**
   * Test hook: the next {@code n} writes that carry a client request id are applied as usual, but
   * their waiting caller is told "request timed out" — an answer lost after the write applied.
   */
  void loseNextAnswers(int n) {
    answersToLose.set(n);
  }

  private boolean loseAnswer() {
    return answersToLose.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
  }

  private static Exception rejection(ProposeResult r) {
    return switch (r) {
      case DROPPED_NO_LEADER -> EtcdErrors.of(GrpcStatus.UNAVAILABLE, EtcdErrors.NO_LEADER);
      case DROPPED_LEADERSHIP_TRANSFER ->
          EtcdErrors.of(GrpcStatus.UNAVAILABLE, "etcdserver: leadership transfer in progress");
      default -> EtcdErrors.of(GrpcStatus.UNAVAILABLE, "etcdserver: proposal dropped: " + r);
    };
  }

  private void fail(long id, Throwable error) {
    CompletableFuture<Responses.Response> w = waiters.remove(id);
    if (w != null) {
      w.completeExceptionally(error);
    }
  }

  /** Runs a read against local state: now if {@code serializable}, else after a ReadIndex round. */
  public <T> CompletableFuture<T> read(boolean serializable, MvccRead<T> read) {
    CompletableFuture<Long> ready =
        serializable ? CompletableFuture.completedFuture(0L) : driver.readIndex();
    // A ReadIndex round only fails when leadership changes or the member stops.
    return withRequestTimeout(
            ready, err -> EtcdErrors.of(GrpcStatus.UNAVAILABLE, EtcdErrors.NO_LEADER))
        .thenApplyAsync(
            i -> {
              try {
                return withMvcc(read);
              } catch (MvccException e) {
                throw new java.util.concurrent.CompletionException(EtcdErrors.of(e));
              }
            },
            reads);
  }

  /** A read of the MVCC state. */
  @FunctionalInterface
  public interface MvccRead<T> {
    T run(MvccStore store) throws MvccException;
  }

  /**
   * Runs {@code read} on the current MVCC store, which stays open meanwhile (a snapshot install
   * waits). Use this rather than {@link #mvcc()} for anything that reads RocksDB.
   */
  public <T> T withMvcc(MvccRead<T> read) throws MvccException {
    stateLock.readLock().lock();
    try {
      return read.run(mvcc);
    } finally {
      stateLock.readLock().unlock();
    }
  }

  /**
   * The whole state as one {@link StateImage}: a RocksDB checkpoint of the MVCC store plus the
   * member registry. Blocks on disk IO (checkpoint and file reads): never call it on an event loop.
   */
  public byte[] stateImage() {
    Path checkpoint =
        config
            .dataDir()
            .resolve("member")
            .resolve("snap")
            .resolve("checkpoint-" + System.nanoTime());
    try {
      Checkpointed c = checkpoint(checkpoint);
      if (c == null) {
        throw new IllegalStateException(
            "member " + MemberIds.hex(memberId) + " is stopping: no state image can be made");
      }
      return StateImage.pack(c.header(), checkpoint, c.registry());
    } finally {
      StateImage.deleteRecursively(checkpoint);
    }
  }

  /** A checkpoint's header and the member registry as of the same moment. */
  private record Checkpointed(StateImage.Header header, byte[] registry) {}

  /**
   * Makes a RocksDB checkpoint of the MVCC store at {@code dir} and reads the member registry under
   * the same lock, so the two agree; null if the member is stopping. Blocks on disk IO.
   */
  private Checkpointed checkpoint(Path dir) {
    byte[] registry;
    stateLock.readLock().lock();
    try {
      if (closing) {
        return null;
      }
      mvcc.snapshot(dir);
      registry = members.encode();
    } finally {
      stateLock.readLock().unlock();
    }
    MvccStore.CheckpointMeta meta = MvccStore.readCheckpointMeta(dir);
    return new Checkpointed(
        new StateImage.Header(meta.appliedIndex(), meta.revision(), meta.compactRevision()),
        registry);
  }

  /**
   * Sends a follower that is behind the log the state it needs (etcd's merged snapshot message):
   * the Raft snapshot's metadata, as {@code m} carries it, with an image of this member's current
   * state (at its applied index, at or beyond the snapshot's) as its data. The image is built from
   * a fresh checkpoint on {@link #imageBuilder} and streamed from a file; the Raft thread only
   * queues the work. A follower with an image in flight gets no second one: the Raft core waits for
   * the first one's report anyway.
   */
  private void sendImage(dev.kubelite.store.raft.Message m) {
    long to = m.to();
    if (!imagesInFlight.add(to)) {
      log.debug("member {}: a state image for {} is in flight already", memberId, to);
      return;
    }
    try {
      imageBuilder.execute(() -> buildAndSendImage(m));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      imagesInFlight.remove(to); // stopping
    }
  }

  private void buildAndSendImage(dev.kubelite.store.raft.Message m) {
    long to = m.to();
    long started = System.nanoTime();
    Path snap = config.dataDir().resolve("member").resolve("snap");
    Path checkpoint = snap.resolve("checkpoint-" + System.nanoTime());
    Path image = snap.resolve(OUTGOING_IMAGE_PREFIX + MemberIds.hex(to) + "-" + System.nanoTime());
    boolean handedOver = false;
    try {
      Checkpointed c = checkpoint(checkpoint);
      if (c == null) {
        return;
      }
      long length;
      try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(image), 1 << 16)) {
        length = StateImage.packTo(c.header(), checkpoint, c.registry(), out);
      }
      StateImage.deleteRecursively(checkpoint);
      log.info(
          "member {}: sending member {} a state image of {} bytes at applied index {} for the"
              + " snapshot at {} (built in {} ms)",
          MemberIds.hex(memberId),
          MemberIds.hex(to),
          length,
          c.header().appliedIndex(),
          m.snapshot().index(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      handedOver = true;
      imagesSent.incrementAndGet();
      peers.sendSnapshot(
          m,
          image,
          length,
          () -> {
            deleteQuietly(image);
            imagesInFlight.remove(to);
          });
    } catch (IOException | RuntimeException e) {
      log.error(
          "member {}: cannot build a state image for member {}; it stays behind until the next"
              + " attempt",
          MemberIds.hex(memberId),
          MemberIds.hex(to),
          e);
      driver.reportSnapshot(to, false);
    } finally {
      if (!handedOver) {
        deleteQuietly(image);
        imagesInFlight.remove(to);
      }
      deleteQuietly(checkpoint);
    }
  }

  /** Leftovers of images being sent when a member stopped; removed when it starts. */
  private static final String OUTGOING_IMAGE_PREFIX = "outgoing-image-";

  private static void deleteQuietly(Path p) {
    try {
      StateImage.deleteRecursively(p);
    } catch (UncheckedIOException e) {
      log.warn("cannot delete {}; the member removes it when it starts again", p, e);
    }
  }

  /** How many state images this member built for followers since it started. */
  long imagesSent() {
    return imagesSent.get();
  }

  // -------------------------------------------------------------------------------------------
  // Maintenance: backend size, defragmentation, leadership transfer
  // -------------------------------------------------------------------------------------------

  /**
   * The MVCC backend's size ({@link MvccStore#dbSizeBytes}) for quota checks and status. Never
   * blocks, so event loops may call it: while a snapshot install holds the store, it answers the
   * last size read.
   */
  long backendSizeBytes() {
    if (stateLock.readLock().tryLock()) {
      try {
        if (!closing) {
          backendBytes = mvcc.dbSizeBytes();
        }
      } finally {
        stateLock.readLock().unlock();
      }
    }
    return backendBytes;
  }

  /**
   * How old the size a quota check uses may be. Reading RocksDB's size properties takes its mutex
   * and cost more than the write itself when done for every write; etcd's check reads a cached size
   * too. A burst may overshoot the quota by what it writes in this time.
   */
  private static final long QUOTA_SIZE_MAX_AGE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private volatile long backendBytesReadAt = System.nanoTime() - QUOTA_SIZE_MAX_AGE_NANOS;

  /**
   * What writes admitted by the quota since the last size reading cost; added to that reading so a
   * burst inside one reading's lifetime cannot overshoot the quota.
   */
  private final AtomicLong admittedSinceSizeRead = new AtomicLong();

  /**
   * {@link #backendSizeBytes}, read again only when the last reading is older than 100 ms, plus the
   * cost of the writes admitted since that reading ({@link #quotaAdmitted}).
   */
  long backendSizeForQuota() {
    long now = System.nanoTime();
    if (now - backendBytesReadAt >= QUOTA_SIZE_MAX_AGE_NANOS) {
      backendBytesReadAt = now;
      admittedSinceSizeRead.set(0);
      return backendSizeBytes();
    }
    return backendBytes + admittedSinceSizeRead.get();
  }

  /** Records that the quota admitted a write costing {@code cost} bytes. */
  void quotaAdmitted(long cost) {
    admittedSinceSizeRead.addAndGet(cost);
  }

  /** As {@link #backendSizeBytes}, for {@link MvccStore#dbSizeInUseBytes}. */
  long backendInUseBytes() {
    if (stateLock.readLock().tryLock()) {
      try {
        if (!closing) {
          backendInUse = mvcc.dbSizeInUseBytes();
        }
      } finally {
        stateLock.readLock().unlock();
      }
    }
    return backendInUse;
  }

  /**
   * Defragments this member's MVCC store ({@link MvccStore#defragment}) on the member's
   * defragmentation thread; requests queue there, one runs at a time. If a snapshot install
   * replaces the store meanwhile, the new one is defragmented instead.
   */
  CompletableFuture<Void> defragment() {
    try {
      return CompletableFuture.runAsync(
          () -> {
            while (true) {
              MvccStore store = mvcc;
              try {
                store.defragment();
                backendSizeBytes();
                return;
              } catch (dev.kubelite.store.mvcc.MvccStorageException e) {
                if (closing) {
                  throw new java.util.concurrent.CompletionException(
                      EtcdErrors.of(GrpcStatus.UNAVAILABLE, EtcdErrors.STOPPED));
                }
                // An install closes the store under the write lock: wait for it to finish.
                stateLock.readLock().lock();
                stateLock.readLock().unlock();
                if (mvcc == store) {
                  throw e;
                }
                log.info("the MVCC store was replaced during defragmentation; defragmenting anew");
              }
            }
          },
          defragmenter);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return CompletableFuture.failedFuture(
          EtcdErrors.of(GrpcStatus.UNAVAILABLE, EtcdErrors.STOPPED));
    }
  }

  /**
   * etcd's MoveLeader: this member must lead, the target must be a voting member; completes once
   * this member sees the target lead (at once if the target is this member), or fails after the
   * request timeout. Uses the Raft core's leadership transfer (the target is caught up, then told
   * to campaign at once).
   */
  CompletableFuture<Void> moveLeader(long target) {
    RaftDriver.Status st = driver.status();
    if (st.leader() != memberId) {
      return CompletableFuture.failedFuture(
          EtcdErrors.of(GrpcStatus.FAILED_PRECONDITION, EtcdErrors.NOT_LEADER));
    }
    if (!st.conf().voters().contains(target)) {
      return CompletableFuture.failedFuture(
          EtcdErrors.of(GrpcStatus.FAILED_PRECONDITION, EtcdErrors.BAD_LEADER_TRANSFEREE));
    }
    if (target == memberId) {
      return CompletableFuture.completedFuture(null);
    }
    log.info(
        "member {}: transferring leadership to {}", MemberIds.hex(memberId), MemberIds.hex(target));
    CompletableFuture<Void> done = new CompletableFuture<>();
    long poll =
        vertx.setPeriodic(
            20,
            id -> {
              if (driver.status().leader() == target) {
                done.complete(null);
              }
            });
    driver.transferLeadership(target);
    return done.orTimeout(REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((v, err) -> vertx.cancelTimer(poll))
        .exceptionallyCompose(
            err ->
                CompletableFuture.failedFuture(
                    EtcdErrors.of(GrpcStatus.UNKNOWN, EtcdErrors.LEADER_TRANSFER_TIMEOUT)));
  }

  /** How many snapshot images from a leader this member installed since it started. */
  long imagesInstalled() {
    return imagesInstalled.get();
  }

  /**
   * Finishes or undoes an image install that a crash interrupted (see {@link
   * StateMachine#restore}), and removes leftover checkpoints. If the old database was moved aside
   * but the new one not yet moved in, the old one comes back: it is behind the Raft snapshot, so
   * the driver installs the snapshot again.
   */
  private static void recoverInterruptedInstall(Path snap) {
    Path db = snap.resolve("db");
    Path old = snap.resolve("db.old");
    try {
      if (!Files.exists(db) && Files.exists(old)) {
        Files.move(old, db, StandardCopyOption.ATOMIC_MOVE);
      }
      StateImage.deleteRecursively(old);
      StateImage.deleteRecursively(snap.resolve("db.installing"));
      try (Stream<Path> s = Files.list(snap)) {
        for (Path p :
            s.filter(
                    p ->
                        p.getFileName().toString().startsWith("checkpoint-")
                            || p.getFileName().toString().startsWith(OUTGOING_IMAGE_PREFIX))
                .toList()) {
          StateImage.deleteRecursively(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot clean up " + snap + " after an interrupted install", e);
    }
  }

  public ResponseHeader header(long revision) {
    return ResponseHeader.newBuilder()
        .setClusterId(clusterId)
        .setMemberId(memberId)
        .setRevision(revision)
        .setRaftTerm(driver.status().term())
        .build();
  }

  public ResponseHeader header() {
    return header(mvcc.currentRevision());
  }

  /**
   * The current MVCC store, for its in-memory state (revisions, listeners). It is replaced when a
   * snapshot image is installed: read RocksDB through {@link #read} or {@link #withMvcc} instead.
   */
  public MvccStore mvcc() {
    return mvcc;
  }

  /** The leader's match indexes for itself and {@code peer}; null unless this member leads. */
  public CompletableFuture<RaftDriver.Match> leaderMatch(long peer) {
    return driver.leaderMatch(peer);
  }

  public RaftDriver.Status raftStatus() {
    return driver.status();
  }

  /** The Raft index of this member's latest snapshot (0 before the first). */
  long snapshotIndex() {
    return driver.snapshotIndex();
  }

  /**
   * This member's answer to etcd's Maintenance.Status, from memory and never blocking (event loops
   * call it): sizes as {@link #backendSizeBytes}, errors as etcd lists them (no leader, then each
   * active alarm in etcd's text form).
   */
  public StatusResponse status() {
    RaftDriver.Status raft = driver.status();
    StatusResponse.Builder b =
        StatusResponse.newBuilder()
            .setHeader(header())
            .setVersion(MaintenanceApi.API_VERSION)
            .setDbSize(backendSizeBytes())
            .setDbSizeInUse(backendInUseBytes())
            .setLeader(raft.leader())
            .setRaftIndex(raft.commitIndex())
            .setRaftTerm(raft.term())
            .setRaftAppliedIndex(raft.appliedIndex())
            .setIsLearner(raft.conf().learners().contains(memberId));
    if (raft.leader() == RaftNode.NONE) {
      b.addErrors(EtcdErrors.NO_LEADER);
    }
    mvcc.alarms(Alarm.NONE).forEach(a -> b.addErrors(EtcdMapping.alarmText(a)));
    return b.build();
  }

  /** The Vert.x instance the member's gRPC and peer traffic run on. */
  public Vertx vertx() {
    return vertx;
  }

  public long memberId() {
    return memberId;
  }

  /**
   * A gRPC client for other members' client ports (leader forwarding, status), with this member's
   * TLS identity when its client URLs are https:// (see {@link MemberTls#memberClient()}).
   */
  public io.vertx.grpc.client.GrpcClient newMemberClient(
      io.vertx.grpc.client.GrpcClientOptions grpcOptions) {
    io.vertx.core.http.HttpClientOptions http =
        new io.vertx.core.http.HttpClientOptions()
            .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2)
            .setHttp2ClearTextUpgrade(false);
    if (config.clientTls()) {
      config.tls().memberClient().apply(http);
    }
    return io.vertx.grpc.client.GrpcClient.client(vertx, grpcOptions, http);
  }

  public MemberConfig config() {
    return config;
  }

  /** The members this one knows, as etcd's Cluster API reports them. */
  public List<Member> members() {
    List<Member> out = new ArrayList<>();
    var conf = driver.status().conf();
    for (Map.Entry<Long, MemberAttributes> e : members.snapshot().entrySet()) {
      long id = e.getKey();
      if (!conf.contains(id)) {
        continue;
      }
      MemberAttributes a = e.getValue();
      Member.Builder b =
          Member.newBuilder()
              .setID(id)
              .setName(a.getName())
              .addAllPeerURLs(a.getPeerUrlsList())
              .setIsLearner(conf.learners().contains(id));
      if (id == memberId) {
        config.advertiseClientUrls().forEach(u -> b.addClientURLs(u.toString()));
      } else {
        b.addAllClientURLs(a.getClientUrlsList());
      }
      out.add(b.build());
    }
    return out;
  }

  @Override
  public void close() {
    closing = true;
    if (publishTimer >= 0) {
      vertx.cancelTimer(publishTimer);
    }
    driver.close();
    peers.close();
    reads.shutdown();
    waiters
        .values()
        .forEach(
            w ->
                w.completeExceptionally(EtcdErrors.of(GrpcStatus.UNAVAILABLE, EtcdErrors.STOPPED)));
    // Under the write lock, so that no size read (which checks `closing` under the read lock) runs
    // against a closed RocksDB; closing cancels a running defragmentation.
    stateLock.writeLock().lock();
    try {
      mvcc.close();
    } finally {
      stateLock.writeLock().unlock();
    }
    defragmenter.shutdown();
    walSyncer.shutdown();
    imageBuilder.shutdown();
    raftLog.close();
  }

  // -------------------------------------------------------------------------------------------
  // The replicated state machine (driver thread)
  // -------------------------------------------------------------------------------------------

  private final class StateMachine implements RaftDriver.StateMachine {
    @Override
    public void apply(List<Entry> entries) {
      for (Entry e : entries) {
        if (e.type() == Entry.Type.CONF_CHANGE) {
          applyConfChange(ConfChange.decode(e.data()));
        } else if (e.data().length > 0) {
          applyRequest(e);
        }
      }
    }

    private void applyRequest(Entry e) {
      InternalRequest req;
      try {
        req = InternalRequest.parseFrom(e.data());
      } catch (InvalidProtocolBufferException ex) {
        // Every member sees the same bytes, so every member skips it the same way.
        log.error("entry {} is not a request; skipped on every member", e.index(), ex);
        return;
      }
      CompletableFuture<Responses.Response> waiter = waiters.remove(req.getId());
      if (req.hasPublish()) {
        applyPublish(req.getPublish());
        if (waiter != null) {
          waiter.complete(null);
        }
        return;
      }
      if (req.hasMemberUpdate()) {
        Exception rejected = applyMemberUpdate(req.getMemberUpdate());
        if (waiter != null && rejected != null) {
          waiter.completeExceptionally(rejected);
        } else if (waiter != null) {
          waiter.complete(null);
        }
        return;
      }
      if (waiter != null && req.hasClientRequest() && loseAnswer()) {
        waiter.completeExceptionally(EtcdErrors.of(GrpcStatus.UNAVAILABLE, EtcdErrors.TIMEOUT));
        waiter = null;
      }
      try {
        Responses.Response r = mvcc.apply(e.index(), command(req), clientRequest(req)).orElse(null);
        if (waiter != null) {
          if (r == null) {
            waiter.completeExceptionally(
                EtcdErrors.of(GrpcStatus.INTERNAL, "entry " + e.index() + " was applied before"));
          } else {
            waiter.complete(r);
          }
        }
      } catch (MvccException ex) {
        if (waiter != null) {
          waiter.completeExceptionally(EtcdErrors.of(ex));
        }
      }
    }

    private WriteCommand command(InternalRequest req) {
      return switch (req.getRequestCase()) {
        case PUT -> EtcdMapping.put(req.getPut());
        case DELETE_RANGE -> EtcdMapping.deleteRange(req.getDeleteRange());
        case TXN -> EtcdMapping.txn(req.getTxn());
        case COMPACTION -> EtcdMapping.compact(req.getCompaction());
        case LEASE_GRANT ->
            new dev.kubelite.store.mvcc.LeaseGrant(
                req.getLeaseGrant().getID(), req.getLeaseGrant().getTTL());
        case LEASE_REVOKE -> new dev.kubelite.store.mvcc.LeaseRevoke(req.getLeaseRevoke().getID());
        case ALARM -> EtcdMapping.alarm(req.getAlarm());
        case PUBLISH, MEMBER_UPDATE, REQUEST_NOT_SET ->
            throw new IllegalStateException("request " + req.getId() + " carries no operation");
      };
    }

    private dev.kubelite.store.mvcc.ClientRequest clientRequest(InternalRequest req) {
      if (!req.hasClientRequest()) {
        return null;
      }
      var c = req.getClientRequest();
      if (c.getSeq() <= 0 || c.getDoneBelow() < 0) {
        // Every member sees the same entry, so every member applies it without an id.
        log.warn("entry with an invalid client request id {}; applied without deduplication", c);
        return null;
      }
      return new dev.kubelite.store.mvcc.ClientRequest(
          c.getClient(), c.getSeq(), c.getDoneBelow(), c.getFingerprint());
    }

    /**
     * etcd's publish: a member's name and client URLs. Its peer URLs stay as the membership change
     * (or a member update) set them.
     */
    private void applyPublish(dev.kubelite.store.api.kubelitepb.PublishRequest p) {
      if (driver.status().conf().contains(p.getMemberId())) {
        MemberAttributes known = members.snapshot().get(p.getMemberId());
        MemberAttributes a =
            known == null || known.getPeerUrlsCount() == 0
                ? p.getAttributes()
                : p.getAttributes().toBuilder()
                    .clearPeerUrls()
                    .addAllPeerUrls(known.getPeerUrlsList())
                    .build();
        members.put(p.getMemberId(), a);
        connectPeer(p.getMemberId(), a);
      }
    }

    /**
     * etcd's member update (ConfChangeUpdateNode): checked again here, in log order, so every
     * member accepts or rejects it alike. Returns the rejection, or null.
     */
    private Exception applyMemberUpdate(dev.kubelite.store.api.kubelitepb.MemberUpdateRequest u) {
      long id = u.getMemberId();
      Map<Long, MemberAttributes> known = members.snapshot();
      // The registry, not the driver's published status: it changes in log order on every member.
      if (!known.containsKey(id)) {
        return EtcdErrors.of(GrpcStatus.NOT_FOUND, EtcdErrors.MEMBER_NOT_FOUND);
      }
      for (Map.Entry<Long, MemberAttributes> m : known.entrySet()) {
        if (m.getKey() != id
            && m.getValue().getPeerUrlsList().stream().anyMatch(u.getPeerUrlsList()::contains)) {
          return EtcdErrors.of(GrpcStatus.FAILED_PRECONDITION, EtcdErrors.PEER_URL_EXISTS);
        }
      }
      MemberAttributes a =
          known.get(id).toBuilder().clearPeerUrls().addAllPeerUrls(u.getPeerUrlsList()).build();
      members.put(id, a);
      connectPeer(id, a);
      log.info(
          "member {}: peer URLs of member {} are now {}",
          MemberIds.hex(memberId),
          MemberIds.hex(id),
          u.getPeerUrlsList());
      return null;
    }

    private void applyConfChange(ConfChange cc) {
      CompletableFuture<Void> waiter = confWaiters.remove(cc.nodeId());
      if (waiter != null) {
        waiter.complete(null);
      }
      if (cc.type() == ConfChange.Type.REMOVE_NODE) {
        members.remove(cc.nodeId());
        peers.removePeer(cc.nodeId());
        return;
      }
      if (cc.context().length == 0) {
        return; // e.g. promoting a learner: its attributes are unchanged
      }
      try {
        MemberAttributes a = MemberAttributes.parseFrom(cc.context());
        members.put(cc.nodeId(), a);
        connectPeer(cc.nodeId(), a);
      } catch (InvalidProtocolBufferException ex) {
        log.error("membership change for {} carries unreadable attributes", cc.nodeId(), ex);
      }
    }

    /**
     * Installs a {@link StateImage}: writes its checkpoint next to the database, then, with reads
     * held off, closes the store, moves the old database aside and the new one in, and reopens it.
     * The registry is replaced first: if we crash half-way, the store is still behind the Raft
     * snapshot (which the driver persisted before calling us), so the next start installs it again.
     */
    @Override
    public void restore(Snapshot snapshot) {
      if (StateImage.isMetadataOnly(snapshot.data())) {
        // A local snapshot is recorded only once the store is durable up to its index, so the
        // store cannot be behind it unless the disk lost synced writes or the data dir was put
        // together from different copies.
        throw new IllegalStateException(
            "the Raft snapshot at index "
                + snapshot.index()
                + " records only its metadata, but this member's MVCC store (applied index "
                + mvcc.appliedIndex()
                + ") is behind it: the store lost writes it had synced before the snapshot, or"
                + " the data dir mixes copies of different times. Recover this member: remove it"
                + " (etcdctl member remove), empty its data dir and add it again, or restore it"
                + " from a backup (kubelite store snapshot restore)");
      }
      StateImage.Contents image = StateImage.read(snapshot.data());
      Path snap = config.dataDir().resolve("member").resolve("snap");
      Path db = snap.resolve("db");
      Path installing = snap.resolve("db.installing");
      Path old = snap.resolve("db.old");
      StateImage.deleteRecursively(installing);
      StateImage.extractDb(image, installing);
      Map<Long, MemberAttributes> registry = MemberRegistry.decode(image.members());
      Map<Long, MemberAttributes> before = members.snapshot();
      members.replaceAll(registry);
      before.keySet().stream().filter(id -> !registry.containsKey(id)).forEach(peers::removePeer);
      registry.forEach(StoreMember.this::connectPeer);
      MvccStore installed;
      List<dev.kubelite.store.mvcc.MvccListener> listeners;
      stateLock.writeLock().lock();
      try {
        listeners = mvcc.listeners();
        mvcc.close();
        Files.move(db, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(installing, db, StandardCopyOption.ATOMIC_MOVE);
        StateImage.fsyncDir(snap);
        installed = MvccStore.open(db);
        listeners.forEach(installed::addListener);
        imagesInstalled.incrementAndGet(); // before the new store shows, for whoever waits on it
        mvcc = installed;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot swap in the snapshot's database at " + db, e);
      } finally {
        stateLock.writeLock().unlock();
      }
      StateImage.deleteRecursively(old);
      log.info(
          "member {}: installed snapshot at index {} (revision {}, applied index {})",
          MemberIds.hex(memberId),
          snapshot.index(),
          installed.currentRevision(),
          installed.appliedIndex());
      listeners.forEach(l -> l.onRestored(installed.currentRevision()));
    }

    /**
     * A local snapshot records only its metadata (docs/decisions/0105): this member's MVCC store is
     * its state. Before the log is compacted, the store must hold everything up to {@code index}
     * durably: the applied index is recorded here (entries that change no key, such as membership
     * changes, do not move it), and RocksDB's write-ahead log, written with {@code sync=false}, is
     * fsynced on {@link #walSyncer}; the Raft thread carries on meanwhile.
     */
    @Override
    public CompletableFuture<byte[]> prepareSnapshot(long index) {
      mvcc.markApplied(index);
      return CompletableFuture.supplyAsync(
          () -> {
            stateLock.readLock().lock();
            try {
              if (closing) {
                throw new java.util.concurrent.CancellationException(
                    "member " + MemberIds.hex(memberId) + " is stopping");
              }
              mvcc.syncWal();
            } finally {
              stateLock.readLock().unlock();
            }
            return StateImage.metadataMarker(index);
          },
          walSyncer);
    }

    @Override
    public long durableAppliedIndex() {
      return mvcc.appliedIndex();
    }
  }
}
