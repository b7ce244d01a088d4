package dev.kubelite.apiserver.auth;

import java.util.List;

/**
 * Who sent a request, as Kubernetes' authenticators describe it: a user name, a uid (may be empty)
 * and the groups the user is in ({@code system:authenticated}, {@code system:masters}, ...).
 */
public record UserInfo(String name, String uid, List<String> groups) {
  /** Where a request's user is kept in its Vert.x RoutingContext. */
  public static final String CONTEXT_KEY = "kubelite.user";

  /**
   * The user of every request when the API server runs without authentication (a plain-HTTP local
   * demo): a member of {@code system:masters}, which is what such a server grants everyone.
   */
  public static final UserInfo UNAUTHENTICATED_ADMIN =
      new UserInfo("system:admin", "", List.of("system:masters", "system:authenticated"));

  public UserInfo {
    groups = List.copyOf(groups);
  }
}
