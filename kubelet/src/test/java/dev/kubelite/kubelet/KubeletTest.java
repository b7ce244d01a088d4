package dev.kubelite.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Simulated kubelets against the real API server over a real in-process store member; the tests
 * play the scheduler (pods/binding) and the user (create, delete).
 */
class KubeletTest {
  static Cluster cluster;
  static KubeClient c;

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster();
    c = cluster.client();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  /** Fast timings so tests take seconds. */
  static KubeletConfig.Builder fast(String prefix, int nodes) {
    return KubeletConfig.builder()
        .nodePrefix(prefix)
        .nodes(nodes)
        .leaseRenewInterval(Duration.ofMillis(300))
        .statusReportInterval(Duration.ofSeconds(1))
        .podStartupDelay(Duration.ofMillis(500))
        .maxGracePeriod(Duration.ofSeconds(1))
        .crashLoopBackOff(Duration.ofMillis(500), Duration.ofSeconds(2));
  }

  static ObjectNode get(Resource r, String ns, String name) {
    try {
      return c.get(r, ns, name);
    } catch (ApiException e) {
      if (e.isNotFound()) {
        return null;
      }
      throw e;
    }
  }

  /** Creates a pod in default and binds it to {@code node} as the scheduler would. */
  static ObjectNode runPod(String name, String node, Consumer<ObjectNode> customize) {
    ObjectNode pod = KubeClient.JSON.createObjectNode();
    pod.put("apiVersion", "v1").put("kind", "Pod");
    pod.putObject("metadata").put("name", name);
    ObjectNode container =
        pod.putObject("spec").putArray("containers").addObject().put("name", "app");
    container.put("image", "nginx:1.27");
    customize.accept(pod);
    ObjectNode created = c.create(Resource.PODS, "default", pod);
    ObjectNode binding = KubeClient.JSON.createObjectNode();
    binding.put("apiVersion", "v1").put("kind", "Binding");
    binding.putObject("metadata").put("name", name);
    binding.putObject("target").put("apiVersion", "v1").put("kind", "Node").put("name", node);
    c.subresource("POST", Resource.PODS, "default", name, "binding", binding);
    return created;
  }

  static List<JsonNode> eventsAbout(String name) {
    ObjectNode list =
        c.list(
            Resource.EVENTS,
            "default",
            ListOptions.fields("involvedObject.kind=Pod,involvedObject.name=" + name));
    List<JsonNode> out = new ArrayList<>();
    list.path("items").forEach(out::add);
    return out;
  }

  static List<String> reasons(String pod) {
    return eventsAbout(pod).stream().map(e -> e.path("reason").asText()).toList();
  }

  @Test
  void nodesRegisterWithEverythingAKubeletReportsAndHeartbeat() {
    KubeletConfig config =
        fast("reg", 3)
            .cpu("4")
            .memory("16Gi")
            .maxPods(50)
            .label("zone", "z1")
            .taints(List.of("dedicated=infra:NoSchedule"))
            .build();
    try (Kubelet k = new Kubelet(c, config).start()) {
      assertThat(k.nodeNames()).containsExactly("reg-1", "reg-2", "reg-3");
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      ObjectNode n = c.get(Resource.NODES, null, "reg-2");
      Map<String, String> labels = Meta.labels(n);
      assertThat(labels)
          .containsEntry("kubernetes.io/hostname", "reg-2")
          .containsEntry("kubernetes.io/os", "linux")
          .containsEntry("kubernetes.io/arch", "amd64")
          .containsEntry("zone", "z1");
      JsonNode taint = n.path("spec").path("taints").get(0);
      assertThat(taint.path("key").asText()).isEqualTo("dedicated");
      assertThat(taint.path("value").asText()).isEqualTo("infra");
      assertThat(taint.path("effect").asText()).isEqualTo("NoSchedule");
      assertThat(n.path("spec").path("podCIDR").asText()).isEqualTo("10.0.2.0/24");
      JsonNode st = n.path("status");
      for (String field : List.of("capacity", "allocatable")) {
        assertThat(st.path(field).path("cpu").asText()).isEqualTo("4");
        assertThat(st.path(field).path("memory").asText()).isEqualTo("16Gi");
        assertThat(st.path(field).path("pods").asText()).isEqualTo("50");
      }
      assertThat(st.path("addresses").toString())
          .contains("{\"type\":\"InternalIP\",\"address\":\"172.16.0.2\"}")
          .contains("{\"type\":\"Hostname\",\"address\":\"reg-2\"}");
      assertThat(st.path("nodeInfo").path("kubeletVersion").asText()).startsWith("v1.32");
      assertThat(st.path("nodeInfo").path("operatingSystem").asText()).isEqualTo("linux");
      List<String> types = new ArrayList<>();
      for (JsonNode cond : st.path("conditions")) {
        types.add(cond.path("type").asText());
        assertThat(cond.path("lastHeartbeatTime").asText()).isNotEmpty();
        assertThat(cond.path("status").asText())
            .isEqualTo(cond.path("type").asText().equals("Ready") ? "True" : "False");
      }
      assertThat(types)
          .containsExactlyInAnyOrder("Ready", "MemoryPressure", "DiskPressure", "PIDPressure");

      // Leases: holder, duration, owner, and renewTime moving on.
      ObjectNode lease = c.get(Resource.LEASES, "kube-node-lease", "reg-1");
      assertThat(lease.path("spec").path("holderIdentity").asText()).isEqualTo("reg-1");
      assertThat(lease.path("spec").path("leaseDurationSeconds").asInt()).isEqualTo(40);
      assertThat(lease.path("metadata").path("ownerReferences").get(0).path("uid").asText())
          .isEqualTo(Meta.uid(c.get(Resource.NODES, null, "reg-1")));
      String renew = lease.path("spec").path("renewTime").asText();
      assertThat(renew).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
      for (String node : k.nodeNames()) {
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    !c.get(Resource.LEASES, "kube-node-lease", node)
                        .path("spec")
                        .path("renewTime")
                        .asText()
                        .equals(renew));
      }
      // Node status: the Ready heartbeat moves, its transition time stays.
      String beat = readyCondition("reg-3").path("lastHeartbeatTime").asText();
      String since = readyCondition("reg-3").path("lastTransitionTime").asText();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> !readyCondition("reg-3").path("lastHeartbeatTime").asText().equals(beat));
      assertThat(readyCondition("reg-3").path("lastTransitionTime").asText()).isEqualTo(since);
    }
  }

  static JsonNode readyCondition(String node) {
    for (JsonNode cond : c.get(Resource.NODES, null, node).path("status").path("conditions")) {
      if (cond.path("type").asText().equals("Ready")) {
        return cond;
      }
    }
    throw new AssertionError("node " + node + " has no Ready condition");
  }

  static JsonNode condition(ObjectNode pod, String type) {
    for (JsonNode cond : pod.path("status").path("conditions")) {
      if (cond.path("type").asText().equals(type)) {
        return cond;
      }
    }
    return KubeClient.JSON.missingNode();
  }

  @Test
  void aBoundPodGoesThroughContainerCreatingToRunningWithEveryField() {
    KubeletConfig config = fast("run", 2).podStartupDelay(Duration.ofSeconds(2)).build();
    try (Kubelet k = new Kubelet(c, config).start()) {
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      Instant before = Instant.now().minusSeconds(1);
      runPod(
          "web",
          "run-2",
          p -> {
            ObjectNode res =
                ((ObjectNode) p.path("spec").path("containers").get(0)).putObject("resources");
            res.putObject("requests").put("cpu", "100m").put("memory", "64Mi");
            res.putObject("limits").put("cpu", "100m").put("memory", "64Mi");
          });

      // ContainerCreating first: waiting reason, not ready, no IP yet, hostIP and startTime set.
      AtomicReference<ObjectNode> seen = new AtomicReference<>();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                ObjectNode p = c.get(Resource.PODS, "default", "web");
                seen.set(p);
                return p.path("status").path("containerStatuses").size() == 1;
              });
      ObjectNode creating = seen.get();
      JsonNode cs0 = creating.path("status").path("containerStatuses").get(0);
      assertThat(cs0.path("state").path("waiting").path("reason").asText())
          .isEqualTo("ContainerCreating");
      assertThat(cs0.path("ready").asBoolean()).isFalse();
      assertThat(creating.path("status").path("phase").asText()).isEqualTo("Pending");
      assertThat(creating.path("status").path("hostIP").asText()).isEqualTo("172.16.0.2");

      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                ObjectNode p = c.get(Resource.PODS, "default", "web");
                seen.set(p);
                return condition(p, "Ready").path("status").asText().equals("True");
              });
      ObjectNode p = seen.get();
      JsonNode st = p.path("status");
      assertThat(st.path("phase").asText()).isEqualTo("Running");
      assertThat(st.path("hostIP").asText()).isEqualTo("172.16.0.2");
      assertThat(st.path("hostIPs").get(0).path("ip").asText()).isEqualTo("172.16.0.2");
      assertThat(st.path("podIP").asText()).isEqualTo("10.0.2.2");
      assertThat(st.path("podIPs").get(0).path("ip").asText()).isEqualTo("10.0.2.2");
      assertThat(st.path("qosClass").asText()).isEqualTo("Guaranteed");
      assertThat(Instant.parse(st.path("startTime").asText())).isAfter(before);
      for (String type :
          List.of(
              "PodScheduled",
              "Initialized",
              "ContainersReady",
              "Ready",
              "PodReadyToStartContainers")) {
        assertThat(condition(p, type).path("status").asText()).as(type).isEqualTo("True");
        assertThat(condition(p, type).path("lastTransitionTime").asText()).as(type).isNotEmpty();
      }
      JsonNode cs = st.path("containerStatuses").get(0);
      assertThat(cs.path("name").asText()).isEqualTo("app");
      assertThat(cs.path("ready").asBoolean()).isTrue();
      assertThat(cs.path("started").asBoolean()).isTrue();
      assertThat(cs.path("restartCount").asInt()).isZero();
      assertThat(cs.path("image").asText()).isEqualTo("docker.io/library/nginx:1.27");
      assertThat(cs.path("imageID").asText())
          .matches("docker.io/library/nginx@sha256:[0-9a-f]{64}");
      assertThat(cs.path("containerID").asText()).matches("containerd://[0-9a-f]{64}");
      Instant started = Instant.parse(cs.path("state").path("running").path("startedAt").asText());
      assertThat(started).isAfterOrEqualTo(Instant.parse(st.path("startTime").asText()));

      // The kubelet's events, from this node.
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> reasons("web").containsAll(List.of("Pulling", "Pulled", "Created", "Started")));
      for (JsonNode e : eventsAbout("web")) {
        assertThat(e.path("source").path("component").asText()).isEqualTo("kubelet");
        assertThat(e.path("source").path("host").asText()).isEqualTo("run-2");
      }
      assertThat(
              eventsAbout("web").stream()
                  .filter(e -> e.path("reason").asText().equals("Started"))
                  .findFirst()
                  .orElseThrow()
                  .path("message")
                  .asText())
          .isEqualTo("Started container app");

      // Nothing changes, nothing is written: the pod's resourceVersion stays.
      String rv = Meta.resourceVersion(c.get(Resource.PODS, "default", "web"));
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(4))
          .until(() -> Meta.resourceVersion(c.get(Resource.PODS, "default", "web")).equals(rv));

      // A second pod of the same image on that node: no pull, next IP.
      runPod("web-2", "run-2", x -> {});
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  c.get(Resource.PODS, "default", "web-2")
                      .path("status")
                      .path("podIP")
                      .asText()
                      .equals("10.0.2.3"));
      await().atMost(Duration.ofSeconds(10)).until(() -> reasons("web-2").contains("Started"));
      assertThat(reasons("web-2")).doesNotContain("Pulling");
      assertThat(c.get(Resource.PODS, "default", "web-2").path("status").path("qosClass").asText())
          .isEqualTo("BestEffort");
      deleteNow("web");
      deleteNow("web-2");
    }
  }

  static void deleteNow(String name) {
    ObjectNode o = KubeClient.JSON.createObjectNode().put("gracePeriodSeconds", 0);
    try {
      c.delete(Resource.PODS, "default", name, o);
    } catch (ApiException e) {
      if (!e.isNotFound()) {
        throw e;
      }
    }
  }

  @Test
  void readinessWaitsForTheProbesInitialDelay() {
    try (Kubelet k = new Kubelet(c, fast("ready", 1).build()).start()) {
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      runPod(
          "slow-ready",
          "ready-1",
          p ->
              ((ObjectNode) p.path("spec").path("containers").get(0))
                  .putObject("readinessProbe")
                  .put("initialDelaySeconds", 3)
                  .putObject("httpGet")
                  .put("path", "/")
                  .put("port", 80));
      AtomicReference<ObjectNode> running = new AtomicReference<>();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                ObjectNode p = c.get(Resource.PODS, "default", "slow-ready");
                running.set(p);
                return p.path("status").path("phase").asText().equals("Running");
              });
      JsonNode cs = running.get().path("status").path("containerStatuses").get(0);
      assertThat(cs.path("ready").asBoolean()).isFalse();
      assertThat(cs.path("started").asBoolean()).isTrue();
      assertThat(condition(running.get(), "Ready").path("reason").asText())
          .isEqualTo("ContainersNotReady");
      Instant startedAt =
          Instant.parse(cs.path("state").path("running").path("startedAt").asText());
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  condition(c.get(Resource.PODS, "default", "slow-ready"), "Ready")
                      .path("status")
                      .asText()
                      .equals("True"));
      JsonNode ready = condition(c.get(Resource.PODS, "default", "slow-ready"), "Ready");
      // Seconds precision on both sides: ready no earlier than startedAt + 3 s.
      assertThat(Instant.parse(ready.path("lastTransitionTime").asText()))
          .isAfterOrEqualTo(startedAt.plusSeconds(3));
      deleteNow("slow-ready");
    }
  }

  @Test
  void containersThatExitEndThePodOrRestartByRestartPolicy() {
    try (Kubelet k = new Kubelet(c, fast("exit", 1).build()).start()) {
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      Consumer<ObjectNode> never0 = exitAfter("Never", 1, 0);
      runPod("job-ok", "exit-1", never0);
      runPod("job-fail", "exit-1", exitAfter("Never", 1, 3));
      runPod("crasher", "exit-1", exitAfter("Always", 1, 1));
      runPod("on-failure-ok", "exit-1", exitAfter("OnFailure", 1, 0));

      await().atMost(Duration.ofSeconds(15)).until(() -> phase("job-ok").equals("Succeeded"));
      JsonNode ok = c.get(Resource.PODS, "default", "job-ok").path("status");
      JsonNode okTerm = ok.path("containerStatuses").get(0).path("state").path("terminated");
      assertThat(okTerm.path("exitCode").asInt()).isZero();
      assertThat(okTerm.path("reason").asText()).isEqualTo("Completed");
      assertThat(
              condition(c.get(Resource.PODS, "default", "job-ok"), "Ready").path("reason").asText())
          .isEqualTo("PodCompleted");

      await().atMost(Duration.ofSeconds(15)).until(() -> phase("job-fail").equals("Failed"));
      JsonNode failTerm =
          c.get(Resource.PODS, "default", "job-fail")
              .path("status")
              .path("containerStatuses")
              .get(0)
              .path("state")
              .path("terminated");
      assertThat(failTerm.path("exitCode").asInt()).isEqualTo(3);
      assertThat(failTerm.path("reason").asText()).isEqualTo("Error");

      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> phase("on-failure-ok").equals("Succeeded"));

      // restartPolicy Always: restarts with growing back-off, CrashLoopBackOff in between.
      AtomicReference<Boolean> sawBackOff = new AtomicReference<>(false);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> {
                JsonNode cs =
                    c.get(Resource.PODS, "default", "crasher")
                        .path("status")
                        .path("containerStatuses")
                        .get(0);
                if (cs.path("state")
                    .path("waiting")
                    .path("reason")
                    .asText()
                    .equals("CrashLoopBackOff")) {
                  sawBackOff.set(true);
                }
                return sawBackOff.get() && cs.path("restartCount").asInt() >= 3;
              });
      JsonNode crasher = c.get(Resource.PODS, "default", "crasher").path("status");
      assertThat(crasher.path("phase").asText()).isEqualTo("Running");
      assertThat(
              crasher
                  .path("containerStatuses")
                  .get(0)
                  .path("lastState")
                  .path("terminated")
                  .path("exitCode")
                  .asInt())
          .isEqualTo(1);
      await().atMost(Duration.ofSeconds(10)).until(() -> reasons("crasher").contains("BackOff"));
      for (String p : List.of("job-ok", "job-fail", "crasher", "on-failure-ok")) {
        deleteNow(p);
      }
    }
  }

  static Consumer<ObjectNode> exitAfter(String restartPolicy, int seconds, int code) {
    return p -> {
      ((ObjectNode) p.path("spec")).put("restartPolicy", restartPolicy);
      ((ObjectNode) p.path("metadata"))
          .putObject("annotations")
          .put(PodRuntime.EXIT_AFTER, Integer.toString(seconds))
          .put(PodRuntime.EXIT_CODE, Integer.toString(code));
    };
  }

  static String phase(String pod) {
    return c.get(Resource.PODS, "default", pod).path("status").path("phase").asText();
  }

  @Test
  void gracefulDeletionStopsTheContainersThenRemovesThePod() throws Exception {
    // Grace period 30 s, capped at 1 s by the kubelet: the pod is gone within seconds.
    try (Kubelet k = new Kubelet(c, fast("del", 1).build()).start()) {
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      runPod("doomed", "del-1", p -> {});
      await().atMost(Duration.ofSeconds(10)).until(() -> phase("doomed").equals("Running"));
      assertThat(k.usedIps("del-1")).isEqualTo(1);
      String rv = Meta.resourceVersion(c.get(Resource.PODS, "default", "doomed"));
      dev.kubelite.client.Watch watch =
          c.watch(
              Resource.PODS,
              "default",
              ListOptions.fields("metadata.name=doomed").withResourceVersion(rv));
      ObjectNode answer = c.delete(Resource.PODS, "default", "doomed");
      // Pending deletion: the API server answers with the pod, deletionTimestamp set.
      assertThat(answer.path("metadata").path("deletionTimestamp").isTextual()).isTrue();
      assertThat(answer.path("metadata").path("deletionGracePeriodSeconds").asInt()).isEqualTo(30);
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> get(Resource.PODS, "default", "doomed") == null);
      assertThat(reasons("doomed")).contains("Killing");
      JsonNode killing =
          eventsAbout("doomed").stream()
              .filter(e -> e.path("reason").asText().equals("Killing"))
              .findFirst()
              .orElseThrow();
      assertThat(killing.path("message").asText()).isEqualTo("Stopping container app");
      await().atMost(Duration.ofSeconds(5)).until(() -> k.usedIps("del-1") == 0);
      // What a watcher saw: the deletion pending, the containers terminated with the terminal
      // phase Kubernetes gives a deleted pod, then the pod gone.
      List<dev.kubelite.client.WatchEvent> seen = new ArrayList<>();
      try (watch) {
        for (dev.kubelite.client.WatchEvent e = watch.next(); e != null; e = watch.next()) {
          seen.add(e);
          if (e.type().equals("DELETED")) {
            break;
          }
        }
      }
      assertThat(seen).extracting(dev.kubelite.client.WatchEvent::type).endsWith("DELETED");
      ObjectNode last = seen.get(seen.size() - 2).object();
      assertThat(last.path("status").path("phase").asText()).isEqualTo("Succeeded");
      JsonNode term =
          last.path("status").path("containerStatuses").get(0).path("state").path("terminated");
      assertThat(term.path("exitCode").asInt()).isZero();
      assertThat(term.path("reason").asText()).isEqualTo("Completed");
      assertThat(last.path("metadata").path("deletionTimestamp").isTextual()).isTrue();
    }
  }

  @Test
  void aSecondDeleteWithAShorterGracePeriodShortensTheWait() {
    // No cap worth speaking of: the pod's own 30 s would apply.
    KubeletConfig config = fast("grace", 1).maxGracePeriod(Duration.ofMinutes(5)).build();
    try (Kubelet k = new Kubelet(c, config).start()) {
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      runPod("patient", "grace-1", p -> {});
      await().atMost(Duration.ofSeconds(10)).until(() -> phase("patient").equals("Running"));
      c.delete(Resource.PODS, "default", "patient");
      await().atMost(Duration.ofSeconds(10)).until(() -> reasons("patient").contains("Killing"));
      assertThat(get(Resource.PODS, "default", "patient")).isNotNull();
      c.delete(
          Resource.PODS,
          "default",
          "patient",
          KubeClient.JSON.createObjectNode().put("gracePeriodSeconds", 1));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> get(Resource.PODS, "default", "patient") == null);
    }
  }

  @Test
  void aPodDeletedBeforeItsContainersStartEndsAndGoes() {
    KubeletConfig config = fast("early", 1).podStartupDelay(Duration.ofMinutes(1)).build();
    try (Kubelet k = new Kubelet(c, config).start()) {
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      runPod("never-started", "early-1", p -> {});
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  c.get(Resource.PODS, "default", "never-started")
                          .path("status")
                          .path("containerStatuses")
                          .size()
                      == 1);
      c.delete(Resource.PODS, "default", "never-started");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> get(Resource.PODS, "default", "never-started") == null);
      assertThat(reasons("never-started")).doesNotContain("Started", "Killing");
      await().atMost(Duration.ofSeconds(5)).until(() -> k.usedIps("early-1") == 0);
    }
  }

  @Test
  void kubectlDeletePodFinishes() throws Exception {
    Kubectl kubectl = new Kubectl(cluster.dir, cluster.url().toString());
    try (Kubelet k = new Kubelet(c, fast("kctl", 1).build()).start()) {
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      runPod("kubectl-victim", "kctl-1", p -> {});
      await().atMost(Duration.ofSeconds(10)).until(() -> phase("kubectl-victim").equals("Running"));
      assertThat(kubectl.ok("delete", "pod", "kubectl-victim", "--timeout=30s"))
          .contains("pod \"kubectl-victim\" deleted");
      assertThat(get(Resource.PODS, "default", "kubectl-victim")).isNull();
    }
  }

  @Test
  void podIpsAreUniqueAndComeFromEachNodesRange() {
    // Without pod events and startup delay (the benchmark setting): one status write per pod.
    KubeletConfig config = fast("ip", 2).podStartupDelay(Duration.ZERO).podEvents(false).build();
    try (Kubelet k = new Kubelet(c, config).start()) {
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      List<String> names = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        String name = "ip-pod-" + i;
        names.add(name);
        runPod(name, i % 2 == 0 ? "ip-1" : "ip-2", p -> {});
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  c.list(Resource.PODS, "default", ListOptions.fields("spec.nodeName=ip-1"))
                              .path("items")
                              .size()
                          == 20
                      && names.stream().allMatch(n -> phase(n).equals("Running")));
      Set<String> ips = new HashSet<>();
      for (String n : names) {
        ObjectNode p = c.get(Resource.PODS, "default", n);
        String ip = p.path("status").path("podIP").asText();
        String node = p.path("spec").path("nodeName").asText();
        assertThat(ip).startsWith(node.equals("ip-1") ? "10.0.1." : "10.0.2.");
        assertThat(ips.add(ip)).as("duplicate pod IP " + ip).isTrue();
      }
      assertThat(ips).hasSize(40);
      assertThat(eventsAbout("ip-pod-7")).isEmpty();
      for (String n : names) {
        deleteNow(n);
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> k.usedIps("ip-1") == 0 && k.usedIps("ip-2") == 0);
    }
  }

  @Test
  void aStoppedKubeletsLeasesStopRenewingAndItsNodesStay() {
    Kubelet k = new Kubelet(c, fast("gone", 2).build()).start();
    try {
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> get(Resource.LEASES, "kube-node-lease", "gone-2") != null);
    } finally {
      k.close();
    }
    String renew1 = renewTime("gone-1");
    String renew2 = renewTime("gone-2");
    // Ten renew intervals of silence.
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(5))
        .until(() -> renewTime("gone-1").equals(renew1) && renewTime("gone-2").equals(renew2));
    assertThat(get(Resource.NODES, null, "gone-1")).isNotNull();
    assertThat(get(Resource.NODES, null, "gone-2")).isNotNull();
  }

  static String renewTime(String node) {
    return c.get(Resource.LEASES, "kube-node-lease", node).path("spec").path("renewTime").asText();
  }

  @Test
  void aNodeStoppedOnCommandGoesSilentAndResumesWhenStarted() {
    try (Kubelet k = new Kubelet(c, fast("flap", 2).build()).start()) {
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> get(Resource.LEASES, "kube-node-lease", "flap-1") != null);
      k.stopNode("flap-1");
      String frozen = renewTime("flap-1");
      String other = renewTime("flap-2");
      runPod("frozen-pod", "flap-1", p -> {});
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(4))
          .until(() -> renewTime("flap-1").equals(frozen) && phase("frozen-pod").equals("Pending"));
      assertThat(renewTime("flap-2")).isNotEqualTo(other);
      k.startNode("flap-1");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> !renewTime("flap-1").equals(frozen) && phase("frozen-pod").equals("Running"));
      deleteNow("frozen-pod");
    }
  }

  @Test
  void theStoppedAnnotationStopsAndStartsANodeFromKubectl() {
    try (Kubelet k = new Kubelet(c, fast("anno", 1).build()).start()) {
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> get(Resource.LEASES, "kube-node-lease", "anno-1") != null);
      ObjectNode patch = KubeClient.JSON.createObjectNode();
      patch.putObject("metadata").putObject("annotations").put(Kubelet.STOPPED_ANNOTATION, "true");
      c.patch(Resource.NODES, null, "anno-1", dev.kubelite.client.PatchType.MERGE, patch);
      // Silent for ten renew intervals once the annotation has been seen.
      AtomicReference<String> frozen = new AtomicReference<>(renewTime("anno-1"));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                String now = renewTime("anno-1");
                boolean same = now.equals(frozen.get());
                frozen.set(now);
                return same;
              });
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(5))
          .until(() -> renewTime("anno-1").equals(frozen.get()));
      ObjectNode remove = KubeClient.JSON.createObjectNode();
      remove.putObject("metadata").putObject("annotations").putNull(Kubelet.STOPPED_ANNOTATION);
      c.patch(Resource.NODES, null, "anno-1", dev.kubelite.client.PatchType.MERGE, remove);
      await().atMost(Duration.ofSeconds(10)).until(() -> !renewTime("anno-1").equals(frozen.get()));
    }
  }

  @Test
  void aRestartedKubeletAdoptsItsRunningPods() {
    ObjectNode before;
    try (Kubelet k = new Kubelet(c, fast("again", 1).build()).start()) {
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      runPod("survivor", "again-1", p -> {});
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  condition(c.get(Resource.PODS, "default", "survivor"), "Ready")
                      .path("status")
                      .asText()
                      .equals("True"));
      before = c.get(Resource.PODS, "default", "survivor");
    }
    try (Kubelet k = new Kubelet(c, fast("again", 1).cpu("2").build()).start()) {
      await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
      // The Node is kept and its status follows the new configuration.
      assertThat(
              c.get(Resource.NODES, null, "again-1")
                  .path("status")
                  .path("capacity")
                  .path("cpu")
                  .asText())
          .isEqualTo("2");
      await().atMost(Duration.ofSeconds(10)).until(() -> k.usedIps("again-1") == 1);
      runPod("newcomer", "again-1", p -> {});
      await().atMost(Duration.ofSeconds(10)).until(() -> phase("newcomer").equals("Running"));
      ObjectNode after = c.get(Resource.PODS, "default", "survivor");
      // Adopted as it was: nothing rewritten.
      assertThat(Meta.resourceVersion(after)).isEqualTo(Meta.resourceVersion(before));
      assertThat(after.path("status").path("podIP")).isEqualTo(before.path("status").path("podIP"));
      assertThat(after.path("status").path("containerStatuses").get(0).path("containerID"))
          .isEqualTo(before.path("status").path("containerStatuses").get(0).path("containerID"));
      assertThat(c.get(Resource.PODS, "default", "newcomer").path("status").path("podIP").asText())
          .isNotEqualTo(before.path("status").path("podIP").asText());
      deleteNow("survivor");
      deleteNow("newcomer");
    }
  }
}
