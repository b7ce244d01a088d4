package dev.kubelite.controller.deployment;

import static dev.kubelite.controller.testing.ControllerFixture.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import dev.kubelite.client.cache.EventHandler;
import dev.kubelite.client.cache.Informer;
import dev.kubelite.controller.replicaset.ReplicaSetController;
import dev.kubelite.controller.testing.ControllerFixture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeploymentControllerTest {
  private ControllerFixture f;
  private KubeClient c;

  @BeforeAll
  void start() throws Exception {
    f = new ControllerFixture();
    c = f.client;
    f.start(new ReplicaSetController(c, 3));
    f.start(new DeploymentController(c, 3));
  }

  @AfterAll
  void stop() {
    if (f != null) {
      f.close();
    }
  }

  static ObjectNode deployment(String name, int replicas, String image) {
    return json(
        """
        {'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'%s'},
         'spec':{'replicas':%d,'selector':{'matchLabels':{'app':'%s'}},
          'template':{'metadata':{'labels':{'app':'%s'}},
           'spec':{'containers':[{'name':'main','image':'%s'}]}}}}"""
            .formatted(name, replicas, name, name, image));
  }

  private ObjectNode get(String ns, String name) {
    return c.get(Resource.DEPLOYMENTS, ns, name);
  }

  private List<ObjectNode> replicaSets(String ns, String app) {
    return f.list(Resource.REPLICASETS, ns, "app=" + app);
  }

  private List<ObjectNode> pods(String ns, String app) {
    return f.list(Resource.PODS, ns, "app=" + app);
  }

  private void setImage(String ns, String name, String image) {
    c.patch(
        Resource.DEPLOYMENTS,
        ns,
        name,
        PatchType.STRATEGIC,
        json(
            "{'spec':{'template':{'spec':{'containers':[{'name':'main','image':'"
                + image
                + "'}]}}}}"));
  }

  private static JsonNode condition(JsonNode d, String type) {
    for (JsonNode cond : d.path("status").path("conditions")) {
      if (type.equals(cond.path("type").asText())) {
        return cond;
      }
    }
    return json("{}");
  }

  /** What `kubectl rollout status` checks. */
  static boolean rolledOut(JsonNode d) {
    JsonNode s = d.path("status");
    int replicas = d.path("spec").path("replicas").asInt();
    return s.path("observedGeneration").asLong() >= Meta.generation(d)
        && s.path("updatedReplicas").asInt() == replicas
        && s.path("replicas").asInt() == replicas
        && s.path("availableReplicas").asInt() == replicas
        && "NewReplicaSetAvailable".equals(condition(d, "Progressing").path("reason").asText());
  }

  private void awaitRolledOut(String ns, String name) {
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> assertThat(rolledOut(get(ns, name))).as(get(ns, name).toString()).isTrue());
  }

  private static String image(JsonNode podOrRs) {
    JsonNode spec =
        podOrRs.path("spec").has("template")
            ? podOrRs.path("spec").path("template").path("spec")
            : podOrRs.path("spec");
    return spec.path("containers").get(0).path("image").asText();
  }

  @Test
  void createsOneReplicaSetPerTemplateAndReportsARolledOutStatus() {
    String ns = f.namespace("dep-create");
    f.kubelet(ns, Duration.ofMillis(20));
    ObjectNode d = c.create(Resource.DEPLOYMENTS, ns, deployment("web", 3, "nginx:1.27"));
    awaitRolledOut(ns, "web");
    List<ObjectNode> rsList = replicaSets(ns, "web");
    assertThat(rsList).hasSize(1);
    ObjectNode rs = rsList.get(0);
    String hash = Meta.labels(rs).get("pod-template-hash");
    assertThat(hash).matches("[bcdfghjklmnpqrstvwxz2456789]{6,10}");
    assertThat(Meta.name(rs)).isEqualTo("web-" + hash);
    assertThat(
            rs.path("spec").path("selector").path("matchLabels").path("pod-template-hash").asText())
        .isEqualTo(hash);
    assertThat(
            rs.path("spec")
                .path("template")
                .path("metadata")
                .path("labels")
                .path("pod-template-hash")
                .asText())
        .isEqualTo(hash);
    assertThat(Meta.annotations(rs))
        .containsEntry("deployment.kubernetes.io/revision", "1")
        .containsEntry("deployment.kubernetes.io/desired-replicas", "3")
        .containsEntry("deployment.kubernetes.io/max-replicas", "4");
    JsonNode ref = rs.path("metadata").path("ownerReferences").get(0);
    assertThat(ref.path("kind").asText()).isEqualTo("Deployment");
    assertThat(ref.path("uid").asText()).isEqualTo(Meta.uid(d));
    assertThat(ref.path("controller").asBoolean()).isTrue();
    assertThat(ref.path("blockOwnerDeletion").asBoolean()).isTrue();
    assertThat(pods(ns, "web"))
        .hasSize(3)
        .allMatch(p -> hash.equals(Meta.labels(p).get("pod-template-hash")));

    ObjectNode after = get(ns, "web");
    assertThat(Meta.annotations(after)).containsEntry("deployment.kubernetes.io/revision", "1");
    JsonNode st = after.path("status");
    assertThat(st.path("replicas").asInt()).isEqualTo(3);
    assertThat(st.path("updatedReplicas").asInt()).isEqualTo(3);
    assertThat(st.path("readyReplicas").asInt()).isEqualTo(3);
    assertThat(st.path("availableReplicas").asInt()).isEqualTo(3);
    assertThat(st.has("unavailableReplicas")).isFalse();
    assertThat(st.path("observedGeneration").asLong()).isEqualTo(1);
    JsonNode available = condition(after, "Available");
    assertThat(available.path("status").asText()).isEqualTo("True");
    assertThat(available.path("reason").asText()).isEqualTo("MinimumReplicasAvailable");
    assertThat(available.path("message").asText())
        .isEqualTo("Deployment has minimum availability.");
    JsonNode progressing = condition(after, "Progressing");
    assertThat(progressing.path("status").asText()).isEqualTo("True");
    assertThat(progressing.path("message").asText())
        .isEqualTo("ReplicaSet \"" + Meta.name(rs) + "\" has successfully progressed.");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(f.events(ns, "web", "ScalingReplicaSet"))
                    .containsExactly("Scaled up replica set " + Meta.name(rs) + " from 0 to 3"));

    // Scaling the Deployment scales its one ReplicaSet.
    c.patch(Resource.DEPLOYMENTS, ns, "web", PatchType.MERGE, json("{'spec':{'replicas':5}}"));
    awaitRolledOut(ns, "web");
    assertThat(pods(ns, "web")).hasSize(5);
    assertThat(replicaSets(ns, "web")).hasSize(1);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(f.events(ns, "web", "ScalingReplicaSet"))
                    .contains("Scaled up replica set " + Meta.name(rs) + " from 3 to 5"));
  }

  /**
   * Tracks the pods of one Deployment through an informer and checks, at every change, that there
   * are never more than {@code maxTotal} pods and, once armed, never fewer than {@code minReady}
   * ready ones.
   */
  static final class Invariants implements AutoCloseable {
    final Informer informer;
    final Map<String, ObjectNode> pods = new ConcurrentHashMap<>();
    final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    final Set<String> hashesSeen = Collections.synchronizedSet(new HashSet<>());
    volatile int maxTotal = Integer.MAX_VALUE;
    volatile int minReady = 0;
    volatile boolean noMixing;
    int maxSeen;
    int minReadySeen = Integer.MAX_VALUE;

    Invariants(KubeClient c, String ns) {
      informer = new Informer(c, Resource.PODS, ns, Informer.Options.defaults());
      informer.addEventHandler(
          new EventHandler() {
            @Override
            public void onAdd(ObjectNode p) {
              pods.put(Meta.name(p), p);
              check("add " + Meta.name(p));
            }

            @Override
            public void onUpdate(ObjectNode o, ObjectNode p) {
              pods.put(Meta.name(p), p);
              check("update " + Meta.name(p));
            }

            @Override
            public void onDelete(ObjectNode p) {
              pods.remove(Meta.name(p));
              check("delete " + Meta.name(p));
            }
          });
      informer.start();
      await().atMost(Duration.ofSeconds(30)).until(informer::hasSynced);
    }

    synchronized void check(String what) {
      int total = 0;
      int ready = 0;
      Set<String> hashes = new HashSet<>();
      for (ObjectNode p : pods.values()) {
        if (Meta.isBeingDeleted(p)) {
          continue;
        }
        total++;
        hashes.add(Meta.labels(p).get("pod-template-hash"));
        if (ControllerFixture.isReady(p)) {
          ready++;
        }
      }
      hashesSeen.addAll(hashes);
      maxSeen = Math.max(maxSeen, total);
      minReadySeen = Math.min(minReadySeen, ready);
      if (total > maxTotal) {
        violations.add(what + ": " + total + " pods > " + maxTotal);
      }
      if (ready < minReady) {
        violations.add(what + ": " + ready + " ready < " + minReady);
      }
      if (noMixing && hashes.size() > 1) {
        violations.add(what + ": pods of two templates at once " + hashes);
      }
    }

    synchronized void arm(int maxTotal, int minReady, boolean noMixing) {
      this.maxTotal = maxTotal;
      this.minReady = minReady;
      this.noMixing = noMixing;
      this.maxSeen = 0;
      this.minReadySeen = Integer.MAX_VALUE;
      check("arm");
    }

    @Override
    public void close() {
      informer.close();
    }
  }

  @ParameterizedTest(name = "replicas {0}, maxSurge {1}, maxUnavailable {2}")
  @CsvSource({
    "4, 1, 1, 5, 3",
    "4, 25%, 25%, 5, 3",
    "4, 0, 50%, 4, 2",
    "3, 100%, 0, 6, 3",
    "5, 30%, 30%, 7, 4"
  })
  void rollingUpdateRespectsMaxSurgeAndMaxUnavailableAtEveryObservedStep(
      int replicas, String surge, String unavailable, int maxTotal, int minReady) {
    String ns = f.namespace("dep-rolling");
    f.kubelet(ns, Duration.ofMillis(30));
    ObjectNode d = deployment("roll", replicas, "nginx:1.27");
    ObjectNode ru =
        ((ObjectNode) d.path("spec"))
            .putObject("strategy")
            .put("type", "RollingUpdate")
            .putObject("rollingUpdate");
    for (String[] kv : new String[][] {{"maxSurge", surge}, {"maxUnavailable", unavailable}}) {
      if (kv[1].endsWith("%")) {
        ru.put(kv[0], kv[1]);
      } else {
        ru.put(kv[0], Integer.parseInt(kv[1]));
      }
    }
    c.create(Resource.DEPLOYMENTS, ns, d);
    awaitRolledOut(ns, "roll");
    try (Invariants inv = new Invariants(c, ns)) {
      inv.arm(maxTotal, minReady, false);
      setImage(ns, "roll", "nginx:1.28");
      awaitRolledOut(ns, "roll");
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(pods(ns, "roll"))
                      .hasSize(replicas)
                      .allMatch(p -> image(p).equals("nginx:1.28")));
      assertThat(inv.violations).isEmpty();
      assertThat(inv.hashesSeen).hasSize(2);
      // The limits were used, not just respected (the rollout went as fast as allowed).
      assertThat(inv.maxSeen).isEqualTo(maxTotal);
    }
    List<ObjectNode> rsList = replicaSets(ns, "roll");
    assertThat(rsList).hasSize(2);
    for (ObjectNode rs : rsList) {
      if (image(rs).equals("nginx:1.28")) {
        assertThat(rs.path("spec").path("replicas").asInt()).isEqualTo(replicas);
        assertThat(Meta.annotations(rs)).containsEntry("deployment.kubernetes.io/revision", "2");
      } else {
        assertThat(rs.path("spec").path("replicas").asInt()).isZero();
        assertThat(Meta.annotations(rs)).containsEntry("deployment.kubernetes.io/revision", "1");
      }
    }
    assertThat(Meta.annotations(get(ns, "roll")))
        .containsEntry("deployment.kubernetes.io/revision", "2");
  }

  @Test
  void recreateRemovesAllOldPodsBeforeCreatingNewOnes() {
    String ns = f.namespace("dep-recreate");
    f.kubelet(ns, Duration.ofMillis(20));
    ObjectNode d = deployment("rec", 3, "nginx:1.27");
    ((ObjectNode) d.path("spec")).putObject("strategy").put("type", "Recreate");
    c.create(Resource.DEPLOYMENTS, ns, d);
    awaitRolledOut(ns, "rec");
    try (Invariants inv = new Invariants(c, ns)) {
      inv.arm(3, 0, true);
      setImage(ns, "rec", "nginx:1.28");
      awaitRolledOut(ns, "rec");
      assertThat(inv.violations).isEmpty();
      assertThat(inv.hashesSeen).hasSize(2);
    }
    assertThat(pods(ns, "rec")).hasSize(3).allMatch(p -> image(p).equals("nginx:1.28"));
  }

  @Test
  void revisionsRollbackAndRevisionHistoryLimit() {
    String ns = f.namespace("dep-history");
    f.kubelet(ns, Duration.ofMillis(10));
    ObjectNode d = deployment("hist", 2, "app:1");
    ((ObjectNode) d.path("spec")).put("revisionHistoryLimit", 2);
    c.create(Resource.DEPLOYMENTS, ns, d);
    awaitRolledOut(ns, "hist");
    for (int v = 2; v <= 5; v++) {
      setImage(ns, "hist", "app:" + v);
      awaitRolledOut(ns, "hist");
    }
    // Revisions 1..5 were made; the limit keeps two old ReplicaSets (3 and 4) and the new one.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(replicaSets(ns, "hist").stream().map(DeploymentUtil::revision).sorted())
                    .containsExactly(3L, 4L, 5L));
    assertThat(Meta.annotations(get(ns, "hist")))
        .containsEntry("deployment.kubernetes.io/revision", "5");

    // Roll back to revision 3 as `kubectl rollout undo --to-revision=3` does: the template of
    // that ReplicaSet (without its hash label) is written back to the Deployment.
    ObjectNode rev3 =
        replicaSets(ns, "hist").stream()
            .filter(rs -> DeploymentUtil.revision(rs) == 3)
            .findFirst()
            .orElseThrow();
    ObjectNode template = rev3.path("spec").path("template").deepCopy();
    ((ObjectNode) template.path("metadata").path("labels")).remove("pod-template-hash");
    ((ObjectNode) template.path("metadata")).putNull("creationTimestamp");
    ArrayNode undo = KubeClient.JSON.createArrayNode();
    undo.addObject().put("op", "replace").put("path", "/spec/template").set("value", template);
    c.patch(Resource.DEPLOYMENTS, ns, "hist", PatchType.JSON, undo);
    awaitRolledOut(ns, "hist");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              List<ObjectNode> rsList = replicaSets(ns, "hist");
              // The old ReplicaSet came back as revision 6; no new ReplicaSet was made.
              assertThat(rsList.stream().map(Meta::name)).contains(Meta.name(rev3));
              ObjectNode back =
                  rsList.stream()
                      .filter(rs -> Meta.name(rs).equals(Meta.name(rev3)))
                      .findFirst()
                      .orElseThrow();
              assertThat(DeploymentUtil.revision(back)).isEqualTo(6);
              assertThat(back.path("spec").path("replicas").asInt()).isEqualTo(2);
              assertThat(rsList.stream().map(DeploymentUtil::revision).sorted())
                  .containsExactly(4L, 5L, 6L);
            });
    assertThat(pods(ns, "hist")).hasSize(2).allMatch(p -> image(p).equals("app:3"));
    assertThat(Meta.annotations(get(ns, "hist")))
        .containsEntry("deployment.kubernetes.io/revision", "6");
  }

  @Test
  void pausedDeploymentsDoNotRollOutUntilResumed() {
    String ns = f.namespace("dep-pause");
    f.kubelet(ns, Duration.ofMillis(10));
    c.create(Resource.DEPLOYMENTS, ns, deployment("p", 2, "app:1"));
    awaitRolledOut(ns, "p");
    c.patch(Resource.DEPLOYMENTS, ns, "p", PatchType.MERGE, json("{'spec':{'paused':true}}"));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              JsonNode cond = condition(get(ns, "p"), "Progressing");
              assertThat(cond.path("reason").asText()).isEqualTo("DeploymentPaused");
              assertThat(cond.path("status").asText()).isEqualTo("Unknown");
            });
    setImage(ns, "p", "app:2");
    // Scaling still works while paused; the template change does not roll out.
    c.patch(Resource.DEPLOYMENTS, ns, "p", PatchType.MERGE, json("{'spec':{'replicas':3}}"));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              ObjectNode d = get(ns, "p");
              assertThat(d.path("status").path("observedGeneration").asLong())
                  .isEqualTo(Meta.generation(d));
              assertThat(pods(ns, "p")).hasSize(3).allMatch(p -> image(p).equals("app:1"));
            });
    assertThat(replicaSets(ns, "p")).hasSize(1);
    c.patch(Resource.DEPLOYMENTS, ns, "p", PatchType.MERGE, json("{'spec':{'paused':null}}"));
    awaitRolledOut(ns, "p");
    assertThat(pods(ns, "p")).hasSize(3).allMatch(p -> image(p).equals("app:2"));
    assertThat(replicaSets(ns, "p")).hasSize(2);
  }

  @Test
  void scalingDuringARolloutIsProportional() {
    String ns = f.namespace("dep-proportional");
    ControllerFixture.Kubelet kubelet = f.kubelet(ns, Duration.ofMillis(10));
    ObjectNode d = deployment("prop", 4, "app:1");
    ((ObjectNode) d.path("spec"))
        .putObject("strategy")
        .put("type", "RollingUpdate")
        .putObject("rollingUpdate")
        .put("maxSurge", 1)
        .put("maxUnavailable", 0);
    c.create(Resource.DEPLOYMENTS, ns, d);
    awaitRolledOut(ns, "prop");
    String oldRs = Meta.name(replicaSets(ns, "prop").get(0));
    kubelet.enabled.set(false); // the rollout gets stuck with 4 old pods and 1 new one
    setImage(ns, "prop", "app:2");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> replicaSets(ns, "prop").size() == 2 && pods(ns, "prop").size() == 5);
    c.patch(Resource.DEPLOYMENTS, ns, "prop", PatchType.MERGE, json("{'spec':{'replicas':8}}"));
    // 8 + maxSurge 1 = 9 pods, spread by size over 5 (the max-replicas annotation):
    // old 4 * 9/5 = 7.2 -> 7, new 1 * 9/5 = 1.8 -> 2.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              for (ObjectNode rs : replicaSets(ns, "prop")) {
                int want = Meta.name(rs).equals(oldRs) ? 7 : 2;
                assertThat(rs.path("spec").path("replicas").asInt())
                    .as(Meta.name(rs))
                    .isEqualTo(want);
                assertThat(Meta.annotations(rs))
                    .containsEntry("deployment.kubernetes.io/desired-replicas", "8")
                    .containsEntry("deployment.kubernetes.io/max-replicas", "9");
              }
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(f.events(ns, "prop", "ScalingReplicaSet"))
                    .contains("Scaled up replica set " + oldRs + " from 4 to 7"));
    kubelet.enabled.set(true);
    kubelet.catchUp();
    awaitRolledOut(ns, "prop");
    assertThat(pods(ns, "prop")).hasSize(8).allMatch(p -> image(p).equals("app:2"));
  }

  @Test
  void aRolloutThatMakesNoProgressExceedsItsDeadline() {
    String ns = f.namespace("dep-deadline");
    ControllerFixture.Kubelet kubelet = f.kubelet(ns, Duration.ofMillis(10));
    ObjectNode d = deployment("stuck", 2, "app:1");
    ((ObjectNode) d.path("spec")).put("progressDeadlineSeconds", 3);
    c.create(Resource.DEPLOYMENTS, ns, d);
    awaitRolledOut(ns, "stuck");
    kubelet.enabled.set(false); // the new pods never become ready
    setImage(ns, "stuck", "app:broken");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              ObjectNode now = get(ns, "stuck");
              JsonNode cond = condition(now, "Progressing");
              assertThat(cond.path("status").asText()).isEqualTo("False");
              assertThat(cond.path("reason").asText()).isEqualTo("ProgressDeadlineExceeded");
              assertThat(cond.path("message").asText()).endsWith("has timed out progressing.");
            });
    // maxUnavailable 25% of 2 rounds down to 0: both old pods still serve.
    assertThat(pods(ns, "stuck").stream().filter(ControllerFixture::isReady)).hasSize(2);
    assertThat(condition(get(ns, "stuck"), "Available").path("status").asText()).isEqualTo("True");
    // Once the pods come up, the rollout completes after all.
    kubelet.enabled.set(true);
    kubelet.catchUp();
    awaitRolledOut(ns, "stuck");
  }
}
