package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.ApiServer;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import dev.kubelite.kubectl.testing.Cli;
import dev.kubelite.kubectl.testing.Cli.Result;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.RemoteKvStore;
import dev.kubelite.store.testing.LocalCluster;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kubectl-lite store get|status} against a real API server over an in-process store, and
 * {@code store status} against an API server on a 3-member store cluster.
 */
class StoreCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static Cluster cluster;
  static Cli cli;
  static long webRevision;

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster();
    cli = new Cli(dir, cluster.url());
    KubeClient c = cluster.client();
    c.create(Resource.NAMESPACES, null, object("{\"metadata\":{\"name\":\"shop\"}}"));
    ObjectNode web = c.create(Resource.PODS, "shop", pod("web"));
    webRevision = Long.parseLong(web.path("metadata").path("resourceVersion").asText());
    c.create(Resource.PODS, "shop", pod("db"));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static ObjectNode object(String json) throws Exception {
    return (ObjectNode) JSON.readTree(json);
  }

  static ObjectNode pod(String name) throws Exception {
    return object(
        "{\"metadata\":{\"name\":\""
            + name
            + "\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}");
  }

  private static Result ok(String... args) {
    Result r = cli.run(args);
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.err()).as(r.toString()).isEmpty();
    return r;
  }

  @Test
  void keysOnlyPrintsKeyAndEmptyLineLikeEtcdctl() {
    Result r = ok("store", "get", "/registry/pods/shop/", "--prefix", "--keys-only");
    assertThat(r.out()).isEqualTo("/registry/pods/shop/db\n\n/registry/pods/shop/web\n\n");
    Result all = ok("store", "get", "/registry/pods", "--prefix", "--keys-only");
    assertThat(all.out()).contains("/registry/pods/shop/web\n");
  }

  @Test
  void keyLineThenValueLine() throws Exception {
    Result r = ok("store", "get", "/registry/pods/shop/web");
    String[] lines = r.out().split("\n");
    assertThat(lines).hasSize(2);
    assertThat(lines[0]).isEqualTo("/registry/pods/shop/web");
    JsonNode stored = JSON.readTree(lines[1]);
    assertThat(stored.path("kind").asText()).isEqualTo("Pod");
    assertThat(stored.path("metadata").path("name").asText()).isEqualTo("web");
  }

  @Test
  void limitRevisionAndJson() throws Exception {
    Result one =
        ok("store", "get", "/registry/pods/shop/", "--prefix", "--keys-only", "--limit", "1");
    assertThat(one.out()).isEqualTo("/registry/pods/shop/db\n\n");
    // At the revision of the web pod's create, the db pod does not exist yet.
    Result past =
        ok(
            "store",
            "get",
            "/registry/pods/shop/",
            "--prefix",
            "--keys-only",
            "--rev",
            Long.toString(webRevision));
    assertThat(past.out()).isEqualTo("/registry/pods/shop/web\n\n");
    Result json = ok("store", "get", "/registry/pods/shop/web", "-o", "json");
    JsonNode answer = JSON.readTree(json.out());
    assertThat(answer.path("kvs").get(0).path("modRevision").asLong()).isEqualTo(webRevision);
    assertThat(answer.path("count").asLong()).isEqualTo(1);
  }

  @Test
  void errorsReadLikeKubectl() {
    Result future = cli.run("store", "get", "/registry", "--prefix", "--rev", "999999999");
    assertThat(future.exitCode()).isEqualTo(1);
    assertThat(future.err()).startsWith("Error from server (BadRequest): ").contains("future");
    Result both = cli.run("store", "get", "/a", "--prefix", "--from-key");
    assertThat(both.exitCode()).isEqualTo(1);
    assertThat(both.err()).isEqualTo("error: --prefix and --from-key cannot be used together\n");
    Result noKey = cli.run("store", "get");
    assertThat(noKey.exitCode()).isEqualTo(1);
    assertThat(noKey.err()).contains("Missing required parameter: 'KEY'");
    Result badLimit = cli.run("store", "get", "/a", "--limit", "many");
    assertThat(badLimit.exitCode()).isEqualTo(1);
    assertThat(badLimit.err()).contains("--limit");
    Result noSub = cli.run("store");
    assertThat(noSub.exitCode()).isEqualTo(1);
    assertThat(noSub.err()).contains("a subcommand is required");
  }

  @Test
  void statusOfOneMember() throws Exception {
    Result r = ok("store", "status");
    String[] lines = r.out().split("\n");
    long id = cluster.storeServer.member().memberId();
    String hex = Long.toHexString(id);
    assertThat(lines[0]).startsWith("Cluster ").contains("leader m1 (" + hex + ")", "raft term ");
    assertThat(lines[1]).isEmpty();
    assertThat(lines[2].split(" {3,}"))
        .containsExactly(
            "NAME",
            "ID",
            "ENDPOINT",
            "VERSION",
            "DB SIZE",
            "IS LEADER",
            "IS LEARNER",
            "RAFT TERM",
            "RAFT INDEX",
            "RAFT APPLIED INDEX",
            "REVISION",
            "ERRORS");
    assertThat(lines).hasSize(4);
    List<String> row = Arrays.asList(lines[3].split(" {3,}"));
    assertThat(row.subList(0, 7))
        .containsExactly(
            "m1",
            hex,
            cluster.storeServer.member().config().advertiseClientUrls().get(0).toString(),
            "3.4.0",
            row.get(4),
            "true",
            "false");
    assertThat(row.get(4)).matches("\\d+(\\.\\d)? (B|kB|MB)");
    Result yaml = ok("store", "status", "-o", "yaml");
    assertThat(yaml.out()).contains("kind: StoreStatus", "name: m1", "isLeader: true");
  }

  @Test
  void statusOfThreeMembers(@TempDir Path tmp) throws Exception {
    try (LocalCluster store = LocalCluster.of(tmp.resolve("store"), "cli-test", 3).start()) {
      store.awaitAllPublished();
      int leader = store.awaitLeader();
      List<String> endpoints = IntStream.range(0, 3).mapToObj(store::endpoint).toList();
      try (KvStore kv = RemoteKvStore.connect(endpoints);
          ApiServer api = ApiServer.start(kv, new ApiServer.Options("127.0.0.1", 0))) {
        Path cliDir = Files.createDirectories(tmp.resolve("cli"));
        Cli three = new Cli(cliDir, URI.create("http://127.0.0.1:" + api.port()));
        Result r = three.run("store", "status");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        String[] lines = r.out().split("\n");
        String leaderHex = Long.toHexString(store.member(leader).memberId());
        assertThat(lines[0]).contains("leader " + store.name(leader) + " (" + leaderHex + ")");
        assertThat(lines).hasSize(6);
        for (int i = 0; i < 3; i++) {
          List<String> row = Arrays.asList(lines[3 + i].split(" {3,}"));
          assertThat(row.get(0)).isEqualTo("m" + i);
          assertThat(row.get(2)).isEqualTo(store.clientUrl(i));
          assertThat(row.get(5)).isEqualTo(Boolean.toString(i == leader));
          assertThat(row).hasSize(11); // no ERRORS cell
        }
      }
    }
  }
}
