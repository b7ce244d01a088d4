package dev.kubelite.apiserver.auth;

import io.vertx.core.http.HttpServerRequest;
import java.util.concurrent.CompletableFuture;

/**
 * Decides who sent a request (x509 client certificate, bearer token, ...). Runs on the event loop
 * for every request, so it must not block.
 */
@FunctionalInterface
public interface Authenticator {
  /**
   * The request's user; throws {@code ApiException} 401 (Unauthorized) when the request carries no
   * acceptable credentials and anonymous requests are not allowed.
   */
  UserInfo authenticate(HttpServerRequest request);

  /**
   * The request's user, for authenticators that may have to look something up (a ServiceAccount
   * token's account); completes on any thread. By default {@link #authenticate}'s answer.
   */
  default CompletableFuture<UserInfo> authenticateAsync(HttpServerRequest request) {
    try {
      return CompletableFuture.completedFuture(authenticate(request));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** No authentication: every request is {@link UserInfo#UNAUTHENTICATED_ADMIN}. */
  Authenticator NONE = request -> UserInfo.UNAUTHENTICATED_ADMIN;
}
