package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.api.LabelSelector;
import dev.kubelite.apiserver.api.Validation;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.registry.FieldTracking;
import dev.kubelite.apiserver.registry.Registry;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The {@code scale} subresource of Deployments and ReplicaSets ({@code autoscaling/v1 Scale}:
 * spec.replicas in, status.replicas and the selector out) and the {@code binding} subresource of
 * pods (what a scheduler posts to assign a pod to a node).
 */
public final class SubresourceHandlers {
  private final Registry registry;

  public SubresourceHandlers(Registry registry) {
    this.registry = registry;
  }

  static ObjectNode scaleOf(ObjectNode obj) {
    ObjectNode s = Json.object();
    s.put("kind", "Scale");
    s.put("apiVersion", "autoscaling/v1");
    ObjectNode m = s.putObject("metadata");
    JsonNode om = obj.path("metadata");
    for (String f : List.of("name", "namespace", "uid", "resourceVersion", "creationTimestamp")) {
      if (om.has(f)) {
        m.set(f, om.get(f));
      }
    }
    s.putObject("spec").put("replicas", obj.path("spec").path("replicas").asLong(0));
    ObjectNode st = s.putObject("status");
    st.put("replicas", obj.path("status").path("replicas").asLong(0));
    st.put("selector", LabelSelector.toQuery(obj.path("spec").path("selector")));
    return s;
  }

  public void getScale(Exchange ex) {
    ex.complete(
        registry.get(ex.type(), ex.namespace(), ex.name()), obj -> ex.reply(200, scaleOf(obj)));
  }

  /** PUT or PATCH of a Scale: the new spec.replicas goes to the owning object. */
  public void writeScale(Exchange ex, boolean patch) {
    Registry registry = DryRun.pick(ex, this.registry);
    FieldTracking tracking =
        FieldManagers.updates(ex, patch ? "PatchOptions" : "UpdateOptions", "scale");
    UnaryOperator<ObjectNode> toScale;
    if (patch) {
      UnaryOperator<ObjectNode> p = PatchHandler.patcher(ex, "Scale");
      toScale = scale -> PatchHandler.applyPatch(p, scale);
    } else {
      ObjectNode body = Bodies.object(ex);
      String kind = Json.text(body, "kind");
      if (kind != null && !kind.isEmpty() && !kind.equals("Scale")) {
        throw ApiException.badRequest("expected a Scale, got kind " + kind);
      }
      toScale = scale -> body;
    }
    ex.complete(
        registry.guaranteedUpdate(
            ex.type(),
            ex.namespace(),
            ex.name(),
            null,
            current -> {
              ObjectNode scale = scaleOf(current.object());
              ObjectNode wanted = toScale.apply(scale);
              String rv = Json.text(wanted, "metadata", "resourceVersion");
              if (rv != null
                  && !rv.isEmpty()
                  && !rv.equals(Json.text(current.object(), "metadata", "resourceVersion"))) {
                throw ApiException.conflict(
                    ex.type().group(), ex.type().plural(), ex.name(), ApiException.MODIFIED);
              }
              JsonNode replicas = wanted.path("spec").path("replicas");
              if (!replicas.canConvertToInt() || replicas.asInt() < 0) {
                throw ApiException.invalid(
                    "autoscaling",
                    "Scale",
                    ex.name(),
                    List.of(
                        Validation.invalid(
                            "spec.replicas", replicas, "must be greater than or equal to 0")));
              }
              ObjectNode updated = current.object().deepCopy();
              Json.child(updated, "spec").put("replicas", replicas.asInt());
              return updated;
            },
            false,
            tracking),
        obj -> ex.reply(200, scaleOf(obj)));
  }

  /** POST pods/{name}/binding: sets spec.nodeName once; 409 if the pod is already bound. */
  public void bind(Exchange ex) {
    Registry registry = DryRun.pick(ex, this.registry);
    ObjectNode binding = Json.parseObject(ex.body(), ex.contentType().equals("application/yaml"));
    String kind = Json.text(binding, "kind");
    if (kind != null && !kind.isEmpty() && !kind.equals("Binding")) {
      throw ApiException.badRequest("expected a Binding, got kind " + kind);
    }
    String node = Json.text(binding, "target", "name");
    if (node == null || node.isEmpty()) {
      throw ApiException.invalid(
          "", "Binding", ex.name(), List.of(Validation.required("target.name")));
    }
    ex.complete(
        registry.guaranteedUpdate(
            ex.type(),
            ex.namespace(),
            ex.name(),
            "binding",
            current -> {
              ObjectNode pod = current.object().deepCopy();
              if (pod.path("metadata").hasNonNull("deletionTimestamp")) {
                throw ApiException.conflict(
                    "",
                    "pods",
                    ex.name(),
                    "pod " + ex.name() + " is being deleted, cannot be assigned to a host");
              }
              String bound = Json.text(pod, "spec", "nodeName");
              if (bound != null && !bound.isEmpty()) {
                throw ApiException.conflict(
                    "",
                    "pods",
                    ex.name(),
                    "pod " + ex.name() + " is already assigned to node \"" + bound + "\"");
              }
              Json.child(pod, "spec").put("nodeName", node);
              ObjectNode status = Json.child(pod, "status");
              ArrayNode conditions =
                  status.get("conditions") instanceof ArrayNode a
                      ? a
                      : status.putArray("conditions");
              for (int i = conditions.size() - 1; i >= 0; i--) {
                if ("PodScheduled".equals(Json.text(conditions.get(i), "type"))) {
                  conditions.remove(i);
                }
              }
              ObjectNode c = conditions.addObject();
              c.put("type", "PodScheduled");
              c.put("status", "True");
              c.putNull("lastProbeTime");
              c.put("lastTransitionTime", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
              return pod;
            },
            false),
        pod -> {
          ObjectNode s = Json.object();
          s.put("kind", "Status");
          s.put("apiVersion", "v1");
          s.putObject("metadata");
          s.put("status", "Success");
          s.put("code", 201);
          ex.reply(201, s);
        });
  }
}
