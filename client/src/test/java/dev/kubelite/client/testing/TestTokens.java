package dev.kubelite.client.testing;

import dev.kubelite.apiserver.auth.Authenticator;
import dev.kubelite.apiserver.auth.UserInfo;
import java.util.List;

/**
 * A test authenticator (the same as the API server tests' one; standing in for the x509 and token
 * authenticators of the tls-authn work): {@code Authorization: Bearer <token>} names the user; no
 * or an unknown token is {@code system:anonymous}. Tokens: admin, scheduler, controller-manager,
 * simulated-nodes, node:&lt;name&gt;, user-&lt;name&gt;.
 */
public final class TestTokens {
  private TestTokens() {}

  public static final Authenticator AUTHENTICATOR =
      request -> user(bearer(request.getHeader("Authorization")));

  private static String bearer(String header) {
    return header != null && header.startsWith("Bearer ") ? header.substring(7).trim() : "";
  }

  public static UserInfo user(String token) {
    String auth = "system:authenticated";
    if (token.equals("admin")) {
      return new UserInfo("kubernetes-admin", "", List.of("system:masters", auth));
    }
    if (token.equals("scheduler")) {
      return new UserInfo("system:kube-scheduler", "", List.of(auth));
    }
    if (token.equals("controller-manager")) {
      return new UserInfo("system:kube-controller-manager", "", List.of(auth));
    }
    if (token.startsWith("node:")) {
      return new UserInfo("system:node:" + token.substring(5), "", List.of("system:nodes", auth));
    }
    if (token.equals("simulated-nodes")) {
      return new UserInfo(
          "kubelite:simulated-kubelet", "", List.of("kubelite:simulated-nodes", auth));
    }
    if (token.startsWith("user-")) {
      return new UserInfo(token.substring(5), "", List.of(auth));
    }
    return new UserInfo("system:anonymous", "", List.of("system:unauthenticated"));
  }
}
