package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
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

/**
 * How {@code -f} reads manifests (one reader for apply, create and delete): YAML and JSON streams,
 * directories, standard input, List kinds, and the errors for bad input — through the CLI, against
 * a real API server.
 */
class ManifestInputTest {
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

  static List<String> configMaps() {
    List<String> names = new ArrayList<>();
    k.list(Resource.CONFIGMAPS, "default", ListOptions.NONE)
        .path("items")
        .forEach(i -> names.add(Meta.name(i)));
    return names;
  }

  @Test
  void aDirectoryTakesItsYamlYmlAndJsonFilesInNameOrder() throws Exception {
    Path d = Files.createDirectories(dir.resolve("dir"));
    Files.writeString(
        d.resolve("b.yml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dir-b\n");
    Files.writeString(
        d.resolve("a.json"),
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"dir-a1\"}}\n"
            + "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"dir-a2\"}}\n");
    Files.writeString(
        d.resolve("c.yaml"),
        "---\n# a comment-only document is skipped\n---\napiVersion: v1\nkind: ConfigMap\n"
            + "metadata:\n  name: dir-c\n---\n");
    Files.writeString(d.resolve("notes.txt"), "not a manifest");
    Files.createDirectories(d.resolve("sub"));
    Files.writeString(
        d.resolve("sub").resolve("x.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dir-sub\n");
    Result r = cli.run("apply", "-f", d.toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out())
        .isEqualTo(
            "configmap/dir-a1 created\nconfigmap/dir-a2 created\nconfigmap/dir-b created\n"
                + "configmap/dir-c created\n");
    assertThat(configMaps())
        .contains("dir-a1", "dir-a2", "dir-b", "dir-c")
        .doesNotContain("dir-sub");
  }

  @Test
  void standardInputAndRepeatedFilenames() throws Exception {
    Path f =
        Files.writeString(
            dir.resolve("one.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: in-file\n");
    Result r =
        cli.runWithStdin(
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"in-stdin\"}}",
            "apply",
            "-f",
            f.toString(),
            "-f",
            "-");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("configmap/in-file created\nconfigmap/in-stdin created\n");
    Result twice = cli.runWithStdin("", "apply", "-f", "-", "-f", "-");
    assertThat(twice.err()).isEqualTo("error: standard input (-f -) can be read only once\n");
  }

  @Test
  void aListStandsForItsItems() throws Exception {
    String list =
        """
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: list-1}
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: list-2}
        """;
    Result r = cli.runWithStdin(list, "create", "-f", "-");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("configmap/list-1 created\nconfigmap/list-2 created\n");
    Result d = cli.runWithStdin(list, "delete", "-f", "-");
    assertThat(d.out()).isEqualTo("configmap \"list-1\" deleted\nconfigmap \"list-2\" deleted\n");
    assertThat(configMaps()).doesNotContain("list-1", "list-2");
  }

  @Test
  void badYamlNamesTheFileDocumentAndLineAndSendsNothing() throws Exception {
    Path f =
        Files.writeString(
            dir.resolve("bad.yaml"),
            """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: before-the-bad-one
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: bad
             data: x
            """);
    Result r = cli.run("apply", "-f", f.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("error: error parsing " + f + " (document 2, line 10): ");
    assertThat(r.err().lines()).hasSize(1);
    assertThatThrownBy(() -> k.get(Resource.CONFIGMAPS, "default", "before-the-bad-one"))
        .isInstanceOf(ApiException.class);
  }

  @Test
  void badJsonAndNonObjects() throws Exception {
    Path json =
        Files.writeString(
            dir.resolve("bad.json"),
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"j\"}}\n"
                + "{\"apiVersion\":\"v1\",\n\"kind\":\"ConfigMap\"\n");
    Result r = cli.run("create", "-f", json.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: error parsing " + json + " (document 2, line 4): ");
    Path scalar = Files.writeString(dir.resolve("scalar.yaml"), "just a string\n");
    Result s = cli.run("apply", "-f", scalar.toString());
    assertThat(s.err())
        .isEqualTo(
            "error: error parsing "
                + scalar
                + " (document 1): expected an object (a mapping with apiVersion and kind), got the"
                + " string \"just a string\"\n");
  }

  @Test
  void missingApiVersionOrKind() throws Exception {
    Path f =
        Files.writeString(
            dir.resolve("nokind.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n"
                + "apiVersion: v1\nmetadata: {name: nokind}\n");
    Result r = cli.run("apply", "-f", f.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("error: error validating " + f + " (document 2): kind not set\n");
    Result v = cli.runWithStdin("kind: ConfigMap\nmetadata: {name: x}\n", "delete", "-f", "-");
    assertThat(v.err())
        .isEqualTo("error: error validating STDIN (document 1): apiVersion not set\n");
  }

  @Test
  void unknownKindAndMissingPath() {
    Result r =
        cli.runWithStdin(
            "apiVersion: v1\nkind: Gadget\nmetadata: {name: g}\n", "create", "-f", "-");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err())
        .startsWith(
            "error: resource mapping not found for name: \"g\" namespace: \"\" from \"STDIN\":"
                + " no matches for kind \"Gadget\" in version \"v1\"");
    Result missing = cli.run("apply", "-f", dir.resolve("nope.yaml").toString());
    assertThat(missing.err())
        .isEqualTo("error: the path \"" + dir.resolve("nope.yaml") + "\" does not exist\n");
  }
}
