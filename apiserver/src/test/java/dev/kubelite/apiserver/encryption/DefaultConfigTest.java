package dev.kubelite.apiserver.encryption;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration a launcher writes on first start: Secrets under a fresh key, kept after. */
class DefaultConfigTest {
  @TempDir Path dir;

  @Test
  void writtenOnceWithAFreshKeyOwnerOnlyAndThenKept() throws Exception {
    Path file = dir.resolve("pki/encryption-config.yaml");
    EncryptionConfig first = EncryptionConfig.writeDefaultIfMissing(file);
    String written = Files.readString(file);
    assertThat(Files.getPosixFilePermissions(file))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    try (var files = Files.list(file.getParent())) {
      assertThat(files.toList()).containsExactly(file);
    }
    ValueTransformer secrets = first.transformerFor("", "secrets");
    assertThat(secrets.writePrefix()).isEqualTo("k8s:enc:aesgcm:v1:key1:");
    assertThat(first.transformerFor("", "configmaps")).isSameAs(ValueTransformer.PLAINTEXT);

    byte[] aad = "/registry/secrets/a/b".getBytes(StandardCharsets.UTF_8);
    byte[] stored = secrets.toStorage("{}".getBytes(StandardCharsets.UTF_8), aad);
    EncryptionConfig again = EncryptionConfig.writeDefaultIfMissing(file);
    assertThat(Files.readString(file)).isEqualTo(written);
    assertThat(again.transformerFor("", "secrets").fromStorage(stored, aad).plain())
        .isEqualTo("{}".getBytes(StandardCharsets.UTF_8));

    Path other = dir.resolve("other.yaml");
    EncryptionConfig.writeDefaultIfMissing(other);
    assertThat(Files.readString(other)).isNotEqualTo(written);
  }
}
