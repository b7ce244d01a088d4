package dev.kubelite.apiserver.encryption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The providers' payloads are Kubernetes' (Go's crypto/cipher and nacl/secretbox): known answers
 * made by other implementations decrypt, and what we write round-trips.
 */
class ProvidersTest {
  private static final byte[] KEY = new byte[32];
  private static final byte[] AAD = "/registry/secrets/default/s1".getBytes(StandardCharsets.UTF_8);
  private static final byte[] PLAIN =
      "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"data\":{\"k\":\"dmFsdWU=\"}}"
          .getBytes(StandardCharsets.UTF_8);

  static {
    for (int i = 0; i < 32; i++) {
      KEY[i] = (byte) i;
    }
  }

  private final SecureRandom random = new SecureRandom();

  /**
   * nonce(12) + AES-GCM(ciphertext + tag) with the key path as AAD, made by Python cryptography.
   */
  @Test
  void aesGcmReadsAPayloadFromAnotherImplementation() throws Exception {
    byte[] payload =
        Base64.getDecoder()
            .decode(
                "ZGVmZ2hpamtsbW5vMzm1DxeNdKQcMTqLqAAe327gZ3riOpYA1LjDJtmZhz6ly2ziKHPvZd/JAx2WYPDtfzbe"
                    + "lEQdFBXYjNHKYzmArLkJuQO5BvXBGy5N");
    AesGcmProvider p = new AesGcmProvider("key1", KEY, random);
    assertThat(p.prefix()).isEqualTo("k8s:enc:aesgcm:v1:key1:");
    assertThat(p.open(payload, AAD)).isEqualTo(PLAIN);
    // The key path is authenticated: the same payload under another key does not decrypt.
    assertThatThrownBy(
            () -> p.open(payload, "/registry/secrets/default/s2".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessageContaining("authentication failed");
  }

  @Test
  void aesCbcReadsAPayloadFromAnotherImplementation() throws Exception {
    byte[] payload =
        Base64.getDecoder()
            .decode(
                "MjM0NTY3ODk6Ozw9Pj9AQf4njSEl0dxfpl6qhGl2MUvHBIm/VltsZvkLf3ibpgwEReaYQ0fTcygLmxxBqRQp"
                    + "mFult5bvCUfb2r0mq9Vvlhk=");
    AesCbcProvider p = new AesCbcProvider("k", KEY, random);
    assertThat(p.prefix()).isEqualTo("k8s:enc:aescbc:v1:k:");
    assertThat(p.open(payload, AAD)).isEqualTo(PLAIN);
  }

  /** NaCl's own secretbox test vector (tests/secretbox.c): tag + ciphertext. */
  @Test
  void secretboxMatchesTheNaclTestVector() throws Exception {
    HexFormat hex = HexFormat.of();
    byte[] key = hex.parseHex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389");
    byte[] nonce = hex.parseHex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37");
    byte[] m =
        hex.parseHex(
            "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d4"
                + "5e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1"
                + "318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f93776384864"
                + "5e0705");
    byte[] c =
        hex.parseHex(
            "f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c5"
                + "31a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7"
                + "cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b3"
                + "7973f622a43d14a6599b1f654cb45a74e355a5");
    byte[] sealed = SecretboxProvider.seal(key, nonce, m);
    assertThat(hex.formatHex(sealed)).isEqualTo(hex.formatHex(nonce) + hex.formatHex(c));
    SecretboxProvider p = new SecretboxProvider("sb", key, random);
    assertThat(p.prefix()).isEqualTo("k8s:enc:secretbox:v1:sb:");
    assertThat(p.open(sealed, AAD)).isEqualTo(m);
    sealed[sealed.length - 1] ^= 1;
    assertThatThrownBy(() -> p.open(sealed, AAD))
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessageContaining("authentication failed");
  }

  @Test
  void everyProviderRoundTripsAndUsesFreshRandomness() throws Exception {
    for (Provider p :
        new Provider[] {
          new AesGcmProvider("a", KEY, random),
          new AesGcmProvider("a16", java.util.Arrays.copyOf(KEY, 16), random),
          new AesCbcProvider("b", KEY, random),
          new SecretboxProvider("c", KEY, random)
        }) {
      for (byte[] plain : new byte[][] {new byte[0], PLAIN, new byte[16], new byte[100_000]}) {
        byte[] one = p.seal(plain, AAD);
        byte[] two = p.seal(plain, AAD);
        assertThat(one).isNotEqualTo(two);
        assertThat(p.open(one, AAD)).as(p.prefix()).isEqualTo(plain);
      }
      assertThatThrownBy(() -> p.open(new byte[3], AAD))
          .isInstanceOf(GeneralSecurityException.class);
    }
  }

  @Test
  void identityRefusesEncryptedValues() throws Exception {
    assertThat(IdentityProvider.INSTANCE.open(PLAIN, AAD)).isEqualTo(PLAIN);
    assertThatThrownBy(
            () ->
                IdentityProvider.INSTANCE.open(
                    "k8s:enc:aesgcm:v1:k:xyz".getBytes(StandardCharsets.UTF_8), AAD))
        .isInstanceOf(GeneralSecurityException.class);
  }
}
