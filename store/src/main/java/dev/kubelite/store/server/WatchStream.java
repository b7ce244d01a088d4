package dev.kubelite.store.server;

import com.google.protobuf.CodedOutputStream;
import dev.kubelite.store.api.etcdserverpb.WatchCreateRequest;
import dev.kubelite.store.api.etcdserverpb.WatchRequest;
import dev.kubelite.store.api.etcdserverpb.WatchResponse;
import dev.kubelite.store.mvcc.Bytes;
import dev.kubelite.store.mvcc.Event;
import dev.kubelite.store.mvcc.MvccException;
import dev.kubelite.store.mvcc.Responses.EventsResult;
import io.vertx.core.Context;
import io.vertx.core.streams.WriteStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's Watch stream: many watches multiplexed on it, each with its own id. Events for a
 * watch are ordered, without duplicates or gaps, and never from before its start revision. All
 * writes to the stream happen on its Vert.x context.
 *
 * <p>Progress (as etcd 3.4): a watch created with {@code progress_notify} that was sent no events
 * during a progress interval gets an empty response with the current revision, and a {@code
 * WatchProgressRequest} gets one response with watch id -1 for the whole stream; both only while
 * the watches concerned are caught up ("synced"), and both are queued under the hub's delivery
 * lock, so they never overtake an event of a revision they cover. Fragmentation: a watch created
 * with {@code fragment} gets a response larger than {@code --max-request-bytes} plus 512 KiB split
 * into consecutive responses, all but the last flagged {@code fragment}.
 */
final class WatchStream {
  private static final Logger log = LoggerFactory.getLogger(WatchStream.class);

  /** Responses queued for a slow client before its watchers fall back to history catch-up. */
  private static final int MAX_PENDING = 256;

  private static final int CATCH_UP_BATCH = 1000;

  /** etcd's allowance for gRPC framing on top of --max-request-bytes (its grpcOverheadBytes). */
  static final int GRPC_OVERHEAD_BYTES = 512 * 1024;

  /** The watch id of a progress response meant for every watch on the stream. */
  static final long ALL_WATCHES = -1;

  private final StoreMember member;
  private final WatchHub hub;
  private final WriteStream<WatchResponse> out;
  private final Context context;
  private final Executor worker;
  private final Map<Long, Watcher> watchers = new ConcurrentHashMap<>();
  private final AtomicInteger pending = new AtomicInteger();
  private final int fragmentBytes;
  private final long progressIntervalMs;
  private long nextWatchId;
  private long progressTimer = -1; // on the context
  private volatile boolean closed;

  WatchStream(
      StoreMember member,
      WatchHub hub,
      WriteStream<WatchResponse> out,
      Context context,
      Executor worker) {
    this.member = member;
    this.hub = hub;
    this.out = out;
    this.context = context;
    this.worker = worker;
    this.fragmentBytes = member.config().maxRequestBytes() + GRPC_OVERHEAD_BYTES;
    Duration interval = member.config().watchProgressNotifyInterval();
    // Like etcd: up to a tenth more, drawn once per stream, so that streams opened together (a
    // client restarting) do not all report at the same moment.
    long ms = Math.max(1, interval.toMillis());
    this.progressIntervalMs = ms + ThreadLocalRandom.current().nextLong(Math.max(1, ms / 10));
    out.drainHandler(v -> watchers.values().forEach(Watcher::resumeIfStalled));
  }

  /** Handles one client request (on the stream's context). */
  void onRequest(WatchRequest request) {
    switch (request.getRequestUnionCase()) {
      case CREATE_REQUEST -> create(request.getCreateRequest());
      case CANCEL_REQUEST -> cancel(request.getCancelRequest().getWatchId());
      case PROGRESS_REQUEST -> requestProgressAll();
      default -> log.debug("ignoring an empty watch request");
    }
  }

  private void create(WatchCreateRequest r) {
    long id = r.getWatchId() != 0 ? r.getWatchId() : nextFreeId();
    if (watchers.containsKey(id)) {
      send(
          WatchResponse.newBuilder()
              .setHeader(member.header(hub.revision()))
              .setWatchId(id)
              .setCreated(true)
              .setCanceled(true)
              .setCancelReason("etcdserver: duplicate watch ID"));
      return;
    }
    Watcher w = new Watcher(id, r);
    watchers.put(id, w);
    if (w.progressNotify && progressTimer < 0) {
      progressTimer = context.owner().setPeriodic(progressIntervalMs, t -> progressTick());
    }
    if (r.getStartRevision() <= 0) {
      // From now on: join the live feed at once, announcing the revision we start after.
      hub.joinNow(w, w::startLive);
    } else {
      send(
          WatchResponse.newBuilder()
              .setHeader(member.header(hub.revision()))
              .setWatchId(id)
              .setCreated(true));
      w.catchUp();
    }
  }

  private long nextFreeId() {
    while (watchers.containsKey(nextWatchId)) {
      nextWatchId++;
    }
    return nextWatchId++;
  }

  private void cancel(long id) {
    Watcher w = watchers.remove(id);
    if (w != null) {
      hub.remove(w);
    }
    send(
        WatchResponse.newBuilder()
            .setHeader(member.header(hub.revision()))
            .setWatchId(id)
            .setCanceled(true));
  }

  /**
   * A client's {@code WatchProgressRequest}: as etcd 3.4 (since its fix for progress responses
   * overtaking events), one response with watch id -1 and the current revision for the whole
   * stream, sent only if every watch on the stream is caught up; otherwise (or with no watches) the
   * request is dropped and the client asks again.
   */
  private void requestProgressAll() {
    List<Watcher> all = List.copyOf(watchers.values());
    if (!all.isEmpty()) {
      hub.ifAllSynced(all, rev -> send(progress(ALL_WATCHES, rev)));
    }
  }

  /**
   * Every progress interval (on the context): each {@code progress_notify} watch that was sent no
   * events since the previous tick is told the current revision, if it is caught up.
   */
  private void progressTick() {
    if (closed) {
      return;
    }
    for (Watcher w : watchers.values()) {
      if (!w.progressNotify) {
        continue;
      }
      if (w.idleSinceLastTick) {
        hub.ifAllSynced(List.of(w), rev -> send(progress(w.id, rev)));
      }
      w.idleSinceLastTick = true;
    }
  }

  private WatchResponse.Builder progress(long watchId, long rev) {
    return WatchResponse.newBuilder().setHeader(member.header(rev)).setWatchId(watchId);
  }

  void close() {
    closed = true;
    if (progressTimer >= 0) {
      context.owner().cancelTimer(progressTimer);
    }
    watchers.values().forEach(hub::remove);
    watchers.clear();
  }

  /** Queues a response for the stream's context; safe from any thread. */
  private void send(WatchResponse.Builder response) {
    sendAll(List.of(response.build()));
  }

  /** Queues responses that must reach the client back to back (fragments of one response). */
  private void sendAll(List<WatchResponse> responses) {
    if (closed) {
      return;
    }
    pending.incrementAndGet();
    context.runOnContext(
        v -> {
          int left = pending.decrementAndGet();
          if (!closed) {
            try {
              for (WatchResponse r : responses) {
                out.write(r);
              }
            } catch (IllegalStateException streamGone) {
              // The client cancelled or reset the stream while events were on their way.
              log.debug("watch stream closed by the client: {}", streamGone.getMessage());
              close();
              return;
            }
            if (left == 0 && !out.writeQueueFull()) {
              // The queue emptied: watchers that fell behind can catch up now.
              watchers.values().forEach(Watcher::resumeIfStalled);
            }
          }
        });
  }

  private boolean congested() {
    return pending.get() >= MAX_PENDING || out.writeQueueFull();
  }

  /** One watch: a key range, filters, and the next revision it must see. */
  final class Watcher {
    private final long id;
    private final byte[] key;
    private final byte[] end;
    private final boolean prevKv;
    private final boolean noPut;
    private final boolean noDelete;
    private final boolean progressNotify;
    private final boolean fragment;
    private final long requestedStart;
    private volatile long nextRevision;
    private volatile boolean stalled;

    /** No events were sent since the last progress tick (etcd starts a watch with it set). */
    private volatile boolean idleSinceLastTick = true;

    Watcher(long id, WatchCreateRequest r) {
      this.id = id;
      this.key = r.getKey().toByteArray();
      this.end = r.getRangeEnd().toByteArray();
      this.prevKv = r.getPrevKv();
      boolean put = false;
      boolean del = false;
      for (var f : r.getFiltersList()) {
        put |= f == WatchCreateRequest.FilterType.NOPUT;
        del |= f == WatchCreateRequest.FilterType.NODELETE;
      }
      this.noPut = put;
      this.noDelete = del;
      this.progressNotify = r.getProgressNotify();
      this.fragment = r.getFragment();
      this.requestedStart = r.getStartRevision();
      this.nextRevision = r.getStartRevision();
    }

    /**
     * Whether a progress response at {@code rev} may go to this watch: not while its requested
     * start revision is beyond {@code rev} (etcd 3.4 skips those, as the client asked for nothing
     * up to there).
     */
    boolean progressAllowedAt(long rev) {
      return requestedStart <= 0 || rev >= requestedStart;
    }

    long nextRevision() {
      return nextRevision;
    }

    /** Joined the live feed after {@code rev}: confirm creation (under the hub's lock). */
    void startLive(long rev) {
      nextRevision = rev + 1;
      send(
          WatchResponse.newBuilder().setHeader(member.header(rev)).setWatchId(id).setCreated(true));
    }

    /** Live delivery from the apply thread; false if the client is too slow to keep up. */
    boolean offerLive(long rev, List<Event> events) {
      if (!watchers.containsKey(id) || closed) {
        return true;
      }
      List<Event> mine = filter(events);
      if (!mine.isEmpty()) {
        if (congested()) {
          stalled = true; // nextRevision stays at rev: history replays it later
          return false;
        }
        sendEvents(rev, mine);
      }
      nextRevision = rev + 1;
      return true;
    }

    void resumeIfStalled() {
      if (stalled && !congested()) {
        stalled = false;
        catchUp();
      }
    }

    /** Replays history from nextRevision on a worker, then joins the live feed. */
    void catchUp() {
      worker.execute(
          () -> {
            try {
              while (watchers.containsKey(id) && !closed) {
                if (hub.trySync(this, rev -> {})) {
                  return;
                }
                if (congested()) {
                  stalled = true; // the drain handler resumes us
                  return;
                }
                long to = hub.revision();
                EventsResult r =
                    member.withMvcc(s -> s.events(key, end, nextRevision, to, CATCH_UP_BATCH));
                List<Event> mine = filter(r.events());
                if (!mine.isEmpty()) {
                  sendEvents(r.lastRevision(), mine);
                }
                nextRevision = r.lastRevision() + 1;
              }
            } catch (MvccException e) {
              if (e.code() == MvccException.Code.COMPACTED) {
                watchers.remove(id);
                send(
                    WatchResponse.newBuilder()
                        .setHeader(member.header(hub.revision()))
                        .setWatchId(id)
                        .setCompactRevision(e.compactRevision())
                        .setCanceled(true)
                        .setCancelReason("etcdserver: mvcc: required revision has been compacted"));
              } else {
                log.error("watch {} failed to read history", id, e);
                cancel(id);
              }
            } catch (RuntimeException e) {
              log.error("watch {} failed to read history; cancelling it", id, e);
              cancel(id);
            }
          });
    }

    private List<Event> filter(List<Event> events) {
      List<Event> mine = new ArrayList<>();
      for (Event e : events) {
        if (matches(e.kv().key())
            && !(noPut && e.type() == Event.Type.PUT)
            && !(noDelete && e.type() == Event.Type.DELETE)) {
          mine.add(e);
        }
      }
      return mine;
    }

    private boolean matches(byte[] k) {
      if (end.length == 0) {
        return Bytes.ORDER.compare(k, key) == 0;
      }
      if (Bytes.ORDER.compare(k, key) < 0) {
        return false;
      }
      return (end.length == 1 && end[0] == 0) || Bytes.ORDER.compare(k, end) < 0;
    }

    private void sendEvents(long rev, List<Event> events) {
      WatchResponse.Builder b =
          WatchResponse.newBuilder().setHeader(member.header(rev)).setWatchId(id);
      for (Event e : events) {
        b.addEvents(EtcdMapping.event(e, prevKv));
      }
      idleSinceLastTick = false;
      WatchResponse whole = b.build();
      sendAll(fragment ? fragments(whole, fragmentBytes) : List.of(whole));
    }
  }

  /**
   * etcd's split of a large response: unless it is under {@code limit} bytes or has a single event,
   * consecutive responses with the same header and watch id, each taking events while it stays
   * under {@code limit} (but at least one), all flagged {@code fragment} except the last.
   */
  static List<WatchResponse> fragments(WatchResponse whole, int limit) {
    int n = whole.getEventsCount();
    if (whole.getSerializedSize() < limit || n < 2) {
      return List.of(whole);
    }
    WatchResponse base = whole.toBuilder().clearEvents().setFragment(true).build();
    int baseSize = base.getSerializedSize();
    List<WatchResponse> out = new ArrayList<>();
    int next = 0;
    while (next < n) {
      WatchResponse.Builder part = base.toBuilder();
      int size = baseSize;
      while (next < n) {
        int eventSize =
            CodedOutputStream.computeMessageSize(
                WatchResponse.EVENTS_FIELD_NUMBER, whole.getEvents(next));
        if (part.getEventsCount() > 0 && size + eventSize >= limit) {
          break;
        }
        part.addEvents(whole.getEvents(next));
        size += eventSize;
        next++;
      }
      if (next == n) {
        part.setFragment(false);
      }
      out.add(part.build());
    }
    return out;
  }
}
