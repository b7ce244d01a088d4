package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Response;
import dev.kubelite.apiserver.testing.Kubectl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Server-side apply and managedFields over HTTP and with the real kubectl 1.32: create by apply,
 * re-apply removing fields, shared ownership, conflicts (after a scale) and force, Update entries
 * of ordinary writes and of the status subresource, and bad apply requests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerSideApplyTest {
  private static final String APPLY = "application/apply-patch+yaml";
  private static final String CM = "/api/v1/namespaces/ssa/configmaps/";
  private static final String DEPLOY = "/apis/apps/v1/namespaces/ssa/deployments/";

  private ApiServerFixture f;

  @BeforeAll
  void start() throws Exception {
    f = ApiServerFixture.start(ApiServerFixture.Backend.EMBEDDED);
    assertThat(f.post("/api/v1/namespaces", "{\"metadata\":{\"name\":\"ssa\"}}").code())
        .isEqualTo(201);
  }

  @AfterAll
  void stop() {
    if (f != null) {
      f.close();
    }
  }

  private Response apply(String path, String manager, String body) throws Exception {
    return f.patch(path + "?fieldManager=" + manager, APPLY, body);
  }

  private static JsonNode entry(JsonNode obj, String manager, String operation) {
    for (JsonNode e : obj.path("metadata").path("managedFields")) {
      if (e.path("manager").asText().equals(manager)
          && e.path("operation").asText().equals(operation)) {
        return e;
      }
    }
    return null;
  }

  static String cm(String name, String data) {
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "
        + name
        + "\n  labels:\n    team: blue\ndata:\n"
        + data;
  }

  @Test
  void applyCreatesThenReapplyRemovesWhatTheManagerNoLongerStates() throws Exception {
    Response created = apply(CM + "one", "alice", cm("one", "  a: \"1\"\n  b: \"2\"\n"));
    assertThat(created.code()).as(created.body()).isEqualTo(201);
    JsonNode obj = created.json();
    assertThat(obj.path("data").path("b").asText()).isEqualTo("2");
    JsonNode e = entry(obj, "alice", "Apply");
    assertThat(e).as(obj.toString()).isNotNull();
    assertThat(e.path("apiVersion").asText()).isEqualTo("v1");
    assertThat(e.path("fieldsType").asText()).isEqualTo("FieldsV1");
    assertThat(e.path("time").asText()).isNotEmpty();
    assertThat(e.path("fieldsV1").toString())
        .isEqualTo(
            "{\"f:data\":{\"f:a\":{},\"f:b\":{}},\"f:metadata\":{\"f:labels\":{\"f:team\":{}}}}");
    assertThat(obj.path("metadata").path("managedFields").size()).isEqualTo(1);

    Response again = apply(CM + "one", "alice", cm("one", "  a: \"1\"\n"));
    assertThat(again.code()).as(again.body()).isEqualTo(200);
    assertThat(again.json().path("data").has("b")).isFalse();
    assertThat(again.json().path("data").path("a").asText()).isEqualTo("1");
    assertThat(entry(again.json(), "alice", "Apply").path("fieldsV1").path("f:data").toString())
        .isEqualTo("{\"f:a\":{}}");
    assertThat(f.get(CM + "one").json().path("data").has("b")).isFalse();

    // The same apply again changes nothing: no new resourceVersion.
    Response same = apply(CM + "one", "alice", cm("one", "  a: \"1\"\n"));
    assertThat(same.json().path("metadata").path("resourceVersion").asText())
        .isEqualTo(again.json().path("metadata").path("resourceVersion").asText());
  }

  @Test
  void aMapOwnedAsAWholeStaysWhileFieldsBelowItAreStillApplied() throws Exception {
    Response created = apply(CM + "whole", "alice", cm("whole", "  a: \"1\"\n  b: \"2\"\n"));
    assertThat(created.code()).as(created.body()).isEqualTo(201);
    // What kubectl's client-side to server-side apply migration writes: the applier owns the data
    // map itself ("."), its fields, and the labels map with its field.
    String whole =
        "[{\"op\":\"replace\",\"path\":\"/metadata/managedFields\",\"value\":[{\"manager\":"
            + "\"alice\",\"operation\":\"Apply\",\"apiVersion\":\"v1\",\"time\":"
            + "\"2026-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:data\":"
            + "{\".\":{},\"f:a\":{},\"f:b\":{}},\"f:metadata\":{\"f:labels\":{\".\":{},"
            + "\"f:team\":{}}}}}]}]";
    Response migrated =
        f.patch(CM + "whole?fieldManager=alice", "application/json-patch+json", whole);
    assertThat(migrated.code()).as(migrated.body()).isEqualTo(200);

    // The same config again: nothing is lost, the whole-map ownership is dropped.
    Response again = apply(CM + "whole", "alice", cm("whole", "  a: \"1\"\n  b: \"2\"\n"));
    assertThat(again.code()).as(again.body()).isEqualTo(200);
    assertThat(again.json().path("data").path("a").asText()).isEqualTo("1");
    assertThat(again.json().path("data").path("b").asText()).isEqualTo("2");
    assertThat(again.json().path("metadata").path("labels").path("team").asText())
        .isEqualTo("blue");
    assertThat(entry(again.json(), "alice", "Apply").path("fieldsV1").toString())
        .isEqualTo(
            "{\"f:data\":{\"f:a\":{},\"f:b\":{}},\"f:metadata\":{\"f:labels\":{\"f:team\":{}}}}");

    // A field the applier drops still goes, though the map stays.
    Response fewer = apply(CM + "whole", "alice", cm("whole", "  a: \"1\"\n"));
    assertThat(fewer.code()).as(fewer.body()).isEqualTo(200);
    assertThat(fewer.json().path("data").has("b")).isFalse();
    assertThat(fewer.json().path("data").path("a").asText()).isEqualTo("1");
  }

  @Test
  void twoManagersShareAFieldAndConflictOnDifferentValues() throws Exception {
    assertThat(apply(CM + "two", "alice", cm("two", "  a: \"1\"\n  b: \"2\"\n")).code())
        .isEqualTo(201);
    // Same value: shared, no conflict.
    Response bob = apply(CM + "two", "bob", cm("two", "  a: \"1\"\n  c: \"3\"\n"));
    assertThat(bob.code()).as(bob.body()).isEqualTo(200);
    // Alice stops stating a: bob still owns it, it stays.
    Response alice = apply(CM + "two", "alice", cm("two", "  b: \"2\"\n"));
    assertThat(alice.code()).as(alice.body()).isEqualTo(200);
    assertThat(alice.json().path("data").path("a").asText()).isEqualTo("1");
    // A different value for a field bob owns: 409 naming bob and the field.
    String before = f.get(CM + "two").json().path("metadata").path("resourceVersion").asText();
    Response conflict = apply(CM + "two", "alice", cm("two", "  a: \"9\"\n  b: \"2\"\n"));
    assertThat(conflict.code()).as(conflict.body()).isEqualTo(409);
    JsonNode st = conflict.json();
    assertThat(st.path("kind").asText()).isEqualTo("Status");
    assertThat(st.path("reason").asText()).isEqualTo("Conflict");
    assertThat(st.path("message").asText())
        .isEqualTo("Apply failed with 1 conflict: conflict with \"bob\": .data.a");
    JsonNode cause = st.path("details").path("causes").get(0);
    assertThat(cause.path("reason").asText()).isEqualTo("FieldManagerConflict");
    assertThat(cause.path("field").asText()).isEqualTo(".data.a");
    assertThat(cause.path("message").asText()).isEqualTo("conflict with \"bob\"");
    assertThat(f.get(CM + "two").json().path("metadata").path("resourceVersion").asText())
        .isEqualTo(before);
    // Forced: alice takes a over; bob keeps c.
    Response forced =
        f.patch(CM + "two?fieldManager=alice&force=true", APPLY, cm("two", "  a: \"9\"\n"));
    assertThat(forced.code()).as(forced.body()).isEqualTo(200);
    assertThat(forced.json().path("data").path("a").asText()).isEqualTo("9");
    assertThat(entry(forced.json(), "bob", "Apply").path("fieldsV1").path("f:data").toString())
        .isEqualTo("{\"f:c\":{}}");
    // b was alice's alone and she no longer states it.
    assertThat(forced.json().path("data").has("b")).isFalse();
  }

  static String deployment(int replicas, String image) {
    return "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
        + "\"spec\":{\"replicas\":"
        + replicas
        + ",\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":"
        + "{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\","
        + "\"image\":\""
        + image
        + "\",\"ports\":[{\"containerPort\":80}]}]}}}}";
  }

  @Test
  void conflictAfterAScaleAndForceTakesOwnership() throws Exception {
    Response created = apply(DEPLOY + "web", "ci", deployment(2, "nginx:1.27"));
    assertThat(created.code()).as(created.body()).isEqualTo(201);
    JsonNode fields = entry(created.json(), "ci", "Apply").path("fieldsV1");
    assertThat(fields.path("f:spec").path("f:selector").toString()).isEqualTo("{}");
    JsonNode c = fields.path("f:spec").path("f:template").path("f:spec").path("f:containers");
    assertThat(c.path("k:{\"name\":\"nginx\"}").has(".")).isTrue();
    assertThat(c.path("k:{\"name\":\"nginx\"}").path("f:ports").has("k:{\"containerPort\":80}"))
        .isTrue();
    // Defaults are not the applier's.
    assertThat(created.json().path("spec").path("revisionHistoryLimit").asInt()).isEqualTo(10);
    assertThat(fields.path("f:spec").has("f:revisionHistoryLimit")).isFalse();

    Response scaled =
        f.patch(
            DEPLOY + "web/scale?fieldManager=kubectl-scale",
            "application/merge-patch+json",
            "{\"spec\":{\"replicas\":5}}");
    assertThat(scaled.code()).as(scaled.body()).isEqualTo(200);
    JsonNode afterScale = f.get(DEPLOY + "web").json();
    JsonNode scaler = entry(afterScale, "kubectl-scale", "Update");
    assertThat(scaler).as(afterScale.toString()).isNotNull();
    assertThat(scaler.path("subresource").asText()).isEqualTo("scale");
    assertThat(scaler.path("fieldsV1").toString()).isEqualTo("{\"f:spec\":{\"f:replicas\":{}}}");
    assertThat(entry(afterScale, "ci", "Apply").path("fieldsV1").path("f:spec").has("f:replicas"))
        .isFalse();

    // Re-applying a changed image with the old replicas: conflict on spec.replicas only.
    Response conflict = apply(DEPLOY + "web", "ci", deployment(2, "nginx:1.28"));
    assertThat(conflict.code()).as(conflict.body()).isEqualTo(409);
    assertThat(conflict.json().path("message").asText())
        .isEqualTo(
            "Apply failed with 1 conflict: conflict with \"kubectl-scale\" with subresource"
                + " \"scale\" using apps/v1: .spec.replicas");
    assertThat(f.get(DEPLOY + "web").json().path("spec").path("replicas").asInt()).isEqualTo(5);

    // Stating the current value is no conflict: the field becomes shared.
    Response shared = apply(DEPLOY + "web", "ci", deployment(5, "nginx:1.28"));
    assertThat(shared.code()).as(shared.body()).isEqualTo(200);
    Response forced =
        f.patch(DEPLOY + "web?fieldManager=ci&force=true", APPLY, deployment(2, "nginx:1.28"));
    assertThat(forced.code()).as(forced.body()).isEqualTo(200);
    assertThat(forced.json().path("spec").path("replicas").asInt()).isEqualTo(2);
    assertThat(entry(forced.json(), "kubectl-scale", "Update")).isNull();
    assertThat(forced.json().path("metadata").path("generation").asInt()).isGreaterThan(1);
  }

  @Test
  void ordinaryWritesRecordUpdateEntriesAndStatusWritesTheirSubresource() throws Exception {
    Response created =
        f.request(
            "POST",
            "/api/v1/namespaces/ssa/configmaps",
            "application/json",
            "{\"metadata\":{\"name\":\"upd\",\"labels\":{\"a\":\"b\"}},\"data\":{\"k\":\"v\"}}",
            null,
            null,
            "User-Agent",
            "my-tool/1.0 (linux)");
    assertThat(created.code()).as(created.body()).isEqualTo(201);
    JsonNode e = entry(created.json(), "my-tool", "Update");
    assertThat(e).as(created.body()).isNotNull();
    assertThat(e.path("fieldsV1").toString())
        .isEqualTo(
            "{\"f:data\":{\".\":{},\"f:k\":{}},\"f:metadata\":{\"f:labels\":{\".\":{},\"f:a\":{}}}}");
    // A merge patch by another manager takes the field it changes.
    Response patched =
        f.patch(
            CM + "upd?fieldManager=editor",
            "application/merge-patch+json",
            "{\"data\":{\"k\":\"w\"}}");
    assertThat(patched.code()).as(patched.body()).isEqualTo(200);
    assertThat(entry(patched.json(), "editor", "Update").path("fieldsV1").toString())
        .isEqualTo("{\"f:data\":{\"f:k\":{}}}");
    assertThat(
            entry(patched.json(), "my-tool", "Update").path("fieldsV1").path("f:data").toString())
        .isEqualTo("{}");
    // A PUT that sends the object back unchanged (managedFields included) writes nothing.
    String rv = patched.json().path("metadata").path("resourceVersion").asText();
    Response put = f.put(CM + "upd?fieldManager=editor", patched.body());
    assertThat(put.json().path("metadata").path("resourceVersion").asText()).isEqualTo(rv);
    // [{}] clears them, as in Kubernetes.
    com.fasterxml.jackson.databind.node.ObjectNode cleared =
        (com.fasterxml.jackson.databind.node.ObjectNode) patched.json();
    ((com.fasterxml.jackson.databind.node.ObjectNode) cleared.get("metadata"))
        .putArray("managedFields")
        .addObject();
    JsonNode reset = f.put(CM + "upd", cleared.toString()).json();
    assertThat(reset.path("metadata").has("managedFields")).as(reset.toString()).isFalse();

    assertThat(apply(DEPLOY + "st", "ci", deployment(1, "nginx").replace("\"web\"}", "\"st\"}")))
        .extracting(Response::code)
        .isEqualTo(201);
    Response status =
        f.patch(
            DEPLOY + "st/status?fieldManager=ctrl",
            "application/merge-patch+json",
            "{\"status\":{\"replicas\":1,\"readyReplicas\":1}}");
    assertThat(status.code()).as(status.body()).isEqualTo(200);
    JsonNode ctrl = entry(status.json(), "ctrl", "Update");
    assertThat(ctrl.path("subresource").asText()).isEqualTo("status");
    assertThat(ctrl.path("fieldsV1").toString())
        .isEqualTo("{\"f:status\":{\"f:readyReplicas\":{},\"f:replicas\":{}}}");
    // Status applied through the status subresource is owned with subresource status.
    Response applied =
        f.patch(
            DEPLOY + "st/status?fieldManager=ctrl2",
            APPLY,
            "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"st\"},"
                + "\"spec\":{\"replicas\":7},\"status\":{\"availableReplicas\":1}}");
    assertThat(applied.code()).as(applied.body()).isEqualTo(200);
    assertThat(applied.json().path("spec").path("replicas").asInt()).isEqualTo(1);
    assertThat(applied.json().path("status").path("availableReplicas").asInt()).isEqualTo(1);
    JsonNode ctrl2 = entry(applied.json(), "ctrl2", "Apply");
    assertThat(ctrl2.path("subresource").asText()).isEqualTo("status");
    assertThat(ctrl2.path("fieldsV1").toString())
        .isEqualTo("{\"f:status\":{\"f:availableReplicas\":{}}}");
  }

  @Test
  void badApplyRequestsAreRefusedAndChangeNothing() throws Exception {
    assertThat(apply(CM + "bad", "alice", cm("bad", "  a: \"1\"\n")).code()).isEqualTo(201);
    String rv = f.get(CM + "bad").json().path("metadata").path("resourceVersion").asText();

    Response noManager = f.patch(CM + "bad", APPLY, cm("bad", "  a: \"2\"\n"));
    assertThat(noManager.code()).isEqualTo(422);
    assertThat(noManager.json().path("message").asText())
        .isEqualTo(
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required"
                + " for apply patch");

    Response wrongKind =
        apply(CM + "bad", "alice", cm("bad", "  a: \"2\"\n").replace("ConfigMap", "Secret"));
    assertThat(wrongKind.code()).isEqualTo(400);
    assertThat(wrongKind.json().path("message").asText())
        .isEqualTo("invalid object type: /v1, Kind=Secret");
    Response noKind = apply(CM + "bad", "alice", "{\"metadata\":{\"name\":\"bad\"}}");
    assertThat(noKind.code()).isEqualTo(400);

    Response wrongName = apply(CM + "bad", "alice", cm("other", "  a: \"2\"\n"));
    assertThat(wrongName.code()).isEqualTo(400);
    assertThat(wrongName.json().path("message").asText()).contains("does not match the name");

    assertThat(apply(CM + "bad", "alice", "{\"apiVersion\": \"v1\", kind: [").code())
        .isEqualTo(400);
    assertThat(apply(CM + "bad", "alice", "- just\n- a list\n").code()).isEqualTo(400);
    assertThat(
            apply(
                    CM + "bad",
                    "alice",
                    cm("bad", "  a: \"2\"\n")
                        .replace("  labels:", "  managedFields: [{manager: x}]\n  labels:"))
                .code())
        .isEqualTo(400);
    assertThat(f.patch(CM + "bad?fieldManager=alice&force=maybe", APPLY, cm("bad", "")).code())
        .isEqualTo(400);
    Response forcedMerge =
        f.patch(CM + "bad?force=true", "application/merge-patch+json", "{\"data\":{\"a\":\"3\"}}");
    assertThat(forcedMerge.code()).isEqualTo(422);
    assertThat(forcedMerge.json().path("message").asText())
        .contains("force: Forbidden: may not be specified for non-apply patch");
    Response tooLong = apply(CM + "bad", "m".repeat(129), cm("bad", "  a: \"2\"\n"));
    assertThat(tooLong.code()).isEqualTo(422);
    Response dup =
        apply(
            DEPLOY + "dup",
            "ci",
            deployment(1, "nginx")
                .replace("\"web\"}", "\"dup\"}")
                .replace(
                    "\"ports\":[{\"containerPort\":80}]",
                    "\"ports\":[{\"containerPort\":80},{\"containerPort\":80}]"));
    assertThat(dup.code()).as(dup.body()).isEqualTo(422);
    assertThat(f.get(DEPLOY + "dup").code()).isEqualTo(404);
    Response dryRun =
        f.patch(CM + "bad?fieldManager=alice&dryRun=All", APPLY, cm("bad", "  a: \"5\"\n"));
    assertThat(dryRun.code()).as(dryRun.body()).isEqualTo(200);
    assertThat(dryRun.json().path("data").path("a").asText()).isEqualTo("5");
    Response strict =
        f.patch(
            CM + "bad?fieldManager=alice&fieldValidation=Strict",
            APPLY,
            cm("bad", "  a: \"2\"\n") + "bogus: 1\n");
    assertThat(strict.code()).as(strict.body()).isEqualTo(400);

    JsonNode now = f.get(CM + "bad").json();
    assertThat(now.path("metadata").path("resourceVersion").asText()).isEqualTo(rv);
    assertThat(now.path("data").path("a").asText()).isEqualTo("1");
    // Apply to a missing namespace is refused as a create would be.
    Response noNs =
        f.patch(
            "/api/v1/namespaces/nope/configmaps/x?fieldManager=alice",
            APPLY,
            cm("x", "  a: \"1\"\n"));
    assertThat(noNs.code()).isEqualTo(404);
  }

  static final String KUBECTL_DEPLOY =
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: shop
        namespace: ssa
      spec:
        replicas: 2
        selector: {matchLabels: {app: shop}}
        template:
          metadata: {labels: {app: shop}}
          spec:
            containers:
            - name: nginx
              image: nginx:1.27
      """;

  @Test
  void realKubectlServerSideApply() throws Exception {
    Kubectl k = new Kubectl(f.dir, f.url(), "ssa", Duration.ofSeconds(60));
    Path dir = Files.createDirectories(f.dir.resolve("ssa-manifests"));
    Path file = Files.writeString(dir.resolve("shop.yaml"), KUBECTL_DEPLOY);
    assertThat(k.ok("apply", "--server-side", "-f", file.toString()))
        .contains("deployment.apps/shop serverside-applied");
    Files.writeString(file, KUBECTL_DEPLOY.replace("nginx:1.27", "nginx:1.28"));
    assertThat(k.ok("apply", "--server-side", "-f", file.toString()))
        .contains("deployment.apps/shop serverside-applied");
    assertThat(
            k.ok(
                "get",
                "deployment",
                "shop",
                "-o",
                "jsonpath={.spec.template.spec.containers[0].image}"))
        .isEqualTo("nginx:1.28");

    assertThat(k.ok("scale", "deployment", "shop", "--replicas=4")).contains("scaled");
    Kubectl.Result conflict = k.run("apply", "--server-side", "-f", file.toString());
    assertThat(conflict.exitCode()).as(conflict.output()).isNotZero();
    assertThat(conflict.output()).contains("conflict").contains(".spec.replicas");
    assertThat(k.ok("get", "deployment", "shop", "-o", "jsonpath={.spec.replicas}")).isEqualTo("4");
    assertThat(k.ok("apply", "--server-side", "--force-conflicts", "-f", file.toString()))
        .contains("serverside-applied");
    assertThat(k.ok("get", "deployment", "shop", "-o", "jsonpath={.spec.replicas}")).isEqualTo("2");

    String hidden = k.ok("get", "deployment", "shop", "-o", "yaml");
    assertThat(hidden).doesNotContain("managedFields");
    String shown = k.ok("get", "deployment", "shop", "-o", "yaml", "--show-managed-fields");
    assertThat(shown)
        .contains("managedFields")
        .contains("manager: kubectl")
        .contains("operation: Apply")
        .contains("fieldsType: FieldsV1")
        .contains("f:replicas: {}");
  }

  @Test
  void realKubectlMovesFromClientSideToServerSideApplyWithoutLosingFields() throws Exception {
    Kubectl k = new Kubectl(f.dir, f.url(), "ssa", Duration.ofSeconds(60));
    Path dir = Files.createDirectories(f.dir.resolve("csa-to-ssa"));
    Path file =
        Files.writeString(
            dir.resolve("moving.yaml"),
            KUBECTL_DEPLOY.replace("name: shop", "name: moving")
                + "---\n"
                + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: moving\n"
                + "data:\n  a: \"1\"\n  b: \"2\"\n");
    assertThat(k.ok("apply", "-f", file.toString())).contains("deployment.apps/moving created");
    // kubectl applies, hands the client-side apply's fields to the apply manager with a JSON
    // patch of managedFields, then applies again: that last apply must keep every field.
    Kubectl.Result moved = k.run("apply", "--server-side", "-f", file.toString());
    assertThat(moved.exitCode()).as(moved.output()).isZero();
    assertThat(moved.output())
        .contains("deployment.apps/moving serverside-applied")
        .contains("configmap/moving serverside-applied")
        .doesNotContain("Warning");
    assertThat(k.ok("get", "configmap", "moving", "-o", "jsonpath={.data.a},{.data.b}"))
        .isEqualTo("1,2");
    assertThat(
            k.ok("get", "deployment", "moving", "-o", "jsonpath={.spec.template.metadata.labels}"))
        .contains("\"app\":\"shop\"");
    Kubectl.Result diff = k.run("diff", "-f", file.toString());
    assertThat(diff.exitCode()).as(diff.output()).isZero();
  }
}
