package dev.kubelite.controller.gc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.cache.EventHandler;
import dev.kubelite.client.cache.Informer;
import dev.kubelite.client.testing.Cluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Cascading deletion through the real API server: a Deployment → ReplicaSet → Pod chain created
 * directly with ownerReferences, deleted in the background, in the foreground and with orphaning.
 */
class GarbageCollectorTest {
  static Cluster cluster;
  static KubeClient c;
  static GarbageCollector gc;
  static final Duration DEADLINE = Duration.ofSeconds(30);

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster();
    c = cluster.client();
    gc = new GarbageCollector(c, GarbageCollector.Options.defaults());
    gc.start();
    await().atMost(DEADLINE).until(gc::hasSynced);
  }

  @AfterAll
  static void stop() {
    if (gc != null) {
      gc.close();
    }
    cluster.close();
  }

  static void namespace(String ns) {
    ObjectNode n = KubeClient.JSON.createObjectNode();
    n.putObject("metadata").put("name", ns);
    c.create(Resource.NAMESPACES, null, n);
  }

  static ObjectNode ownerRef(JsonNode owner, boolean controller) {
    ObjectNode r = KubeClient.JSON.createObjectNode();
    r.put("apiVersion", owner.path("apiVersion").asText());
    r.put("kind", owner.path("kind").asText());
    r.put("name", Meta.name(owner));
    r.put("uid", Meta.uid(owner));
    r.put("controller", controller);
    r.put("blockOwnerDeletion", true);
    return r;
  }

  static ObjectNode deployment(String ns, String name) {
    ObjectNode d = KubeClient.JSON.createObjectNode();
    d.put("apiVersion", "apps/v1").put("kind", "Deployment");
    d.putObject("metadata").put("name", name).put("namespace", ns);
    ObjectNode spec = d.putObject("spec");
    spec.put("replicas", 2);
    spec.putObject("selector").putObject("matchLabels").put("app", name);
    ObjectNode t = spec.putObject("template");
    t.putObject("metadata").putObject("labels").put("app", name);
    t.putObject("spec").putArray("containers").addObject().put("name", "c").put("image", "x:1");
    return c.create(Resource.DEPLOYMENTS, ns, d);
  }

  static ObjectNode replicaSet(String ns, String name, JsonNode owner) {
    ObjectNode d = KubeClient.JSON.createObjectNode();
    d.put("apiVersion", "apps/v1").put("kind", "ReplicaSet");
    ObjectNode m = d.putObject("metadata").put("name", name).put("namespace", ns);
    m.putArray("ownerReferences").add(ownerRef(owner, true));
    ObjectNode spec = d.putObject("spec");
    spec.put("replicas", 2);
    spec.putObject("selector").putObject("matchLabels").put("app", name);
    ObjectNode t = spec.putObject("template");
    t.putObject("metadata").putObject("labels").put("app", name);
    t.putObject("spec").putArray("containers").addObject().put("name", "c").put("image", "x:1");
    return c.create(Resource.REPLICASETS, ns, d);
  }

  static ObjectNode pod(String ns, String name, String node, JsonNode... owners) {
    ObjectNode p = KubeClient.JSON.createObjectNode();
    p.put("apiVersion", "v1").put("kind", "Pod");
    ObjectNode m = p.putObject("metadata").put("name", name).put("namespace", ns);
    if (owners.length > 0) {
      var refs = m.putArray("ownerReferences");
      for (JsonNode o : owners) {
        refs.add(o.isObject() && o.has("uid") && !o.has("metadata") ? o : ownerRef(o, true));
      }
    }
    ObjectNode spec = p.putObject("spec");
    spec.putArray("containers").addObject().put("name", "c").put("image", "x:1");
    if (node != null) {
      spec.put("nodeName", node);
    }
    return c.create(Resource.PODS, ns, p);
  }

  static boolean gone(Resource r, String ns, String name) {
    try {
      c.get(r, ns, name);
      return false;
    } catch (ApiException e) {
      if (e.isNotFound()) {
        return true;
      }
      throw e;
    }
  }

  @Test
  void withInformersSharedWithAControllerThatStartedFirstItCollectsOnlyWhatIsOrphaned()
      throws Exception {
    // A cluster of its own: the collector of the other tests would collect here too.
    try (Cluster own = new Cluster()) {
      KubeClient k = own.client();
      String ns = "default";
      ObjectNode owner = KubeClient.JSON.createObjectNode();
      owner.put("apiVersion", "v1").put("kind", "ConfigMap");
      owner.putObject("metadata").put("name", "owner");
      owner = k.create(Resource.CONFIGMAPS, ns, owner);
      ObjectNode gone = KubeClient.JSON.createObjectNode();
      gone.put("apiVersion", "v1").put("kind", "ConfigMap");
      gone.putObject("metadata").put("name", "gone").put("uid", "no-such-uid");
      for (String[] p : new String[][] {{"kept", "live"}, {"orphan", "gone"}}) {
        ObjectNode pod = KubeClient.JSON.createObjectNode();
        pod.put("apiVersion", "v1").put("kind", "Pod");
        pod.putObject("metadata")
            .put("name", p[0])
            .putArray("ownerReferences")
            .add(ownerRef(p[1].equals("live") ? owner : gone, false));
        pod.putObject("spec").putArray("containers").addObject().put("name", "c").put("image", "x");
        k.create(Resource.PODS, ns, pod);
      }
      // Another controller's pod informer has listed (and synced) before the collector starts.
      dev.kubelite.controller.SharedInformers shared =
          new dev.kubelite.controller.SharedInformers();
      dev.kubelite.controller.SharedInformers.Handle pods = shared.acquire(k, Resource.PODS);
      pods.start();
      await().atMost(DEADLINE).until(pods.informer()::hasSynced);
      GarbageCollector sharing =
          new GarbageCollector(k, GarbageCollector.Options.defaults(), shared);
      try {
        sharing.start();
        await().atMost(DEADLINE).until(sharing::hasSynced);
        await()
            .atMost(DEADLINE)
            .until(
                () -> {
                  try {
                    k.get(Resource.PODS, ns, "orphan");
                    return false;
                  } catch (ApiException e) {
                    return e.isNotFound();
                  }
                });
        assertThat(Meta.name(k.get(Resource.PODS, ns, "kept"))).isEqualTo("kept");
        // The collector's informer on pods is the shared one (one watch, one cache).
        dev.kubelite.controller.SharedInformers.Handle check = shared.acquire(k, Resource.PODS);
        assertThat(check.informer()).isSameAs(pods.informer());
        check.close();
        sharing.close();
        // The collector let go of its use: the other controller's informer still runs.
        assertThat(pods.informer().hasSynced()).isTrue();
        check = shared.acquire(k, Resource.PODS);
        assertThat(check.informer()).isSameAs(pods.informer());
        check.close();
      } finally {
        sharing.close();
        pods.close();
      }
    }
  }

  @Test
  void backgroundDeletionRemovesTheWholeChain() {
    String ns = "gc-bg";
    namespace(ns);
    ObjectNode d = deployment(ns, "web");
    ObjectNode rs = replicaSet(ns, "web-1", d);
    pod(ns, "web-1-a", null, rs);
    pod(ns, "web-1-b", null, rs);

    c.delete(Resource.DEPLOYMENTS, ns, "web");
    await().atMost(DEADLINE).until(() -> gone(Resource.REPLICASETS, ns, "web-1"));
    await()
        .atMost(DEADLINE)
        .until(
            () ->
                c.list(Resource.PODS, ns, dev.kubelite.client.ListOptions.NONE)
                    .path("items")
                    .isEmpty());
  }

  @Test
  void foregroundDeletionDeletesDependentsBeforeTheOwner() throws Exception {
    String ns = "gc-fg";
    namespace(ns);
    Map<String, Long> deletedAt = new ConcurrentHashMap<>();
    List<Informer> watchers = new ArrayList<>();
    for (Resource r : List.of(Resource.DEPLOYMENTS, Resource.REPLICASETS, Resource.PODS)) {
      Informer inf = new Informer(c, r, ns, Informer.Options.defaults());
      inf.addEventHandler(
          new EventHandler() {
            @Override
            public void onDelete(ObjectNode obj) {
              deletedAt.put(
                  obj.path("kind").asText() + "/" + Meta.name(obj),
                  Long.parseLong(Meta.resourceVersion(obj)));
            }
          });
      inf.start();
      watchers.add(inf);
    }
    try {
      await().atMost(DEADLINE).until(() -> watchers.stream().allMatch(Informer::hasSynced));
      ObjectNode d = deployment(ns, "api");
      ObjectNode rs = replicaSet(ns, "api-1", d);
      pod(ns, "api-1-a", null, rs);
      // Bound to a node: its deletion waits for the kubelet (grace period), holding up the chain.
      pod(ns, "api-1-b", "node-1", rs);

      ObjectNode opts = KubeClient.JSON.createObjectNode().put("propagationPolicy", "Foreground");
      ObjectNode answer = c.delete(Resource.DEPLOYMENTS, ns, "api", opts);
      assertThat(answer.path("metadata").path("finalizers").toString())
          .isEqualTo("[\"foregroundDeletion\"]");

      // The ReplicaSet is deleted in the foreground too (it has dependents); the unbound pod goes.
      await()
          .atMost(DEADLINE)
          .until(
              () ->
                  c.get(Resource.REPLICASETS, ns, "api-1")
                      .path("metadata")
                      .path("finalizers")
                      .toString()
                      .equals("[\"foregroundDeletion\"]"));
      await().atMost(DEADLINE).until(() -> gone(Resource.PODS, ns, "api-1-a"));
      JsonNode terminating = c.get(Resource.PODS, ns, "api-1-b");
      assertThat(Meta.isBeingDeleted(terminating)).isTrue();
      assertThat(gone(Resource.DEPLOYMENTS, ns, "api")).isFalse();
      assertThat(gone(Resource.REPLICASETS, ns, "api-1")).isFalse();

      // The "kubelet" confirms the pod's termination: the chain completes, dependents first.
      c.delete(
          Resource.PODS,
          ns,
          "api-1-b",
          KubeClient.JSON.createObjectNode().put("gracePeriodSeconds", 0));
      await().atMost(DEADLINE).until(() -> gone(Resource.DEPLOYMENTS, ns, "api"));
      assertThat(gone(Resource.REPLICASETS, ns, "api-1")).isTrue();
      await().atMost(DEADLINE).until(() -> deletedAt.size() == 4);
      long lastPod = Math.max(deletedAt.get("Pod/api-1-a"), deletedAt.get("Pod/api-1-b"));
      assertThat(lastPod).isLessThan(deletedAt.get("ReplicaSet/api-1"));
      assertThat(deletedAt.get("ReplicaSet/api-1")).isLessThan(deletedAt.get("Deployment/api"));
    } finally {
      watchers.forEach(Informer::close);
    }
  }

  @Test
  void orphanDeletionKeepsTheDependentsWithoutTheReference() {
    String ns = "gc-orphan";
    namespace(ns);
    ObjectNode d = deployment(ns, "db");
    ObjectNode rs = replicaSet(ns, "db-1", d);
    pod(ns, "db-1-a", null, rs);

    ObjectNode opts = KubeClient.JSON.createObjectNode().put("propagationPolicy", "Orphan");
    c.delete(Resource.DEPLOYMENTS, ns, "db", opts);
    await().atMost(DEADLINE).until(() -> gone(Resource.DEPLOYMENTS, ns, "db"));
    ObjectNode orphan = c.get(Resource.REPLICASETS, ns, "db-1");
    assertThat(orphan.path("metadata").has("ownerReferences")).isFalse();
    assertThat(Meta.isBeingDeleted(orphan)).isFalse();
    // Only the deleted owner's references go: the pod still belongs to the ReplicaSet.
    ObjectNode p = c.get(Resource.PODS, ns, "db-1-a");
    assertThat(p.path("metadata").path("ownerReferences").get(0).path("uid").asText())
        .isEqualTo(Meta.uid(rs));
    // And the orphaned ReplicaSet is not collected later.
    await()
        .atMost(DEADLINE)
        .until(() -> gc.graphItem(Meta.uid(orphan)).map(i -> i.owners().isEmpty()).orElse(false));
    assertThat(gone(Resource.REPLICASETS, ns, "db-1")).isFalse();
  }

  @Test
  void aDependentOfAnOwnerWithAnotherUidIsGarbageAndOneWithALiveOwnerOnlyLosesTheDeadReference() {
    String ns = "gc-uid";
    namespace(ns);
    ObjectNode d = deployment(ns, "old");
    String oldUid = Meta.uid(d);
    c.delete(Resource.DEPLOYMENTS, ns, "old");
    await().atMost(DEADLINE).until(() -> gone(Resource.DEPLOYMENTS, ns, "old"));
    ObjectNode again = deployment(ns, "old");
    assertThat(Meta.uid(again)).isNotEqualTo(oldUid);
    ObjectNode staleRef = ownerRef(again, true).put("uid", oldUid);
    ObjectNode cm = deployment(ns, "alive");

    pod(ns, "stale", null, staleRef);
    pod(ns, "shared", null, staleRef, ownerRef(cm, false));
    await().atMost(DEADLINE).until(() -> gone(Resource.PODS, ns, "stale"));
    await()
        .atMost(DEADLINE)
        .until(
            () ->
                c.get(Resource.PODS, ns, "shared").path("metadata").path("ownerReferences").size()
                    == 1);
    assertThat(
            c.get(Resource.PODS, ns, "shared")
                .path("metadata")
                .path("ownerReferences")
                .get(0)
                .path("uid")
                .asText())
        .isEqualTo(Meta.uid(cm));
    assertThat(gone(Resource.DEPLOYMENTS, ns, "old")).isFalse();
    assertThatThrownBy(() -> c.get(Resource.PODS, ns, "stale")).isInstanceOf(ApiException.class);
  }

  @Test
  void realKubectlCascades() throws Exception {
    Kubectl kubectl = new Kubectl(cluster.dir, cluster.url().toString());
    String ns = "gc-kubectl";
    namespace(ns);
    ObjectNode d = deployment(ns, "fg");
    ObjectNode rs = replicaSet(ns, "fg-1", d);
    pod(ns, "fg-1-a", null, rs);
    // --cascade=foreground waits until the Deployment is gone, which is after its dependents.
    assertThat(kubectl.ok("delete", "-n", ns, "deployment", "fg", "--cascade=foreground"))
        .contains("deployment.apps \"fg\" deleted");
    assertThat(gone(Resource.DEPLOYMENTS, ns, "fg")).isTrue();
    assertThat(gone(Resource.REPLICASETS, ns, "fg-1")).isTrue();
    assertThat(gone(Resource.PODS, ns, "fg-1-a")).isTrue();

    ObjectNode d2 = deployment(ns, "or");
    replicaSet(ns, "or-1", d2);
    assertThat(kubectl.ok("delete", "-n", ns, "deployment", "or", "--cascade=orphan"))
        .contains("deployment.apps \"or\" deleted");
    await().atMost(DEADLINE).until(() -> gone(Resource.DEPLOYMENTS, ns, "or"));
    assertThat(c.get(Resource.REPLICASETS, ns, "or-1").path("metadata").has("ownerReferences"))
        .isFalse();
  }

  @Test
  void aClusterScopedObjectNamingANamespacedOwnerIsKept() {
    ObjectNode node = KubeClient.JSON.createObjectNode();
    node.put("apiVersion", "v1").put("kind", "Node");
    ObjectNode m = node.putObject("metadata").put("name", "owned-node");
    ObjectNode ref = m.putArray("ownerReferences").addObject();
    ref.put("apiVersion", "apps/v1").put("kind", "Deployment").put("name", "nowhere");
    ref.put("uid", "00000000-0000-0000-0000-000000000001");
    ObjectNode created = c.create(Resource.NODES, null, node);
    // A dangling namespaced dependent next to it is collected, so the collector has looked.
    ObjectNode cm = KubeClient.JSON.createObjectNode();
    cm.put("apiVersion", "v1").put("kind", "ConfigMap");
    ObjectNode cmm = cm.putObject("metadata").put("name", "dangling");
    cmm.putArray("ownerReferences").add(ref.deepCopy());
    c.create(Resource.CONFIGMAPS, "default", cm);
    await().atMost(DEADLINE).until(() -> gone(Resource.CONFIGMAPS, "default", "dangling"));
    await().atMost(DEADLINE).until(() -> gc.graphItem(Meta.uid(created)).isPresent());
    await()
        .during(Duration.ofMillis(500))
        .atMost(DEADLINE)
        .until(() -> !gone(Resource.NODES, null, "owned-node"));
  }

  @Test
  void aNodesLeaseGoesWithTheNode() {
    // The kubelet makes its node the owner of its heartbeat Lease (a cluster-scoped owner).
    ObjectNode node = KubeClient.JSON.createObjectNode();
    node.put("apiVersion", "v1").put("kind", "Node");
    node.putObject("metadata").put("name", "leased-node");
    ObjectNode n = c.create(Resource.NODES, null, node);
    ObjectNode lease = KubeClient.JSON.createObjectNode();
    lease.put("apiVersion", "coordination.k8s.io/v1").put("kind", "Lease");
    ObjectNode m = lease.putObject("metadata").put("name", "leased-node");
    m.putArray("ownerReferences").add(ownerRef(n, false));
    lease.putObject("spec").put("holderIdentity", "leased-node");
    c.create(Resource.LEASES, "kube-node-lease", lease);

    c.delete(Resource.NODES, null, "leased-node");
    await().atMost(DEADLINE).until(() -> gone(Resource.LEASES, "kube-node-lease", "leased-node"));
  }
}
