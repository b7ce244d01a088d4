package dev.kubelite.scheduler.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.scheduler.framework.FilterPlugin;
import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import java.util.List;
import java.util.Map;

/**
 * Filter: the node's labels must match the pod's {@code spec.nodeSelector} (every entry) and its
 * {@code affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution}: at least one of the
 * {@code nodeSelectorTerms}, a term matching when all its {@code matchExpressions} (on labels: In,
 * NotIn, Exists, DoesNotExist, Gt, Lt) and {@code matchFields} ({@code metadata.name} In/NotIn)
 * match. An empty term matches no node; an empty term list matches no node. Unknown operators and
 * Gt/Lt values that are not integers match nothing (the API server would have refused them).
 */
public final class NodeAffinity implements FilterPlugin {
  static final String REASON = "node(s) didn't match Pod's node affinity/selector";

  @Override
  public String name() {
    return "NodeAffinity";
  }

  @Override
  public List<String> filter(PodInfo pod, NodeInfo node) {
    if (!pod.selectsNodes()) {
      return FITS; // most pods: no node is read (its labels are a cache miss per node)
    }
    return matches(pod.pod().path("spec"), node) ? FITS : List.of(REASON);
  }

  static boolean matches(JsonNode spec, NodeInfo node) {
    Map<String, String> labels = node.facts().labels();
    for (Map.Entry<String, JsonNode> e : iterable(spec.path("nodeSelector"))) {
      String v = labels.get(e.getKey());
      if (v == null || !v.equals(e.getValue().asText())) {
        return false;
      }
    }
    JsonNode required =
        spec.path("affinity")
            .path("nodeAffinity")
            .path("requiredDuringSchedulingIgnoredDuringExecution");
    if (required.isMissingNode() || required.isNull()) {
      return true;
    }
    for (JsonNode term : required.path("nodeSelectorTerms")) {
      if (termMatches(term, node)) {
        return true;
      }
    }
    return false;
  }

  private static boolean termMatches(JsonNode term, NodeInfo node) {
    JsonNode exprs = term.path("matchExpressions");
    JsonNode fields = term.path("matchFields");
    if (exprs.size() == 0 && fields.size() == 0) {
      return false;
    }
    for (JsonNode r : exprs) {
      String v = node.facts().labels().get(r.path("key").asText());
      if (!requirementMatches(r, v)) {
        return false;
      }
    }
    for (JsonNode r : fields) {
      if (!"metadata.name".equals(r.path("key").asText())) {
        return false;
      }
      String op = r.path("operator").asText();
      if (!op.equals("In") && !op.equals("NotIn")) {
        return false;
      }
      if (!requirementMatches(r, node.name())) {
        return false;
      }
    }
    return true;
  }

  /** One requirement against a label value ({@code null}: the node has no such label). */
  static boolean requirementMatches(JsonNode r, String value) {
    JsonNode values = r.path("values");
    return switch (r.path("operator").asText()) {
      case "In" -> value != null && contains(values, value);
      case "NotIn" -> value == null || !contains(values, value);
      case "Exists" -> value != null;
      case "DoesNotExist" -> value == null;
      case "Gt", "Lt" -> {
        if (value == null || values.size() != 1) {
          yield false;
        }
        try {
          long have = Long.parseLong(value);
          long limit = Long.parseLong(values.get(0).asText());
          yield r.path("operator").asText().equals("Gt") ? have > limit : have < limit;
        } catch (NumberFormatException e) {
          yield false;
        }
      }
      default -> false;
    };
  }

  private static boolean contains(JsonNode values, String v) {
    for (JsonNode x : values) {
      if (x.asText().equals(v)) {
        return true;
      }
    }
    return false;
  }

  private static Iterable<Map.Entry<String, JsonNode>> iterable(JsonNode n) {
    return n::fields;
  }
}
