package dev.kubelite.apiserver.auth;

/**
 * Decides whether a user may do what a request asks. Runs on the event loop for every request, so
 * it must not block (decisions come from in-memory state, e.g. informer caches of RBAC objects).
 */
@FunctionalInterface
public interface Authorizer {
  /**
   * Returns normally when allowed; throws {@code ApiException} 403 (Forbidden) saying who was
   * refused what.
   */
  void authorize(UserInfo user, RequestAttributes request);

  /** Everything is allowed (no authorization configured). */
  Authorizer ALLOW_ALL = (user, request) -> {};
}
