package dev.kubelite.apiserver.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * ServiceAccount tokens as Kubernetes issues them: compact JWS (ES256, P-256 key: pki's {@code
 * sa.key}) with the claims {@code iss}, {@code sub} ({@code system:serviceaccount:<ns>:<name>}),
 * {@code aud}, {@code iat}, {@code nbf}, {@code exp}, {@code jti} and {@code kubernetes.io} ({@code
 * namespace}, {@code serviceaccount{name, uid}}). {@link #sign} mints one (TokenRequest, tests);
 * {@link #verify} checks signature, issuer, audience and time, and returns the claims it names.
 */
public final class ServiceAccountTokens {
  /** kubeadm's --service-account-issuer. */
  public static final String DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local";

  /** The user name prefix of ServiceAccounts. */
  public static final String USER_PREFIX = "system:serviceaccount:";

  /** Clock skew tolerated on {@code nbf}/{@code exp}, as Kubernetes' validator (a minute). */
  static final Duration LEEWAY = Duration.ofMinutes(1);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder D64 = Base64.getUrlDecoder();
  private static final String SIG_ALG = "SHA256withECDSAinP1363Format";

  private ServiceAccountTokens() {}

  /** What a verified token says: the ServiceAccount and the token's own id and expiry. */
  public record Claims(String namespace, String name, String uid, Instant expires) {
    public String username() {
      return USER_PREFIX + namespace + ":" + name;
    }
  }

  /** A signed token for the ServiceAccount {@code namespace/name} with this {@code uid}. */
  public static String sign(
      PrivateKey key,
      String issuer,
      List<String> audiences,
      String namespace,
      String name,
      String uid,
      Instant now,
      Duration ttl) {
    ObjectNode header = JSON.createObjectNode().put("alg", "ES256").put("typ", "JWT");
    ObjectNode claims = JSON.createObjectNode();
    claims.put("iss", issuer);
    claims.put("sub", USER_PREFIX + namespace + ":" + name);
    claims.set("aud", JSON.valueToTree(audiences));
    long iat = now.getEpochSecond();
    claims.put("iat", iat);
    claims.put("nbf", iat);
    claims.put("exp", now.plus(ttl).getEpochSecond());
    claims.put("jti", UUID.randomUUID().toString());
    ObjectNode k8s = claims.putObject("kubernetes.io");
    k8s.put("namespace", namespace);
    k8s.putObject("serviceaccount").put("name", name).put("uid", uid);
    String signingInput = part(header) + "." + part(claims);
    try {
      Signature s = Signature.getInstance(SIG_ALG);
      s.initSign(key);
      s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + B64.encodeToString(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          "cannot sign a ServiceAccount token (sa.key must be an EC P-256 key)", e);
    }
  }

  /**
   * The claims of {@code token} if it is a ServiceAccount JWT signed by one of {@code keys}, from
   * one of {@code issuers}, for one of {@code audiences}, valid at {@code now}; empty otherwise
   * (not a JWT, another issuer, bad signature, expired, malformed claims).
   */
  public static Optional<Claims> verify(
      String token,
      List<PublicKey> keys,
      List<String> issuers,
      List<String> audiences,
      Instant now) {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      return Optional.empty();
    }
    JsonNode header;
    JsonNode claims;
    byte[] sig;
    try {
      header = JSON.readTree(D64.decode(parts[0]));
      claims = JSON.readTree(D64.decode(parts[1]));
      sig = D64.decode(parts[2]);
    } catch (IllegalArgumentException | IOException e) {
      return Optional.empty();
    }
    if (header == null || claims == null || !claims.isObject()) {
      return Optional.empty();
    }
    if (!"ES256".equals(header.path("alg").asText())
        || !issuers.contains(claims.path("iss").asText())) {
      return Optional.empty();
    }
    byte[] input = (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII);
    if (keys.stream().noneMatch(k -> signatureValid(k, input, sig))) {
      return Optional.empty();
    }
    if (!audiences.isEmpty()) {
      List<String> aud = new ArrayList<>();
      JsonNode a = claims.path("aud");
      if (a.isTextual()) {
        aud.add(a.asText());
      } else {
        a.forEach(x -> aud.add(x.asText()));
      }
      if (aud.stream().noneMatch(audiences::contains)) {
        return Optional.empty();
      }
    }
    long t = now.getEpochSecond();
    long leeway = LEEWAY.getSeconds();
    if (claims.has("exp") && claims.path("exp").asLong() + leeway < t) {
      return Optional.empty();
    }
    if (claims.has("nbf") && claims.path("nbf").asLong() - leeway > t) {
      return Optional.empty();
    }
    JsonNode k8s = claims.path("kubernetes.io");
    String ns = k8s.path("namespace").asText("");
    String name = k8s.path("serviceaccount").path("name").asText("");
    String uid = k8s.path("serviceaccount").path("uid").asText("");
    if (ns.isEmpty() || name.isEmpty() || uid.isEmpty()) {
      return Optional.empty();
    }
    if (!(USER_PREFIX + ns + ":" + name).equals(claims.path("sub").asText())) {
      return Optional.empty();
    }
    Instant exp = claims.has("exp") ? Instant.ofEpochSecond(claims.path("exp").asLong()) : null;
    return Optional.of(new Claims(ns, name, uid, exp));
  }

  private static boolean signatureValid(PublicKey key, byte[] input, byte[] sig) {
    try {
      Signature s = Signature.getInstance(SIG_ALG);
      s.initVerify(key);
      s.update(input);
      return s.verify(sig);
    } catch (GeneralSecurityException e) {
      return false; // not an EC key, or a malformed signature: not signed by this key
    }
  }

  private static String part(ObjectNode node) {
    try {
      return B64.encodeToString(JSON.writeValueAsBytes(node));
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode JWT part", e);
    }
  }
}
