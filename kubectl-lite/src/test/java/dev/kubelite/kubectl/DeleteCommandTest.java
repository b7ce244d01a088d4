package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import dev.kubelite.kubectl.testing.Cli;
import dev.kubelite.kubectl.testing.Cli.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kubectl-lite delete} against a real API server over an in-process store (no controllers,
 * no kubelet: the tests play their part, finishing deletions by removing finalizers).
 */
class DeleteCommandTest {
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

  static void namespace(String name) {
    ObjectNode ns = KubeClient.JSON.createObjectNode();
    ns.putObject("metadata").put("name", name);
    k.create(Resource.NAMESPACES, null, ns);
  }

  static ObjectNode configMap(String ns, String name, String label, String finalizer) {
    ObjectNode cm = KubeClient.JSON.createObjectNode();
    ObjectNode meta = cm.putObject("metadata");
    meta.put("name", name);
    if (label != null) {
      meta.putObject("labels").put("app", label);
    }
    if (finalizer != null) {
      meta.putArray("finalizers").add(finalizer);
    }
    return k.create(Resource.CONFIGMAPS, ns, cm);
  }

  /** A pod bound to a node: deleting it waits for its (absent) kubelet for the grace period. */
  static void boundPod(String ns, String name) {
    ObjectNode pod = KubeClient.JSON.createObjectNode();
    pod.putObject("metadata").put("name", name);
    pod.putObject("spec").putArray("containers").addObject().put("name", "c").put("image", "x");
    k.create(Resource.PODS, ns, pod);
    ObjectNode binding = KubeClient.JSON.createObjectNode();
    binding.put("apiVersion", "v1").put("kind", "Binding");
    binding.putObject("metadata").put("name", name);
    binding.putObject("target").put("kind", "Node").put("name", "node-1");
    k.subresource("POST", Resource.PODS, ns, name, "binding", binding);
  }

  static List<String> configMaps(String ns) {
    List<String> names = new ArrayList<>();
    k.list(Resource.CONFIGMAPS, ns, ListOptions.NONE)
        .path("items")
        .forEach(i -> names.add(Meta.name(i)));
    return names;
  }

  static boolean gone(Resource r, String ns, String name) {
    try {
      k.get(r, ns, name);
      return false;
    } catch (ApiException e) {
      return e.isNotFound();
    }
  }

  static void release(String ns, String name) throws Exception {
    k.patch(
        Resource.CONFIGMAPS,
        ns,
        name,
        PatchType.MERGE,
        KubeClient.JSON.readTree("{\"metadata\":{\"finalizers\":null}}"));
  }

  @Test
  void byNameTypeSlashNameAndNotFound() {
    namespace("names");
    configMap("names", "a", null, null);
    configMap("names", "b", null, null);
    configMap("names", "c", null, null);
    Result r = cli.run("delete", "cm", "a", "nope", "b", "-n", "names");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).isEqualTo("configmap \"a\" deleted\nconfigmap \"b\" deleted\n");
    assertThat(r.err()).isEqualTo("Error from server (NotFound): configmaps \"nope\" not found\n");
    Result slash = cli.run("delete", "configmaps/c", "-n", "names");
    assertThat(slash.out()).isEqualTo("configmap \"c\" deleted\n");
    assertThat(configMaps("names")).doesNotContain("a", "b", "c");
    Result ignored = cli.run("delete", "cm", "nope", "-n", "names", "--ignore-not-found");
    assertThat(ignored.exitCode()).isZero();
    assertThat(ignored.out() + ignored.err()).isEmpty();
    Result group = cli.run("delete", "deployments.apps", "nope", "-n", "names");
    assertThat(group.err())
        .isEqualTo("Error from server (NotFound): deployments.apps \"nope\" not found\n");
  }

  @Test
  void bySelectorAndAll() {
    namespace("sel");
    configMap("sel", "web-1", "web", null);
    configMap("sel", "web-2", "web", null);
    configMap("sel", "db-1", "db", null);
    Result r = cli.run("delete", "cm", "-l", "app=web", "-n", "sel");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("configmap \"web-1\" deleted\nconfigmap \"web-2\" deleted\n");
    assertThat(configMaps("sel")).contains("db-1").doesNotContain("web-1", "web-2");
    Result none = cli.run("delete", "cm", "-l", "app=web", "-n", "sel");
    assertThat(none.exitCode()).isZero();
    assertThat(none.out()).isEqualTo("No resources found\n");
    Result all = cli.run("delete", "configmaps", "--all", "-n", "sel");
    assertThat(all.out()).contains("configmap \"db-1\" deleted");
    assertThat(configMaps("sel")).doesNotContain("db-1");
  }

  @Test
  void fromAFile() throws Exception {
    namespace("file");
    configMap("file", "f-1", null, null);
    Path f =
        Files.writeString(
            dir.resolve("del.yaml"),
            """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: f-1, namespace: file}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: f-2, namespace: file}
            """);
    Result r = cli.run("delete", "-f", f.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).isEqualTo("configmap \"f-1\" deleted\n");
    assertThat(r.err())
        .isEqualTo(
            "Error from server (NotFound): error when deleting \""
                + f
                + "\": configmaps \"f-2\" not found\n");
    assertThat(cli.run("delete", "-f", f.toString(), "--ignore-not-found").exitCode()).isZero();
  }

  @Test
  void waitsUntilTheObjectIsGone() throws Exception {
    namespace("waiting");
    configMap("waiting", "held", null, "example.com/hold");
    CompletableFuture<Result> delete =
        CompletableFuture.supplyAsync(() -> cli.run("delete", "cm", "held", "-n", "waiting"));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                k.get(Resource.CONFIGMAPS, "waiting", "held")
                    .path("metadata")
                    .hasNonNull("deletionTimestamp"));
    // The finalizer still holds it: the CLI cannot have finished.
    assertThat(delete).isNotDone();
    release("waiting", "held");
    Result r = delete.get(20, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("configmap \"held\" deleted\n");
    assertThat(gone(Resource.CONFIGMAPS, "waiting", "held")).isTrue();
  }

  @Test
  void waitTimesOutOrIsTurnedOff() throws Exception {
    namespace("nowait");
    configMap("nowait", "stuck", null, "example.com/hold");
    Result timeout = cli.run("delete", "cm", "stuck", "-n", "nowait", "--timeout=1s");
    assertThat(timeout.exitCode()).isEqualTo(1);
    assertThat(timeout.out()).isEqualTo("configmap \"stuck\" deleted\n");
    assertThat(timeout.err())
        .isEqualTo("error: timed out waiting for the condition on configmaps/stuck\n");

    configMap("nowait", "stuck-2", null, "example.com/hold");
    Result noWait = cli.run("delete", "cm", "stuck-2", "-n", "nowait", "--wait=false");
    assertThat(noWait.exitCode()).isZero();
    assertThat(
            k.get(Resource.CONFIGMAPS, "nowait", "stuck-2")
                .path("metadata")
                .hasNonNull("deletionTimestamp"))
        .isTrue();
    release("nowait", "stuck");
    release("nowait", "stuck-2");
  }

  @Test
  void gracePeriodNowAndForce() {
    namespace("grace");
    boundPod("grace", "p-7");
    boundPod("grace", "p-now");
    boundPod("grace", "p-zero");
    boundPod("grace", "p-force");
    assertThat(
            cli.run("delete", "pod", "p-7", "-n", "grace", "--grace-period=7", "--wait=false")
                .exitCode())
        .isZero();
    assertThat(graceOf("p-7")).isEqualTo(7);
    cli.run("delete", "pod", "p-now", "-n", "grace", "--now", "--wait=false");
    assertThat(graceOf("p-now")).isEqualTo(1);
    // --grace-period=0 without --force becomes 1, as in kubectl.
    cli.run("delete", "pod", "p-zero", "-n", "grace", "--grace-period=0", "--wait=false");
    assertThat(graceOf("p-zero")).isEqualTo(1);
    Result force = cli.run("delete", "pod", "p-force", "-n", "grace", "--force");
    assertThat(force.exitCode()).as(force.toString()).isZero();
    assertThat(force.out()).isEqualTo("pod \"p-force\" force deleted\n");
    assertThat(force.err()).startsWith("Warning: Immediate deletion does not wait");
    assertThat(gone(Resource.PODS, "grace", "p-force")).isTrue();
    Result both = cli.run("delete", "pod", "p-7", "-n", "grace", "--now", "--grace-period=3");
    assertThat(both.err())
        .isEqualTo("error: --now and --grace-period cannot be specified together\n");
  }

  static long graceOf(String pod) {
    JsonNode m = k.get(Resource.PODS, "grace", pod).path("metadata");
    assertThat(m.hasNonNull("deletionTimestamp")).isTrue();
    return m.path("deletionGracePeriodSeconds").asLong();
  }

  @Test
  void cascadeBecomesThePropagationPolicy() {
    namespace("cascade");
    // Without a garbage collector here, the finalizers the server adds for the policy stay.
    configMap("cascade", "orphan", null, null);
    configMap("cascade", "false", null, null);
    configMap("cascade", "fg", null, null);
    configMap("cascade", "bg", null, null);
    cli.run("delete", "cm", "orphan", "-n", "cascade", "--cascade=orphan", "--wait=false");
    assertThat(finalizers("orphan")).containsExactly("orphan");
    cli.run("delete", "cm", "false", "-n", "cascade", "--cascade=false", "--wait=false");
    assertThat(finalizers("false")).containsExactly("orphan");
    cli.run("delete", "cm", "fg", "-n", "cascade", "--cascade=foreground", "--wait=false");
    assertThat(finalizers("fg")).containsExactly("foregroundDeletion");
    // A bare --cascade is background, and does not take the next argument for its value.
    Result bg = cli.run("delete", "--cascade", "cm", "bg", "-n", "cascade");
    assertThat(bg.exitCode()).as(bg.toString()).isZero();
    assertThat(gone(Resource.CONFIGMAPS, "cascade", "bg")).isTrue();
    // Deleting again in the background clears the orphan finalizer: gone.
    Result again = cli.run("delete", "cm", "orphan", "-n", "cascade", "--cascade=background");
    assertThat(again.exitCode()).as(again.toString()).isZero();
    assertThat(gone(Resource.CONFIGMAPS, "cascade", "orphan")).isTrue();
    Result bad = cli.run("delete", "cm", "fg", "-n", "cascade", "--cascade=bogus");
    assertThat(bad.err())
        .isEqualTo(
            "error: invalid cascade value (bogus). Must be \"background\", \"foreground\", or"
                + " \"orphan\"\n");
  }

  static List<String> finalizers(String name) {
    List<String> out = new ArrayList<>();
    k.get(Resource.CONFIGMAPS, "cascade", name)
        .path("metadata")
        .path("finalizers")
        .forEach(f -> out.add(f.asText()));
    return out;
  }

  @Test
  void dryRunsDeleteNothing() {
    namespace("dry");
    configMap("dry", "kept", null, null);
    Result server = cli.run("delete", "cm", "kept", "-n", "dry", "--dry-run=server");
    assertThat(server.out()).isEqualTo("configmap \"kept\" deleted (server dry run)\n");
    Result client = cli.run("delete", "cm", "kept", "-n", "dry", "--dry-run=client");
    assertThat(client.out()).isEqualTo("configmap \"kept\" deleted (dry run)\n");
    assertThat(configMaps("dry")).contains("kept");
    Result name = cli.run("delete", "cm", "kept", "-n", "dry", "-o", "name");
    assertThat(name.out()).isEqualTo("configmap/kept\n");
  }

  @Test
  void usageErrors() {
    Result none = cli.run("delete");
    assertThat(none.exitCode()).isEqualTo(1);
    assertThat(none.err())
        .startsWith("error: You must provide one or more resources by argument or filename.");
    Result noName = cli.run("delete", "pods");
    assertThat(noName.err())
        .isEqualTo("error: resource(s) were provided, but no name was specified\n");
    Result both = cli.run("delete", "-f", "x.yaml", "pods");
    assertThat(both.err())
        .isEqualTo(
            "error: when paths, URLs, or stdin is provided as input, you may not specify resource"
                + " arguments as well\n");
    assertThatThrownBy(() -> k.get(Resource.PODS, "default", "x")).isInstanceOf(ApiException.class);
  }
}
