package dev.kubelite.apiserver.auth;

import io.vertx.core.http.HttpServerRequest;

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

  /** No authentication: every request is {@link UserInfo#UNAUTHENTICATED_ADMIN}. */
  Authenticator NONE = request -> UserInfo.UNAUTHENTICATED_ADMIN;
}
