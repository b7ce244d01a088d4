package dev.kubelite.apiserver.managed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.registry.ResourceTable;
import dev.kubelite.apiserver.registry.ResourceType;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The field-set algebra behind managedFields, without a server. */
class ManagedFieldsTest {
  private static final ResourceType DEPLOYMENT =
      ResourceTable.builtIn().byKind("apps", "Deployment");
  private static final String T1 = "2026-11-22T03:00:00Z";
  private static final String T2 = "2026-11-22T04:00:00Z";

  static ObjectNode json(String s) {
    return Json.parseObject(s.replace('\'', '"').getBytes(StandardCharsets.UTF_8), false);
  }

  static ObjectNode deployment(String image, String extraContainer) {
    return json(
        "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','namespace':'d'},"
            + "'spec':{'replicas':2,'selector':{'matchLabels':{'app':'web'}},'template':"
            + "{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{'name':'nginx','image':'"
            + image
            + "'}"
            + extraContainer
            + "]}}}}");
  }

  static JsonNode entry(ObjectNode obj, String manager) {
    for (JsonNode e : obj.path("metadata").path("managedFields")) {
      if (e.path("manager").asText().equals(manager)) {
        return e;
      }
    }
    return null;
  }

  @Test
  void fieldsV1RoundTripsAndRejectsGarbage() {
    ObjectNode v1 =
        json(
            "{'f:metadata':{'f:labels':{'.':{},'f:a':{}}},'f:spec':{'f:containers':"
                + "{'k:{\\'name\\':\\'c\\'}':{'.':{},'f:image':{},'f:name':{}}}}}");
    FieldSet s = FieldSet.fromFieldsV1(v1);
    assertThat(s.toFieldsV1()).isEqualTo(v1);
    assertThat(s.contains(List.of("f:metadata", "f:labels"))).isTrue();
    assertThat(s.contains(List.of("f:metadata"))).isFalse();
    assertThatThrownBy(() -> FieldSet.fromFieldsV1(json("{'x':{}}")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FieldSet.fromFieldsV1(json("{'f:a':1}")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(FieldSet.display(List.of("f:spec", "f:containers", "k:{\"name\":\"c\"}", "f:image")))
        .isEqualTo(".spec.containers[name=\"c\"].image");
  }

  @Test
  void anUpdateTakesOnlyTheFieldsItChanges() {
    ObjectNode created = deployment("nginx:1", "");
    ManagedFields.update(DEPLOYMENT, null, created, "creator", null, T1);
    ObjectNode changed = created.deepCopy();
    ((ObjectNode) changed.at("/spec/template/spec/containers/0")).put("image", "nginx:2");
    ManagedFields.update(DEPLOYMENT, created, changed, "editor", null, T2);
    assertThat(entry(changed, "editor").path("fieldsV1").toString())
        .isEqualTo(
            "{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":"
                + "{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\"f:image\":{}}}}}}}");
    JsonNode creator = entry(changed, "creator").path("fieldsV1");
    JsonNode item =
        creator.at("/f:spec/f:template/f:spec/f:containers").path("k:{\"name\":\"nginx\"}");
    assertThat(item.has(".")).isTrue();
    assertThat(item.has("f:name")).isTrue();
    assertThat(item.has("f:image")).isFalse();
    assertThat(entry(changed, "creator").path("time").asText()).isEqualTo(T1);
    assertThat(entry(changed, "editor").path("time").asText()).isEqualTo(T2);
    // No change, no new entry and no new time.
    ObjectNode again = changed.deepCopy();
    ManagedFields.update(DEPLOYMENT, changed, again, "third", null, T2);
    assertThat(again).isEqualTo(changed);
  }

  @Test
  void applyKeepsAnElementAnotherManagerOwnsPartOf() {
    ObjectNode config = deployment("nginx:1", ",{'name':'side','image':'busybox'}");
    ObjectNode live = ManagedFields.apply(DEPLOYMENT, null, config, "ci", null, false, T1);
    // Someone else sets the sidecar's image.
    ObjectNode edited = live.deepCopy();
    ((ObjectNode) edited.at("/spec/template/spec/containers/1")).put("image", "busybox:2");
    ManagedFields.update(DEPLOYMENT, live, edited, "editor", null, T2);
    // ci stops stating the sidecar: it stays (editor owns its image), keyed by its name still.
    ObjectNode next =
        ManagedFields.apply(DEPLOYMENT, edited, deployment("nginx:1", ""), "ci", null, false, T2);
    JsonNode side = next.at("/spec/template/spec/containers/1");
    assertThat(side.path("name").asText()).isEqualTo("side");
    assertThat(side.path("image").asText()).isEqualTo("busybox:2");
    // Without the editor it would have gone.
    ObjectNode alone =
        ManagedFields.apply(DEPLOYMENT, live, deployment("nginx:1", ""), "ci", null, false, T2);
    assertThat(alone.at("/spec/template/spec/containers").size()).isEqualTo(1);
  }

  @Test
  void conflictsNameEveryManagerAndField() {
    ObjectNode live =
        ManagedFields.apply(DEPLOYMENT, null, deployment("nginx:1", ""), "a", null, false, T1);
    ObjectNode b = live.deepCopy();
    ((ObjectNode) b.get("spec")).put("replicas", 3);
    ((ObjectNode) b.at("/spec/template/spec/containers/0")).put("image", "nginx:9");
    ManagedFields.update(DEPLOYMENT, live, b, "b", null, T2);
    assertThatThrownBy(
            () ->
                ManagedFields.apply(DEPLOYMENT, b, deployment("nginx:1", ""), "a", null, false, T2))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.code()).isEqualTo(409);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "Apply failed with 2 conflicts: conflicts with \"b\" using apps/v1:\n"
                          + "- .spec.replicas\n"
                          + "- .spec.template.spec.containers[name=\"nginx\"].image");
              assertThat(e.causes()).hasSize(2);
            });
  }
}
