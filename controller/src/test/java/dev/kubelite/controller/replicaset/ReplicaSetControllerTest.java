package dev.kubelite.controller.replicaset;

import static dev.kubelite.controller.testing.ControllerFixture.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import dev.kubelite.client.Watch;
import dev.kubelite.client.WatchEvent;
import dev.kubelite.controller.testing.ControllerFixture;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReplicaSetControllerTest {
  private ControllerFixture f;
  private KubeClient c;
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeAll
  void start() throws Exception {
    f = new ControllerFixture();
    c = f.client;
    logs.start();
    ((Logger) LoggerFactory.getLogger(ReplicaSetController.COMPONENT)).addAppender(logs);
    f.start(new ReplicaSetController(c, 3));
  }

  @AfterAll
  void stop() {
    ((Logger) LoggerFactory.getLogger(ReplicaSetController.COMPONENT)).detachAppender(logs);
    if (f != null) {
      f.close();
    }
  }

  static ObjectNode rs(String name, int replicas, String app) {
    return json(
        """
        {'apiVersion':'apps/v1','kind':'ReplicaSet','metadata':{'name':'%s'},
         'spec':{'replicas':%d,'selector':{'matchLabels':{'app':'%s'}},
          'template':{'metadata':{'labels':{'app':'%s','tier':'fe'}},
           'spec':{'containers':[{'name':'main','image':'nginx:1.27'}]}}}}"""
            .formatted(name, replicas, app, app));
  }

  private List<ObjectNode> pods(String ns, String app) {
    return f.list(Resource.PODS, ns, "app=" + app);
  }

  private ObjectNode get(String ns, String name) {
    return c.get(Resource.REPLICASETS, ns, name);
  }

  private void scale(String ns, String name, int replicas) {
    c.patch(
        Resource.REPLICASETS,
        ns,
        name,
        PatchType.MERGE,
        json("{'spec':{'replicas':" + replicas + "}}"));
  }

  @Test
  void scalesUpAndDownReplacesDeletedPodsAndReportsStatus() {
    String ns = f.namespace("rs-scale");
    f.kubelet(ns, Duration.ZERO);
    ObjectNode created = c.create(Resource.REPLICASETS, ns, rs("web", 3, "web"));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              JsonNode st = get(ns, "web").path("status");
              assertThat(st.path("replicas").asInt()).isEqualTo(3);
              assertThat(st.path("readyReplicas").asInt()).isEqualTo(3);
              assertThat(st.path("availableReplicas").asInt()).isEqualTo(3);
              assertThat(st.path("fullyLabeledReplicas").asInt()).isEqualTo(3);
              assertThat(st.path("observedGeneration").asLong()).isEqualTo(1);
            });
    List<ObjectNode> pods = pods(ns, "web");
    assertThat(pods).hasSize(3);
    for (ObjectNode p : pods) {
      assertThat(Meta.name(p)).matches("web-[a-z0-9]{5}");
      JsonNode ref = p.path("metadata").path("ownerReferences").get(0);
      assertThat(ref.path("kind").asText()).isEqualTo("ReplicaSet");
      assertThat(ref.path("apiVersion").asText()).isEqualTo("apps/v1");
      assertThat(ref.path("name").asText()).isEqualTo("web");
      assertThat(ref.path("uid").asText()).isEqualTo(Meta.uid(created));
      assertThat(ref.path("controller").asBoolean()).isTrue();
      assertThat(ref.path("blockOwnerDeletion").asBoolean()).isTrue();
      assertThat(Meta.labels(p)).containsEntry("tier", "fe");
      assertThat(p.path("spec").path("containers").get(0).path("image").asText())
          .isEqualTo("nginx:1.27");
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(f.events(ns, "web", "SuccessfulCreate"))
                    .containsExactlyInAnyOrderElementsOf(
                        pods.stream().map(p -> "Created pod: " + Meta.name(p)).toList()));

    scale(ns, "web", 5);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(pods(ns, "web")).hasSize(5);
              assertThat(get(ns, "web").path("status").path("readyReplicas").asInt()).isEqualTo(5);
              assertThat(get(ns, "web").path("status").path("observedGeneration").asLong())
                  .isEqualTo(2);
            });

    scale(ns, "web", 2);
    await().atMost(Duration.ofSeconds(30)).until(() -> pods(ns, "web").size() == 2);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(f.events(ns, "web", "SuccessfulDelete")).hasSize(3);
              assertThat(f.events(ns, "web", "SuccessfulDelete"))
                  .allMatch(m -> m.matches("Deleted pod: web-[a-z0-9]{5}"));
              assertThat(get(ns, "web").path("status").path("replicas").asInt()).isEqualTo(2);
            });

    // A deleted pod is replaced.
    String victim = Meta.name(pods(ns, "web").get(0));
    c.delete(Resource.PODS, ns, victim);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              List<ObjectNode> now = pods(ns, "web");
              assertThat(now).hasSize(2);
              assertThat(now).noneMatch(p -> Meta.name(p).equals(victim));
              assertThat(get(ns, "web").path("status").path("readyReplicas").asInt()).isEqualTo(2);
            });
  }

  @Test
  void createsInSlowStartBatchesExactlyOnceAndLogsEachReconcile() throws Exception {
    String ns = f.namespace("rs-batch");
    f.kubelet(ns, Duration.ofMillis(50));
    // Count every pod the API server ever saw created in the namespace.
    AtomicInteger added = new AtomicInteger();
    Set<String> names = new HashSet<>();
    Thread watcher;
    try (Watch w = c.watch(Resource.PODS, ns, ListOptions.NONE.withTimeoutSeconds(60))) {
      watcher =
          new Thread(
              () -> {
                try {
                  WatchEvent e;
                  while ((e = w.next()) != null) {
                    if (e.type().equals("ADDED")) {
                      synchronized (names) {
                        names.add(Meta.name(e.object()));
                      }
                      added.incrementAndGet();
                    }
                  }
                } catch (java.io.IOException | RuntimeException e) {
                  // The watch is closed at the end of the test; the count is what matters.
                }
              });
      watcher.start();
      c.create(Resource.REPLICASETS, ns, rs("batch", 20, "batch"));
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  assertThat(get(ns, "batch").path("status").path("readyReplicas").asInt())
                      .isEqualTo(20));
      // Many pod updates (each pod going ready) caused many reconciles: still exactly 20 creates.
      assertThat(pods(ns, "batch")).hasSize(20);
      await().atMost(Duration.ofSeconds(10)).until(() -> added.get() >= 20);
      assertThat(added.get()).isEqualTo(20);
    }
    watcher.join(10_000);
    List<String> lines =
        logs.list.stream()
            .map(ILoggingEvent::getFormattedMessage)
            .filter(m -> m.startsWith(ns + "/batch "))
            .toList();
    assertThat(lines)
        .anyMatch(
            m ->
                m.contains("gen=1 want 20, have 0")
                    && m.contains("created 20 of 20 pods (batches 1+2+4+8+5)"));
    assertThat(lines).anyMatch(m -> m.contains("want 20, have 20 (ready 20, available 20)"));
  }

  @Test
  void adoptsMatchingOrphansAndReleasesPodsThatStopMatching() {
    String ns = f.namespace("rs-adopt");
    ObjectNode rs = c.create(Resource.REPLICASETS, ns, rs("adopt", 2, "adopt"));
    await().atMost(Duration.ofSeconds(30)).until(() -> pods(ns, "adopt").size() == 2);
    // A running, ready pod that starts matching the selector is adopted; the ReplicaSet then has
    // one pod too many and deletes one of its own not-ready pods rather than the ready one.
    ObjectNode orphan =
        json(
            """
            {'apiVersion':'v1','kind':'Pod','metadata':{'name':'orphan','labels':{'app':'staging'}},
             'spec':{'containers':[{'name':'main','image':'nginx:1.26'}]}}""");
    c.create(Resource.PODS, ns, orphan);
    f.markReady(ns, "orphan");
    c.patch(
        Resource.PODS,
        ns,
        "orphan",
        PatchType.MERGE,
        json("{'metadata':{'labels':{'app':'adopt'}}}"));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              ObjectNode adopted = c.get(Resource.PODS, ns, "orphan");
              JsonNode ref = adopted.path("metadata").path("ownerReferences").path(0);
              assertThat(ref.path("uid").asText()).isEqualTo(Meta.uid(rs));
              assertThat(ref.path("controller").asBoolean()).isTrue();
              assertThat(ref.path("blockOwnerDeletion").asBoolean()).isTrue();
              assertThat(pods(ns, "adopt")).hasSize(2);
              assertThat(f.events(ns, "adopt", "SuccessfulDelete")).hasSize(1);
            });
    assertThat(f.events(ns, "adopt", "SuccessfulCreate")).hasSize(2);
    assertThat(f.events(ns, "adopt", "SuccessfulDelete").get(0)).doesNotContain("orphan");

    // A pod relabelled out of the selector is released (and replaced).
    c.patch(
        Resource.PODS,
        ns,
        "orphan",
        PatchType.MERGE,
        json("{'metadata':{'labels':{'app':'debug'}}}"));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              ObjectNode released = c.get(Resource.PODS, ns, "orphan");
              assertThat(released.path("metadata").path("ownerReferences")).isEmpty();
              assertThat(pods(ns, "adopt")).hasSize(2);
            });
    // A pod controlled by someone else is never adopted.
    ObjectNode foreign =
        json(
            """
            {'apiVersion':'v1','kind':'Pod','metadata':{'name':'foreign','labels':{'app':'adopt'},
              'ownerReferences':[{'apiVersion':'apps/v1','kind':'ReplicaSet','name':'other',
                'uid':'00000000-0000-0000-0000-000000000001','controller':true}]},
             'spec':{'containers':[{'name':'main','image':'nginx:1.26'}]}}""");
    c.create(Resource.PODS, ns, foreign);
    scale(ns, "adopt", 3);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(get(ns, "adopt").path("status").path("replicas").asInt()).isEqualTo(3));
    assertThat(
            c.get(Resource.PODS, ns, "foreign")
                .path("metadata")
                .path("ownerReferences")
                .get(0)
                .path("name")
                .asText())
        .isEqualTo("other");
    assertThat(pods(ns, "adopt")).hasSize(4);
  }

  @Test
  void deletesNotReadyPodsBeforeReadyOnes() {
    String ns = f.namespace("rs-rank");
    c.create(Resource.REPLICASETS, ns, rs("rank", 3, "rank"));
    await().atMost(Duration.ofSeconds(30)).until(() -> pods(ns, "rank").size() == 3);
    List<ObjectNode> pods = pods(ns, "rank");
    f.markReady(ns, Meta.name(pods.get(0)));
    f.markReady(ns, Meta.name(pods.get(2)));
    String notReady = Meta.name(pods.get(1));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(get(ns, "rank").path("status").path("readyReplicas").asInt())
                    .isEqualTo(2));
    scale(ns, "rank", 2);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              List<ObjectNode> now = pods(ns, "rank");
              assertThat(now).hasSize(2);
              assertThat(now).noneMatch(p -> Meta.name(p).equals(notReady));
            });
  }

  @Test
  void availableOnlyAfterMinReadySeconds() {
    String ns = f.namespace("rs-minready");
    f.kubelet(ns, Duration.ZERO);
    ObjectNode rs = rs("slow", 2, "slow");
    ((ObjectNode) rs.path("spec")).put("minReadySeconds", 2);
    c.create(Resource.REPLICASETS, ns, rs);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              JsonNode st = get(ns, "slow").path("status");
              assertThat(st.path("readyReplicas").asInt()).isEqualTo(2);
              assertThat(st.path("availableReplicas").asInt()).isZero();
            });
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () ->
                assertThat(get(ns, "slow").path("status").path("availableReplicas").asInt())
                    .isEqualTo(2));
  }

  private void bind(String ns, String pod, String node) {
    c.subresource(
        "POST",
        Resource.PODS,
        ns,
        pod,
        "binding",
        json(
            "{'apiVersion':'v1','kind':'Binding','metadata':{'name':'"
                + pod
                + "'},'target':{'kind':'Node','name':'"
                + node
                + "'}}"));
  }

  @Test
  void unscheduledPodsGoFirstAndTerminatingPodsDoNotCount() {
    String ns = f.namespace("rs-graceful");
    c.create(Resource.REPLICASETS, ns, rs("g", 3, "g"));
    await().atMost(Duration.ofSeconds(30)).until(() -> pods(ns, "g").size() == 3);
    List<ObjectNode> pods = pods(ns, "g");
    bind(ns, Meta.name(pods.get(0)), "node-1");
    bind(ns, Meta.name(pods.get(1)), "node-1");
    String unbound = Meta.name(pods.get(2));
    scale(ns, "g", 2);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(pods(ns, "g")).hasSize(2).noneMatch(p -> Meta.name(p).equals(unbound)));
    // A pod on a node is deleted gracefully: it stays, terminating, until its kubelet confirms.
    // The ReplicaSet counts it as gone at once and deletes nothing more.
    scale(ns, "g", 1);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(pods(ns, "g")).hasSize(2).filteredOn(Meta::isBeingDeleted).hasSize(1);
              assertThat(get(ns, "g").path("status").path("replicas").asInt()).isEqualTo(1);
            });
    // Scaled up again: the terminating pod does not count, so a new one is created.
    scale(ns, "g", 2);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(pods(ns, "g")).hasSize(3).filteredOn(Meta::isBeingDeleted).hasSize(1);
              assertThat(get(ns, "g").path("status").path("replicas").asInt()).isEqualTo(2);
            });
    assertThat(f.events(ns, "g", "SuccessfulDelete")).hasSize(2);
  }
}
