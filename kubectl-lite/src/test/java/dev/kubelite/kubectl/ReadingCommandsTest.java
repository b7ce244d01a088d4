package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import dev.kubelite.kubectl.testing.Cli;
import dev.kubelite.kubectl.testing.Cli.Result;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code describe} of the configuration kinds and the generic describer, {@code get events}, {@code
 * api-resources}, {@code version}, {@code cluster-info} and {@code config}, against a real API
 * server over an in-process store; where kubectl 1.32 prints the same thing, its output is the
 * expected one, byte for byte.
 */
class ReadingCommandsTest {
  @TempDir static Path dir;
  static Cluster cluster;
  static Cli cli;
  static Kubectl kubectl;
  static KubeClient client;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster();
    cli = new Cli(dir, cluster.url());
    kubectl = new Kubectl(dir, cluster.url().toString());
    client = cluster.client();
    client.create(
        Resource.CONFIGMAPS,
        "default",
        object(
            "{\"metadata\":{\"name\":\"settings\",\"labels\":{\"app\":\"web\",\"tier\":\"front\"},"
                + "\"annotations\":{\"note\":\"kept\"}},"
                + "\"data\":{\"greeting\":\"hello\",\"multi\":\"line one\\nline two\"}}"));
    client.create(
        Resource.CONFIGMAPS,
        "default",
        object("{\"metadata\":{\"name\":\"settings-extra\"},\"data\":{\"a\":\"b\"}}"));
    client.create(
        new Resource("", "v1", "secrets", true),
        "default",
        object(
            "{\"metadata\":{\"name\":\"creds\"},\"type\":\"Opaque\","
                + "\"stringData\":{\"password\":\"s3cr3t-value\",\"user\":\"admin\"}}"));
    client.create(
        Resource.SERVICES,
        "default",
        object(
            "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{\"app\":\"web\"},"
                + "\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":8080},"
                + "{\"name\":\"https\",\"port\":443,\"targetPort\":\"https\"}]}}"));
    client.create(
        Resource.SERVICES,
        "default",
        object(
            "{\"metadata\":{\"name\":\"np\"},\"spec\":{\"type\":\"NodePort\",\"selector\":{\"app\":\"web\"},"
                + "\"ports\":[{\"port\":80,\"targetPort\":80,\"nodePort\":30080}],"
                + "\"externalIPs\":[\"1.2.3.4\"],\"sessionAffinity\":\"ClientIP\"}}"));
    client.create(
        Resource.SERVICES,
        "default",
        object(
            "{\"metadata\":{\"name\":\"ext\"},\"spec\":{\"type\":\"ExternalName\","
                + "\"externalName\":\"example.com\"}}"));
    client.create(
        new Resource("coordination.k8s.io", "v1", "leases", true),
        "default",
        object(
            "{\"metadata\":{\"name\":\"lock\"},\"spec\":{\"holderIdentity\":\"me\","
                + "\"leaseDurationSeconds\":15}}"));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static ObjectNode object(String json) throws IOException {
    return (ObjectNode) JSON.readTree(json);
  }

  private static Result ok(String... args) {
    Result r = cli.run(args);
    assertThat(r.exitCode()).as(r.toString()).isZero();
    return r;
  }

  /** An event about {@code obj}, seen {@code count} times, last about an hour ago. */
  private static void event(String name, JsonNode obj, String kind, String reason, int count)
      throws IOException {
    // A repeated event was last seen a minute before a single one.
    Instant last =
        Instant.now()
            .minus(count > 1 ? 61 : 60, ChronoUnit.MINUTES)
            .truncatedTo(ChronoUnit.SECONDS);
    Instant first = count > 1 ? last.minus(1, ChronoUnit.HOURS) : last;
    ObjectNode e =
        object(
            "{\"metadata\":{\"name\":\""
                + name
                + "\"},\"type\":\"Warning\",\"reason\":\""
                + reason
                + "\",\"message\":\"something about it \",\"source\":{\"component\":\"tester\"}}");
    e.putObject("involvedObject")
        .put("apiVersion", "v1")
        .put("kind", kind)
        .put("namespace", Meta.namespace(obj))
        .put("name", Meta.name(obj))
        .put("uid", Meta.uid(obj));
    e.put("firstTimestamp", first.toString()).put("lastTimestamp", last.toString());
    e.put("count", count);
    client.create(Resource.EVENTS, "default", e);
  }

  @Test
  void describeConfigMapServiceAndLeaseAreKubectls() throws Exception {
    for (String[] args :
        List.of(
            new String[] {"describe", "configmap", "settings-extra"},
            new String[] {"describe", "svc", "web"},
            new String[] {"describe", "services"},
            new String[] {"describe", "leases", "lock"})) {
      Result ours = ok(args);
      assertThat(ours.out()).as(String.join(" ", args)).isEqualTo(kubectl.ok(args));
    }
    Result cm = ok("describe", "configmap/settings");
    assertThat(cm.out())
        .startsWith("Name:         settings\nNamespace:    default\n")
        .contains("Labels:       app=web\n              tier=front\n")
        .contains("Annotations:  note: kept\n")
        // kubectl prints the keys in Go's random map order; kubectl-lite sorts them.
        .contains("\nData\n====\ngreeting:\n----\nhello\n\nmulti:\n----\nline one\nline two\n\n")
        .endsWith("\n\nBinaryData\n====\n\nEvents:  <none>\n");
  }

  @Test
  void describeShowsTheObjectsEventsOldestFirst() throws Exception {
    ObjectNode cm =
        client.create(
            Resource.CONFIGMAPS, "default", object("{\"metadata\":{\"name\":\"watched\"}}"));
    // Sorted by time, not by name (the server's order).
    event("watched.b", cm, "ConfigMap", "Repeated", 3);
    event("watched.a", cm, "ConfigMap", "Once", 1);
    // Another object's event is not shown.
    ObjectNode other =
        client.create(
            Resource.CONFIGMAPS, "default", object("{\"metadata\":{\"name\":\"unwatched\"}}"));
    event("unwatched.a", other, "ConfigMap", "NotMine", 1);

    Result r = ok("describe", "cm", "watched");
    assertThat(r.out())
        .endsWith(
            "Events:\n"
                + "  Type     Reason    Age                 From    Message\n"
                + "  ----     ------    ----                ----    -------\n"
                + "  Warning  Repeated  61m (x3 over 121m)  tester  something about it\n"
                + "  Warning  Once      60m                 tester  something about it\n")
        .doesNotContain("NotMine");
    assertThat(r.out()).isEqualTo(kubectl.ok("describe", "cm", "watched"));
  }

  @Test
  void describeSecretShowsKeysAndSizesNeverValues() throws Exception {
    Result r = ok("describe", "secret", "creds");
    assertThat(r.out())
        .isEqualTo(
            "Name:         creds\n"
                + "Namespace:    default\n"
                + "Labels:       <none>\n"
                + "Annotations:  <none>\n"
                + "\n"
                + "Type:  Opaque\n"
                + "\n"
                + "Data\n"
                + "====\n"
                + "password:  12 bytes\n"
                + "user:      5 bytes\n"
                + "\n"
                + "Events:  <none>\n");
    assertThat(r.out()).doesNotContain("s3cr3t", "admin");
    // kubectl prints the same lines (its key order is Go's random map order), but for the
    // Events line it leaves out for secrets.
    String ours = r.out().substring(0, r.out().indexOf("\nEvents:"));
    assertThat(ours.split("\n"))
        .containsExactlyInAnyOrder(kubectl.ok("describe", "secret", "creds").split("\n"));
  }

  @Test
  void describeNamespaceAndClusterScopedGeneric() throws Exception {
    Result ns = ok("describe", "namespace", "default");
    assertThat(ns.out())
        .startsWith(kubectl.ok("describe", "namespace", "default"))
        .endsWith("Events:       <none>\n");
  }

  @Test
  void describeByPrefixSelectorAndErrors() {
    Result prefix = ok("describe", "configmaps", "settings");
    // The exact name wins over the prefix.
    assertThat(prefix.out()).contains("Name:         settings\n").doesNotContain("settings-extra");
    Result several = ok("describe", "configmaps", "settings-");
    assertThat(several.out()).contains("Name:         settings-extra\n");
    Result two = ok("describe", "cm", "settings", "settings-extra");
    assertThat(two.out()).contains("Events:  <none>\n\n\nName:         settings-extra");

    Result labelled = ok("describe", "cm", "-l", "tier=front");
    assertThat(labelled.out())
        .contains("Name:         settings\n")
        .doesNotContain("settings-extra");

    Result none = cli.run("describe", "cm", "-l", "tier=none");
    assertThat(none.exitCode()).isZero();
    assertThat(none.err()).isEqualTo("No resources found in default namespace.\n");

    Result missing = cli.run("describe", "pod", "nope");
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.err()).isEqualTo("Error from server (NotFound): pods \"nope\" not found\n");

    Result type = cli.run("describe", "widgets");
    assertThat(type.exitCode()).isEqualTo(1);
    assertThat(type.err()).contains("the server doesn't have a resource type \"widgets\"");
  }

  @Test
  void getEventsKeepsTheServersOrderAsKubectlDoesAndWatches() throws Exception {
    ObjectNode cm =
        client.create(
            Resource.CONFIGMAPS, "default", object("{\"metadata\":{\"name\":\"ordered\"}}"));
    // Names in one order, timestamps in the other: kubectl does not sort by time.
    event("ordered.a-late", cm, "ConfigMap", "Late", 1);
    ObjectNode early = client.get(Resource.EVENTS, "default", "ordered.a-late");
    early.put("lastTimestamp", Instant.now().minus(10, ChronoUnit.MINUTES).toString());
    client.update(Resource.EVENTS, early);
    event("ordered.b-early", cm, "ConfigMap", "Early", 3);

    Result r = ok("get", "events", "--field-selector", "involvedObject.name=ordered");
    assertThat(names(r.out())).containsExactly("Late", "Early");
    String theirs = kubectl.ok("get", "events", "--field-selector", "involvedObject.name=ordered");
    assertThat(names(r.out())).isEqualTo(names(theirs));
    assertThat(r.out().split("\n")[0]).isEqualTo(theirs.split("\n")[0]);

    Cli.Running watch =
        cli.start("get", "events", "-w", "--field-selector", "involvedObject.name=ordered");
    await().atMost(Duration.ofSeconds(20)).until(() -> watch.out().contains("Early"));
    event("ordered.c-new", cm, "ConfigMap", "ArrivedLater", 1);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(watch.out()).contains("ArrivedLater"));
    assertThat(watch.exitCode()).isNull();
  }

  /** The REASON column of a get events table. */
  private static List<String> names(String table) {
    List<String> lines = new ArrayList<>(Arrays.asList(table.split("\n")));
    String header = lines.remove(0);
    int at = header.indexOf("REASON");
    List<String> out = new ArrayList<>();
    for (String l : lines) {
      out.add(l.substring(at).split("\\s+")[0]);
    }
    return out;
  }

  @Test
  void apiResourcesAreKubectls() throws Exception {
    for (String[] args :
        List.of(
            new String[] {"api-resources"},
            new String[] {"api-resources", "-o", "wide"},
            new String[] {"api-resources", "-o", "name"},
            new String[] {"api-resources", "--namespaced=false"},
            new String[] {"api-resources", "--namespaced=true", "--api-group=apps"},
            new String[] {"api-resources", "--api-group="},
            new String[] {"api-resources", "--verbs=list,watch", "--no-headers"})) {
      assertThat(ok(args).out()).as(String.join(" ", args)).isEqualTo(kubectl.ok(args));
    }
    assertThat(ok("api-resources").out())
        .startsWith("NAME ")
        .containsPattern("(?m)^deployments +deploy +apps/v1 +true +Deployment$");
  }

  @Test
  void versionAndClusterInfo() throws Exception {
    Result v = ok("version");
    assertThat(v.out()).matches("Client Version: \\S+\nServer Version: v1\\.32\\.0-kubelite\n");
    JsonNode json = JSON.readTree(ok("version", "-o", "json").out());
    assertThat(json.path("serverVersion").path("gitVersion").asText())
        .isEqualTo("v1.32.0-kubelite");
    assertThat(json.path("clientVersion").path("gitVersion").asText()).isNotEmpty();
    assertThat(ok("version", "-o", "yaml").out()).contains("serverVersion:", "  minor: \"32\"");
    assertThat(ok("version", "--client").out())
        .startsWith("Client Version: ")
        .doesNotContain("Server");

    Result info = ok("cluster-info");
    assertThat(info.out())
        .startsWith("Kubernetes control plane is running at " + cluster.url() + "\n");

    Cli dead =
        new Cli(
            Files.createDirectories(dir.resolve("dead")),
            java.net.URI.create("http://127.0.0.1:1"));
    Result down = dead.run("cluster-info");
    assertThat(down.exitCode()).isEqualTo(1);
    assertThat(down.err()).contains("The connection to the server 127.0.0.1:1 was refused");
  }

  // ----------------------------------------------------------------------------------- config

  private static final String KUBECONFIG =
      """
      apiVersion: v1
      kind: Config
      # comments and the layout are kept by use-context
      clusters:
      - name: a
        cluster:
          server: http://127.0.0.1:1
          certificate-authority-data: QUJD
      - name: b
        cluster:
          server: http://127.0.0.1:2
          insecure-skip-tls-verify: true
      users:
      - name: u
        user:
          token: secret-token
          client-certificate-data: QUJD
          client-key-data: QUJD
          password: pw
          username: me
      contexts:
      - name: ctx-b
        context: {cluster: b, user: u, namespace: kube-system}
      - name: ctx-a
        context:
          cluster: a
          user: u
      current-context: ctx-a
      """;

  /** The real kubectl on a kubeconfig file of our own. */
  private static String kubectlOn(Path file, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Kubectl.binary(), "--kubeconfig=" + file));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("HOME", kubectl.home().toString());
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }

  private static Result on(Path file, String... args) {
    List<String> all = new ArrayList<>(List.of("--kubeconfig", file.toString()));
    all.addAll(List.of(args));
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    int code =
        KubectlLite.run(
            all.toArray(String[]::new), new java.io.PrintWriter(out), new java.io.PrintWriter(err));
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void configViewRedactsAsKubectlAndMinifies() throws Exception {
    Path file = dir.resolve("view.kubeconfig");
    Files.writeString(file, KUBECONFIG);
    for (String[] args :
        List.of(
            new String[] {"config", "view"},
            new String[] {"config", "view", "--raw"},
            new String[] {"config", "view", "--minify"},
            new String[] {"config", "view", "--minify", "--context", "ctx-b"},
            new String[] {"config", "get-contexts"},
            new String[] {"config", "get-contexts", "-o", "name"},
            new String[] {"config", "current-context"})) {
      Result ours = on(file, args);
      assertThat(ours.exitCode()).as(ours.toString()).isZero();
      assertThat(ours.out()).as(String.join(" ", args)).isEqualTo(kubectlOn(file, args));
    }
    String view = on(file, "config", "view").out();
    assertThat(view)
        .contains("token: REDACTED", "password: REDACTED", "client-key-data: DATA+OMITTED")
        .doesNotContain("secret-token", "QUJD", "pw\n");
    assertThat(on(file, "config", "view", "--raw").out()).contains("token: secret-token");
    JsonNode json = JSON.readTree(on(file, "config", "view", "-o", "json").out());
    assertThat(json.path("current-context").asText()).isEqualTo("ctx-a");
    assertThat(json.path("users").get(0).path("user").path("token").asText()).isEqualTo("REDACTED");

    Result missing = on(file, "config", "get-contexts", "nope");
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.err()).isEqualTo("error: context nope not found\n");
  }

  @Test
  void useContextRewritesOnlyTheCurrentContext() throws Exception {
    Path file = dir.resolve("use.kubeconfig");
    Files.writeString(file, KUBECONFIG);
    Result r = on(file, "config", "use-context", "ctx-b");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("Switched to context \"ctx-b\".\n");
    assertThat(Files.readString(file))
        .isEqualTo(KUBECONFIG.replace("current-context: ctx-a", "current-context: ctx-b"));
    assertThat(on(file, "config", "current-context").out()).isEqualTo("ctx-b\n");
    assertThat(kubectlOn(file, "config", "current-context")).isEqualTo("ctx-b\n");
    // The namespace of the new context is used from now on.
    assertThat(on(file, "config", "get-contexts").out()).contains("*         ctx-b");

    Result bad = on(file, "config", "use-context", "nope");
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(bad.err()).isEqualTo("error: no context exists with the name: \"nope\"\n");
    assertThat(Files.readString(file)).contains("current-context: ctx-b");

    Path empty = dir.resolve("empty.kubeconfig");
    Files.writeString(empty, "apiVersion: v1\nkind: Config\n");
    Result unset = on(empty, "config", "current-context");
    assertThat(unset.exitCode()).isEqualTo(1);
    assertThat(unset.err()).isEqualTo("error: current-context is not set\n");
  }
}
