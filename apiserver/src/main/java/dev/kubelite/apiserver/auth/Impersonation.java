package dev.kubelite.apiserver.auth;

import dev.kubelite.apiserver.api.ApiException;
import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * Kubernetes' user impersonation ({@code kubectl --as=USER --as-group=GROUP}): the headers {@code
 * Impersonate-User} and {@code Impersonate-Group} make a request act as another user, if the
 * authenticated user may {@code impersonate} that user ({@code users}, or {@code serviceaccounts}
 * in its namespace for {@code system:serviceaccount:NS:NAME}) and each group ({@code groups}). The
 * impersonated user is in {@code system:authenticated} as Kubernetes adds it. Not supported: {@code
 * Impersonate-Uid} and {@code Impersonate-Extra-*} (refused with 400 rather than ignored).
 */
public final class Impersonation {
  public static final String USER = "Impersonate-User";
  public static final String GROUP = "Impersonate-Group";
  private static final String SA_PREFIX = "system:serviceaccount:";

  private Impersonation() {}

  /** The user the request acts as: {@code user} itself, or whom it may impersonate. */
  public static UserInfo apply(HttpServerRequest request, UserInfo user, Authorizer authorizer) {
    String as = request.getHeader(USER);
    List<String> groups = request.headers().getAll(GROUP);
    boolean extra =
        request.headers().names().stream()
            .anyMatch(
                h ->
                    h.equalsIgnoreCase("Impersonate-Uid")
                        || h.toLowerCase(java.util.Locale.ROOT).startsWith("impersonate-extra-"));
    if (as == null && groups.isEmpty() && !extra) {
      return user;
    }
    if (as == null || as.isEmpty()) {
      throw ApiException.badRequest(
          "requested impersonation of groups or extra fields without impersonating a user: set"
              + " Impersonate-User (kubectl --as)");
    }
    if (extra) {
      throw ApiException.badRequest(
          "Impersonate-Uid and Impersonate-Extra-* are not supported by this API server");
    }
    if (as.startsWith(SA_PREFIX) && as.substring(SA_PREFIX.length()).contains(":")) {
      String[] nsName = as.substring(SA_PREFIX.length()).split(":", 2);
      authorizer.authorize(
          user,
          new RequestAttributes(
              "impersonate", true, "", "serviceaccounts", null, nsName[0], nsName[1], ""));
    } else {
      authorizer.authorize(
          user, new RequestAttributes("impersonate", true, "", "users", null, null, as, ""));
    }
    List<String> all = new ArrayList<>();
    for (String g : groups) {
      authorizer.authorize(
          user, new RequestAttributes("impersonate", true, "", "groups", null, null, g, ""));
      all.add(g);
    }
    if (as.startsWith(SA_PREFIX)) {
      all.add("system:serviceaccounts");
      String[] nsName = as.substring(SA_PREFIX.length()).split(":", 2);
      all.add("system:serviceaccounts:" + nsName[0]);
    }
    if (!as.equals("system:anonymous") && !all.contains("system:authenticated")) {
      all.add("system:authenticated");
    }
    return new UserInfo(as, "", all);
  }
}
