package dev.kubelite.launcher;

import java.net.URI;
import java.util.List;

/** The kubeconfig files {@code kubelite up} writes, in kubectl's format. */
final class Kubeconfigs {
  private Kubeconfigs() {}

  /** A context (and its cluster, of the same name) for the server at {@code server}. */
  record Context(String name, URI server) {}

  /**
   * The admin's kubeconfig: one cluster, one user, one context named "kubelite", namespace
   * "default". No credentials yet: the API server has no authentication until the security work
   * (issue 7) lands.
   */
  static String admin(URI server) {
    return admin(List.of(new Context("kubelite", server)));
  }

  /**
   * The admin's kubeconfig with one cluster and one context per entry of {@code contexts}, all with
   * the same user and namespace "default"; the first is the current context.
   */
  static String admin(List<Context> contexts) {
    StringBuilder clusters = new StringBuilder();
    StringBuilder ctxs = new StringBuilder();
    for (Context c : contexts) {
      clusters
          .append("- name: ")
          .append(c.name())
          .append("\n  cluster:\n    server: ")
          .append(c.server())
          .append('\n');
      ctxs.append("- name: ")
          .append(c.name())
          .append("\n  context:\n    cluster: ")
          .append(c.name())
          .append("\n    user: admin\n    namespace: default\n");
    }
    return "apiVersion: v1\nkind: Config\nclusters:\n"
        + clusters
        + "users:\n- name: admin\n  user: {}\ncontexts:\n"
        + ctxs
        + "current-context: "
        + contexts.get(0).name()
        + "\npreferences: {}\n";
  }
}
