package dev.kubelite.store.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.LocalMember;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The {@link KvStore} contract, run against every combination: the remote client to our store, the
 * remote client to a real etcd 3.4, and the embedded client. Backends start once per class; every
 * test works under its own key prefix.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KvStoreContractTest {
  enum Backend {
    REMOTE_OURS,
    REMOTE_ETCD,
    EMBEDDED
  }

  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir static Path dir; // one for the class: removed after all tests
  private LocalMember member;
  private EtcdProcess etcd;
  private final Map<Backend, KvStore> stores = new EnumMap<>(Backend.class);
  private String testName = "t";

  @BeforeAll
  void startBackends() throws Exception {
    member = LocalMember.start(dir.resolve("ours"));
    stores.put(Backend.REMOTE_OURS, RemoteKvStore.connect(List.of(member.endpoint())));
    stores.put(Backend.EMBEDDED, EmbeddedKvStore.of(member.server()));
    for (KvStore s : stores.values()) {
      // A fresh member elects itself first; until then requests fail with "no leader".
      await().atMost(WAIT).ignoreExceptions().until(() -> join(s.currentRevision()) >= 1);
    }
  }

  private KvStore store(Backend b) throws Exception {
    if (b == Backend.REMOTE_ETCD && !stores.containsKey(b)) {
      etcd = EtcdProcess.start(dir, "etcd1", "kvstore-test");
      stores.put(b, RemoteKvStore.connect(List.of("127.0.0.1:" + etcd.clientPort)));
    }
    return stores.get(b);
  }

  @AfterAll
  void stopBackends() {
    stores.values().forEach(KvStore::close);
    if (member != null) {
      member.close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  @org.junit.jupiter.api.BeforeEach
  void name(TestInfo info) {
    testName = info.getTestMethod().orElseThrow().getName() + "-" + System.nanoTime();
  }

  private byte[] key(Backend b, String k) {
    return ("/registry/" + testName + "/" + b + "/" + k).getBytes(StandardCharsets.UTF_8);
  }

  private byte[] prefix(Backend b) {
    return ("/registry/" + testName + "/" + b + "/").getBytes(StandardCharsets.UTF_8);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static <T> T join(CompletableFuture<T> f) throws Exception {
    try {
      return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception c) {
        throw c;
      }
      throw e;
    }
  }

  // ------------------------------------------------------------------------------- KV

  @ParameterizedTest
  @EnumSource(Backend.class)
  void createGetUpdateWithConflictAndDelete(Backend b) throws Exception {
    KvStore s = store(b);
    byte[] k = key(b, "pod-a");

    assertThat(join(s.get(k)).found()).isEmpty();
    WriteResult created = join(s.create(k, utf8("v1")));
    assertThat(created.status()).isEqualTo(WriteResult.Status.OK);
    long rv1 = created.revision();

    GetResult got = join(s.get(k));
    assertThat(got.kv().valueUtf8()).isEqualTo("v1");
    assertThat(got.kv().modRevision()).isEqualTo(rv1);
    assertThat(got.kv().createRevision()).isEqualTo(rv1);
    assertThat(got.kv().version()).isEqualTo(1);
    assertThat(got.revision()).isGreaterThanOrEqualTo(rv1);

    WriteResult again = join(s.create(k, utf8("other")));
    assertThat(again.status()).isEqualTo(WriteResult.Status.ALREADY_EXISTS);
    assertThat(again.kv().valueUtf8()).isEqualTo("v1");

    WriteResult updated = join(s.update(k, utf8("v2"), rv1));
    assertThat(updated.status()).isEqualTo(WriteResult.Status.OK);
    long rv2 = updated.revision();
    assertThat(rv2).isGreaterThan(rv1);

    WriteResult stale = join(s.update(k, utf8("v3"), rv1));
    assertThat(stale.status()).isEqualTo(WriteResult.Status.CONFLICT);
    assertThat(stale.kv().valueUtf8()).isEqualTo("v2");
    assertThat(stale.kv().modRevision()).isEqualTo(rv2);
    assertThat(stale.kv().version()).isEqualTo(2);

    WriteResult staleDelete = join(s.delete(k, rv1));
    assertThat(staleDelete.status()).isEqualTo(WriteResult.Status.CONFLICT);
    assertThat(staleDelete.kv().modRevision()).isEqualTo(rv2);

    WriteResult deleted = join(s.delete(k, rv2));
    assertThat(deleted.status()).isEqualTo(WriteResult.Status.OK);
    assertThat(deleted.kv().valueUtf8()).isEqualTo("v2");
    assertThat(deleted.revision()).isGreaterThan(rv2);
    assertThat(join(s.get(k)).found()).isEmpty();

    assertThat(join(s.delete(k, rv2)).status()).isEqualTo(WriteResult.Status.NOT_FOUND);
    assertThat(join(s.delete(k, KvStore.ANY_REVISION)).status())
        .isEqualTo(WriteResult.Status.NOT_FOUND);
    assertThat(join(s.update(k, utf8("x"), rv2)).status()).isEqualTo(WriteResult.Status.NOT_FOUND);

    WriteResult put = join(s.put(k, utf8("p")));
    assertThat(put.ok()).isTrue();
    WriteResult unconditional = join(s.delete(k, KvStore.ANY_REVISION));
    assertThat(unconditional.ok()).isTrue();
    assertThat(unconditional.kv().valueUtf8()).isEqualTo("p");
    assertThat(unconditional.kv().createRevision()).isEqualTo(put.revision());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void rangeWithLimitMoreCountKeysOnlyAndAtRevision(Backend b) throws Exception {
    KvStore s = store(b);
    List<Long> revs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      revs.add(join(s.put(key(b, "k" + i), utf8("v" + i))).revision());
    }
    RangeQuery all = RangeQuery.prefix(prefix(b));

    RangeResult full = join(s.range(all));
    assertThat(full.kvs()).extracting(Kv::valueUtf8).containsExactly("v0", "v1", "v2", "v3", "v4");
    assertThat(full.more()).isFalse();
    assertThat(full.count()).isEqualTo(5);
    assertThat(full.revision()).isGreaterThanOrEqualTo(revs.get(4));

    RangeResult limited = join(s.range(all.withLimit(2)));
    assertThat(limited.kvs()).extracting(Kv::valueUtf8).containsExactly("v0", "v1");
    assertThat(limited.more()).isTrue();
    assertThat(limited.count()).isEqualTo(5);

    RangeResult exact = join(s.range(all.withLimit(5)));
    assertThat(exact.kvs()).hasSize(5);
    assertThat(exact.more()).isFalse();

    // Continue after the last key, as the API server pages a list.
    byte[] after =
        java.util.Arrays.copyOf(limited.kvs().get(1).key(), limited.kvs().get(1).key().length + 1);
    RangeResult page2 =
        join(
            s.range(
                new RangeQuery(after, all.rangeEnd(), 2, limited.revision(), RangeQuery.Mode.ALL)));
    assertThat(page2.kvs()).extracting(Kv::valueUtf8).containsExactly("v2", "v3");
    assertThat(page2.more()).isTrue();
    assertThat(page2.count()).isEqualTo(3);

    RangeResult keysOnly = join(s.range(all.withMode(RangeQuery.Mode.KEYS_ONLY)));
    assertThat(keysOnly.kvs()).hasSize(5).allSatisfy(kv -> assertThat(kv.value()).isEmpty());
    assertThat(keysOnly.kvs().get(0).modRevision()).isEqualTo(revs.get(0));

    RangeResult countOnly = join(s.range(all.withMode(RangeQuery.Mode.COUNT_ONLY)));
    assertThat(countOnly.kvs()).isEmpty();
    assertThat(countOnly.count()).isEqualTo(5);

    join(s.put(key(b, "k1"), utf8("v1-new")));
    join(s.delete(key(b, "k0"), KvStore.ANY_REVISION));
    RangeResult past = join(s.range(all.atRevision(revs.get(2))));
    assertThat(past.kvs()).extracting(Kv::valueUtf8).containsExactly("v0", "v1", "v2");
    assertThat(past.count()).isEqualTo(3);
    assertThat(past.revision()).isGreaterThan(revs.get(4)); // header: current revision
    RangeResult now = join(s.range(all));
    assertThat(now.kvs()).extracting(Kv::valueUtf8).containsExactly("v1-new", "v2", "v3", "v4");

    long current = join(s.currentRevision());
    assertThat(current).isEqualTo(now.revision());
    assertThatThrownBy(() -> join(s.range(all.atRevision(current + 100))))
        .isInstanceOfSatisfying(
            KvStoreException.class,
            e -> assertThat(e.code()).isEqualTo(KvStoreException.Code.FUTURE_REVISION));
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void compactionMakesOldRevisionsUnreadable(Backend b) throws Exception {
    KvStore s = store(b);
    long r1 = join(s.put(key(b, "a"), utf8("1"))).revision();
    long r2 = join(s.put(key(b, "a"), utf8("2"))).revision();
    join(s.put(key(b, "a"), utf8("3")));

    assertThat(join(s.compact(r2))).isGreaterThan(r2);

    assertThatThrownBy(() -> join(s.range(RangeQuery.prefix(prefix(b)).atRevision(r1))))
        .isInstanceOfSatisfying(
            KvStoreException.class,
            e -> {
              assertThat(e.code()).isEqualTo(KvStoreException.Code.COMPACTED);
              assertThat(e.getMessage()).contains("compacted");
            });
    assertThat(join(s.range(RangeQuery.prefix(prefix(b)).atRevision(r2))).kvs())
        .extracting(Kv::valueUtf8)
        .containsExactly("2");
    assertThatThrownBy(() -> join(s.compact(r1)))
        .isInstanceOfSatisfying(
            KvStoreException.class,
            e -> assertThat(e.code()).isEqualTo(KvStoreException.Code.COMPACTED));
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void putLargerThanTheRequestLimitIsRejectedAsTooLarge(Backend b) throws Exception {
    KvStore s = store(b);
    byte[] big = new byte[1536 * 1024 + 100 * 1024]; // 1.6 MiB
    assertThatThrownBy(() -> join(s.put(key(b, "big"), big)))
        .isInstanceOfSatisfying(
            KvStoreException.class,
            e -> {
              assertThat(e.code()).isEqualTo(KvStoreException.Code.TOO_LARGE);
              assertThat(e.getMessage()).contains("put").contains("too large");
            });
    assertThatThrownBy(() -> join(s.create(key(b, "big"), big)))
        .isInstanceOfSatisfying(
            KvStoreException.class,
            e -> assertThat(e.code()).isEqualTo(KvStoreException.Code.TOO_LARGE));
    // Beyond gRPC's message limit too (etcd: RESOURCE_EXHAUSTED from gRPC itself).
    assertThatThrownBy(() -> join(s.put(key(b, "big"), new byte[4 * 1024 * 1024])))
        .isInstanceOfSatisfying(
            KvStoreException.class,
            e -> assertThat(e.code()).isEqualTo(KvStoreException.Code.TOO_LARGE));
    assertThat(join(s.get(key(b, "big"))).found()).isEmpty();
    // Just under the limit is fine.
    assertThat(join(s.put(key(b, "ok"), new byte[1024 * 1024])).ok()).isTrue();
  }

  // ------------------------------------------------------------------------------- watch

  /** Records what a watch delivers. */
  static final class Recorder implements WatchListener {
    final List<WatchEvent> events = new CopyOnWriteArrayList<>();
    final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
    final List<Long> progress = new CopyOnWriteArrayList<>();
    volatile Long compacted;
    volatile KvStoreException error;

    @Override
    public void onEvents(List<WatchEvent> batch) {
      batchSizes.add(batch.size());
      events.addAll(batch);
    }

    @Override
    public void onProgress(long revision) {
      progress.add(revision);
    }

    @Override
    public void onCompacted(long compactRevision) {
      compacted = compactRevision;
    }

    @Override
    public void onError(KvStoreException e) {
      error = e;
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void watchFromARevisionIsOrderedWithoutGapsAndHasPrevKvOnDelete(Backend b) throws Exception {
    KvStore s = store(b);
    long start = join(s.put(key(b, "w0"), utf8("before"))).revision() + 1;
    List<Long> expected = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      expected.add(join(s.put(key(b, "w" + (i % 3)), utf8("v" + i))).revision());
    }
    join(s.put(utf8("/elsewhere/" + testName), utf8("not watched")));
    Recorder r = new Recorder();
    Watch w = s.watch(WatchOptions.prefix(prefix(b), start, true), r);
    try {
      // Live events after the replayed history.
      for (int i = 20; i < 40; i++) {
        expected.add(join(s.put(key(b, "w" + (i % 3)), utf8("v" + i))).revision());
      }
      WriteResult del = join(s.delete(key(b, "w1"), KvStore.ANY_REVISION));
      expected.add(del.revision());

      await().atMost(WAIT).until(() -> r.events.size() >= expected.size());
      assertThat(r.error).isNull();
      assertThat(r.compacted).isNull();
      assertThat(r.events).extracting(WatchEvent::revision).containsExactlyElementsOf(expected);
      assertThat(r.events.get(0).kv().valueUtf8()).isEqualTo("v0");
      assertThat(r.events.get(0).prevKv().valueUtf8()).isEqualTo("before");
      WatchEvent last = r.events.get(r.events.size() - 1);
      assertThat(last.type()).isEqualTo(WatchEvent.Type.DELETE);
      assertThat(last.kv().keyUtf8()).isEqualTo(new String(key(b, "w1"), StandardCharsets.UTF_8));
      assertThat(last.kv().value()).isEmpty();
      assertThat(last.prevKv()).isNotNull();
      assertThat(last.prevKv().valueUtf8()).isEqualTo("v37");
      assertThat(last.prevKv().modRevision()).isEqualTo(expected.get(37));
      WatchEvent put = r.events.get(5);
      assertThat(put.type()).isEqualTo(WatchEvent.Type.PUT);
      assertThat(put.kv().version()).isGreaterThan(1);
    } finally {
      w.close();
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void watchStartedDuringConcurrentWritesMissesNothing(Backend b) throws Exception {
    KvStore s = store(b);
    int n = 200;
    List<Long> revisions = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
    for (int i = 0; i < n; i++) {
      byte[] k = key(b, "c" + (i % 7));
      byte[] v = utf8("v" + i);
      chain = chain.thenCompose(x -> s.put(k, v)).thenAccept(r -> revisions.add(r.revision()));
    }
    await().atMost(WAIT).until(() -> revisions.size() >= 20);
    Recorder r = new Recorder();
    Watch w = s.watch(WatchOptions.prefix(prefix(b), revisions.get(0), false), r);
    try {
      join(chain);
      await().atMost(WAIT).until(() -> r.events.size() >= n);
      assertThat(r.error).isNull();
      assertThat(r.events).extracting(WatchEvent::revision).containsExactlyElementsOf(revisions);
    } finally {
      w.close();
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void watchFromNowSeesOnlyLaterWritesAndStopsAfterClose(Backend b) throws Exception {
    KvStore s = store(b);
    join(s.put(key(b, "x"), utf8("old")));
    Recorder r = new Recorder();
    Watch w = s.watch(new WatchOptions(key(b, "x"), null, 0, false), r);
    // The watch's start is not observable here, so write until it reports something.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              join(s.put(key(b, "x"), utf8("new")));
              assertThat(r.events).isNotEmpty();
            });
    assertThat(r.events).noneMatch(e -> e.kv().valueUtf8().equals("old"));
    assertThat(r.events).allSatisfy(e -> assertThat(e.prevKv()).isNull());
    w.close();
    await().atMost(WAIT).pollDelay(Duration.ofMillis(200)).until(() -> true);
    int seen = r.events.size();
    join(s.put(key(b, "x"), utf8("after close")));
    join(s.put(key(b, "y"), utf8("sync")));
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> r.events.size() == seen);
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void progressOfAQuietWatchReachesWritesToOtherKeys(Backend b) throws Exception {
    KvStore s = store(b);
    long seen = join(s.put(key(b, "watched"), utf8("v"))).revision();
    Recorder r = new Recorder();
    Watch w = s.watch(new WatchOptions(key(b, "watched"), null, seen + 1, false), r);
    long elsewhere = join(s.put(key(b, "other"), utf8("v"))).revision();
    // The store may drop a request while the watch catches up; ask until it answers.
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .untilAsserted(
            () -> {
              w.requestProgress();
              assertThat(r.progress).isNotEmpty();
              assertThat(r.progress.get(r.progress.size() - 1)).isGreaterThanOrEqualTo(elsewhere);
            });
    assertThat(r.events).isEmpty();
    assertThat(r.progress).isSorted();
    w.close();
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void watchFromACompactedRevisionReportsCompaction(Backend b) throws Exception {
    KvStore s = store(b);
    long r1 = join(s.put(key(b, "c"), utf8("1"))).revision();
    join(s.put(key(b, "c"), utf8("2")));
    long r3 = join(s.put(key(b, "c"), utf8("3"))).revision();
    join(s.compact(r3));

    Recorder r = new Recorder();
    Watch w = s.watch(WatchOptions.prefix(prefix(b), r1, false), r);
    try {
      await().atMost(WAIT).until(() -> r.compacted != null);
      assertThat(r.compacted).isEqualTo(r3);
      assertThat(r.events).isEmpty();
      assertThat(r.error).isNull();
    } finally {
      w.close();
    }

    // Watching from the compacted revision itself still works.
    Recorder ok = new Recorder();
    Watch w2 = s.watch(WatchOptions.prefix(prefix(b), r3, false), ok);
    try {
      await().atMost(WAIT).until(() -> !ok.events.isEmpty());
      assertThat(ok.events.get(0).kv().valueUtf8()).isEqualTo("3");
      assertThat(ok.compacted).isNull();
    } finally {
      w2.close();
    }
  }

  // ------------------------------------------------------------------------------- lost answers

  /** An unguarded write, and how to see on the store that it was applied. */
  private interface LostAnswerCase {
    CompletableFuture<WriteResult> send(KvStore s);
  }

  /**
   * Sends a write whose answer is lost after the store applied it — remote: a proxy holds back the
   * answer and then cuts the connection; embedded: the member reports "request timed out" after
   * applying — and returns what the caller got: the result, or the exception.
   */
  private Object sendAndLoseTheAnswer(Backend b, LostAnswerCase op, byte[] key, boolean gone)
      throws Exception {
    KvStore direct = store(b);
    java.util.concurrent.Callable<Boolean> applied =
        () -> (join(direct.get(key)).kv() == null) == gone;
    CompletableFuture<WriteResult> f;
    if (b == Backend.EMBEDDED) {
      dev.kubelite.store.server.MemberTestHooks.loseNextAnswers(member.server(), 1);
      f = op.send(direct);
    } else {
      int port = b == Backend.REMOTE_OURS ? member.clientPort() : etcd.clientPort;
      try (dev.kubelite.store.testing.AnswerDroppingProxy proxy =
              dev.kubelite.store.testing.AnswerDroppingProxy.start(port);
          RemoteKvStore client = RemoteKvStore.connect(List.of("127.0.0.1:" + proxy.port()))) {
        join(client.currentRevision());
        proxy.holdAnswers();
        f = op.send(client);
        await().atMost(WAIT).until(applied);
        await().atMost(WAIT).until(() -> proxy.heldBytes() > 0);
        assertThat(f).isNotDone();
        proxy.dropHeldAnswers();
        try {
          return join(f);
        } catch (KvStoreException e) {
          return e;
        }
      }
    }
    try {
      return join(f);
    } catch (KvStoreException e) {
      return e;
    }
  }

  /**
   * After an unguarded write whose answer was lost: our store (remote or embedded) got the re-sent
   * request and answered it from its request table — OK, the first attempt's revision, one event;
   * etcd, which does not deduplicate, leaves the caller with UNKNOWN_OUTCOME (not re-sent).
   */
  private void assertAppliedOnce(
      Backend b, Object got, long before, Recorder events, byte[] key, WatchEvent.Type type)
      throws Exception {
    KvStore s = store(b);
    long after = join(s.currentRevision());
    assertThat(after).isEqualTo(before + 1);
    if (b == Backend.REMOTE_ETCD) {
      assertThat(got).isInstanceOf(KvStoreException.class);
      assertThat(((KvStoreException) got).code()).isEqualTo(KvStoreException.Code.UNKNOWN_OUTCOME);
    } else {
      assertThat(got).isInstanceOf(WriteResult.class);
      assertThat(((WriteResult) got).status()).isEqualTo(WriteResult.Status.OK);
      assertThat(((WriteResult) got).revision()).isEqualTo(after);
    }
    byte[] sentinel = key(b, "sentinel");
    join(s.put(sentinel, utf8("end")));
    await()
        .atMost(WAIT)
        .until(() -> events.events.stream().anyMatch(e -> Arrays.equals(e.kv().key(), sentinel)));
    assertThat(events.events).hasSize(2);
    assertThat(events.events.get(0).kv().key()).isEqualTo(key);
    assertThat(events.events.get(0).type()).isEqualTo(type);
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void putWhoseAnswerIsLostIsAppliedOnce(Backend b) throws Exception {
    KvStore s = store(b);
    byte[] k = key(b, "lost-put");
    long before = join(s.currentRevision());
    Recorder events = new Recorder();
    Watch w = s.watch(WatchOptions.prefix(prefix(b), before + 1, false), events);
    try {
      Object got = sendAndLoseTheAnswer(b, c -> c.put(k, utf8("v")), k, false);
      assertAppliedOnce(b, got, before, events, k, WatchEvent.Type.PUT);
    } finally {
      w.close();
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void createWhoseAnswerIsLostIsAppliedOnceAndReportedAsCreated(Backend b) throws Exception {
    KvStore s = store(b);
    byte[] k = key(b, "lost-create");
    long before = join(s.currentRevision());
    Recorder events = new Recorder();
    Watch w = s.watch(WatchOptions.prefix(prefix(b), before + 1, false), events);
    try {
      Object got = sendAndLoseTheAnswer(b, c -> c.create(k, utf8("v")), k, false);
      // Not ALREADY_EXISTS: the re-sent create is answered with what the first attempt did.
      assertAppliedOnce(b, got, before, events, k, WatchEvent.Type.PUT);
    } finally {
      w.close();
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void unconditionalDeleteWhoseAnswerIsLostIsAppliedOnceWithItsValue(Backend b) throws Exception {
    KvStore s = store(b);
    byte[] k = key(b, "lost-delete");
    join(s.put(k, utf8("doomed")));
    long before = join(s.currentRevision());
    Recorder events = new Recorder();
    Watch w = s.watch(WatchOptions.prefix(prefix(b), before + 1, false), events);
    try {
      Object got = sendAndLoseTheAnswer(b, c -> c.delete(k, KvStore.ANY_REVISION), k, true);
      assertAppliedOnce(b, got, before, events, k, WatchEvent.Type.DELETE);
      if (got instanceof WriteResult r) {
        // Not NOT_FOUND: the deleted value the first attempt saw.
        assertThat(r.kv().valueUtf8()).isEqualTo("doomed");
      }
    } finally {
      w.close();
    }
  }
}
