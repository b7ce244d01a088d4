package dev.kubelite.client.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import dev.kubelite.client.testing.TcpProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Informers against the real API server over a real store member. */
class InformerTest {
  private static final Resource CM = Resource.CONFIGMAPS;
  private final List<AutoCloseable> closeLater = new ArrayList<>();

  /** Records what handlers are told as readable lines: "add a 1", "update a 1→2", "delete a". */
  static final class Recorder implements EventHandler {
    final List<String> events = new CopyOnWriteArrayList<>();
    final AtomicInteger resyncs = new AtomicInteger();

    @Override
    public void onAdd(ObjectNode o) {
      events.add("add " + Meta.name(o) + " " + o.path("data").path("v").asText());
    }

    @Override
    public void onUpdate(ObjectNode old, ObjectNode o) {
      if (Meta.resourceVersion(old).equals(Meta.resourceVersion(o))) {
        resyncs.incrementAndGet();
        return;
      }
      events.add(
          "update "
              + Meta.name(o)
              + " "
              + old.path("data").path("v").asText()
              + "→"
              + o.path("data").path("v").asText());
    }

    @Override
    public void onDelete(ObjectNode o) {
      events.add("delete " + Meta.name(o));
    }
  }

  private <T extends AutoCloseable> T later(T c) {
    closeLater.add(0, c);
    return c;
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeLater) {
      c.close();
    }
  }

  static ObjectNode cm(String name, String v) {
    ObjectNode o = KubeClient.JSON.createObjectNode();
    o.put("apiVersion", "v1").put("kind", "ConfigMap");
    o.putObject("metadata").put("name", name);
    o.putObject("data").put("v", v);
    return o;
  }

  static void set(KubeClient c, String name, String v) {
    ObjectNode p = KubeClient.JSON.createObjectNode();
    p.putObject("data").put("v", v);
    c.patch(CM, "default", name, PatchType.MERGE, p);
  }

  @Test
  void seesAddsUpdatesAndDeletesInOrder() throws Exception {
    Cluster cluster = later(new Cluster());
    KubeClient c = cluster.client();
    c.create(CM, "default", cm("before", "0"));
    Informer inf = later(new Informer(c, CM, "default", Informer.Options.defaults()));
    Recorder r = new Recorder();
    inf.addEventHandler(r);
    inf.indexer().addIndex("v", Indexer.field("data", "v"));
    inf.start();
    await().atMost(Duration.ofSeconds(10)).until(inf::hasSynced);
    assertThat(r.events).containsExactly("add before 0");

    c.create(CM, "default", cm("a", "1"));
    set(c, "a", "2");
    c.create(CM, "default", cm("b", "2"));
    c.delete(CM, "default", "before");
    set(c, "a", "3");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(r.events)
                    .containsExactly(
                        "add before 0",
                        "add a 1",
                        "update a 1→2",
                        "add b 2",
                        "delete before",
                        "update a 2→3"));
    // The cache and its indexes follow.
    assertThat(inf.indexer().keys()).containsExactlyInAnyOrder("default/a", "default/b");
    assertThat(inf.indexer().byIndex("v", "2")).extracting(Meta::name).containsExactly("b");
    assertThat(inf.indexer().byIndex("v", "3")).extracting(Meta::name).containsExactly("a");
    assertThat(inf.indexer().byIndex(Indexer.NAMESPACE, "default")).hasSize(2);
    assertThat(inf.listCount()).isEqualTo(1);
  }

  @Test
  void aHandlerAddedAfterTheStartHasSyncedOnceItsReplayedAddsAreDeliveredAndCanBeRemoved()
      throws Exception {
    Cluster cluster = later(new Cluster());
    KubeClient c = cluster.client();
    c.create(CM, "default", cm("x", "1"));
    c.create(CM, "default", cm("y", "1"));
    Informer inf = later(new Informer(c, CM, "default", Informer.Options.defaults()));
    Recorder first = new Recorder();
    assertThat(inf.addEventHandler(first).hasSynced()).isFalse();
    inf.start();
    await().atMost(Duration.ofSeconds(10)).until(inf::hasSynced);

    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    List<String> late = new CopyOnWriteArrayList<>();
    EventHandler slow =
        new EventHandler() {
          @Override
          public void onAdd(ObjectNode o) {
            try {
              release.await(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            late.add("add " + Meta.name(o));
          }

          @Override
          public void onUpdate(ObjectNode old, ObjectNode o) {
            late.add("update " + Meta.name(o));
          }
        };
    Informer.Registration reg = inf.addEventHandler(slow);
    // The informer has synced, this handler has not been given the cached objects yet.
    assertThat(inf.hasSynced()).isTrue();
    assertThat(reg.hasSynced()).isFalse();
    release.countDown();
    await().atMost(Duration.ofSeconds(10)).until(reg::hasSynced);
    assertThat(late).containsExactlyInAnyOrder("add x", "add y");

    inf.removeEventHandler(slow);
    set(c, "x", "2");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(first.events).contains("update x 1→2"));
    assertThat(late).containsExactlyInAnyOrder("add x", "add y");
  }

  @Test
  void selectorsAndPeriodicResync() throws Exception {
    Cluster cluster = later(new Cluster());
    KubeClient c = cluster.client();
    ObjectNode keep = cm("keep", "1");
    Meta.metadata(keep).putObject("labels").put("app", "x");
    c.create(CM, "default", keep);
    c.create(CM, "default", cm("other", "1"));
    Informer inf =
        later(
            new Informer(
                c,
                CM,
                null,
                Informer.Options.defaults()
                    .withSelectors(ListOptions.labels("app=x"))
                    .withResync(Duration.ofMillis(200))));
    Recorder r = new Recorder();
    inf.addEventHandler(r);
    inf.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> r.resyncs.get() >= 2);
    assertThat(r.events).containsExactly("add keep 1");
    // A second handler added late first gets what is cached.
    Recorder late = new Recorder();
    inf.addEventHandler(late);
    await().atMost(Duration.ofSeconds(10)).until(() -> late.events.contains("add keep 1"));
  }

  @Test
  void resumesAfterTheWatchIsCutWithoutLosingOrRepeatingEvents() throws Exception {
    Cluster cluster = later(new Cluster());
    TcpProxy proxy = later(new TcpProxy(cluster.api.port()));
    KubeClient direct = cluster.client();
    Informer inf =
        later(
            new Informer(
                new KubeClient(proxy.url()),
                CM,
                "default",
                Informer.Options.defaults().withMaxBackoff(Duration.ofMillis(200))));
    Recorder r = new Recorder();
    inf.addEventHandler(r);
    inf.start();
    await().atMost(Duration.ofSeconds(10)).until(inf::hasSynced);

    List<String> expected = new ArrayList<>();
    for (int round = 0; round < 5; round++) {
      String name = "cm" + round;
      direct.create(CM, "default", cm(name, "1"));
      expected.add("add " + name + " 1");
      long watchesBefore = inf.watchCount();
      // Cut while it is connected; changes made while it is away must still arrive, once.
      await().atMost(Duration.ofSeconds(10)).until(() -> r.events.size() == expected.size());
      proxy.refuse(true);
      proxy.cutAll();
      set(direct, name, "2");
      expected.add("update " + name + " 1→2");
      if (round > 0) {
        direct.delete(CM, "default", "cm" + (round - 1));
        expected.add("delete cm" + (round - 1));
      }
      proxy.refuse(false);
      await().atMost(Duration.ofSeconds(20)).until(() -> inf.watchCount() > watchesBefore);
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(r.events).containsExactlyElementsOf(expected));
    assertThat(inf.listCount()).as("resumed by watching, never re-listed").isEqualTo(1);
    assertThat(inf.indexer().keys()).containsExactly("default/cm4");
  }

  @Test
  void watchesAgainWhenTheServerEndsTheStream() throws Exception {
    Cluster cluster = later(new Cluster());
    KubeClient c = cluster.client();
    // The server ends each watch after 1–2 s (with a closing BOOKMARK); the informer resumes.
    Informer inf =
        later(
            new Informer(c, CM, "default", Informer.Options.defaults().withWatchTimeoutSeconds(1)));
    Recorder r = new Recorder();
    inf.addEventHandler(r);
    inf.start();
    await().atMost(Duration.ofSeconds(10)).until(inf::hasSynced);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      long before = inf.watchCount();
      c.create(CM, "default", cm("t" + i, "1"));
      expected.add("add t" + i + " 1");
      await().atMost(Duration.ofSeconds(15)).until(() -> inf.watchCount() > before + 1);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(r.events).containsExactlyElementsOf(expected));
    assertThat(inf.listCount()).isEqualTo(1);
    assertThat(inf.bookmarkCount()).as("a BOOKMARK closes each timed-out watch").isPositive();
  }

  @Test
  void relistsAfter410AndDeliversTheDifference() throws Exception {
    // A tiny watch cache window, so a resume from before the compaction goes to the store → 410.
    Cluster cluster = later(new Cluster(2));
    TcpProxy proxy = later(new TcpProxy(cluster.api.port()));
    KubeClient direct = cluster.client();
    for (String n : List.of("same", "changed", "removed")) {
      direct.create(CM, "default", cm(n, "1"));
    }
    Informer inf =
        later(
            new Informer(
                new KubeClient(proxy.url()),
                CM,
                "default",
                Informer.Options.defaults().withMaxBackoff(Duration.ofMillis(200))));
    Recorder r = new Recorder();
    inf.addEventHandler(r);
    inf.start();
    await().atMost(Duration.ofSeconds(10)).until(inf::hasSynced);
    await().atMost(Duration.ofSeconds(10)).until(() -> inf.watchCount() >= 1);
    assertThat(r.events).hasSize(3);

    proxy.refuse(true);
    proxy.cutAll();
    set(direct, "changed", "2");
    direct.delete(CM, "default", "removed");
    direct.create(CM, "default", cm("new", "1"));
    for (int i = 0; i < 5; i++) {
      direct.create(CM, "default", cm("filler" + i, "1"));
      direct.delete(CM, "default", "filler" + i);
    }
    cluster.compact();
    proxy.refuse(false);

    await().atMost(Duration.ofSeconds(20)).until(() -> inf.listCount() == 2);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(new HashSet<>(r.events.subList(3, r.events.size())))
                    .isEqualTo(Set.of("update changed 1→2", "delete removed", "add new 1")));
    assertThat(r.events).hasSize(6);
    assertThat(inf.indexer().keys())
        .containsExactlyInAnyOrder("default/same", "default/changed", "default/new");
    // And it keeps watching after the re-list.
    set(direct, "new", "2");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(r.events).endsWith("update new 1→2"));
  }
}
