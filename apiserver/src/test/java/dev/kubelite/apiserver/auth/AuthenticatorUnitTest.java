package dev.kubelite.apiserver.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.apiserver.api.ApiException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pieces of the authenticator chain that need no server: subjects, headers, the token file. */
class AuthenticatorUnitTest {
  @TempDir Path dir;

  static X509Certificate cert(String cn, String... orgs) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair kp = g.generateKeyPair();
    X500NameBuilder b = new X500NameBuilder(BCStyle.INSTANCE);
    for (String o : orgs) {
      b.addRDN(BCStyle.O, o);
    }
    if (cn != null) {
      b.addRDN(BCStyle.CN, cn);
    }
    var name = b.build();
    Instant now = Instant.now();
    return new JcaX509CertificateConverter()
        .getCertificate(
            new JcaX509v3CertificateBuilder(
                    name,
                    BigInteger.ONE,
                    Date.from(now),
                    Date.from(now.plus(Duration.ofDays(1))),
                    name,
                    kp.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
  }

  @Test
  void clientCertificateSubjectIsUserAndGroupsInOrder() throws Exception {
    UserInfo u = RequestAuthenticator.userOf(cert("jane", "team-a", "team-b", "system:masters"));
    assertThat(u.name()).isEqualTo("jane");
    assertThat(u.groups()).containsExactly("team-a", "team-b", "system:masters");
    assertThatThrownBy(() -> RequestAuthenticator.userOf(cert(null, "team-a")))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(401));
  }

  @Test
  void bearerHeaders() {
    assertThat(RequestAuthenticator.bearerToken("Bearer abc")).isEqualTo("abc");
    assertThat(RequestAuthenticator.bearerToken("bearer   abc ")).isEqualTo("abc");
    assertThat(RequestAuthenticator.bearerToken("Basic YTpi")).isNull();
    assertThat(RequestAuthenticator.bearerToken("Bearer ")).isNull();
    assertThat(RequestAuthenticator.bearerToken(null)).isNull();
  }

  @Test
  void tokenFileIsKubesCsv() throws Exception {
    Path f = dir.resolve("tokens.csv");
    Files.writeString(
        f, "\uFEFFt1,alice,uid-1,\"a,b\"\n\nt2, bob ,uid-2\n\"t,3\",carol,uid-3,\"x \"\"y\"\"\"\n");
    TokenFile t = TokenFile.load(f);
    assertThat(t.size()).isEqualTo(3);
    assertThat(t.user("t1").orElseThrow().groups()).isEqualTo(List.of("a", "b"));
    assertThat(t.user("t2").orElseThrow().name()).isEqualTo("bob ");
    assertThat(t.user("t,3").orElseThrow().groups()).isEqualTo(List.of("x \"y\""));
    assertThat(t.user("nope")).isEmpty();
    Files.writeString(f, "t1,alice,1\n\"open,bob,2\n");
    assertThatThrownBy(() -> TokenFile.load(f)).hasMessageContaining("line 2");
  }

  @Test
  void aSigningKeysPublicHalfVerifiesItsTokens() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair kp = g.generateKeyPair();
    assertThat(ServiceAccountKeys.publicOf(kp.getPrivate())).isEqualTo(kp.getPublic());
    String token =
        ServiceAccountTokens.sign(
            kp.getPrivate(),
            "iss",
            List.of("aud"),
            "ns",
            "sa",
            "u1",
            Instant.now(),
            Duration.ofMinutes(5));
    assertThat(
            ServiceAccountTokens.verify(
                token, List.of(kp.getPublic()), List.of("iss"), List.of("aud"), Instant.now()))
        .hasValueSatisfying(c -> assertThat(c.username()).isEqualTo("system:serviceaccount:ns:sa"));
    assertThat(
            ServiceAccountTokens.verify(
                token, List.of(kp.getPublic()), List.of("other"), List.of("aud"), Instant.now()))
        .isEmpty();
    assertThat(
            ServiceAccountTokens.verify(
                token, List.of(kp.getPublic()), List.of("iss"), List.of("api"), Instant.now()))
        .isEmpty();
  }
}
