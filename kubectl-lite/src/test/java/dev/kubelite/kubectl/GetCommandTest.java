package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import dev.kubelite.kubectl.testing.Cli;
import dev.kubelite.kubectl.testing.Cli.Result;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kubectl-lite get} against a real API server over an in-process store. */
class GetCommandTest {
  @TempDir static Path dir;
  static Cluster cluster;
  static Cli cli;

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster();
    cli = new Cli(dir, cluster.url());
    KubeClient c = cluster.client();
    c.create(Resource.NAMESPACES, null, object("{\"metadata\":{\"name\":\"other\"}}"));
    c.create(Resource.PODS, "default", pod("web-1", "app: web"));
    c.create(Resource.PODS, "default", pod("db-1", "app: db"));
    c.create(Resource.PODS, "other", pod("other-1", "app: web"));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static ObjectNode object(String json) throws Exception {
    return (ObjectNode) new ObjectMapper().readTree(json);
  }

  static ObjectNode pod(String name, String label) throws Exception {
    String[] kv = label.split(": ");
    return object(
        "{\"metadata\":{\"name\":\""
            + name
            + "\",\"labels\":{\""
            + kv[0]
            + "\":\""
            + kv[1]
            + "\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}");
  }

  @Test
  void tableOfPodsInTheDefaultNamespace() {
    Result r = cli.run("get", "pods");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    String[] lines = r.out().split("\n");
    assertThat(lines[0]).startsWith("NAME").contains("READY", "STATUS", "RESTARTS", "AGE");
    assertThat(r.out()).contains("web-1", "db-1").doesNotContain("other-1");
    assertThat(lines).hasSize(3);
  }

  @Test
  void shortNamesLabelSelectorAndAllNamespaces() {
    Result r = cli.run("get", "po", "-A", "-l", "app=web");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out().split("\n")[0]).startsWith("NAMESPACE").contains("NAME");
    assertThat(r.out()).contains("web-1", "other-1").doesNotContain("db-1");
  }

  @Test
  void oneObjectAsYamlJsonAndName() throws Exception {
    Result yaml = cli.run("get", "pod", "web-1", "-o", "yaml");
    assertThat(yaml.exitCode()).as(yaml.toString()).isZero();
    // As kubectl without --show-managed-fields: the server's managedFields are not printed.
    assertThat(yaml.out()).contains("kind: Pod", "name: web-1").doesNotContain("managedFields");
    Result json = cli.run("get", "pods/web-1", "-o", "json");
    JsonNode pod = new ObjectMapper().readTree(json.out());
    assertThat(pod.path("metadata").path("name").asText()).isEqualTo("web-1");
    assertThat(pod.path("metadata").has("managedFields")).isFalse();
    Result names = cli.run("get", "pods", "-n", "other", "-o", "name");
    assertThat(names.out()).isEqualTo("pod/other-1\n");
  }

  @Test
  void severalObjectsAsJsonAreAList() throws Exception {
    Result r = cli.run("get", "pods", "-o", "json");
    JsonNode list = new ObjectMapper().readTree(r.out());
    assertThat(list.path("kind").asText()).isEqualTo("List");
    assertThat(list.path("items")).hasSize(2);
    assertThat(list.path("items").get(0).path("kind").asText()).isEqualTo("Pod");
  }

  @Test
  void notFoundReadsLikeKubectl() {
    Result r = cli.run("get", "pod", "nope");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("Error from server (NotFound): pods \"nope\" not found\n");
  }

  @Test
  void unknownTypeAndEmptyNamespace() {
    Result r = cli.run("get", "widgets");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("error: the server doesn't have a resource type \"widgets\"");
    Result empty = cli.run("get", "deploy", "-n", "other");
    assertThat(empty.exitCode()).isZero();
    assertThat(empty.err()).isEqualTo("No resources found in other namespace.\n");
  }

  @Test
  void clusterScopedAndSeveralTypes() {
    Result r = cli.run("get", "ns,pods");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).contains("namespace/other", "pod/web-1");
  }

  @Test
  void badOutputFormatAndUnknownFlag() {
    Result r = cli.run("get", "pods", "-o", "xml");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err())
        .contains("unable to match a printer suitable for the output format \"xml\"");
    Result flag = cli.run("get", "pods", "--bogus");
    assertThat(flag.exitCode()).isEqualTo(1);
    assertThat(flag.err()).contains("error: Unknown option: '--bogus'");
  }

  @Test
  void connectionRefused() throws Exception {
    Cli dead =
        new Cli(
            java.nio.file.Files.createDirectories(dir.resolve("dead")),
            java.net.URI.create("http://127.0.0.1:1"));
    Result r = dead.run("get", "pods");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err())
        .contains(
            "The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?");
  }

  @Test
  void discoveryIsCachedAndReadAgainForAnUnknownName() throws Exception {
    assertThat(cli.run("get", "pods").exitCode()).isZero();
    Path cached =
        cli.kubeconfig()
            .resolveSibling("cache")
            .resolve("discovery")
            .resolve("127.0.0.1_" + cluster.url().getPort() + ".json");
    assertThat(cached).exists();
    // A cache that lacks a served type (as after a server upgrade) is read again on a miss.
    java.nio.file.Files.writeString(cached, "[]");
    Result r = cli.run("get", "pods");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(java.nio.file.Files.readString(cached)).contains("\"pods\"");
  }

  @Test
  void unknownCommandReadsLikeKubectl() {
    Result r = cli.run("-n", "x", "frobnicate", "pods");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: unknown command \"frobnicate\" for \"kubectl-lite\"");
  }
}
