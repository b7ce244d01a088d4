package dev.kubelite.apiserver.auth;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.List;

/**
 * How the API server authenticates requests, from kube-apiserver's flags: x509 client certificates
 * (whenever TLS is served with {@code --client-ca-file}: the TLS layer verifies the chain), the
 * static token file ({@code --token-auth-file}, null: none), ServiceAccount tokens (verified with
 * {@code --service-account-key-file}'s keys; none: ServiceAccount tokens are not accepted) from
 * {@code --service-account-issuer} for {@code --api-audiences}, and anonymous requests ({@code
 * --anonymous-auth}). {@code signingKey} ({@code --service-account-signing-key-file}; null: none)
 * signs the tokens TokenRequest ({@code serviceaccounts/<name>/token}) hands out.
 */
public record AuthenticationConfig(
    boolean anonymous,
    TokenFile tokenFile,
    List<PublicKey> serviceAccountKeys,
    List<String> issuers,
    List<String> audiences,
    PrivateKey signingKey) {
  public AuthenticationConfig {
    serviceAccountKeys = List.copyOf(serviceAccountKeys);
    issuers = List.copyOf(issuers);
    audiences = List.copyOf(audiences);
  }

  /** Client certificates only; no tokens, no anonymous requests. */
  public static AuthenticationConfig x509Only() {
    return new AuthenticationConfig(
        false,
        null,
        List.of(),
        List.of(ServiceAccountTokens.DEFAULT_ISSUER),
        List.of(ServiceAccountTokens.DEFAULT_ISSUER),
        null);
  }

  public AuthenticationConfig withAnonymous(boolean allowed) {
    return new AuthenticationConfig(
        allowed, tokenFile, serviceAccountKeys, issuers, audiences, signingKey);
  }

  public AuthenticationConfig withTokenFile(TokenFile file) {
    return new AuthenticationConfig(
        anonymous, file, serviceAccountKeys, issuers, audiences, signingKey);
  }

  public AuthenticationConfig withServiceAccountKeys(List<PublicKey> keys) {
    return new AuthenticationConfig(anonymous, tokenFile, keys, issuers, audiences, signingKey);
  }

  /** The issuer tokens are minted with, and the accepted issuers and audiences. */
  public AuthenticationConfig withIssuer(String issuer) {
    return new AuthenticationConfig(
        anonymous, tokenFile, serviceAccountKeys, List.of(issuer), List.of(issuer), signingKey);
  }

  /** Signs TokenRequest tokens with {@code key}, and verifies tokens with its public half too. */
  public AuthenticationConfig withSigningKey(PrivateKey key) {
    List<PublicKey> keys = new java.util.ArrayList<>(serviceAccountKeys);
    PublicKey pub = ServiceAccountKeys.publicOf(key);
    if (!keys.contains(pub)) {
      keys.add(pub);
    }
    return new AuthenticationConfig(anonymous, tokenFile, keys, issuers, audiences, key);
  }
}
