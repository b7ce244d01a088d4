package dev.kubelite.store.server;

import static dev.kubelite.store.testing.TestGrpc.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.KVGrpcClient;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.etcdserverpb.RangeRequest;
import dev.kubelite.store.api.etcdserverpb.WatchCreateRequest;
import dev.kubelite.store.api.etcdserverpb.WatchProgressRequest;
import dev.kubelite.store.api.etcdserverpb.WatchRequest;
import dev.kubelite.store.api.etcdserverpb.WatchResponse;
import dev.kubelite.store.api.mvccpb.Event;
import dev.kubelite.store.testing.LocalMember;
import dev.kubelite.store.testing.TestGrpc;
import dev.kubelite.store.testing.WatchStreamClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Watch progress (etcd 3.4): periodic notifications for {@code progress_notify} watches (here every
 * 200 ms instead of 10 minutes, through {@code --experimental-watch-progress-notify-interval}) and
 * answers to {@code WatchProgressRequest}, over real gRPC streams and the real etcdctl.
 */
class WatchProgressTest {
  private static final Duration INTERVAL = Duration.ofMillis(200);

  @RegisterExtension
  final LocalMember member = LocalMember.perTest(c -> c.withWatchProgressNotifyInterval(INTERVAL));

  @RegisterExtension final TestGrpc grpc = new TestGrpc();
  private int port;
  private KVGrpcClient kv;
  private final List<WatchStreamClient> streams = new ArrayList<>();

  @BeforeEach
  void start() {
    port = member.clientPort();
    kv = KVGrpcClient.create(grpc.client, TestGrpc.at(port));
  }

  @AfterEach
  void stop() {
    streams.forEach(WatchStreamClient::close);
  }

  private static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private long put(String key, ByteString value) throws Exception {
    return get(kv.put(PutRequest.newBuilder().setKey(bs(key)).setValue(value).build()))
        .getHeader()
        .getRevision();
  }

  private long put(String key, String value) throws Exception {
    return put(key, bs(value));
  }

  private long currentRevision() throws Exception {
    return get(kv.range(RangeRequest.newBuilder().setKey(bs("probe")).build()))
        .getHeader()
        .getRevision();
  }

  private WatchStreamClient stream() throws Exception {
    WatchStreamClient s = WatchStreamClient.open(grpc.vertx, grpc.client, port);
    streams.add(s);
    return s;
  }

  private static WatchRequest create(WatchCreateRequest.Builder b) {
    return WatchRequest.newBuilder().setCreateRequest(b).build();
  }

  private static WatchCreateRequest.Builder watch(String key, long id) {
    return WatchCreateRequest.newBuilder().setKey(bs(key)).setWatchId(id);
  }

  private static WatchCreateRequest.Builder watchPrefix(String prefix, long id) {
    byte[] end = prefix.getBytes(StandardCharsets.UTF_8);
    end[end.length - 1]++;
    return watch(prefix, id).setRangeEnd(ByteString.copyFrom(end));
  }

  private static final WatchRequest PROGRESS_REQUEST =
      WatchRequest.newBuilder()
          .setProgressRequest(WatchProgressRequest.getDefaultInstance())
          .build();

  /** An empty response that is neither a creation nor a cancellation: a progress notification. */
  private static boolean isProgress(WatchResponse r) {
    return r.getEventsCount() == 0 && !r.getCreated() && !r.getCanceled() && !r.getFragment();
  }

  private static List<WatchResponse> progress(List<WatchResponse> rs) {
    return rs.stream().filter(WatchProgressTest::isProgress).toList();
  }

  /** Waits for a progress notification to watch {@code id} at revision {@code rev}. */
  private static void awaitProgressAt(WatchStreamClient s, long id, long rev) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                progress(s.receivedFor(id)).stream()
                    .anyMatch(r -> r.getHeader().getRevision() == rev));
  }

  private static void awaitCreated(WatchStreamClient s, long id) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> s.receivedFor(id).stream().anyMatch(WatchResponse::getCreated));
  }

  @Test
  void anIdleWatchIsToldTheCurrentRevisionEveryInterval() throws Exception {
    put("other", "1");
    long rev = put("other", "2");
    WatchStreamClient s = stream();
    s.send(create(watch("idle", 1).setProgressNotify(true)));
    s.send(create(watch("idle", 2))); // no progress_notify: never notified
    awaitCreated(s, 1);
    awaitCreated(s, 2);

    await().atMost(Duration.ofSeconds(5)).until(() -> progress(s.receivedFor(1)).size() >= 2);
    for (WatchResponse r : progress(s.receivedFor(1))) {
      assertThat(r.getHeader().getRevision()).isEqualTo(rev);
      assertThat(r.getWatchId()).isEqualTo(1);
      assertThat(r.getHeader().getMemberId()).isEqualTo(member.server().member().memberId());
    }

    // Writes elsewhere move the revision on; the idle watch hears about it at the next tick.
    long later = put("other", "3");
    awaitProgressAt(s, 1, later);
    assertThat(progress(s.receivedFor(2))).isEmpty();
    assertThat(s.failure()).isNull();
  }

  @Test
  void notificationsNeverGoBackNorOvertakeEvents() throws Exception {
    WatchStreamClient s = stream();
    s.send(create(watchPrefix("busy/", 7).setProgressNotify(true)));
    awaitCreated(s, 7);
    long start = currentRevision();

    // Writes for several intervals: 300 ms to the watched prefix, then 600 ms elsewhere (so that
    // some ticks find the watch idle and some busy), and again.
    AtomicBoolean writing = new AtomicBoolean(true);
    List<Long> busyRevisions = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.CompletableFuture<Void> writes =
        java.util.concurrent.CompletableFuture.runAsync(
            () -> {
              long t0 = System.nanoTime();
              try {
                for (int i = 0; writing.get(); i++) {
                  long ms = (System.nanoTime() - t0) / 1_000_000;
                  if (ms % 900 < 300) {
                    busyRevisions.add(put("busy/" + (i % 5), "v" + i));
                  } else {
                    put("elsewhere", "v" + i);
                  }
                }
              } catch (Exception e) {
                throw new IllegalStateException("a write failed", e);
              }
            });
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> progress(s.receivedFor(7)).size() >= 3 && busyRevisions.size() > 20);
    writing.set(false);
    writes.get(20, TimeUnit.SECONDS);
    long last = currentRevision();

    // After the writes, the watch catches up and a notification reports the final revision.
    awaitProgressAt(s, 7, last);

    List<WatchResponse> seen = s.receivedFor(7);
    List<Long> eventRevisions = new ArrayList<>();
    long highWater = start; // nothing delivered may be at or below a revision already reported
    long lastProgress = 0;
    for (WatchResponse r : seen) {
      if (r.getCreated()) {
        continue;
      }
      if (isProgress(r)) {
        long rev = r.getHeader().getRevision();
        assertThat(rev).as("notifications never go back").isGreaterThanOrEqualTo(lastProgress);
        assertThat(rev)
            .as("a notification covers the events before it")
            .isGreaterThanOrEqualTo(highWater);
        lastProgress = rev;
        highWater = rev;
      } else {
        for (Event e : r.getEventsList()) {
          assertThat(e.getKv().getModRevision())
              .as("an event after a notification at %d", highWater)
              .isGreaterThan(highWater);
          eventRevisions.add(e.getKv().getModRevision());
        }
        highWater = Math.max(highWater, r.getHeader().getRevision());
      }
    }
    assertThat(eventRevisions)
        .as("every write to the prefix, once, in order")
        .isEqualTo(busyRevisions);
    assertThat(s.failure()).isNull();
  }

  @Test
  void aWatchCatchingUpGetsNoNotificationUntilItIsSynced() throws Exception {
    // Stream A stops reading, so its watch falls behind while writes go on: it catches up from
    // history once A reads again. Stream B's idle watch shows that progress ticks happen meanwhile.
    // A has a connection of its own: a stream that is not read exhausts its connection's HTTP/2
    // window too, which would hold up the KV client's responses.
    WatchStreamClient a = WatchStreamClient.open(grpc.vertx, grpc.newClient(), port);
    streams.add(a);
    a.send(create(watchPrefix("big/", 1).setProgressNotify(true)));
    awaitCreated(a, 1);
    a.pause();
    List<Long> written = new ArrayList<>();
    ByteString value = ByteString.copyFrom(new byte[200 * 1024]);
    for (int i = 0; i < 40; i++) { // 8 MB: far more than flow-control windows and write queues
      written.add(put("big/" + (i % 4), value));
    }
    WatchStreamClient b = stream();
    b.send(create(watch("quiet", 9).setProgressNotify(true)));
    awaitCreated(b, 9);
    // B's timer started after A's and both tick every 200-220 ms: three of B's ticks mean at
    // least two of A's while A's watch was behind.
    await().atMost(Duration.ofSeconds(10)).until(() -> progress(b.receivedFor(9)).size() >= 3);
    // A progress request on A is dropped too while A's watch is behind; the marker watch created
    // after it shows (once A reads again) where its answer would have been.
    a.send(PROGRESS_REQUEST);
    a.send(create(watch("marker", 2)));
    long last = written.get(written.size() - 1);

    a.resume();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                a.receivedFor(1).stream()
                    .anyMatch(r -> r.getEventsCount() > 0 && r.getHeader().getRevision() >= last));
    List<WatchResponse> all = a.received();
    int marker = indexOf(all, r -> r.getWatchId() == 2 && r.getCreated());
    assertThat(all.subList(0, marker).stream().filter(r -> r.getWatchId() == -1))
        .as("no answer to a progress request while a watch is catching up")
        .isEmpty();
    // A notification queued while the watch was behind would carry a revision that events after
    // it do not exceed.
    List<Long> delivered = new ArrayList<>();
    long highWater = 0;
    for (WatchResponse r : a.receivedFor(1)) {
      if (isProgress(r)) {
        assertThat(r.getHeader().getRevision()).isGreaterThanOrEqualTo(highWater);
        highWater = r.getHeader().getRevision();
      }
      for (Event e : r.getEventsList()) {
        assertThat(e.getKv().getModRevision())
            .as("an event after a notification at %d", highWater)
            .isGreaterThan(highWater);
        delivered.add(e.getKv().getModRevision());
        highWater = e.getKv().getModRevision();
      }
    }
    assertThat(delivered).isEqualTo(written);

    // Caught up now: notifications resume, with the current revision, and so do answers.
    awaitProgressAt(a, 1, last);
    int before = a.receivedFor(-1).size();
    a.send(PROGRESS_REQUEST);
    await().atMost(Duration.ofSeconds(5)).until(() -> a.receivedFor(-1).size() > before);
    assertThat(a.receivedFor(-1).get(before).getHeader().getRevision()).isEqualTo(last);
    assertThat(a.failure()).isNull();
  }

  @Test
  void aWatchStartingInTheFutureIsNotNotifiedUntilItsRevisionComes() throws Exception {
    long now = put("x", "1");
    WatchStreamClient s = stream();
    s.send(create(watch("y", 1).setStartRevision(now + 3).setProgressNotify(true)));
    s.send(create(watch("z", 2).setProgressNotify(true)));
    awaitCreated(s, 1);
    awaitCreated(s, 2);
    // Both are notified in the same tick when allowed; after three of z's, y had three chances.
    await().atMost(Duration.ofSeconds(5)).until(() -> progress(s.receivedFor(2)).size() >= 3);
    assertThat(progress(s.receivedFor(1))).isEmpty();
    put("x", "2");
    long reached = put("x", "3");
    assertThat(reached).isEqualTo(now + 2);
    int z = progress(s.receivedFor(2)).size();
    await().atMost(Duration.ofSeconds(5)).until(() -> progress(s.receivedFor(2)).size() >= z + 2);
    assertThat(progress(s.receivedFor(1))).as("still one revision short").isEmpty();
    long start = put("x", "4");
    awaitProgressAt(s, 1, start);
  }

  @Test
  void aProgressRequestIsAnsweredOnceForTheWholeStream() throws Exception {
    WatchStreamClient s = stream();
    // No watches: nothing to report on, so no answer (as etcd): the next response is the creation.
    s.send(PROGRESS_REQUEST);
    s.send(create(watch("a", 1)));
    awaitCreated(s, 1);
    assertThat(s.received()).hasSize(1);

    s.send(create(watchPrefix("b", 2)));
    awaitCreated(s, 2);
    long rev = put("b1", "x");
    s.send(PROGRESS_REQUEST);
    await().atMost(Duration.ofSeconds(5)).until(() -> !s.receivedFor(-1).isEmpty());
    List<WatchResponse> all = s.received();
    WatchResponse answer = s.receivedFor(-1).get(0);
    assertThat(answer.getHeader().getRevision()).isEqualTo(rev);
    assertThat(answer.getEventsCount()).isZero();
    assertThat(answer.getCreated() || answer.getCanceled()).isFalse();
    // The event at that revision came first.
    int event = indexOf(all, r -> r.getWatchId() == 2 && r.getEventsCount() > 0);
    assertThat(event).isLessThan(all.indexOf(answer));
    assertThat(s.receivedFor(-1)).hasSize(1);
  }

  @Test
  void etcdctlInteractiveProgressPrintsTheRevision() throws Exception {
    long rev = put("k", "v");
    Process p = member.etcdctl().command("watch", "-i").redirectErrorStream(true).start();
    List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  lines.add(line);
                }
              } catch (java.io.IOException e) {
                lines.add("read failed: " + e);
              }
            },
            "etcdctl-out");
    reader.start();
    try {
      OutputStream in = p.getOutputStream();
      in.write("watch k\n".getBytes(StandardCharsets.UTF_8));
      in.flush();
      // The watch is created asynchronously, and a request before it exists is dropped (no
      // watches): ask again until the answer shows, as clients do.
      await()
          .atMost(Duration.ofSeconds(15))
          .pollInterval(Duration.ofMillis(300))
          .until(
              () -> {
                in.write("progress\n".getBytes(StandardCharsets.UTF_8));
                in.flush();
                return lines.contains("progress notify: " + rev);
              });
      long next = put("k", "w");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> lines.containsAll(List.of("PUT", "k", "w")));
      in.write("progress\n".getBytes(StandardCharsets.UTF_8));
      in.flush();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> lines.contains("progress notify: " + next));
      assertThat(lines.indexOf("progress notify: " + next)).isGreaterThan(lines.indexOf("w"));
    } finally {
      p.destroy();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
      reader.join(10_000);
    }
  }

  private static int indexOf(
      List<WatchResponse> rs, java.util.function.Predicate<WatchResponse> what) {
    for (int i = 0; i < rs.size(); i++) {
      if (what.test(rs.get(i))) {
        return i;
      }
    }
    throw new AssertionError("no such response in " + rs);
  }
}
