package dev.kubelite.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.KubeConfig;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.FreePorts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kubelite up}'s contract: kubeconfig, etcdctl.env, state kept across restarts, --fresh,
 * Secrets encrypted at rest, an audit log.
 */
class AllInOneTest {
  @TempDir Path dir;

  private AllInOne start(boolean fresh) throws Exception {
    int store = FreePorts.next();
    return AllInOne.start(
        AllInOne.Options.builder(dir, FreePorts.next(), store, FreePorts.next())
            .nodes(0)
            .fresh(fresh)
            .build());
  }

  private static KubeClient client(AllInOne c) throws Exception {
    return KubeClient.fromConfig(KubeConfig.load(c.kubeconfig().toString()));
  }

  private static ObjectNode configMap(String name, String value) {
    ObjectNode cm = KubeClient.JSON.createObjectNode();
    cm.put("apiVersion", "v1").put("kind", "ConfigMap");
    cm.putObject("metadata").put("name", name);
    cm.putObject("data").put("k", value);
    return cm;
  }

  @Test
  void theStoreTakesASnapshotEverySnapshotCountEntries() throws Exception {
    int store = FreePorts.next();
    AllInOne.Options options =
        AllInOne.Options.builder(dir, FreePorts.next(), store, FreePorts.next())
            .nodes(0)
            .snapshotCount(20)
            .build();
    try (AllInOne c = AllInOne.start(options)) {
      KubeClient k = client(c);
      for (int i = 0; i < 25; i++) {
        k.create(Resource.CONFIGMAPS, "default", configMap("cm-" + i, "v"));
      }
      // The Raft log keeps its latest snapshot as member/wal/snap-<index>.snap.
      Path wal = dir.resolve("store").resolve("member").resolve("wal");
      try (var files = java.nio.file.Files.list(wal)) {
        assertThat(files.map(f -> f.getFileName().toString()))
            .anyMatch(n -> n.startsWith("snap-") && n.endsWith(".snap"));
      }
    }
  }

  @Test
  void kubeconfigWorksStateSurvivesRestartAndFreshStartsEmpty() throws Exception {
    try (AllInOne c = start(false)) {
      KubeClient k = client(c);
      List<String> namespaces = new ArrayList<>();
      k.list(Resource.NAMESPACES, null, dev.kubelite.client.ListOptions.NONE)
          .path("items")
          .forEach(n -> namespaces.add(Meta.name(n)));
      assertThat(namespaces).contains("default", "kube-system", "kube-public", "kube-node-lease");
      k.create(Resource.CONFIGMAPS, "default", configMap("kept", "v1"));
    }
    try (AllInOne c = start(false)) {
      ObjectNode cm = client(c).get(Resource.CONFIGMAPS, "default", "kept");
      assertThat(cm.path("data").path("k").asText()).isEqualTo("v1");
    }
    try (AllInOne c = start(true)) {
      assertThatThrownBy(() -> client(c).get(Resource.CONFIGMAPS, "default", "kept"))
          .isInstanceOf(ApiException.class)
          .matches(e -> ((ApiException) e).isNotFound());
    }
  }

  @Test
  void etcdctlEnvReachesTheStoreAsInTheTutorials() throws Exception {
    String etcdctl = EtcdProcess.binary("etcdctl");
    try (AllInOne c = start(false)) {
      client(c).create(Resource.CONFIGMAPS, "default", configMap("seen", "by-etcdctl"));
      Process p =
          new ProcessBuilder(
                  "bash",
                  "-c",
                  "source \"$1\" && \"$2\" get /registry/configmaps --prefix --keys-only",
                  "etcdctl-env",
                  c.etcdctlEnv().toString(),
                  etcdctl)
              .redirectErrorStream(true)
              .start();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(out).isZero();
      assertThat(out).contains("/registry/configmaps/default/seen");
    }
  }

  @Test
  void secretsAreEncryptedAtRestUnderAKeyKeptAcrossRestarts() throws Exception {
    String marker = "plaintext-marker-" + System.nanoTime();
    ObjectNode secret = KubeClient.JSON.createObjectNode();
    secret.put("apiVersion", "v1").put("kind", "Secret");
    secret.putObject("metadata").put("name", "db");
    secret.putObject("stringData").put("password", marker);
    try (AllInOne c = start(false)) {
      KubeClient k = client(c);
      k.create(new Resource("", "v1", "secrets", true), "default", secret);
      ObjectNode raw = k.getPath("/kubelite/v1/store/keys?key=/registry/secrets/default/db");
      com.fasterxml.jackson.databind.JsonNode kv = raw.path("kvs").get(0);
      String value = kv.path("value").asText();
      byte[] bytes =
          "base64".equals(kv.path("valueEncoding").asText())
              ? java.util.Base64.getDecoder().decode(value)
              : value.getBytes(StandardCharsets.UTF_8);
      String stored = new String(bytes, StandardCharsets.ISO_8859_1);
      assertThat(stored).startsWith("k8s:enc:aesgcm:v1:key1:").doesNotContain(marker);
    }
    assertThat(AllInOne.encryptionConfig(dir)).exists();
    // The API server audits at Metadata: the create is there, the value is not.
    String audit =
        java.nio.file.Files.readString(dir.resolve("logs/audit.log"), StandardCharsets.UTF_8);
    assertThat(audit)
        .contains("\"verb\":\"create\"")
        .contains(
            "\"objectRef\":{\"resource\":\"secrets\",\"namespace\":\"default\",\"name\":\"db\"")
        .doesNotContain(marker);
    try (AllInOne c = start(false)) {
      ObjectNode back = client(c).get(new Resource("", "v1", "secrets", true), "default", "db");
      assertThat(
              new String(
                  java.util.Base64.getDecoder().decode(back.path("data").path("password").asText()),
                  StandardCharsets.UTF_8))
          .isEqualTo(marker);
    }
  }
}
