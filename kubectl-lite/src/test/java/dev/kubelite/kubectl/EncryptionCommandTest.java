package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.apiserver.encryption.EncryptionConfig;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.kubectl.testing.Cli;
import dev.kubelite.kubectl.testing.Cli.Result;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kubectl-lite encryption status|rewrite} against a real API server whose configuration
 * writes Secrets with AES-GCM, over a store that still holds a Secret written in plaintext (as
 * after turning encryption on): status finds it stale, rewrite encrypts it, the raw store value
 * then carries the key's prefix and the API still reads the Secret.
 */
class EncryptionCommandTest {
  @TempDir static Path dir;
  static ApiServerFixture f;
  static Cli cli;

  static final String OLD_KEY = "/registry/secrets/default/from-before";

  @BeforeAll
  static void start() throws Exception {
    byte[] key = new byte[32];
    for (int i = 0; i < key.length; i++) {
      key[i] = (byte) (i * 7 + 1);
    }
    Path config = dir.resolve("encryption.yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "apiVersion: apiserver.config.k8s.io/v1",
            "kind: EncryptionConfiguration",
            "resources:",
            "- resources: [secrets]",
            "  providers:",
            "  - aesgcm:",
            "      keys:",
            "      - name: key1",
            "        secret: " + Base64.getEncoder().encodeToString(key),
            "  - identity: {}",
            ""));
    EncryptionConfig encryption = EncryptionConfig.load(config);
    f = ApiServerFixture.start(o -> o.withEncryption(encryption));
    cli = new Cli(dir, URI.create(f.url()));
    // A Secret stored before encryption was turned on: plaintext JSON, straight into the store.
    String plain =
        "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"from-before\","
            + "\"namespace\":\"default\",\"uid\":\"0b5e4f8e-0000-4000-8000-000000000001\","
            + "\"creationTimestamp\":\"2026-11-01T00:00:00Z\"},\"type\":\"Opaque\","
            + "\"data\":{\"password\":\"aHVudGVyMg==\"}}";
    f.store.put(bytes(OLD_KEY), bytes(plain)).get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void statusFindsThePlaintextSecretAndRewriteEncryptsIt() throws Exception {
    Result status = cli.run("encryption", "status", "--resource", "secrets");
    assertThat(status.exitCode()).as(status.toString()).isZero();
    assertThat(status.out())
        .contains("RESOURCE", "WRITE PROVIDER", "CHECKED", "STORED WITH", "STALE")
        .containsPattern("secrets\\s+k8s:enc:aesgcm:v1:key1:\\s+1\\s+identity=1\\s+1");

    Result rewrite = cli.run("encryption", "rewrite");
    assertThat(rewrite.exitCode()).as(rewrite.toString()).isZero();
    assertThat(rewrite.out())
        .contains("REWRITTEN")
        .containsPattern("secrets\\s+\\S+\\s+1\\s+\\S+\\s+1");

    byte[] stored = f.store.get(bytes(OLD_KEY)).get(10, TimeUnit.SECONDS).kv().value();
    assertThat(new String(stored, StandardCharsets.ISO_8859_1))
        .startsWith("k8s:enc:aesgcm:v1:key1:")
        .doesNotContain("aHVudGVyMg==");
    Result again = cli.run("encryption", "status", "-o", "yaml");
    assertThat(again.exitCode()).isZero();
    assertThat(again.out()).contains("kind: EncryptionStatus").contains("stale: 0");
    Result read = cli.run("get", "secret", "from-before", "-o", "json");
    assertThat(read.exitCode()).as(read.toString()).isZero();
    assertThat(read.out()).contains("\"password\" : \"aHVudGVyMg==\"");
  }

  @Test
  void badOutputFormatIsAClearError() {
    Result r = cli.run("encryption", "status", "-o", "wide");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("allowed formats are: json,yaml");
  }
}
