package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import dev.kubelite.kubectl.patch.LastApplied;
import dev.kubelite.kubectl.testing.Cli;
import dev.kubelite.kubectl.testing.Cli.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code create}, {@code patch} and {@code scale} against a real API server. */
class CreatePatchScaleTest {
  static final Path MANIFESTS =
      Path.of(System.getProperty("user.dir")).getParent().resolve("manifests");

  @TempDir static Path dir;
  static Cluster cluster;
  static Cli cli;
  static KubeClient k;

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster();
    cli = new Cli(dir, cluster.url());
    k = cluster.client();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static void deployment(String ns, String name, int replicas) throws Exception {
    Path f =
        Files.writeString(
            dir.resolve(name + ".yaml"),
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: %s, namespace: %s}
            spec:
              replicas: %d
              selector: {matchLabels: {app: %s}}
              template:
                metadata: {labels: {app: %s}}
                spec:
                  containers:
                  - name: main
                    image: nginx:1
                    env: [{name: A, value: "1"}]
                  - name: side
                    image: busybox
            """
                .formatted(name, ns, replicas, name, name));
    Result r = cli.run("create", "-f", f.toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
  }

  @Test
  void createFromFilesThenAlreadyExists() {
    Path pod = MANIFESTS.resolve("pod.yaml");
    Result r = cli.run("create", "-f", pod.toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("pod/hello created\n");
    ObjectNode hello = k.get(Resource.PODS, "default", "hello");
    assertThat(LastApplied.present(hello)).isFalse();
    Result again = cli.run("create", "-f", pod.toString());
    assertThat(again.exitCode()).isEqualTo(1);
    assertThat(again.err())
        .isEqualTo(
            "Error from server (AlreadyExists): error when creating \""
                + pod
                + "\": pods \"hello\" already exists\n");
    Result secrets =
        cli.run("create", "-f", MANIFESTS.resolve("config-and-secret.yaml").toString());
    assertThat(secrets.out())
        .isEqualTo(
            "configmap/app-config created\nsecret/app-secret created\npod/configured created\n");
  }

  @Test
  void createSaveConfigGenerateNameAndDryRun() {
    String cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\ndata: {k: v}\n";
    Result gen = cli.runWithStdin(cm, "create", "-f", "-", "-o", "name");
    assertThat(gen.exitCode()).as(gen.toString()).isZero();
    assertThat(gen.out())
        .startsWith("configmap/gen-")
        .hasSizeGreaterThan("configmap/gen-\n".length());
    String named = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: saved\n";
    Result dry = cli.runWithStdin(named, "create", "-f", "-", "--dry-run=server");
    assertThat(dry.out()).isEqualTo("configmap/saved created (server dry run)\n");
    assertThatThrownBy(() -> k.get(Resource.CONFIGMAPS, "default", "saved"))
        .isInstanceOf(ApiException.class);
    Result saved = cli.runWithStdin(named, "create", "-f", "-", "--save-config");
    assertThat(saved.exitCode()).isZero();
    assertThat(LastApplied.present(k.get(Resource.CONFIGMAPS, "default", "saved"))).isTrue();
    // apply takes over without the missing-annotation warning.
    Result apply = cli.runWithStdin(named, "apply", "-f", "-");
    assertThat(apply.out()).isEqualTo("configmap/saved unchanged\n");
    assertThat(apply.err()).isEmpty();
  }

  @Test
  void applyOnAnObjectCreatedWithoutTheAnnotationWarnsAndAddsIt() {
    String cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata: {k: v}\n";
    assertThat(cli.runWithStdin(cm, "create", "-f", "-").exitCode()).isZero();
    Result apply = cli.runWithStdin(cm, "apply", "-f", "-");
    assertThat(apply.exitCode()).isZero();
    assertThat(apply.out()).isEqualTo("configmap/plain configured\n");
    assertThat(apply.err())
        .startsWith(
            "Warning: resource configmaps/plain is missing the"
                + " kubectl.kubernetes.io/last-applied-configuration annotation");
    assertThat(LastApplied.present(k.get(Resource.CONFIGMAPS, "default", "plain"))).isTrue();
  }

  @Test
  void createNamespace() throws Exception {
    Result r = cli.run("create", "namespace", "made");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("namespace/made created\n");
    assertThat(Meta.name(k.get(Resource.NAMESPACES, null, "made"))).isEqualTo("made");
    Result again = cli.run("create", "ns", "made");
    assertThat(again.exitCode()).isEqualTo(1);
    assertThat(again.err())
        .isEqualTo("Error from server (AlreadyExists): namespaces \"made\" already exists\n");
    Result dry = cli.run("create", "ns", "imagined", "--dry-run=client", "-o", "json");
    JsonNode ns = new ObjectMapper().readTree(dry.out());
    assertThat(ns.path("kind").asText()).isEqualTo("Namespace");
    assertThatThrownBy(() -> k.get(Resource.NAMESPACES, null, "imagined"))
        .isInstanceOf(ApiException.class);
    Result noFile = cli.run("create");
    assertThat(noFile.exitCode()).isEqualTo(1);
    assertThat(noFile.err()).startsWith("error: must specify -f FILE");
  }

  @Test
  void patchStrategicMergeJsonAndYaml() throws Exception {
    deployment("default", "patched", 1);
    // Strategic (the default): containers merge by name, the other container stays.
    Result smp =
        cli.run(
            "patch",
            "deployment",
            "patched",
            "-p",
            "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"nginx:2\"}]}}}}");
    assertThat(smp.exitCode()).as(smp.toString()).isZero();
    assertThat(smp.out()).isEqualTo("deployment.apps/patched patched\n");
    JsonNode containers =
        k.get(Resource.DEPLOYMENTS, "default", "patched")
            .path("spec")
            .path("template")
            .path("spec")
            .path("containers");
    assertThat(containers).hasSize(2);
    assertThat(containers.get(0).path("image").asText()).isEqualTo("nginx:2");
    assertThat(containers.get(0).path("env")).hasSize(1);
    // The same patch again changes nothing.
    Result same =
        cli.run(
            "patch",
            "deploy/patched",
            "-p",
            "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"nginx:2\"}]}}}}");
    assertThat(same.out()).isEqualTo("deployment.apps/patched patched (no change)\n");
    // A merge patch replaces the list; written in YAML.
    Result merge =
        cli.run(
            "patch",
            "deploy",
            "patched",
            "--type",
            "merge",
            "-p",
            "spec: {template: {spec: {containers: [{name: only, image: busybox}]}}}");
    assertThat(merge.exitCode()).as(merge.toString()).isZero();
    assertThat(
            k.get(Resource.DEPLOYMENTS, "default", "patched")
                .path("spec")
                .path("template")
                .path("spec")
                .path("containers"))
        .hasSize(1);
    Result json =
        cli.run(
            "patch",
            "deploy",
            "patched",
            "--type=json",
            "-p",
            "[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":6}]",
            "-o",
            "json");
    assertThat(new ObjectMapper().readTree(json.out()).path("spec").path("replicas").asInt())
        .isEqualTo(6);
    assertThat(
            k.get(Resource.DEPLOYMENTS, "default", "patched").path("spec").path("replicas").asInt())
        .isEqualTo(6);
    Result dry =
        cli.run(
            "patch", "deploy", "patched", "--dry-run=server", "-p", "{\"spec\":{\"replicas\":9}}");
    assertThat(dry.out()).isEqualTo("deployment.apps/patched patched (server dry run)\n");
    assertThat(
            k.get(Resource.DEPLOYMENTS, "default", "patched").path("spec").path("replicas").asInt())
        .isEqualTo(6);
  }

  @Test
  void patchErrors() throws Exception {
    deployment("default", "patch-errors", 1);
    Result bad = cli.run("patch", "deploy", "patch-errors", "-p", "{bad");
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(bad.err()).startsWith("error: unable to parse \"{bad\": ");
    Result notList = cli.run("patch", "deploy", "patch-errors", "--type", "json", "-p", "{}");
    assertThat(notList.err()).startsWith("error: a JSON patch (--type json) must be a list");
    Result missing = cli.run("patch", "deploy", "nope", "-p", "{}");
    assertThat(missing.err())
        .isEqualTo("Error from server (NotFound): deployments.apps \"nope\" not found\n");
    Result invalid =
        cli.run("patch", "deploy", "patch-errors", "-p", "{\"spec\":{\"replicas\":-1}}");
    assertThat(invalid.exitCode()).isEqualTo(1);
    assertThat(invalid.err())
        .isEqualTo(
            "The Deployment \"patch-errors\" is invalid: spec.replicas: Invalid value: -1: must"
                + " be greater than or equal to 0\n");
    Result type = cli.run("patch", "deploy", "patch-errors", "--type", "apply", "-p", "{}");
    assertThat(type.err()).contains("--type must be one of [json merge strategic]");
  }

  @Test
  void scaleDeploymentsAndReplicaSetsWithPreconditions() throws Exception {
    deployment("default", "scaled", 2);
    Result r = cli.run("scale", "deployment", "scaled", "--replicas=5");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("deployment.apps/scaled scaled\n");
    assertThat(replicas(Resource.DEPLOYMENTS, "scaled")).isEqualTo(5);
    Result wrong = cli.run("scale", "deploy/scaled", "--replicas=1", "--current-replicas=2");
    assertThat(wrong.exitCode()).isEqualTo(1);
    assertThat(wrong.err()).isEqualTo("error: Expected replicas to be 2, was 5\n");
    assertThat(replicas(Resource.DEPLOYMENTS, "scaled")).isEqualTo(5);
    Result right = cli.run("scale", "deploy/scaled", "--replicas=1", "--current-replicas=5");
    assertThat(right.exitCode()).as(right.toString()).isZero();
    assertThat(replicas(Resource.DEPLOYMENTS, "scaled")).isEqualTo(1);
    Result staleRv = cli.run("scale", "deploy", "scaled", "--replicas=3", "--resource-version=1");
    assertThat(staleRv.exitCode()).isEqualTo(1);
    assertThat(staleRv.err()).startsWith("error: Expected resource version to be 1, was ");

    ObjectNode rs = KubeClient.JSON.createObjectNode();
    rs.put("apiVersion", "apps/v1").put("kind", "ReplicaSet");
    rs.putObject("metadata").put("name", "rs-1");
    ObjectNode spec = rs.putObject("spec");
    spec.put("replicas", 1);
    spec.putObject("selector").putObject("matchLabels").put("app", "rs-1");
    ObjectNode template = spec.putObject("template");
    template.putObject("metadata").putObject("labels").put("app", "rs-1");
    template
        .putObject("spec")
        .putArray("containers")
        .addObject()
        .put("name", "c")
        .put("image", "x");
    k.create(Resource.REPLICASETS, "default", rs);
    Result rsScaled = cli.run("scale", "rs", "rs-1", "--replicas=0");
    assertThat(rsScaled.out()).isEqualTo("replicaset.apps/rs-1 scaled\n");
    assertThat(replicas(Resource.REPLICASETS, "rs-1")).isZero();
  }

  @Test
  void scaleErrors() {
    Result pods = cli.run("scale", "pods", "x", "--replicas=2");
    assertThat(pods.exitCode()).isEqualTo(1);
    assertThat(pods.err()).startsWith("error: pods cannot be scaled");
    Result negative = cli.run("scale", "deploy", "x", "--replicas=-1");
    assertThat(negative.err())
        .isEqualTo(
            "error: The --replicas=COUNT flag is required, and COUNT must be greater than or"
                + " equal to 0\n");
    Result missing = cli.run("scale", "deploy", "nope", "--replicas=2");
    assertThat(missing.err())
        .isEqualTo("Error from server (NotFound): deployments.apps \"nope\" not found\n");
    Result noFlag = cli.run("scale", "deploy", "nope");
    assertThat(noFlag.exitCode()).isEqualTo(1);
    assertThat(noFlag.err()).contains("Missing required option: '--replicas=COUNT'");
  }

  @Test
  void everyChangingCommandHasHelpWithExamples() {
    for (String[] command :
        new String[][] {
          {"apply"}, {"create"}, {"create", "namespace"}, {"delete"}, {"patch"}, {"scale"}
        }) {
      List<String> args = new ArrayList<>(List.of(command));
      args.add("--help");
      Result r = cli.run(args.toArray(String[]::new));
      assertThat(r.exitCode()).as(r.toString()).isZero();
      assertThat(r.out()).startsWith("Usage: kubectl-lite " + String.join(" ", command));
      assertThat(r.out()).contains("Examples:", "kubectl-lite " + command[0]);
    }
  }

  static int replicas(Resource r, String name) {
    return k.get(r, "default", name).path("spec").path("replicas").asInt();
  }
}
