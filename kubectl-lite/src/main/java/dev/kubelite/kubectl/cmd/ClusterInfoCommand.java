package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;

/**
 * {@code cluster-info}: where the control plane answers, and the cluster services in kube-system
 * (label {@code kubernetes.io/cluster-service=true}) with their proxy URLs, as kubectl prints them.
 */
@Command(
    name = "cluster-info",
    description = {
      "Display the address of the control plane and of the cluster services.",
      "",
      "Examples:",
      "  kubectl-lite cluster-info"
    })
public final class ClusterInfoCommand extends ClientCommand {
  @Override
  public Integer call() {
    URI server = session().client().server();
    // Asking for something proves the control plane answers (an error here is the usual one).
    JsonNode services =
        session()
            .client()
            .getPath(
                "/api/v1/namespaces/kube-system/services?labelSelector="
                    + URLEncoder.encode(
                        "kubernetes.io/cluster-service=true", StandardCharsets.UTF_8));
    out().println("Kubernetes control plane is running at " + server);
    for (JsonNode s : services.path("items")) {
      String name = s.path("metadata").path("name").asText();
      String display = s.path("metadata").path("labels").path("kubernetes.io/name").asText(name);
      JsonNode port = s.path("spec").path("ports").path(0);
      String portName = port.path("name").asText("");
      String link =
          server
              + "/api/v1/namespaces/kube-system/services/"
              + (portName.isEmpty() ? name : name + ":" + portName)
              + "/proxy";
      out().println(display + " is running at " + link);
    }
    out().println();
    out()
        .println(
            "To further debug and diagnose cluster problems, use 'kubectl-lite describe' and"
                + " 'kubectl-lite get events -A'.");
    return 0;
  }
}
