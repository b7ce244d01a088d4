package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
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

/** {@code kubectl-lite apply} against a real API server over an in-process store. */
class ApplyCommandTest {
  static final Path MANIFESTS =
      Path.of(System.getProperty("user.dir")).getParent().resolve("manifests");
  static final Resource SECRETS = new Resource("", "v1", "secrets", true);

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

  static Path write(String name, String text) throws Exception {
    return Files.writeString(dir.resolve(name), text);
  }

  static void createNamespace(String name) {
    ObjectNode ns = KubeClient.JSON.createObjectNode();
    ns.putObject("metadata").put("name", name);
    k.create(Resource.NAMESPACES, null, ns);
  }

  static String deployment(String ns, String name, String extraSpec, String containers) {
    return """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: %s
          namespace: %s
          labels: {app: %s, tier: front}
        spec:
        %s  selector: {matchLabels: {app: %s}}
          template:
            metadata: {labels: {app: %s}}
            spec:
              containers:
        %s"""
        .formatted(name, ns, name, extraSpec, name, name, containers);
  }

  @Test
  void everyExampleManifestIsCreatedThenUnchanged() throws Exception {
    Result first = cli.run("apply", "-f", MANIFESTS.toString());
    assertThat(first.exitCode()).as(first.toString()).isZero();
    assertThat(first.out())
        .contains(
            "configmap/app-config created",
            "secret/app-secret created",
            "pod/configured created",
            "deployment.apps/web created",
            "service/web created",
            "namespace/shop created",
            "deployment.apps/cart created",
            "pod/needs-ssd created",
            "pod/hello created",
            "pod/too-big created");
    assertThat(first.out().lines()).hasSize(10);
    // Every object is in the API, where its manifest says, with the last-applied annotation.
    for (String[] o :
        List.of(
            new String[] {"/api/v1/namespaces/default/configmaps/app-config"},
            new String[] {"/api/v1/namespaces/default/secrets/app-secret"},
            new String[] {"/api/v1/namespaces/default/pods/configured"},
            new String[] {"/apis/apps/v1/namespaces/default/deployments/web"},
            new String[] {"/api/v1/namespaces/default/services/web"},
            new String[] {"/api/v1/namespaces/shop"},
            new String[] {"/apis/apps/v1/namespaces/shop/deployments/cart"},
            new String[] {"/api/v1/namespaces/default/pods/needs-ssd"},
            new String[] {"/api/v1/namespaces/default/pods/hello"},
            new String[] {"/api/v1/namespaces/default/pods/too-big"})) {
      ObjectNode obj = k.getPath(o[0]);
      assertThat(LastApplied.present(obj)).as(o[0]).isTrue();
    }
    assertThat(k.get(SECRETS, "default", "app-secret").path("data").path("password").asText())
        .isEqualTo("Y2hhbmdlLW1l");

    Result again = cli.run("apply", "-f", MANIFESTS.toString());
    assertThat(again.exitCode()).as(again.toString()).isZero();
    List<String> unchanged = new ArrayList<>(again.out().lines().toList());
    // The server turns a Secret's stringData into data, so the manifest's stringData is always
    // missing from the live object and re-sent: "configured", as with kubectl.
    assertThat(unchanged).contains("secret/app-secret configured");
    unchanged.remove("secret/app-secret configured");
    assertThat(unchanged).hasSize(9).allMatch(l -> l.endsWith(" unchanged"));
  }

  @Test
  void threeWayPatchKeepsOthersChangesAndRemovesWhatTheManifestDropped() throws Exception {
    createNamespace("threeway");
    Path v1 =
        write(
            "tw-v1.yaml",
            deployment(
                "threeway",
                "tw",
                "",
                """
                      - name: a
                        image: nginx:1
                        env: [{name: X, value: "1"}, {name: Y, value: "2"}]
                      - name: b
                        image: busybox
                """));
    Result created = cli.run("apply", "-f", v1.toString());
    assertThat(created.out()).isEqualTo("deployment.apps/tw created\n");
    // Others change the object: scale sets replicas, a controller writes status, someone adds a
    // label the manifest does not know.
    Result scaled = cli.run("scale", "deployment", "tw", "-n", "threeway", "--replicas=4");
    assertThat(scaled.exitCode()).as(scaled.toString()).isZero();
    k.patchStatus(
        Resource.DEPLOYMENTS,
        "threeway",
        "tw",
        PatchType.MERGE,
        KubeClient.JSON.readTree("{\"status\":{\"replicas\":4,\"observedGeneration\":1}}"));
    k.patch(
        Resource.DEPLOYMENTS,
        "threeway",
        "tw",
        PatchType.MERGE,
        KubeClient.JSON.readTree("{\"metadata\":{\"labels\":{\"owner\":\"ops\"}}}"));

    Path v2 =
        write(
            "tw-v2.yaml",
            deployment(
                    "threeway",
                    "tw",
                    "  strategy: {type: Recreate}\n",
                    """
                          - name: a
                            image: nginx:2
                            env: [{name: X, value: "1"}]
                    """)
                .replace("labels: {app: tw, tier: front}", "labels: {app: tw}"));
    Result configured = cli.run("apply", "-f", v2.toString());
    assertThat(configured.exitCode()).as(configured.toString()).isZero();
    assertThat(configured.out()).isEqualTo("deployment.apps/tw configured\n");

    ObjectNode d = k.get(Resource.DEPLOYMENTS, "threeway", "tw");
    assertThat(d.path("spec").path("replicas").asInt()).isEqualTo(4);
    assertThat(d.path("status").path("replicas").asInt()).isEqualTo(4);
    assertThat(Meta.labels(d)).containsEntry("owner", "ops").doesNotContainKey("tier");
    JsonNode containers = d.path("spec").path("template").path("spec").path("containers");
    assertThat(containers).hasSize(1);
    assertThat(containers.get(0).path("image").asText()).isEqualTo("nginx:2");
    assertThat(containers.get(0).path("env")).hasSize(1);
    // retainKeys: the server's default rollingUpdate went with the switch to Recreate.
    assertThat(d.path("spec").path("strategy").toString()).isEqualTo("{\"type\":\"Recreate\"}");
    assertThat(LastApplied.of(d).path("spec").path("strategy").path("type").asText())
        .isEqualTo("Recreate");

    Result unchanged = cli.run("apply", "-f", v2.toString());
    assertThat(unchanged.out()).isEqualTo("deployment.apps/tw unchanged\n");
  }

  @Test
  void realKubectlAgreesWithTheAnnotationKubectlLiteWrote() throws Exception {
    createNamespace("interop");
    Path f =
        write(
            "interop.yaml",
            deployment(
                "interop",
                "inter",
                "  replicas: 2\n",
                """
                      - name: a
                        image: nginx:1
                        ports: [{containerPort: 80}]
                """));
    assertThat(cli.run("apply", "-f", f.toString()).exitCode()).isZero();
    Kubectl kubectl = new Kubectl(dir, cluster.url().toString());
    Kubectl.Result r = kubectl.run("apply", "-f", f.toString());
    assertThat(r.output()).as(r.toString()).isEqualTo("deployment.apps/inter unchanged\n");
    // And the other way round: what kubectl applies, kubectl-lite updates.
    Files.writeString(f, Files.readString(f).replace("nginx:1", "nginx:3"));
    assertThat(kubectl.run("apply", "-f", f.toString()).output())
        .isEqualTo("deployment.apps/inter configured\n");
    assertThat(cli.run("apply", "-f", f.toString()).out())
        .isEqualTo("deployment.apps/inter unchanged\n");
  }

  @Test
  void serverDryRunStoresNothingAndClientDryRunSendsNothing() throws Exception {
    Path f =
        write(
            "dry.yaml",
            """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: dry}
            data: {k: one}
            """);
    Result server = cli.run("apply", "-f", f.toString(), "--dry-run=server");
    assertThat(server.out()).isEqualTo("configmap/dry created (server dry run)\n");
    Result client = cli.run("apply", "-f", f.toString(), "--dry-run=client", "-o", "yaml");
    assertThat(client.out()).contains("name: dry", LastApplied.ANNOTATION);
    assertThatThrownBy(() -> k.get(Resource.CONFIGMAPS, "default", "dry"))
        .isInstanceOf(ApiException.class);

    assertThat(cli.run("apply", "-f", f.toString()).out()).isEqualTo("configmap/dry created\n");
    Files.writeString(f, Files.readString(f).replace("one", "two"));
    assertThat(cli.run("apply", "-f", f.toString(), "--dry-run=server").out())
        .isEqualTo("configmap/dry configured (server dry run)\n");
    assertThat(cli.run("apply", "-f", f.toString(), "--dry-run=client").out())
        .isEqualTo("configmap/dry configured (dry run)\n");
    assertThat(k.get(Resource.CONFIGMAPS, "default", "dry").path("data").path("k").asText())
        .isEqualTo("one");
    Result bad = cli.run("apply", "-f", f.toString(), "--dry-run=maybe");
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(bad.err())
        .isEqualTo(
            "error: Invalid dry-run value (maybe). Must be \"none\", \"server\", or \"client\".\n");
  }

  @Test
  void outputFormats() throws Exception {
    Path f =
        write(
            "out.yaml",
            """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: out-1}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: out-2}
            """);
    Result names = cli.run("apply", "-f", f.toString(), "-o", "name");
    assertThat(names.out()).isEqualTo("configmap/out-1\nconfigmap/out-2\n");
    Result json = cli.run("apply", "-f", f.toString(), "-o", "json");
    JsonNode list = new ObjectMapper().readTree(json.out());
    assertThat(list.path("kind").asText()).isEqualTo("List");
    assertThat(list.path("items")).hasSize(2);
    assertThat(list.path("items").get(0).path("metadata").path("uid").asText()).isNotEmpty();
    Result one = cli.run("apply", "-f", f.toString(), "-o", "yaml", "--dry-run=server");
    assertThat(one.out()).contains("kind: List", "name: out-1", "name: out-2");
    Result wide = cli.run("apply", "-f", f.toString(), "-o", "wide");
    assertThat(wide.exitCode()).isEqualTo(1);
    assertThat(wide.err()).contains("unable to match a printer suitable for the output format");
  }

  @Test
  void namespacesFromTheFileTheFlagAndTheirConflict() throws Exception {
    createNamespace("ns-flag");
    createNamespace("ns-file");
    Path f =
        write(
            "ns.yaml",
            """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: without-ns}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: with-ns, namespace: ns-file}
            """);
    Result conflict = cli.run("apply", "-f", f.toString(), "-n", "ns-flag");
    assertThat(conflict.exitCode()).isEqualTo(1);
    assertThat(conflict.err())
        .isEqualTo(
            "error: the namespace from the provided object \"ns-file\" does not match the"
                + " namespace \"ns-flag\". You must pass '--namespace=ns-file' to perform this"
                + " operation.\n");
    // Nothing was sent: the conflict is found before anything is applied.
    assertThatThrownBy(() -> k.get(Resource.CONFIGMAPS, "ns-flag", "without-ns"))
        .isInstanceOf(ApiException.class);

    Result ok = cli.run("apply", "-f", f.toString());
    assertThat(ok.exitCode()).as(ok.toString()).isZero();
    assertThat(Meta.name(k.get(Resource.CONFIGMAPS, "default", "without-ns")))
        .isEqualTo("without-ns");
    assertThat(Meta.name(k.get(Resource.CONFIGMAPS, "ns-file", "with-ns"))).isEqualTo("with-ns");
    Path only = write("ns-only.yaml", Files.readString(f).split("---")[0]);
    Result flag = cli.run("apply", "-f", only.toString(), "-n", "ns-flag");
    assertThat(flag.out()).isEqualTo("configmap/without-ns created\n");
    assertThat(
            LastApplied.of(k.get(Resource.CONFIGMAPS, "ns-flag", "without-ns"))
                .path("metadata")
                .path("namespace")
                .asText())
        .isEqualTo("ns-flag");
  }

  @Test
  void refusalsAreReportedPerObjectAndTheOthersGoAhead() throws Exception {
    Path f =
        write(
            "partial.yaml",
            """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: lost, namespace: no-such-namespace}
            ---
            apiVersion: example.com/v1
            kind: Widget
            metadata: {name: w}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: invalid}
            spec: {containers: []}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: kept}
            """);
    Result r = cli.run("apply", "-f", f.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).isEqualTo("configmap/kept created\n");
    assertThat(r.err())
        .contains(
            "Error from server (NotFound): error when creating \""
                + f
                + "\": namespaces \"no-such-namespace\" not found")
        .contains(
            "error: resource mapping not found for name: \"w\" namespace: \"\" from \""
                + f
                + "\" (document 2): no matches for kind \"Widget\" in version \"example.com/v1\"")
        .contains("The Pod \"invalid\" is invalid: spec.containers: Required value\n");
  }

  private static List<String> managers(JsonNode o) {
    List<String> out = new ArrayList<>();
    o.path("metadata")
        .path("managedFields")
        .forEach(m -> out.add(m.path("manager").asText() + ":" + m.path("operation").asText()));
    return out;
  }

  @Test
  void serverSideApplyOwnsFieldsAndConflictsUntilForced() throws Exception {
    createNamespace("ssa");
    String c = "      - {name: web, image: nginx:1.27}\n";
    Path two = write("ssa-two.yaml", deployment("ssa", "web", "  replicas: 2\n", c));
    Path five = write("ssa-five.yaml", deployment("ssa", "web", "  replicas: 5\n", c));

    Result created = cli.run("apply", "--server-side", "-f", two.toString());
    assertThat(created.exitCode()).as(created.toString()).isZero();
    assertThat(created.out()).isEqualTo("deployment.apps/web serverside-applied\n");
    Resource deployments = new Resource("apps", "v1", "deployments", true);
    JsonNode d = k.get(deployments, "ssa", "web");
    assertThat(d.path("spec").path("replicas").asInt()).isEqualTo(2);
    assertThat(managers(d)).contains("kubectl:Apply");
    assertThat(LastApplied.present(d)).isFalse();

    // Client-side apply takes spec.replicas over, under its own field manager.
    Result csa = cli.run("apply", "-f", five.toString());
    assertThat(csa.exitCode()).as(csa.toString()).isZero();
    assertThat(managers(k.get(deployments, "ssa", "web")))
        .contains("kubectl-client-side-apply:Update");

    Result conflict = cli.run("apply", "--server-side", "-f", two.toString());
    assertThat(conflict.exitCode()).isEqualTo(1);
    assertThat(conflict.err())
        .startsWith(
            "error: Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\"")
        .contains(".spec.replicas", "--force-conflicts");
    assertThat(k.get(deployments, "ssa", "web").path("spec").path("replicas").asInt()).isEqualTo(5);

    Result forced = cli.run("apply", "--server-side", "--force-conflicts", "-f", two.toString());
    assertThat(forced.exitCode()).as(forced.toString()).isZero();
    assertThat(k.get(deployments, "ssa", "web").path("spec").path("replicas").asInt()).isEqualTo(2);

    // A server dry run of a new object answers it and stores nothing.
    Path other = write("ssa-other.yaml", deployment("ssa", "other", "", c));
    Result dry =
        cli.run("apply", "--server-side", "--dry-run=server", "-o", "json", "-f", other.toString());
    assertThat(dry.exitCode()).as(dry.toString()).isZero();
    assertThat(new ObjectMapper().readTree(dry.out()).path("metadata").path("name").asText())
        .isEqualTo("other");
    assertThatThrownBy(() -> k.get(deployments, "ssa", "other"))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.isNotFound()).isTrue());
    // --field-manager names the manager.
    Result named = cli.run("apply", "--server-side", "--field-manager=ci", "-f", other.toString());
    assertThat(named.exitCode()).as(named.toString()).isZero();
    assertThat(managers(k.get(deployments, "ssa", "other"))).containsExactly("ci:Apply");
  }

  @Test
  void serverSideFlagsThatDoNotGoTogether() throws Exception {
    Path any =
        write("ssa-any.yaml", deployment("default", "x", "", "      - {name: c, image: i}\n"));
    Result force = cli.run("apply", "--force-conflicts", "-f", any.toString());
    assertThat(force.exitCode()).isEqualTo(1);
    assertThat(force.err()).contains("--force-conflicts only works with --server-side");
    Result client = cli.run("apply", "--server-side", "--dry-run=client", "-f", any.toString());
    assertThat(client.exitCode()).isEqualTo(1);
    assertThat(client.err()).contains("--dry-run=client does not work with --server-side");
  }

  @Test
  void requiresFilesAndANonEmptyInput() throws Exception {
    Result none = cli.run("apply");
    assertThat(none.exitCode()).isEqualTo(1);
    assertThat(none.err()).contains("Missing required option: '--filename=FILE|DIR|-'");
    Path empty = write("empty.yaml", "# nothing here\n---\n");
    Result r = cli.run("apply", "-f", empty.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("error: no objects passed to apply\n");
  }
}
