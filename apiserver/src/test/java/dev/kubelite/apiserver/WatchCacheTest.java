package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.CountingKvStore;
import dev.kubelite.apiserver.testing.WatchClient;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The watch cache: client watches share one store watch per resource, a client that does not read
 * is dropped without holding up the others, and a watch older than the cache's window falls back to
 * the store.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WatchCacheTest {
  private static final int WINDOW = 50;
  private ApiServerFixture f;
  private CountingKvStore counting;

  @BeforeAll
  void start() throws Exception {
    f =
        ApiServerFixture.start(
            ApiServerFixture.Backend.EMBEDDED, s -> counting = new CountingKvStore(s), WINDOW);
  }

  @AfterAll
  void stop() {
    if (f != null) {
      f.close();
    }
  }

  private void createNamespace(String ns) throws Exception {
    assertThat(f.post("/api/v1/namespaces", "{\"metadata\":{\"name\":\"" + ns + "\"}}").code())
        .isEqualTo(201);
  }

  @Test
  void manyClientWatchesCostTheStoreNothingExtra() throws Exception {
    createNamespace("fanout");
    int storeWatchesBefore = counting.watches.get();
    String rv =
        f.get("/api/v1/namespaces/fanout/configmaps")
            .json()
            .path("metadata")
            .path("resourceVersion")
            .asText();
    List<WatchClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 200; i++) {
        String path = i % 2 == 0 ? "/api/v1/namespaces/fanout/configmaps" : "/api/v1/configmaps";
        clients.add(
            new WatchClient(f.http(), f.url() + path + "?watch=true&resourceVersion=" + rv, null));
      }
      assertThat(
              f.post("/api/v1/namespaces/fanout/configmaps", "{\"metadata\":{\"name\":\"hello\"}}")
                  .code())
          .isEqualTo(201);
      for (WatchClient c : clients) {
        JsonNode e = c.next();
        assertThat(e.path("type").asText()).isEqualTo("ADDED");
        assertThat(e.path("object").path("metadata").path("name").asText()).isEqualTo("hello");
      }
      assertThat(counting.watches.get()).isEqualTo(storeWatchesBefore);
      assertThat(f.api.registry().caches().cache("/registry/configmaps/").watcherCount())
          .isGreaterThanOrEqualTo(200);
    } finally {
      clients.forEach(WatchClient::close);
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> f.api.registry().caches().cache("/registry/configmaps/").watcherCount() == 0);
  }

  @Test
  void aClientThatDoesNotReadIsDroppedAndOthersGetEverything() throws Exception {
    createNamespace("slow");
    String rv =
        f.get("/api/v1/namespaces/slow/configmaps")
            .json()
            .path("metadata")
            .path("resourceVersion")
            .asText();
    try (Socket stuck = new Socket();
        WatchClient fast =
            new WatchClient(
                f.http(),
                f.url() + "/api/v1/namespaces/slow/configmaps?watch=true&resourceVersion=" + rv,
                null)) {
      stuck.setReceiveBufferSize(4096);
      stuck.connect(new InetSocketAddress("127.0.0.1", f.api.port()));
      OutputStream out = stuck.getOutputStream();
      out.write(
          ("GET /api/v1/namespaces/slow/configmaps?watch=true&resourceVersion="
                  + rv
                  + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> f.api.registry().caches().cache("/registry/configmaps/").watcherCount() >= 2);
      // ~30 MiB of events: far more than the socket buffers of a client that never reads.
      String big = "x".repeat(300 * 1024);
      int updates = 100;
      assertThat(
              f.post(
                      "/api/v1/namespaces/slow/configmaps",
                      "{\"metadata\":{\"name\":\"big\"},\"data\":{\"v\":\"0" + big + "\"}}")
                  .code())
          .isEqualTo(201);
      for (int i = 1; i < updates; i++) {
        assertThat(
                f.patch(
                        "/api/v1/namespaces/slow/configmaps/big",
                        "application/merge-patch+json",
                        "{\"data\":{\"v\":\"" + i + big + "\"}}")
                    .code())
            .isEqualTo(200);
      }
      for (int i = 0; i < updates; i++) {
        JsonNode e = fast.next();
        assertThat(e.path("object").path("data").path("v").asText())
            .startsWith(Integer.toString(i) + "x");
      }
      // The stuck client was disconnected: draining its socket ends (EOF) well short of everything.
      stuck.setSoTimeout(20_000);
      InputStream in = stuck.getInputStream();
      long read = 0;
      byte[] buf = new byte[64 * 1024];
      int n;
      while ((n = in.read(buf)) > 0) {
        read += n;
      }
      assertThat(read).isLessThan((long) updates * big.length());
    }
  }

  @Test
  void aWatchOlderThanTheWindowIsServedByTheStore() throws Exception {
    createNamespace("old");
    String rv =
        f.get("/api/v1/namespaces/old/configmaps")
            .json()
            .path("metadata")
            .path("resourceVersion")
            .asText();
    for (int i = 0; i < WINDOW + 10; i++) {
      assertThat(
              f.post(
                      "/api/v1/namespaces/old/configmaps",
                      "{\"metadata\":{\"name\":\"c" + i + "\"}}")
                  .code())
          .isEqualTo(201);
    }
    int before = counting.watches.get();
    try (WatchClient w =
        new WatchClient(
            f.http(),
            f.url() + "/api/v1/namespaces/old/configmaps?watch=true&resourceVersion=" + rv,
            null)) {
      for (int i = 0; i < WINDOW + 10; i++) {
        JsonNode e = w.next();
        assertThat(e.path("type").asText()).isEqualTo("ADDED");
        assertThat(e.path("object").path("metadata").path("name").asText()).isEqualTo("c" + i);
      }
      assertThat(counting.watches.get()).isEqualTo(before + 1);
    }
    // resourceVersion=0 lists come from the cache, without a store read.
    int ranges = counting.ranges.get();
    JsonNode list = f.get("/api/v1/namespaces/old/configmaps?resourceVersion=0").json();
    assertThat(list.path("items")).hasSize(WINDOW + 10);
    assertThat(counting.ranges.get()).isEqualTo(ranges);
  }

  @Test
  void bookmarksOfAQuietTypeCarryTheStoresProgress() throws Exception {
    createNamespace("quiet");
    String rv =
        f.get("/api/v1/namespaces/quiet/configmaps")
            .json()
            .path("metadata")
            .path("resourceVersion")
            .asText();
    try (WatchClient w =
        new WatchClient(
            f.http(),
            f.url()
                + "/api/v1/namespaces/quiet/configmaps?watch=true&allowWatchBookmarks=true"
                + "&timeoutSeconds=10&resourceVersion="
                + rv,
            null)) {
      // Writes to another type only: the configmaps cache sees no event of its own.
      long elsewhere = 0;
      for (int i = 0; i < 3; i++) {
        elsewhere =
            f.post("/api/v1/namespaces/quiet/secrets", "{\"metadata\":{\"name\":\"s" + i + "\"}}")
                .json()
                .path("metadata")
                .path("resourceVersion")
                .asLong();
      }
      long target = elsewhere;
      var caches = f.api.registry().caches();
      await()
          .atMost(Duration.ofSeconds(8))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                caches.requestProgress(); // what the 5 s timer does
                return caches.cache("/registry/configmaps/").revision() >= target;
              });
      // A list from the cache is now as new as the store, like kube-apiserver's.
      assertThat(
              f.get("/api/v1/namespaces/quiet/configmaps?resourceVersion=0")
                  .json()
                  .path("metadata")
                  .path("resourceVersion")
                  .asLong())
          .isGreaterThanOrEqualTo(target);
      // The bookmark at the watch's timeout carries it: a client resuming from there skips
      // nothing (no configmap changed) and needs no history older than the secrets' writes.
      JsonNode b = w.next(Duration.ofSeconds(20));
      assertThat(b.path("type").asText()).isEqualTo("BOOKMARK");
      assertThat(b.path("object").path("metadata").path("resourceVersion").asLong())
          .isGreaterThanOrEqualTo(target);
    }
  }

  @Test
  void aCreateIsOneStoreWriteAndReadsItsNamespaceFromTheCache() throws Exception {
    createNamespace("one-txn");
    // Right after this server's own namespace write the cache may lag: the check reads the store.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              int gets = counting.gets.get();
              String name = "probe-" + System.nanoTime();
              assertThat(
                      f.post(
                              "/api/v1/namespaces/one-txn/configmaps",
                              "{\"metadata\":{\"name\":\"" + name + "\"}}")
                          .code())
                  .isEqualTo(201);
              return counting.gets.get() == gets;
            });
    int gets = counting.gets.get();
    int writes = counting.writes.get();
    int ranges = counting.ranges.get();
    for (int i = 0; i < 20; i++) {
      assertThat(
              f.post(
                      "/api/v1/namespaces/one-txn/configmaps",
                      "{\"metadata\":{\"name\":\"c" + i + "\"}}")
                  .code())
          .isEqualTo(201);
    }
    assertThat(counting.writes.get() - writes).isEqualTo(20);
    assertThat(counting.gets.get()).isEqualTo(gets);
    assertThat(counting.ranges.get()).isEqualTo(ranges);
    // A namespace this server just set Terminating refuses new objects at once (read your writes).
    assertThat(f.delete("/api/v1/namespaces/one-txn", null).code()).isEqualTo(200);
    assertThat(
            f.post("/api/v1/namespaces/one-txn/configmaps", "{\"metadata\":{\"name\":\"late\"}}")
                .code())
        .isEqualTo(403);
    // A namespace unknown to the cache is looked up in the store: 404.
    assertThat(
            f.post("/api/v1/namespaces/nowhere/configmaps", "{\"metadata\":{\"name\":\"x\"}}")
                .code())
        .isEqualTo(404);
  }

  @Test
  void listsFromTheCacheAreTheSameJsonAsFromTheStoreInJsonAndYaml() throws Exception {
    createNamespace("same-json");
    for (int i = 0; i < 30; i++) {
      assertThat(
              f.post(
                      "/api/v1/namespaces/same-json/configmaps",
                      "{\"metadata\":{\"name\":\"c"
                          + i
                          + "\",\"labels\":{\"n\":\"v"
                          + i
                          + "\"}},\"data\":{\"k\":\"\u00e9 line\\nbreak\"}}")
                  .code())
          .isEqualTo(201);
    }
    String path = "/api/v1/namespaces/same-json/configmaps";
    JsonNode fromStore = f.get(path).json();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              JsonNode fromCache = f.get(path + "?resourceVersion=0").json();
              assertThat(fromCache.path("kind").asText()).isEqualTo("ConfigMapList");
              assertThat(fromCache.path("items")).isEqualTo(fromStore.path("items"));
            });
    JsonNode selected = f.get(path + "?resourceVersion=0&labelSelector=n%3Dv7").json();
    assertThat(selected.path("items")).hasSize(1);
    assertThat(selected.path("items").get(0).path("metadata").path("name").asText())
        .isEqualTo("c7");
    ApiServerFixture.Response yaml =
        f.request("GET", path + "?resourceVersion=0", null, null, "application/yaml");
    assertThat(yaml.code()).isEqualTo(200);
    assertThat(yaml.body()).contains("kind: ConfigMapList").contains("name: c29");
  }

  /** The names of a list's items, in order. */
  private static List<String> names(JsonNode list) {
    List<String> out = new ArrayList<>();
    list.path("items").forEach(i -> out.add(i.path("metadata").path("name").asText()));
    return out;
  }

  @Test
  void fieldAndLabelSelectorsOnTheCachedCompactFormAnswerAsTheStore() throws Exception {
    createNamespace("fields");
    String base = "/api/v1/namespaces/fields/pods";
    for (int i = 0; i < 6; i++) {
      String spec =
          "{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]"
              + (i < 4 ? ",\"nodeName\":\"n" + (i % 2) + "\"" : "")
              + (i == 1 ? ",\"restartPolicy\":\"Never\"" : "")
              + (i == 5 ? ",\"hostNetwork\":true" : "")
              + "}";
      assertThat(
              f.post(
                      base,
                      "{\"metadata\":{\"name\":\"p"
                          + i
                          + "\",\"labels\":{\"tier\":\""
                          + (i < 3 ? "front" : "back")
                          + "\"}},\"spec\":"
                          + spec
                          + "}")
                  .code())
          .isEqualTo(201);
    }
    assertThat(
            f.patch(
                    base + "/p2/status",
                    "application/merge-patch+json",
                    "{\"status\":{\"phase\":\"Running\",\"podIP\":\"10.1.2.3\"}}")
                .code())
        .isEqualTo(200);
    String[] selectors = {
      "fieldSelector=spec.nodeName%3Dn0",
      "fieldSelector=spec.nodeName%3D",
      "fieldSelector=spec.nodeName!%3Dn0,status.phase%3DPending",
      "fieldSelector=status.phase%3DRunning",
      "fieldSelector=status.podIP%3D10.1.2.3",
      "fieldSelector=spec.hostNetwork%3Dtrue",
      "fieldSelector=spec.hostNetwork%3Dfalse&labelSelector=tier%3Dback",
      "fieldSelector=spec.restartPolicy%3DNever",
      "fieldSelector=metadata.name%3Dp3",
      "fieldSelector=metadata.namespace%3Dfields&labelSelector=tier+in+(front)",
      "labelSelector=tier!%3Dfront",
    };
    JsonNode all = f.get(base).json();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(f.get(base + "?resourceVersion=0").json().path("items"))
                    .isEqualTo(all.path("items")));
    for (String q : selectors) {
      List<String> fromStore = names(f.get(base + "?" + q).json());
      assertThat(fromStore).as(q).isNotEmpty();
      assertThat(names(f.get(base + "?resourceVersion=0&" + q).json())).as(q).isEqualTo(fromStore);
    }
    // A table from the cache renders from the objects parsed back.
    ApiServerFixture.Response table =
        f.request(
            "GET",
            base + "?resourceVersion=0&fieldSelector=spec.nodeName%3Dn1",
            null,
            null,
            "application/json;as=Table;v=v1;g=meta.k8s.io");
    assertThat(table.code()).isEqualTo(200);
    JsonNode rows = table.json().path("rows");
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0).path("cells").get(0).asText()).isEqualTo("p1");
    assertThat(rows.get(1).path("cells").get(0).asText()).isEqualTo("p3");
  }
}
