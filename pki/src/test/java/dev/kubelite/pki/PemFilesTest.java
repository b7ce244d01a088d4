package dev.kubelite.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PEM reading with the JDK (decision 0082): every key form users' kubeconfigs carry, read to the
 * same key as BouncyCastle reads, proven by signing with it; refusals worded as before.
 */
class PemFilesTest {
  @TempDir Path dir;

  private static KeyPair ec(String curve) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec(curve));
    return g.generateKeyPair();
  }

  /**
   * An EC key pair from BC's provider, whose SEC1 form names its curve as openssl's does (the JDK's
   * own EC keys encode without it, so BC writes them as a SEC1 key nobody can read back).
   */
  private static KeyPair bcEc(String curve) throws Exception {
    KeyPairGenerator g =
        KeyPairGenerator.getInstance(
            "EC", new org.bouncycastle.jce.provider.BouncyCastleProvider());
    g.initialize(new ECGenParameterSpec(curve));
    return g.generateKeyPair();
  }

  private static KeyPair rsa() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair();
  }

  /** BC writes a key pair in the traditional forms: SEC1 EC PRIVATE KEY, PKCS#1 RSA PRIVATE KEY. */
  private static String traditional(KeyPair kp) throws Exception {
    StringWriter s = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(s)) {
      w.writeObject(kp);
    }
    return s.toString();
  }

  private static String pkcs8(PrivateKey k) {
    return PemFiles.keyPem(k);
  }

  /** The key signs something the public key verifies: it is the same key. */
  private static void assertSigns(PrivateKey key, PublicKey pub) throws Exception {
    String alg =
        switch (pub.getAlgorithm()) {
          case "EC" -> "SHA256withECDSA";
          case "RSA" -> "SHA256withRSA";
          default -> pub.getAlgorithm(); // Ed25519
        };
    Signature s = Signature.getInstance(alg);
    s.initSign(key);
    s.update("kubelite".getBytes(StandardCharsets.UTF_8));
    byte[] sig = s.sign();
    Signature v = Signature.getInstance(alg);
    v.initVerify(pub);
    v.update("kubelite".getBytes(StandardCharsets.UTF_8));
    assertThat(v.verify(sig)).isTrue();
  }

  @Test
  void readsSec1Pkcs1AndPkcs8KeysAsBouncyCastleDoes() throws Exception {
    List<KeyPair> pairs = List.of(bcEc("secp256r1"), bcEc("secp384r1"), rsa());
    for (KeyPair kp : pairs) {
      String trad = traditional(kp);
      assertThat(trad)
          .contains(
              kp.getPrivate().getAlgorithm().equals("EC")
                  ? "-----BEGIN EC PRIVATE KEY-----"
                  : "-----BEGIN RSA PRIVATE KEY-----");
      PrivateKey fromTrad = PemFiles.parseKey(trad, "traditional");
      PrivateKey fromPkcs8 = PemFiles.parseKey(pkcs8(kp.getPrivate()), "pkcs8");
      assertThat(fromTrad.getAlgorithm()).isEqualTo(kp.getPrivate().getAlgorithm());
      assertThat(fromTrad.getEncoded()).isEqualTo(fromPkcs8.getEncoded());
      assertThat(fromTrad.getEncoded())
          .isEqualTo(BouncyPem.privateKey(trad, "traditional").getEncoded());
      assertSigns(fromTrad, kp.getPublic());
    }
  }

  @Test
  void readsOpensslsKeyForms() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl is not installed");
    record Form(String name, String expectBlock, String... command) {}
    // genrsa takes the key size last, after -out
    List<Form> forms =
        List.of(
            // kubeadm/kind-style and `openssl ecparam -genkey` (with an EC PARAMETERS block first)
            new Form(
                "ec-params.key",
                "EC PARAMETERS",
                "openssl",
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey"),
            new Form(
                "ec.key",
                "EC PRIVATE KEY",
                "openssl",
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout"),
            new Form("rsa.key", "RSA PRIVATE KEY", "openssl", "genrsa", "-traditional"),
            new Form("rsa8.key", "PRIVATE KEY", "openssl", "genpkey", "-algorithm", "RSA"),
            new Form("ed.key", "PRIVATE KEY", "openssl", "genpkey", "-algorithm", "ed25519"));
    for (Form f : forms) {
      Path key = dir.resolve(f.name());
      List<String> cmd = new ArrayList<>(List.of(f.command()));
      cmd.addAll(List.of("-out", key.toString()));
      if (f.command()[1].equals("genrsa")) {
        cmd.add("2048");
      }
      run(cmd);
      assertThat(Files.readString(key)).contains("-----BEGIN " + f.expectBlock() + "-----");
      Path pub = dir.resolve(f.name() + ".pub");
      run(List.of("openssl", "pkey", "-in", key.toString(), "-pubout", "-out", pub.toString()));
      PrivateKey k = PemFiles.readKey(key);
      PublicKey p = PemFiles.readPublicKey(pub);
      assertThat(k.getAlgorithm()).isIn("EC", "RSA", "EdDSA", "Ed25519");
      assertSigns(k, p);
    }
  }

  private static void run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
  }

  @Test
  void certificateBundlesKeepTheirOrderAndSkipOtherBlocks() throws Exception {
    KeyPair caKeys = ec("secp256r1");
    Instant now = Instant.now();
    var ca = Certificates.selfSignedCa("ca-one", caKeys, now, Duration.ofDays(1));
    var other = Certificates.selfSignedCa("ca-two", ec("secp256r1"), now, Duration.ofDays(1));
    String text =
        "a comment before\n"
            + PemFiles.certificatePem(ca)
            + PemFiles.keyPem(caKeys.getPrivate())
            + "between\r\n"
            + PemFiles.certificatePem(other).replace("\n", "\r\n");
    assertThat(PemFiles.parseCertificates(text, "bundle"))
        .extracting(c -> c.getSubjectX500Principal())
        .containsExactly(new X500Principal("CN=ca-one"), new X500Principal("CN=ca-two"));
    assertThat(PemFiles.parseKey(text, "bundle").getEncoded())
        .isEqualTo(caKeys.getPrivate().getEncoded());
  }

  @Test
  void refusalsSayWhatIsWrong() throws Exception {
    assertThatThrownBy(() -> PemFiles.parseKey("no pem here", "client-key of user u"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "client-key of user u holds no unencrypted PEM private key (PRIVATE KEY, EC or RSA"
                + " PRIVATE KEY)");
    assertThatThrownBy(
            () ->
                PemFiles.parseKey(
                    "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", "k"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("k: the PEM PRIVATE KEY block is not valid base64");
    assertThatThrownBy(
            () -> PemFiles.parseCertificates("-----BEGIN CERTIFICATE-----\nAAAA\n", "ca of c"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ca of c: the PEM CERTIFICATE block has no END line");
    assertThatThrownBy(
            () ->
                PemFiles.parseCertificates(
                    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "ca of c"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("malformed certificate in ca of c");
    // An encrypted key: neither the JDK path nor the BC fallback reads it without a password.
    String encrypted =
        "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n"
            + "AAAA\n-----END EC PRIVATE KEY-----\n";
    assertThatThrownBy(() -> PemFiles.parseKey(encrypted, "k"))
        .hasMessageContaining("holds no unencrypted PEM private key");
    // A SEC1 key whose DER is cut short is not read; the error names the key.
    KeyPair kp = bcEc("secp256r1");
    String trad = traditional(kp);
    String body = trad.substring(trad.indexOf("KEY-----\n") + 9, trad.indexOf("\n-----END"));
    String cut =
        "-----BEGIN EC PRIVATE KEY-----\n"
            + java.util.Base64.getEncoder()
                .encodeToString(
                    java.util.Arrays.copyOf(java.util.Base64.getMimeDecoder().decode(body), 20))
            + "\n-----END EC PRIVATE KEY-----\n";
    assertThatThrownBy(() -> PemFiles.parseKey(cut, "client-key"))
        .hasMessageContaining("client-key");
  }

  @Test
  void theKeyManagerChoosesByKeyTypeAndIssuer() throws Exception {
    KeyPair caKeys = ec("secp256r1");
    Instant now = Instant.now();
    var ca = Certificates.selfSignedCa("the-ca", caKeys, now, Duration.ofDays(1));
    KeyPair leafKeys = ec("secp256r1");
    var leaf =
        Certificates.issue(
            ca,
            caKeys.getPrivate(),
            Certificates.subject("leaf", List.of()),
            leafKeys.getPublic(),
            List.of(Certificates.Usage.CLIENT.purpose),
            null,
            now,
            Duration.ofDays(1));
    FixedKeyManager km =
        new FixedKeyManager(new java.security.cert.X509Certificate[] {leaf}, leafKeys.getPrivate());
    assertThat(km.chooseClientAlias(new String[] {"RSA", "EC"}, null, null))
        .isEqualTo(FixedKeyManager.ALIAS);
    assertThat(km.chooseClientAlias(new String[] {"RSA"}, null, null)).isNull();
    assertThat(
            km.chooseClientAlias(
                new String[] {"EC"}, new X500Principal[] {new X500Principal("CN=the-ca")}, null))
        .isEqualTo(FixedKeyManager.ALIAS);
    assertThat(
            km.chooseClientAlias(
                new String[] {"EC"}, new X500Principal[] {new X500Principal("CN=another")}, null))
        .isNull();
    assertThat(km.chooseServerAlias("EC_EC", null, null)).isEqualTo(FixedKeyManager.ALIAS);
    assertThat(km.chooseServerAlias("EC_RSA", null, null)).isNull();
    assertThat(km.getCertificateChain(FixedKeyManager.ALIAS)).containsExactly(leaf);
    assertThat(km.getPrivateKey("other")).isNull();
  }
}
