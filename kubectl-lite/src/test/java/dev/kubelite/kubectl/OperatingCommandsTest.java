package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.kubectl.testing.Cli;
import dev.kubelite.kubectl.testing.Cli.Result;
import dev.kubelite.launcher.AllInOne;
import dev.kubelite.store.testing.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code describe} of workloads and nodes, {@code rollout} and {@code logs} against the all-in-one
 * cluster (store, API server, controllers, scheduler and simulated kubelets), where Deployments
 * really roll out and pods really have logs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OperatingCommandsTest {
  @TempDir static Path dir;
  AllInOne cluster;
  Cli cli;
  Kubectl kubectl;
  KubeClient client;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  void start() throws Exception {
    // These tests compare output with the real kubectl, so they use up's plain-HTTP demo port
    // (--insecure-port); the secured path is covered by ControlPlaneWriteTest and the launcher.
    int insecurePort = FreePorts.next();
    cluster =
        AllInOne.start(
            AllInOne.Options.builder(
                    dir.resolve("cluster"), FreePorts.next(), FreePorts.next(), FreePorts.next())
                .nodes(2)
                .fresh(true)
                .insecurePort(insecurePort)
                .build());
    URI insecure = URI.create("http://127.0.0.1:" + insecurePort);
    cli = new Cli(dir, insecure);
    kubectl = new Kubectl(dir, insecure.toString());
    client = new KubeClient(insecure);
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private Result ok(String... args) {
    Result r = cli.run(args);
    assertThat(r.exitCode()).as(String.join(" ", args) + "\n" + r).isZero();
    return r;
  }

  private ObjectNode deployment(String name, String image, int replicas) throws IOException {
    return (ObjectNode)
        JSON.readTree(
            """
            {"metadata": {"name": "%s", "labels": {"app": "%s"}},
             "spec": {"replicas": %d,
                      "selector": {"matchLabels": {"app": "%s"}},
                      "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                      "template": {"metadata": {"labels": {"app": "%s"}},
                                   "spec": {"containers": [{"name": "main", "image": "%s",
                                     "ports": [{"containerPort": 80}],
                                     "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}]}}}}
            """
                .formatted(name, name, replicas, name, name, image));
  }

  /** Waits until {@code app} has {@code n} pods and none of them is terminating. */
  private void settled(String app, int n) {
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              JsonNode items =
                  client
                      .list(Resource.PODS, "default", ListOptions.labels("app=" + app))
                      .path("items");
              assertThat(items).hasSize(n);
              for (JsonNode p : items) {
                assertThat(Meta.isBeingDeleted(p)).as(Meta.name(p)).isFalse();
              }
            });
  }

  private List<String> images(String app) {
    List<String> out = new ArrayList<>();
    for (JsonNode p :
        client.list(Resource.PODS, "default", ListOptions.labels("app=" + app)).path("items")) {
      if (!Meta.isBeingDeleted(p)) {
        out.add(p.path("spec").path("containers").get(0).path("image").asText());
      }
    }
    return out;
  }

  /** Ages and times change between two runs: compared with them masked and spaces squeezed. */
  private static String masked(String describe) {
    return describe
        .replaceAll("\\b\\d+(s|m|h|d)(\\d+(s|m|h))?\\b", "AGE")
        .replaceAll("AGE \\(xAGE over AGE\\)", "AGE")
        .replaceAll("\\w{3}, \\d\\d \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d [+-]\\d{4}", "TIME")
        .replaceAll("[ \\t]+", " ");
  }

  @Test
  void rolloutStatusHistoryUndoRestartAndDescribe() throws Exception {
    client.create(Resource.DEPLOYMENTS, "default", deployment("web", "nginx:1.27", 3));
    Result status = ok("rollout", "status", "deployment/web", "--timeout=90s");
    assertThat(status.out()).endsWith("deployment \"web\" successfully rolled out\n");
    for (String line : status.out().split("\n")) {
      assertThat(line)
          .matches(
              "Waiting for deployment spec update to be observed\\.\\.\\."
                  + "|Waiting for deployment \"web\" rollout to finish: (\\d+ out of 3 new replicas"
                  + " have been updated|\\d+ old replicas are pending termination|\\d+ of 3 updated"
                  + " replicas are available)\\.\\.\\."
                  + "|deployment \"web\" successfully rolled out");
    }

    // A new template, with a change cause, rolls out as revision 2.
    ObjectNode patch =
        (ObjectNode)
            JSON.readTree(
                "{\"metadata\":{\"annotations\":{\"kubernetes.io/change-cause\":\"image 1.28\"}},"
                    + "\"spec\":{\"template\":{\"spec\":{\"containers\":"
                    + "[{\"name\":\"main\",\"image\":\"nginx:1.28\"}]}}}}");
    client.patch(
        Resource.DEPLOYMENTS, "default", "web", dev.kubelite.client.PatchType.STRATEGIC, patch);
    ok("rollout", "status", "deploy", "web", "--timeout=90s");
    assertThat(images("web")).hasSize(3).containsOnly("nginx:1.28");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(ok("rollout", "history", "deployment/web").out())
                    .isEqualTo(
                        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n"
                            + "2         image 1.28\n\n"));
    assertThat(ok("rollout", "history", "deployment/web").out())
        .isEqualTo(kubectl.ok("rollout", "history", "deployment/web"));
    Result rev1 = ok("rollout", "history", "deployment/web", "--revision=1");
    assertThat(rev1.out())
        .startsWith("deployment.apps/web with revision #1\nPod Template:\n  Labels:  app=web\n")
        .contains("pod-template-hash=", "    Image:      nginx:1.27\n");
    Result noRev = cli.run("rollout", "history", "deployment/web", "--revision=9");
    assertThat(noRev.exitCode()).isEqualTo(1);
    assertThat(noRev.err()).isEqualTo("error: unable to find the specified revision\n");

    // describe deployment, replicaset and pod read as kubectl's (once the old pods are gone, so
    // that both see the same pods).
    settled("web", 3);
    for (String[] args :
        List.of(
            new String[] {"describe", "deployment", "web"},
            new String[] {"describe", "rs", "-l", "app=web"},
            new String[] {"describe", "pods", "-l", "app=web"})) {
      Result ours = ok(args);
      assertThat(masked(ours.out())).as(String.join(" ", args)).isEqualTo(masked(kubectl.ok(args)));
    }
    Result describe = ok("describe", "deploy/web");
    assertThat(describe.out())
        .contains(
            "Replicas:               3 desired | 3 updated | 3 total | 3 available | 0 unavailable")
        .contains("RollingUpdateStrategy:  0 max unavailable, 1 max surge")
        .containsPattern("OldReplicaSets: +web-\\w+ \\(0/0 replicas created\\)")
        .containsPattern("NewReplicaSet: +web-\\w+ \\(3/3 replicas created\\)")
        .containsPattern(
            "Normal +ScalingReplicaSet +\\S+ +deployment-controller +Scaled up replica set web-");

    // undo: back to revision 1's template, which becomes revision 3.
    assertThat(ok("rollout", "undo", "deployment/web").out())
        .isEqualTo("deployment.apps/web rolled back\n");
    ok("rollout", "status", "deployment/web", "--timeout=90s");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(images("web")).hasSize(3).containsOnly("nginx:1.27"));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(ok("rollout", "history", "deployment/web").out())
                    .doesNotContainPattern("(?m)^1 ")
                    .containsPattern("(?m)^2 +image 1.28$")
                    .containsPattern("(?m)^3 +<none>$"));
    assertThat(ok("rollout", "undo", "deployment/web", "--to-revision=3").out())
        .isEqualTo(
            "deployment.apps/web skipped rollback (current template already matches revision 3)\n");
    Result missing = cli.run("rollout", "undo", "deployment/web", "--to-revision=7");
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.err()).isEqualTo("error: unable to find specified revision 7 in history\n");
    assertThat(ok("rollout", "undo", "deployment/web", "--to-revision=2").out())
        .isEqualTo("deployment.apps/web rolled back\n");
    ok("rollout", "status", "deployment/web", "--timeout=90s");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(images("web")).hasSize(3).containsOnly("nginx:1.28"));

    // restart: a template annotation, hence new pods.
    List<String> before = new ArrayList<>();
    client
        .list(Resource.PODS, "default", ListOptions.labels("app=web"))
        .path("items")
        .forEach(p -> before.add(Meta.name(p)));
    assertThat(ok("rollout", "restart", "deployment/web").out())
        .isEqualTo("deployment.apps/web restarted\n");
    ok("rollout", "status", "deployment/web", "--timeout=90s");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              List<String> now = new ArrayList<>();
              for (JsonNode p :
                  client
                      .list(Resource.PODS, "default", ListOptions.labels("app=web"))
                      .path("items")) {
                if (!Meta.isBeingDeleted(p)) {
                  now.add(Meta.name(p));
                }
              }
              assertThat(now).hasSize(3).doesNotContainAnyElementsOf(before);
            });
    JsonNode d = client.get(Resource.DEPLOYMENTS, "default", "web");
    assertThat(
            d.path("spec")
                .path("template")
                .path("metadata")
                .path("annotations")
                .path("kubectl.kubernetes.io/restartedAt")
                .asText())
        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(Z|[+-]\\d\\d:\\d\\d)");
    assertThat(Meta.annotations(d)).containsEntry("deployment.kubernetes.io/revision", "5");
  }

  @Test
  void rolloutStatusTimesOutOrReportsOnceAndRefusesOtherKinds() throws Exception {
    ObjectNode d = deployment("held", "nginx:1.27", 2);
    ((ObjectNode) d.path("spec")).put("paused", true);
    client.create(Resource.DEPLOYMENTS, "default", d);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                client
                        .get(Resource.DEPLOYMENTS, "default", "held")
                        .path("status")
                        .path("observedGeneration")
                        .asLong()
                    >= 1);
    Result once = ok("rollout", "status", "deployment/held", "-w=false");
    assertThat(once.out())
        .isEqualTo(
            "Waiting for deployment \"held\" rollout to finish: 0 out of 2 new replicas have been updated...\n");
    // Created paused: no ReplicaSet yet, so no history and no ReplicaSet lines in describe.
    assertThat(ok("rollout", "history", "deployment/held").out())
        .isEqualTo("deployment.apps/held \nNo rollout history found.\n")
        .isEqualTo(kubectl.ok("rollout", "history", "deployment/held"));
    assertThat(masked(ok("describe", "deployment", "held").out()))
        .doesNotContain("ReplicaSet:")
        .isEqualTo(masked(kubectl.ok("describe", "deployment", "held")));
    long start = System.nanoTime();
    Result timeout = cli.run("rollout", "status", "deployment/held", "--timeout=2s");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
    assertThat(timeout.exitCode()).isEqualTo(1);
    assertThat(timeout.out()).startsWith("Waiting for deployment \"held\" rollout to finish");
    assertThat(timeout.err()).isEqualTo("error: timed out waiting for the condition\n");

    Result restart = cli.run("rollout", "restart", "deployment/held");
    assertThat(restart.exitCode()).isEqualTo(1);
    assertThat(restart.err())
        .isEqualTo(
            "error: deployments.apps \"held\" can't restart paused deployment (run rollout resume first)\n");
    assertThat(ok("rollout", "resume", "deployment/held").out())
        .isEqualTo("deployment.apps/held resumed\n");
    ok("rollout", "status", "deployment/held", "--timeout=90s");
    assertThat(ok("rollout", "pause", "deployment/held").out())
        .isEqualTo("deployment.apps/held paused\n");

    Result gone = cli.run("rollout", "status", "deployment/nope");
    assertThat(gone.exitCode()).isEqualTo(1);
    assertThat(gone.err())
        .isEqualTo("Error from server (NotFound): deployments.apps \"nope\" not found\n");
    Result none = cli.run("rollout", "status");
    assertThat(none.err()).isEqualTo("error: required resource not specified\n");
    String rs =
        Meta.name(
            client
                .list(Resource.REPLICASETS, "default", ListOptions.labels("app=held"))
                .path("items")
                .get(0));
    Result other = cli.run("rollout", "status", "rs/" + rs);
    assertThat(other.exitCode()).isEqualTo(1);
    assertThat(other.err())
        .isEqualTo("error: no status viewer has been implemented for ReplicaSet.apps\n");
    Result undoRs = cli.run("rollout", "undo", "rs/" + rs);
    assertThat(undoRs.err())
        .isEqualTo("error: no rollbacker has been implemented for \"ReplicaSet.apps\"\n");
  }

  private static final String RICH_SPEC =
      """
      {"serviceAccountName": "default",
       "nodeSelector": {"kubernetes.io/os": "linux"},
       "tolerations": [
         {"key": "a", "operator": "Equal", "value": "b", "effect": "NoSchedule"},
         {"operator": "Exists"},
         {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
          "tolerationSeconds": 300}],
       "initContainers": [{"name": "init", "image": "busybox", "command": ["sh", "-c", "echo hi"]}],
       "containers": [
         {"name": "main", "image": "nginx:1.27", "args": ["--flag", "multi\\nline"],
          "ports": [{"containerPort": 80}, {"containerPort": 443, "hostPort": 8443}],
          "env": [{"name": "A", "value": "1"},
                  {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                  {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "password"}}},
                  {"name": "C", "valueFrom":
                    {"configMapKeyRef": {"name": "cm1", "key": "a", "optional": true}}}],
          "envFrom": [{"configMapRef": {"name": "cm1"}},
                      {"secretRef": {"name": "s1"}, "prefix": "S_"}],
          "resources": {"limits": {"cpu": "1", "memory": "128Mi"},
                        "requests": {"cpu": "500m", "memory": "64Mi"}},
          "livenessProbe": {"httpGet": {"path": "/healthz", "port": 80}, "initialDelaySeconds": 3},
          "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}},
          "startupProbe": {"tcpSocket": {"port": 80}},
          "volumeMounts": [{"name": "data", "mountPath": "/data"},
                           {"name": "cfg", "mountPath": "/etc/cfg", "readOnly": true, "subPath": "x"}]},
         {"name": "side", "image": "busybox"}],
       "volumes": [{"name": "data", "emptyDir": {}},
                   {"name": "cfg", "configMap": {"name": "cm1"}},
                   {"name": "sec", "secret": {"secretName": "s1"}},
                   {"name": "host", "hostPath": {"path": "/tmp", "type": "Directory"}}]}
      """;

  @Test
  void describeOfARichPodAndTemplateIsKubectls() throws Exception {
    String longValue = "a".repeat(150);
    ObjectNode pod =
        (ObjectNode)
            JSON.readTree(
                "{\"metadata\": {\"name\": \"rich\", \"labels\": {\"app\": \"rich\", \"tier\": \"back\"},"
                    + " \"annotations\": {\"short\": \"value\", \"long\": \""
                    + longValue
                    + "\", \"multi\": \"line1\\nline2\\n\"}}, \"spec\": "
                    + RICH_SPEC
                    + "}");
    ((ObjectNode) pod.path("spec")).put("priority", 10);
    client.create(Resource.PODS, "default", pod);
    ObjectNode d =
        (ObjectNode)
            JSON.readTree(
                "{\"metadata\": {\"name\": \"richd\"}, \"spec\": {\"replicas\": 1,"
                    + " \"strategy\": {\"type\": \"Recreate\"}, \"selector\": {\"matchExpressions\":"
                    + " [{\"key\": \"app\", \"operator\": \"In\", \"values\": [\"richd\"]}]},"
                    + " \"template\": {\"metadata\": {\"labels\": {\"app\": \"richd\"},"
                    + " \"annotations\": {\"a\": \"b\"}}, \"spec\": "
                    + RICH_SPEC
                    + "}}}");
    client.create(Resource.DEPLOYMENTS, "default", d);
    ok("rollout", "status", "deployment/richd", "--timeout=90s");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                "Running"
                    .equals(
                        client
                            .get(Resource.PODS, "default", "rich")
                            .path("status")
                            .path("phase")
                            .asText()));
    for (String[] args :
        List.of(
            new String[] {"describe", "pod", "rich"},
            new String[] {"describe", "deployment", "richd"},
            new String[] {"describe", "rs", "-l", "app=richd"})) {
      Result ours = ok(args);
      assertThat(masked(ours.out())).as(String.join(" ", args)).isEqualTo(masked(kubectl.ok(args)));
    }
    assertThat(ok("describe", "pod", "rich").out())
        .contains("Annotations:      long:\n                    aaaa")
        .contains("      POD:  rich (:metadata.name)\n")
        .contains("Tolerations:       op=Exists\n                   a=b:NoSchedule\n");
  }

  @Test
  void describeNodeIsKubectls() throws Exception {
    client.create(Resource.DEPLOYMENTS, "default", deployment("noded", "nginx:1.27", 2));
    ok("rollout", "status", "deployment/noded", "--timeout=90s");
    Result ours = ok("describe", "node", "node-1");
    String theirs = kubectl.ok("describe", "node", "node-1");
    // The lease renews and pods come and go between the two runs: the stable parts must match.
    assertThat(ours.out().substring(0, ours.out().indexOf("Lease:")))
        .isEqualTo(theirs.substring(0, theirs.indexOf("Lease:")));
    String from = "Conditions:";
    String to = "Non-terminated Pods:";
    assertThat(masked(ours.out().substring(ours.out().indexOf(from), ours.out().indexOf(to))))
        .isEqualTo(masked(theirs.substring(theirs.indexOf(from), theirs.indexOf(to))));
    assertThat(ours.out())
        .containsPattern("Non-terminated Pods: +\\(\\d+ in total\\)")
        .contains("  Namespace                   Name")
        .contains(
            "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
        .containsPattern("(?m)^  cpu +\\d+m? \\(\\d+%\\) +0 \\(0%\\)$")
        .containsPattern("Lease:\n  HolderIdentity:  node-1\n");
  }

  @Test
  void logsOfPodsAndDeployments() throws Exception {
    client.create(Resource.DEPLOYMENTS, "default", deployment("logged", "nginx:1.27", 2));
    ok("rollout", "status", "deployment/logged", "--timeout=90s");
    String pod =
        Meta.name(
            client
                .list(Resource.PODS, "default", ListOptions.labels("app=logged"))
                .path("items")
                .get(0));
    Result all = ok("logs", pod);
    assertThat(all.out())
        .startsWith(
            "kubelite: simulated container main of pod default/" + pod + " started on node ")
        .contains("no process runs in a simulated container");
    assertThat(all.out()).isEqualTo(kubectl.ok("logs", pod));
    Result tail = ok("logs", "pod/" + pod, "--tail", "1", "--timestamps", "-c", "main");
    assertThat(tail.out())
        .matches(
            "\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z kubelite: no process runs in a simulated container.*\n");

    Result viaDeployment = ok("logs", "deployment/logged");
    assertThat(viaDeployment.err()).matches("Found 2 pods, using pod/logged-\\S+\n");
    String chosen = viaDeployment.err().trim().substring(viaDeployment.err().indexOf("pod/") + 4);
    assertThat(viaDeployment.out()).contains("of pod default/" + chosen + " started");
    assertThat(kubectl.run("logs", "deployment/logged").output()).contains("using pod/" + chosen);

    Result badContainer = cli.run("logs", pod, "-c", "nope");
    assertThat(badContainer.exitCode()).isEqualTo(1);
    assertThat(badContainer.err())
        .isEqualTo("error: container nope is not valid for pod " + pod + "\n");
    Result noPod = cli.run("logs", "nope");
    assertThat(noPod.err())
        .isEqualTo(
            "error: error from server (NotFound): pods \"nope\" not found in namespace \"default\"\n");
    Result noPrevious = cli.run("logs", pod, "--previous");
    assertThat(noPrevious.exitCode()).isEqualTo(1);
    assertThat(noPrevious.err())
        .startsWith("Error from server (BadRequest): previous terminated container \"main\"");
  }

  @Test
  void logsFollowUntilTheContainerEndsAndPreviousAfterARestart() throws Exception {
    // Exits after 3 s and is restarted: -f ends with the first instance, --previous reads it.
    ObjectNode pod =
        (ObjectNode)
            JSON.readTree(
                """
                {"metadata": {"name": "brief",
                              "annotations": {"kubelite.dev/exit-after-seconds": "3"}},
                 "spec": {"restartPolicy": "Always",
                          "containers": [{"name": "job", "image": "busybox"},
                                         {"name": "side", "image": "busybox"}]}}
                """);
    client.create(Resource.PODS, "default", pod);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                "Running"
                    .equals(
                        client
                            .get(Resource.PODS, "default", "brief")
                            .path("status")
                            .path("phase")
                            .asText()));
    Result followed = ok("logs", "-f", "brief", "-c", "job");
    assertThat(followed.out())
        .contains("started on node", "will exit with code 0 after 3 s")
        .endsWith("kubelite: exited with code 0\n");
    // Two containers and no -c: the first one, said on stderr as kubectl says it.
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              Result previous = cli.run("logs", "brief", "--previous");
              assertThat(previous.exitCode()).as(previous.toString()).isZero();
              assertThat(previous.err())
                  .isEqualTo("Defaulted container \"job\" out of: job, side\n");
              assertThat(previous.out()).endsWith("kubelite: exited with code 0\n");
            });
  }
}
