package dev.kubelite.apiserver.encryption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

/** The configuration file as kube-apiserver reads it, and the prefix transformer rules. */
class EncryptionConfigTest {
  static final String K1 = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI="; // 32 bytes
  static final String K2 = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY="; // 32 bytes
  static final byte[] AAD = "/registry/secrets/ns/s".getBytes(StandardCharsets.UTF_8);
  static final byte[] PLAIN = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);

  static EncryptionConfig parse(String yaml) throws Exception {
    return EncryptionConfig.parse(yaml.getBytes(StandardCharsets.UTF_8), new SecureRandom());
  }

  static String config(String resources, String providers) {
    return "apiVersion: apiserver.config.k8s.io/v1\n"
        + "kind: EncryptionConfiguration\n"
        + "resources:\n"
        + "  - resources: ["
        + resources
        + "]\n"
        + "    providers:\n"
        + providers;
  }

  static String aesgcm(String name, String secret) {
    return "      - aesgcm:\n          keys:\n            - name: "
        + name
        + "\n              secret: "
        + secret
        + "\n";
  }

  @Test
  void firstProviderWritesAndEveryProviderReads() throws Exception {
    EncryptionConfig one = parse(config("secrets", aesgcm("key1", K1) + "      - identity: {}\n"));
    ValueTransformer t1 = one.transformerFor("", "secrets");
    assertThat(one.transformerFor("", "configmaps")).isSameAs(ValueTransformer.PLAINTEXT);
    byte[] stored = t1.toStorage(PLAIN, AAD);
    assertThat(new String(stored, StandardCharsets.ISO_8859_1))
        .startsWith("k8s:enc:aesgcm:v1:key1:");
    assertThat(t1.fromStorage(stored, AAD).plain()).isEqualTo(PLAIN);
    assertThat(t1.fromStorage(stored, AAD).stale()).isFalse();
    // Plaintext from before encryption is read through identity, and is stale.
    assertThat(t1.fromStorage(PLAIN, AAD).stale()).isTrue();

    // Rotation step 1: key2 first, key1 still readable; key1 values are stale.
    ValueTransformer t2 =
        parse(config("secrets", aesgcm("key2", K2) + aesgcm("key1", K1)))
            .transformerFor("", "secrets");
    assertThat(t2.fromStorage(stored, AAD).plain()).isEqualTo(PLAIN);
    assertThat(t2.fromStorage(stored, AAD).stale()).isTrue();
    byte[] rewritten = t2.toStorage(PLAIN, AAD);
    assertThat(ValueTransformer.storedPrefix(rewritten)).isEqualTo("k8s:enc:aesgcm:v1:key2:");

    // key1 removed: its values are refused with a clear message.
    ValueTransformer t3 =
        parse(config("secrets", aesgcm("key2", K2))).transformerFor("", "secrets");
    assertThatThrownBy(() -> t3.fromStorage(stored, AAD))
        .isInstanceOf(ValueTransformException.class)
        .hasMessageContaining("k8s:enc:aesgcm:v1:key1:")
        .hasMessageContaining("no provider with that key");
    assertThatThrownBy(() -> t3.fromStorage(PLAIN, AAD))
        .hasMessageContaining("stored unencrypted")
        .hasMessageContaining("identity");
    // The right name with the wrong secret.
    ValueTransformer wrong =
        parse(config("secrets", aesgcm("key1", K2))).transformerFor("", "secrets");
    assertThatThrownBy(() -> wrong.fromStorage(stored, AAD))
        .hasMessageContaining("cannot be decrypted")
        .hasMessageContaining("authentication failed");
    // Without configuration, encrypted values are refused.
    assertThatThrownBy(() -> ValueTransformer.PLAINTEXT.fromStorage(stored, AAD))
        .hasMessageContaining("no --encryption-provider-config entry covers");
  }

  @Test
  void identityFirstWritesPlaintextAndStillReadsEncrypted() throws Exception {
    ValueTransformer enc =
        parse(config("secrets", aesgcm("key1", K1))).transformerFor("", "secrets");
    byte[] stored = enc.toStorage(PLAIN, AAD);
    ValueTransformer t =
        parse(config("secrets", "      - identity: {}\n" + aesgcm("key1", K1)))
            .transformerFor("", "secrets");
    assertThat(t.toStorage(PLAIN, AAD)).isEqualTo(PLAIN);
    assertThat(t.fromStorage(stored, AAD).plain()).isEqualTo(PLAIN);
    assertThat(t.fromStorage(stored, AAD).stale()).isTrue();
    assertThat(t.fromStorage(PLAIN, AAD).stale()).isFalse();
  }

  @Test
  void resourcesMatchExactlyThenByGroupWildcardThenEverything() throws Exception {
    EncryptionConfig c =
        parse(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
                + "  - resources: [configmaps]\n    providers:\n      - identity: {}\n"
                + "  - resources: [deployments.apps]\n    providers:\n"
                + aesgcm("d", K1)
                + "  - resources: ['*.']\n    providers:\n"
                + aesgcm("core", K1)
                + "  - resources: ['*.*']\n    providers:\n"
                + aesgcm("all", K1));
    assertThat(c.transformerFor("", "configmaps").writePrefix()).isEmpty();
    assertThat(c.transformerFor("apps", "deployments").writePrefix()).contains(":d:");
    assertThat(c.transformerFor("", "secrets").writePrefix()).contains(":core:");
    assertThat(c.transformerFor("apps", "replicasets").writePrefix()).contains(":all:");
  }

  @Test
  void invalidConfigurationsAreRefusedWithWhatIsWrong() {
    assertThatThrownBy(() -> parse("apiVersion: v1\nkind: EncryptionConfiguration\nresources: []"))
        .hasMessageContaining("apiserver.config.k8s.io/v1");
    assertThatThrownBy(() -> parse(config("secrets", aesgcm("k", "c2hvcnQ="))))
        .hasMessageContaining("resources[0].providers[0].aesgcm.keys[0].secret")
        .hasMessageContaining("got 5, expected one of [16, 24, 32]");
    assertThatThrownBy(() -> parse(config("secrets", aesgcm("k", "not base64!"))))
        .hasMessageContaining("base64");
    assertThatThrownBy(
            () ->
                parse(
                    config(
                        "secrets",
                        "      - secretbox:\n          keys:\n            - name: s\n"
                            + "              secret: c2hvcnRzaG9ydHNob3J0c2g=\n")))
        .hasMessageContaining("expected one of [32]");
    assertThatThrownBy(() -> parse(config("Secrets", "      - identity: {}\n")))
        .hasMessageContaining("capital letters");
    assertThatThrownBy(() -> parse(config("secrets, '*.'", "      - identity: {}\n")))
        .hasMessageContaining("overlapping");
    assertThatThrownBy(() -> parse(config("secrets, secrets", "      - identity: {}\n")))
        .hasMessageContaining("multiple times");
    assertThatThrownBy(() -> parse(config("secrets", "      - kms:\n          name: x\n")))
        .hasMessageContaining("KMS providers are not supported");
    assertThatThrownBy(
            () -> parse(config("secrets", "      - identity: {}\n        aesgcm: {keys: []}\n")))
        .hasMessageContaining("more than one provider");
    assertThatThrownBy(() -> parse(config("secrets", "      - identty: {}\n")))
        .hasMessageContaining("unknown provider \"identty\"");
    assertThatThrownBy(() -> parse(config("secrets", "      - aesgcm:\n          keys: []\n")))
        .hasMessageContaining("at least one keys is required");
  }
}
