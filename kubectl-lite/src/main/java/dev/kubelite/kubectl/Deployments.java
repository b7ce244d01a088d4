package dev.kubelite.kubectl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.kubectl.describe.Text;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What kubectl reads about a Deployment's ReplicaSets (describe, rollout history and undo): the
 * ones it controls, which of them runs its current template, and their revisions.
 */
public final class Deployments {
  public static final String REVISION = "deployment.kubernetes.io/revision";
  public static final String CHANGE_CAUSE = "kubernetes.io/change-cause";
  public static final String HASH_LABEL = "pod-template-hash";

  private Deployments() {}

  /** The ReplicaSets whose controller is {@code d}, oldest first. */
  public static List<ObjectNode> replicaSetsOf(KubeClient client, JsonNode d) {
    String ns = d.path("metadata").path("namespace").asText();
    String uid = d.path("metadata").path("uid").asText();
    String selector = Text.labelSelector(d.path("spec").path("selector"));
    String query =
        selector.equals("<none>")
            ? ""
            : "?labelSelector=" + URLEncoder.encode(selector, StandardCharsets.UTF_8);
    ObjectNode list = client.getPath(Resource.REPLICASETS.path(ns) + query);
    List<ObjectNode> out = new ArrayList<>();
    for (JsonNode rs : list.path("items")) {
      for (JsonNode o : rs.path("metadata").path("ownerReferences")) {
        if (o.path("controller").asBoolean(false) && o.path("uid").asText().equals(uid)) {
          out.add((ObjectNode) rs);
          break;
        }
      }
    }
    out.sort(
        Comparator.comparing(
                (ObjectNode rs) -> rs.path("metadata").path("creationTimestamp").asText())
            .thenComparing(rs -> rs.path("metadata").path("name").asText()));
    return out;
  }

  /** Whether {@code rs} runs {@code d}'s pod template (ignoring the pod-template-hash label). */
  public static boolean sameTemplate(JsonNode rs, JsonNode d) {
    return templateOf(rs).equals(d.path("spec").path("template"));
  }

  /** A ReplicaSet's pod template without its pod-template-hash label, as the Deployment has it. */
  public static ObjectNode templateOf(JsonNode rs) {
    ObjectNode t = rs.path("spec").path("template").deepCopy();
    JsonNode labels = t.path("metadata").path("labels");
    if (labels instanceof ObjectNode l) {
      l.remove(HASH_LABEL);
    }
    return t;
  }

  /** The revision annotation, or -1 when missing or not a number. */
  public static long revision(JsonNode obj) {
    String v = obj.path("metadata").path("annotations").path(REVISION).asText("");
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
