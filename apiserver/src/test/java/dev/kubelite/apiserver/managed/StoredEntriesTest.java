package dev.kubelite.apiserver.managed;

import static dev.kubelite.apiserver.managed.ManagedFieldsTest.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.registry.ResourceTable;
import dev.kubelite.apiserver.registry.ResourceType;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * An update keeps stored managedFields entries it does not change as stored; the outcome must be
 * exactly what reading every entry and writing it again gives ({@link
 * ManagedFields#updateReadingAll}), byte for byte, through a pod's life of creates, PUTs, status
 * patches, takeovers, removals and applies.
 */
class StoredEntriesTest {
  private static final ResourceType POD = ResourceTable.builtIn().byKind("", "Pod");
  private static final ResourceType DEPLOYMENT =
      ResourceTable.builtIn().byKind("apps", "Deployment");

  private static ObjectNode pod() {
    return json(
        "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p','namespace':'n',"
            + "'labels':{'app':'web','tier':'fe'},'annotations':{'a':'1'}},"
            + "'spec':{'containers':[{'name':'web','image':'nginx:1','ports':[{'containerPort':80,"
            + "'protocol':'TCP'}]}]}}");
  }

  /** Applies {@code change} to a copy of {@code old} and records it both ways; returns the kept. */
  private static ObjectNode write(
      ResourceType t,
      ObjectNode old,
      String manager,
      String subresource,
      String time,
      Consumer<ObjectNode> change) {
    ObjectNode viaKept = old.deepCopy();
    change.accept(viaKept);
    ObjectNode viaRead = viaKept.deepCopy();
    ManagedFields.update(t, old, viaKept, manager, subresource, time);
    ManagedFields.updateReadingAll(t, old, viaRead, manager, subresource, time);
    assertThat(viaKept.toString()).isEqualTo(viaRead.toString());
    return viaKept;
  }

  private static ObjectNode meta(ObjectNode o) {
    return (ObjectNode) o.get("metadata");
  }

  @Test
  void aPodsLifeGivesTheSameManagedFieldsEitherWay() {
    ObjectNode created = pod();
    ManagedFields.update(POD, null, created, "bench", null, "2026-11-22T10:00:00Z");
    // A new annotation: the writer's own entry grows (read and written again).
    ObjectNode v2 =
        write(
            POD,
            created,
            "bench",
            null,
            "2026-11-22T10:00:01Z",
            o -> ((ObjectNode) meta(o).get("annotations")).put("b", "1"));
    // The same annotation again: the writer's own entry already holds it (kept, new time).
    ObjectNode v3 =
        write(
            POD,
            v2,
            "bench",
            null,
            "2026-11-22T10:00:02Z",
            o -> ((ObjectNode) meta(o).get("annotations")).put("b", "2"));
    assertThat(v3.at("/metadata/managedFields/0/time").asText()).isEqualTo("2026-11-22T10:00:02Z");
    // A kubelet's status write: a second entry, with subresource status.
    ObjectNode v4 =
        write(
            POD,
            v3,
            "kubelet",
            "status",
            "2026-11-22T10:00:03Z",
            o ->
                o.set(
                    "status",
                    json("{'phase':'Running','conditions':[{'type':'Ready','status':'True'}]}")));
    assertThat(v4.at("/metadata/managedFields").size()).isEqualTo(2);
    // The kubelet again, a changed condition: its entry holds the field already.
    ObjectNode v5 =
        write(
            POD,
            v4,
            "kubelet",
            "status",
            "2026-11-22T10:00:04Z",
            o -> ((ObjectNode) o.at("/status/conditions/0")).put("status", "False"));
    // The writer's PUT with the kubelet's entry present: that entry is kept as stored.
    ObjectNode v6 =
        write(
            POD,
            v5,
            "bench",
            null,
            "2026-11-22T10:00:05Z",
            o -> ((ObjectNode) meta(o).get("annotations")).put("b", "3"));
    // Another manager takes a label: bench's entry loses it, kubelet's is kept.
    ObjectNode v7 =
        write(
            POD,
            v6,
            "editor",
            null,
            "2026-11-22T10:00:06Z",
            o -> ((ObjectNode) meta(o).get("labels")).put("tier", "be"));
    assertThat(v7.at("/metadata/managedFields").size()).isEqualTo(3);
    // bench removes an annotation it owns: its own entry shrinks.
    ObjectNode v8 =
        write(
            POD,
            v7,
            "bench",
            null,
            "2026-11-22T10:00:07Z",
            o -> ((ObjectNode) meta(o).get("annotations")).remove("a"));
    // editor removes the label it took: its entry is emptied and dropped.
    ObjectNode v9 =
        write(
            POD,
            v8,
            "editor",
            null,
            "2026-11-22T10:00:08Z",
            o -> ((ObjectNode) meta(o).get("labels")).remove("tier"));
    assertThat(v9.at("/metadata/managedFields").size()).isEqualTo(2);
    // A PUT that carries the stored managedFields, as a controller's read-modify-write does.
    write(
        POD,
        v9,
        "bench",
        null,
        "2026-11-22T10:00:09Z",
        o -> ((ObjectNode) meta(o).get("annotations")).put("b", "4"));
    // A PUT without managedFields keeps the stored ones too.
    write(
        POD,
        v9,
        "bench",
        null,
        "2026-11-22T10:00:09Z",
        o -> {
          meta(o).remove("managedFields");
          ((ObjectNode) meta(o).get("annotations")).put("b", "5");
        });
  }

  @Test
  void entriesNotInTheWrittenFormAreReadAndWrittenAgain() {
    ObjectNode created = pod();
    ManagedFields.update(POD, null, created, "bench", null, "2026-11-22T10:00:00Z");
    ObjectNode withStatus =
        write(
            POD,
            created,
            "kubelet",
            "status",
            "2026-11-22T10:00:01Z",
            o -> o.set("status", json("{'phase':'Pending'}")));
    // Another tool wrote the kubelet's entry with its fieldsV1 keys out of order, an extra
    // key and the bench entry's keys reordered: all are normalised, as before.
    ArrayNode entries = (ArrayNode) withStatus.at("/metadata/managedFields");
    ObjectNode kubelet = (ObjectNode) entries.get(1);
    kubelet.set("fieldsV1", json("{'f:status':{'f:phase':{}},'f:metadata':{}}"));
    ObjectNode bench = (ObjectNode) entries.get(0);
    ObjectNode reordered = json("{}");
    reordered.set("operation", bench.get("operation"));
    reordered.setAll(bench);
    entries.set(0, reordered);
    ObjectNode extra = entries.addObject();
    extra.put("manager", "odd").put("operation", "Update").put("fieldsType", "FieldsV1");
    extra.set("fieldsV1", json("{'f:spec':{'f:containers':{'.':{}}}}"));
    extra.put("unknown", "x");
    write(
        POD,
        withStatus,
        "bench",
        null,
        "2026-11-22T10:00:02Z",
        o -> ((ObjectNode) meta(o).get("annotations")).put("c", "1"));
    write(
        POD,
        withStatus,
        "other",
        null,
        "2026-11-22T10:00:02Z",
        o -> ((ObjectNode) meta(o).get("labels")).put("x", "y"));
  }

  @Test
  void applyEntriesAreKeptOrTakenFromTheSameWay() {
    ObjectNode live =
        ManagedFields.apply(
            DEPLOYMENT,
            null,
            ManagedFieldsTest.deployment("nginx:1", ""),
            "kubectl",
            null,
            false,
            "2026-11-22T10:00:00Z");
    // An update of a field apply does not own keeps the Apply entry as stored.
    ObjectNode scaled =
        write(
            DEPLOYMENT,
            live,
            "hpa",
            null,
            "2026-11-22T10:00:01Z",
            o -> ((ObjectNode) o.get("spec")).put("paused", true));
    // One that changes an applied field takes it from the Apply entry.
    write(
        DEPLOYMENT,
        scaled,
        "editor",
        null,
        "2026-11-22T10:00:02Z",
        o -> ((ObjectNode) o.get("spec")).put("replicas", 5));
  }
}
