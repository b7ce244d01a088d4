package dev.kubelite.launcher;

import java.net.URI;

/** The kubeconfig files {@code kubelite up} writes, in kubectl's format. */
final class Kubeconfigs {
  private Kubeconfigs() {}

  /**
   * The admin's kubeconfig: one cluster, one user, one context named "kubelite", namespace
   * "default". No credentials yet: the API server has no authentication until the security work
   * (issue 7) lands.
   */
  static String admin(URI server) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: kubelite
          cluster:
            server: %s
        users:
        - name: admin
          user: {}
        contexts:
        - name: kubelite
          context:
            cluster: kubelite
            user: admin
            namespace: default
        current-context: kubelite
        preferences: {}
        """
        .formatted(server);
  }
}
