package dev.kubelite.controller.replicaset;

import static dev.kubelite.controller.testing.ControllerFixture.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.testing.HeldRangesKvStore;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import dev.kubelite.controller.testing.ControllerFixture;
import dev.kubelite.store.client.Kv;
import dev.kubelite.store.client.RangeQuery;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The controller-manager fail-over of an HA cluster, without processes: a ReplicaSet whose pods
 * exist already (made while no controller ran) and a fresh ReplicaSetController whose pod LIST is
 * slow. It must neither create nor delete a pod: it reconciles only once its caches have synced.
 */
class ReplicaSetControllerCacheSyncTest {
  private HeldRangesKvStore apiStore;
  private ControllerFixture f;

  @BeforeEach
  void start() throws Exception {
    AtomicReference<HeldRangesKvStore> held = new AtomicReference<>();
    Cluster cluster =
        new Cluster(
            1000,
            s -> {
              held.set(new HeldRangesKvStore(s));
              return held.get();
            });
    apiStore = held.get();
    f = new ControllerFixture(cluster);
  }

  @AfterEach
  void stop() {
    if (apiStore != null) {
      apiStore.release();
    }
    if (f != null) {
      f.close();
    }
  }

  /** The pod keys of {@code ns} as the store holds them (read past the API server). */
  private Set<String> podKeys(String ns) throws Exception {
    byte[] prefix = ("/registry/pods/" + ns + "/").getBytes(StandardCharsets.UTF_8);
    Set<String> keys = new TreeSet<>();
    for (Kv kv :
        f.cluster
            .store
            .range(RangeQuery.prefix(prefix).withMode(RangeQuery.Mode.KEYS_ONLY))
            .get(10, TimeUnit.SECONDS)
            .kvs()) {
      keys.add(kv.keyUtf8());
    }
    return keys;
  }

  @Test
  void aControllerWhosePodListIsSlowCreatesAndDeletesNothing() throws Exception {
    String ns = f.namespace("rs-sync");
    int replicas = 3;
    ObjectNode rs = ReplicaSetControllerTest.rs("web", replicas, "web");
    ObjectNode created = f.client.create(Resource.REPLICASETS, ns, rs);
    // Its pods, made by the previous leader: labelled and owned by the ReplicaSet.
    for (int i = 0; i < replicas; i++) {
      ObjectNode pod =
          json(
              """
              {'apiVersion':'v1','kind':'Pod',
               'metadata':{'name':'web-%d','labels':{'app':'web','tier':'fe'},
                'ownerReferences':[{'apiVersion':'apps/v1','kind':'ReplicaSet','name':'web',
                 'uid':'%s','controller':true,'blockOwnerDeletion':true}]},
               'spec':{'containers':[{'name':'main','image':'nginx:1.27'}]}}"""
                  .formatted(i, Meta.uid(created)));
      f.client.create(Resource.PODS, ns, pod);
    }
    Set<String> before = podKeys(ns);
    assertThat(before).hasSize(replicas);

    // The new leader starts its controller while its pod LIST is slow.
    apiStore.hold("/registry/pods/");
    ReplicaSetController c = f.startNoWait(new ReplicaSetController(f.client, 3));
    await().atMost(Duration.ofSeconds(30)).until(() -> apiStore.heldRanges.get() >= 1);
    // The ReplicaSet is listed (and its key queued) but the pods are not: no reconcile may act.
    await("no pod created or deleted and the controller not synced while its pod list waits")
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> podKeys(ns).equals(before) && !c.hasSynced());
    assertThat(f.events(ns, "web", "SuccessfulCreate")).isEmpty();

    apiStore.release();
    await().atMost(Duration.ofSeconds(30)).until(c::hasSynced);
    // The key queued while waiting is reconciled now: the status counts the existing pods...
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                f.client
                        .get(Resource.REPLICASETS, ns, "web")
                        .path("status")
                        .path("replicas")
                        .asInt(-1)
                    == replicas);
    // ...and still not one pod was created or deleted.
    await("no pod created or deleted after the sync")
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(5))
        .until(() -> podKeys(ns).equals(before));
    assertThat(f.events(ns, "web", "SuccessfulCreate")).isEmpty();
    assertThat(f.events(ns, "web", "SuccessfulDelete")).isEmpty();
  }
}
