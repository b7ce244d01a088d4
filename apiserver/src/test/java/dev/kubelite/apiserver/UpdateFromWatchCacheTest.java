package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ForwardingKvStore;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.Watch;
import dev.kubelite.store.client.WatchEvent;
import dev.kubelite.store.client.WatchListener;
import dev.kubelite.store.client.WatchOptions;
import dev.kubelite.store.client.WriteResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * An update's first try starts from the watch cache's object (no store read), as kube-apiserver's
 * GuaranteedUpdate does with the cache's object as a hint; when the cache is behind the store (a
 * write it has not seen yet), the outcome is still exactly what a store read gives.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UpdateFromWatchCacheTest {
  private static final String CM = "/api/v1/namespaces/hint/configmaps/c";
  private static final String KEY = "/registry/configmaps/hint/c";
  private ApiServerFixture f;
  private Holding store;

  /** Counts reads, and holds back watch events (and progress) while {@link #held}. */
  static final class Holding extends ForwardingKvStore {
    final AtomicInteger gets = new AtomicInteger();
    volatile boolean held;
    private final List<Runnable> queued = new ArrayList<>();

    Holding(KvStore delegate) {
      super(delegate);
    }

    @Override
    public CompletableFuture<dev.kubelite.store.client.GetResult> get(byte[] key) {
      gets.incrementAndGet();
      return delegate.get(key);
    }

    @Override
    public Watch watch(WatchOptions options, WatchListener listener) {
      return delegate.watch(
          options,
          new WatchListener() {
            @Override
            public void onEvents(List<WatchEvent> events) {
              deliver(() -> listener.onEvents(events));
            }

            @Override
            public void onProgress(long revision) {
              deliver(() -> listener.onProgress(revision));
            }

            @Override
            public void onCompacted(long compactRevision) {
              listener.onCompacted(compactRevision);
            }

            @Override
            public void onError(dev.kubelite.store.client.KvStoreException error) {
              listener.onError(error);
            }
          });
    }

    private void deliver(Runnable r) {
      synchronized (queued) {
        if (held) {
          queued.add(r);
          return;
        }
      }
      r.run();
    }

    void hold() {
      synchronized (queued) {
        held = true;
      }
    }

    void release() {
      List<Runnable> out;
      synchronized (queued) {
        held = false;
        out = new ArrayList<>(queued);
        queued.clear();
      }
      out.forEach(Runnable::run);
    }
  }

  @BeforeAll
  void start() throws Exception {
    f =
        ApiServerFixture.start(
            ApiServerFixture.Backend.EMBEDDED, s -> store = new Holding(s), 1000);
    assertThat(f.post("/api/v1/namespaces", "{\"metadata\":{\"name\":\"hint\"}}").code())
        .isEqualTo(201);
    assertThat(
            f.post(
                    "/api/v1/namespaces/hint/configmaps",
                    "{\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\"}}")
                .code())
        .isEqualTo(201);
  }

  @AfterAll
  void stop() {
    if (f != null) {
      store.release();
      f.close();
    }
  }

  private JsonNode current() throws Exception {
    return f.get(CM).json();
  }

  private void awaitCacheAt(long revision) {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> f.api.registry().caches().cache("/registry/configmaps/").revision() >= revision);
  }

  /** Writes {@code data.k = v} to the store directly, as another API server would; its revision. */
  private long writeBehindTheCache(String k, String v) throws Exception {
    JsonNode now = current();
    long rv = now.path("metadata").path("resourceVersion").asLong();
    awaitCacheAt(rv);
    store.hold();
    ObjectNode next = now.deepCopy();
    ((ObjectNode) next.get("metadata")).remove("resourceVersion");
    ((ObjectNode) next.get("data")).put(k, v);
    WriteResult w =
        f.store
            .update(
                KEY.getBytes(StandardCharsets.UTF_8),
                ApiServerFixture.JSON.writeValueAsBytes(next),
                rv)
            .get(30, TimeUnit.SECONDS);
    assertThat(w.status()).isEqualTo(WriteResult.Status.OK);
    return w.revision();
  }

  @Test
  void anUpdateReadsTheCacheNotTheStore() throws Exception {
    JsonNode now = current();
    awaitCacheAt(now.path("metadata").path("resourceVersion").asLong());
    ObjectNode next = now.deepCopy();
    ((ObjectNode) next.get("data")).put("seen", "yes");
    int gets = store.gets.get();
    ApiServerFixture.Response r = f.put(CM, next.toString());
    assertThat(r.code()).as(r.body()).isEqualTo(200);
    assertThat(store.gets.get()).isEqualTo(gets);
    assertThat(r.json().path("data").path("seen").asText()).isEqualTo("yes");
  }

  @Test
  void aPutWithTheCachedResourceVersionReadsNoStoreWhileOtherOwnWritesAreUnseen() throws Exception {
    JsonNode now = current();
    awaitCacheAt(now.path("metadata").path("resourceVersion").asLong());
    store.hold();
    try {
      // This server's own write to another key, which the held cache has not seen.
      assertThat(
              f.post("/api/v1/namespaces/hint/configmaps", "{\"metadata\":{\"name\":\"other\"}}")
                  .code())
          .isEqualTo(201);
      ObjectNode next = now.deepCopy();
      ((ObjectNode) next.get("data")).put("own", "1");
      int gets = store.gets.get();
      ApiServerFixture.Response r = f.put(CM, next.toString());
      assertThat(r.code()).as(r.body()).isEqualTo(200);
      assertThat(store.gets.get()).isEqualTo(gets);
      assertThat(r.json().path("data").path("own").asText()).isEqualTo("1");
    } finally {
      store.release();
    }
  }

  @Test
  void aPutWithTheStoresResourceVersionSucceedsWhileTheCacheIsBehind() throws Exception {
    long rv = writeBehindTheCache("behind", "1");
    try {
      JsonNode now = current(); // a GET reads the store: the new resourceVersion
      assertThat(now.path("metadata").path("resourceVersion").asLong()).isEqualTo(rv);
      ObjectNode next = now.deepCopy();
      ((ObjectNode) next.get("data")).put("put", "1");
      ApiServerFixture.Response r = f.put(CM, next.toString());
      assertThat(r.code()).as(r.body()).isEqualTo(200);
      assertThat(r.json().path("data").path("behind").asText()).isEqualTo("1");
      assertThat(r.json().path("data").path("put").asText()).isEqualTo("1");
    } finally {
      store.release();
    }
  }

  @Test
  void aPutWithTheCachesOlderResourceVersionIsAConflict() throws Exception {
    JsonNode before = current();
    writeBehindTheCache("behind2", "1");
    try {
      ObjectNode next = before.deepCopy(); // the resourceVersion the cache still holds
      ((ObjectNode) next.get("data")).put("lost", "1");
      ApiServerFixture.Response r = f.put(CM, next.toString());
      assertThat(r.code()).as(r.body()).isEqualTo(409);
      assertThat(r.json().path("reason").asText()).isEqualTo("Conflict");
    } finally {
      store.release();
    }
    assertThat(current().path("data").has("lost")).isFalse();
  }

  @Test
  void aPatchAppliesToTheStoresObjectWhileTheCacheIsBehind() throws Exception {
    writeBehindTheCache("behind3", "1");
    try {
      ApiServerFixture.Response r =
          f.patch(
              CM,
              "application/merge-patch+json",
              "{\"metadata\":{\"labels\":{\"patched\":\"yes\"}}}");
      assertThat(r.code()).as(r.body()).isEqualTo(200);
      assertThat(r.json().path("data").path("behind3").asText()).isEqualTo("1");
      assertThat(r.json().path("metadata").path("labels").path("patched").asText())
          .isEqualTo("yes");
    } finally {
      store.release();
    }
    JsonNode stored = current();
    assertThat(stored.path("data").path("behind3").asText()).isEqualTo("1");
    assertThat(stored.path("metadata").path("labels").path("patched").asText()).isEqualTo("yes");
  }
}
