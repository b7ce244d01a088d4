package dev.kubelite.apiserver.auth;

import dev.kubelite.apiserver.api.ApiException;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * kube-apiserver's authenticator chain: an x509 client certificate verified by the TLS layer
 * against {@code --client-ca-file} (CN = user, each O = a group) comes first; else a bearer token,
 * tried against the static token file and then as a ServiceAccount token (whose account must still
 * exist with the token's uid); else, if allowed, the anonymous user ({@code system:anonymous} in
 * {@code system:unauthenticated}). A presented credential that is not accepted is 401 even when
 * anonymous requests are allowed, as in Kubernetes. Every authenticated user is also in {@code
 * system:authenticated}.
 */
public final class RequestAuthenticator implements Authenticator {
  private static final Logger log = LoggerFactory.getLogger(RequestAuthenticator.class);

  public static final String AUTHENTICATED = "system:authenticated";
  public static final String UNAUTHENTICATED = "system:unauthenticated";
  public static final UserInfo ANONYMOUS =
      new UserInfo("system:anonymous", "", List.of(UNAUTHENTICATED));

  /** Finds a ServiceAccount's uid in the API server's own state (empty: it does not exist). */
  @FunctionalInterface
  public interface ServiceAccountLookup {
    CompletableFuture<Optional<String>> uid(String namespace, String name);
  }

  private final AuthenticationConfig config;
  private final ServiceAccountLookup serviceAccounts;
  private final Clock clock;

  public RequestAuthenticator(
      AuthenticationConfig config, ServiceAccountLookup serviceAccounts, Clock clock) {
    this.config = config;
    this.serviceAccounts = serviceAccounts;
    this.clock = clock;
  }

  @Override
  public UserInfo authenticate(HttpServerRequest request) {
    CompletableFuture<UserInfo> f = authenticateAsync(request);
    if (!f.isDone()) {
      throw new IllegalStateException(
          "authentication needs a lookup: call authenticateAsync on this authenticator");
    }
    return f.join();
  }

  @Override
  public CompletableFuture<UserInfo> authenticateAsync(HttpServerRequest request) {
    Optional<UserInfo> cert = fromClientCertificate(request.connection());
    if (cert.isPresent()) {
      return CompletableFuture.completedFuture(withAuthenticated(cert.get()));
    }
    String header = request.getHeader("Authorization");
    String token = bearerToken(header);
    if (token != null) {
      return fromToken(token).thenApply(this::withAuthenticated);
    }
    if (config.anonymous()) {
      return CompletableFuture.completedFuture(ANONYMOUS);
    }
    return CompletableFuture.failedFuture(ApiException.unauthorized());
  }

  private CompletableFuture<UserInfo> fromToken(String token) {
    if (config.tokenFile() != null) {
      Optional<UserInfo> u = config.tokenFile().user(token);
      if (u.isPresent()) {
        return CompletableFuture.completedFuture(u.get());
      }
    }
    if (config.serviceAccountKeys().isEmpty()) {
      return CompletableFuture.failedFuture(ApiException.unauthorized());
    }
    Instant now = clock.instant();
    Optional<ServiceAccountTokens.Claims> claims =
        ServiceAccountTokens.verify(
            token, config.serviceAccountKeys(), config.issuers(), config.audiences(), now);
    if (claims.isEmpty()) {
      log.debug(
          "a bearer token was refused: not in the token file, not a valid ServiceAccount token");
      return CompletableFuture.failedFuture(ApiException.unauthorized());
    }
    ServiceAccountTokens.Claims c = claims.get();
    return serviceAccounts
        .uid(c.namespace(), c.name())
        .thenApply(
            uid -> {
              if (uid.isEmpty() || !uid.get().equals(c.uid())) {
                log.info(
                    "refused a token of ServiceAccount {}/{}: {}",
                    c.namespace(),
                    c.name(),
                    uid.isEmpty()
                        ? "the account no longer exists"
                        : "the account was recreated (uid "
                            + uid.get()
                            + ", token "
                            + c.uid()
                            + ")");
                throw ApiException.unauthorized();
              }
              return new UserInfo(
                  c.username(),
                  c.uid(),
                  List.of("system:serviceaccounts", "system:serviceaccounts:" + c.namespace()));
            });
  }

  /** The user named by a verified client certificate (CN = user, O = groups), if one was sent. */
  static Optional<UserInfo> fromClientCertificate(HttpConnection connection) {
    if (connection == null || !connection.isSsl()) {
      return Optional.empty();
    }
    List<Certificate> chain;
    try {
      chain = connection.peerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty(); // no client certificate was sent
    }
    if (chain == null || chain.isEmpty() || !(chain.get(0) instanceof X509Certificate leaf)) {
      return Optional.empty();
    }
    return Optional.of(userOf(leaf));
  }

  /** The user a client certificate names: CN = user, each O = a group, in the subject's order. */
  static UserInfo userOf(X509Certificate cert) {
    String cn = null;
    List<String> orgs = new ArrayList<>();
    try {
      // LdapName indexes RDNs from the right of the RFC 2253 string, which is the certificate's own
      // (DER) order: the groups come in the order the subject lists them, as Kubernetes reads them.
      for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          cn = rdn.getValue().toString();
        } else if (rdn.getType().equalsIgnoreCase("O")) {
          orgs.add(rdn.getValue().toString());
        }
      }
    } catch (InvalidNameException e) {
      throw ApiException.unauthorized();
    }
    if (cn == null || cn.isEmpty()) {
      throw ApiException.unauthorized(); // Kubernetes: a certificate without a CN names no user
    }
    return new UserInfo(cn, "", orgs);
  }

  private UserInfo withAuthenticated(UserInfo u) {
    if (u.groups().contains(AUTHENTICATED)) {
      return u;
    }
    List<String> groups = new ArrayList<>(u.groups());
    groups.add(AUTHENTICATED);
    return new UserInfo(u.name(), u.uid(), groups);
  }

  /** The token of an {@code Authorization: Bearer TOKEN} header, null if there is none. */
  static String bearerToken(String header) {
    if (header == null) {
      return null;
    }
    String h = header.trim();
    int sp = h.indexOf(' ');
    if (sp < 0 || !h.substring(0, sp).equalsIgnoreCase("bearer")) {
      return null;
    }
    String token = h.substring(sp + 1).trim();
    return token.isEmpty() ? null : token;
  }
}
