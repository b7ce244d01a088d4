package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * DELETE with {@code propagationPolicy} sets the garbage collector's finalizers as kube-apiserver
 * does, and the namespace {@code finalize} subresource is the only way to change a namespace's
 * {@code spec.finalizers}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeletionPropagationTest {
  private ApiServerFixture f;

  @BeforeAll
  void start() throws Exception {
    f = ApiServerFixture.start(ApiServerFixture.Backend.EMBEDDED);
    assertThat(f.post("/api/v1/namespaces", "{\"metadata\":{\"name\":\"gc\"}}").code())
        .isEqualTo(201);
  }

  @AfterAll
  void stop() {
    if (f != null) {
      f.close();
    }
  }

  private static final String CMS = "/api/v1/namespaces/gc/configmaps";

  private void configMap(String name, String finalizers) throws Exception {
    Response r =
        f.post(
            CMS, "{\"metadata\":{\"name\":\"" + name + "\",\"finalizers\":[" + finalizers + "]}}");
    assertThat(r.code()).as(r.body()).isEqualTo(201);
  }

  private static String finalizers(JsonNode o) {
    return o.path("metadata").path("finalizers").toString();
  }

  @Test
  void foregroundAddsTheForegroundDeletionFinalizerAndKeepsTheObject() throws Exception {
    configMap("fg", "");
    Response d = f.delete(CMS + "/fg", "{\"propagationPolicy\":\"Foreground\"}");
    assertThat(d.code()).as(d.body()).isEqualTo(200);
    assertThat(d.json().path("kind").asText()).isEqualTo("ConfigMap");
    assertThat(finalizers(d.json())).isEqualTo("[\"foregroundDeletion\"]");
    assertThat(d.json().path("metadata").path("deletionTimestamp").asText()).isNotEmpty();
    assertThat(d.json().path("metadata").path("deletionGracePeriodSeconds").asLong()).isEqualTo(0);
    JsonNode stored = f.get(CMS + "/fg").json();
    assertThat(finalizers(stored)).isEqualTo("[\"foregroundDeletion\"]");
    // The garbage collector removes the finalizer when the dependents are gone: then it goes.
    Response done =
        f.patch(
            CMS + "/fg", "application/merge-patch+json", "{\"metadata\":{\"finalizers\":null}}");
    assertThat(done.code()).as(done.body()).isEqualTo(200);
    assertThat(f.get(CMS + "/fg").code()).isEqualTo(404);
  }

  @Test
  void orphanAddsTheOrphanFinalizerAndALaterBackgroundDeleteRemovesIt() throws Exception {
    configMap("or", "\"example.com/keep\"");
    Response d = f.delete(CMS + "/or?propagationPolicy=Orphan", null);
    assertThat(d.code()).as(d.body()).isEqualTo(200);
    assertThat(finalizers(d.json())).isEqualTo("[\"example.com/keep\",\"orphan\"]");
    // Foreground replaces orphan, as Kubernetes: the two never stand together.
    Response fg = f.delete(CMS + "/or", "{\"propagationPolicy\":\"Foreground\"}");
    assertThat(finalizers(fg.json())).isEqualTo("[\"example.com/keep\",\"foregroundDeletion\"]");
    // A delete without a policy keeps what the object has.
    Response none = f.delete(CMS + "/or", "{}");
    assertThat(finalizers(none.json())).isEqualTo("[\"example.com/keep\",\"foregroundDeletion\"]");
    assertThat(none.json().path("metadata").path("resourceVersion").asText())
        .isEqualTo(fg.json().path("metadata").path("resourceVersion").asText());
    Response bg = f.delete(CMS + "/or", "{\"propagationPolicy\":\"Background\"}");
    assertThat(finalizers(bg.json())).isEqualTo("[\"example.com/keep\"]");
    // orphanDependents (deprecated) is the same as Orphan.
    Response od = f.delete(CMS + "/or", "{\"orphanDependents\":true}");
    assertThat(finalizers(od.json())).isEqualTo("[\"example.com/keep\",\"orphan\"]");
  }

  @Test
  void backgroundOrNoPolicyDeletesAtOnceAndBadPoliciesAreRefused() throws Exception {
    configMap("bg", "");
    Response d = f.delete(CMS + "/bg", "{\"propagationPolicy\":\"Background\"}");
    assertThat(d.code()).isEqualTo(200);
    assertThat(d.json().path("kind").asText()).isEqualTo("Status");
    assertThat(f.get(CMS + "/bg").code()).isEqualTo(404);

    configMap("bad", "");
    Response bad = f.delete(CMS + "/bad?propagationPolicy=Sideways", null);
    assertThat(bad.code()).isEqualTo(400);
    assertThat(bad.json().path("message").asText())
        .isEqualTo("propagationPolicy must be one of Orphan, Background, Foreground; got Sideways");
    Response both =
        f.delete(CMS + "/bad", "{\"propagationPolicy\":\"Orphan\",\"orphanDependents\":true}");
    assertThat(both.code()).isEqualTo(422);
    assertThat(f.get(CMS + "/bad").json().path("metadata").has("deletionTimestamp")).isFalse();
    // A dry run shows the finalizer and writes nothing.
    Response dry = f.delete(CMS + "/bad?dryRun=All&propagationPolicy=Orphan", null);
    assertThat(finalizers(dry.json())).isEqualTo("[\"orphan\"]");
    assertThat(f.get(CMS + "/bad").json().path("metadata").path("finalizers").size()).isZero();
  }

  @Test
  void namespaceFinalizersChangeOnlyThroughFinalize() throws Exception {
    assertThat(f.post("/api/v1/namespaces", "{\"metadata\":{\"name\":\"fin-a\"}}").code())
        .isEqualTo(201);
    JsonNode ns = f.get("/api/v1/namespaces/fin-a").json();
    ((com.fasterxml.jackson.databind.node.ObjectNode) ns.path("spec")).putArray("finalizers");
    Response put = f.put("/api/v1/namespaces/fin-a", ns.toString());
    assertThat(put.code()).as(put.body()).isEqualTo(200);
    assertThat(put.json().path("spec").path("finalizers").toString()).isEqualTo("[\"kubernetes\"]");

    // Terminating, then finalized: the namespace is gone.
    Response d = f.delete("/api/v1/namespaces/fin-a", "{}");
    assertThat(d.json().path("status").path("phase").asText()).isEqualTo("Terminating");
    JsonNode term = f.get("/api/v1/namespaces/fin-a").json();
    ((com.fasterxml.jackson.databind.node.ObjectNode) term.path("spec")).putArray("finalizers");
    Response fin = f.put("/api/v1/namespaces/fin-a/finalize", term.toString());
    assertThat(fin.code()).as(fin.body()).isEqualTo(200);
    assertThat(fin.json().path("kind").asText()).isEqualTo("Namespace");
    assertThat(f.get("/api/v1/namespaces/fin-a").code()).isEqualTo(404);

    // Finalizing a namespace that is not being deleted only clears the list.
    assertThat(f.post("/api/v1/namespaces", "{\"metadata\":{\"name\":\"fin-b\"}}").code())
        .isEqualTo(201);
    JsonNode b = f.get("/api/v1/namespaces/fin-b").json();
    ((com.fasterxml.jackson.databind.node.ObjectNode) b.path("spec")).putArray("finalizers");
    Response fb = f.put("/api/v1/namespaces/fin-b/finalize", b.toString());
    assertThat(fb.code()).as(fb.body()).isEqualTo(200);
    assertThat(fb.json().path("spec").path("finalizers").size()).isZero();
    assertThat(fb.json().path("status").path("phase").asText()).isEqualTo("Active");
    assertThat(f.get("/api/v1/namespaces/fin-b").code()).isEqualTo(200);
    Response gone = f.delete("/api/v1/namespaces/fin-b", "{}");
    assertThat(gone.json().path("kind").asText()).isEqualTo("Status");
    assertThat(f.get("/api/v1/namespaces/fin-b").code()).isEqualTo(404);

    assertThat(
            f.request("POST", "/api/v1/namespaces/default/finalize", "application/json", "{}", null)
                .code())
        .isEqualTo(405);
    JsonNode resources = f.get("/api/v1").json().path("resources");
    JsonNode finalize = null;
    for (JsonNode r : resources) {
      if (r.path("name").asText().equals("namespaces/finalize")) {
        finalize = r;
      }
    }
    assertThat(finalize).isNotNull();
    assertThat(finalize.path("verbs").toString()).isEqualTo("[\"update\"]");
  }

  @Test
  void removingTheLastFinalizerOfAPodInItsGracePeriodLeavesItToItsKubelet() throws Exception {
    String pods = "/api/v1/namespaces/gc/pods";
    Response created =
        f.post(
            pods,
            "{\"metadata\":{\"name\":\"bound\"},\"spec\":{\"nodeName\":\"n1\","
                + "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}");
    assertThat(created.code()).as(created.body()).isEqualTo(201);
    Response d = f.delete(pods + "/bound", "{\"propagationPolicy\":\"Foreground\"}");
    assertThat(finalizers(d.json())).isEqualTo("[\"foregroundDeletion\"]");
    assertThat(d.json().path("metadata").path("deletionGracePeriodSeconds").asLong()).isEqualTo(30);
    // The garbage collector is done with it: the grace period still runs.
    Response patched =
        f.patch(
            pods + "/bound",
            "application/merge-patch+json",
            "{\"metadata\":{\"finalizers\":null}}");
    assertThat(patched.code()).as(patched.body()).isEqualTo(200);
    assertThat(f.get(pods + "/bound").code()).isEqualTo(200);
    // The kubelet confirms: gone.
    Response confirm = f.delete(pods + "/bound", "{\"gracePeriodSeconds\":0}");
    assertThat(confirm.json().path("kind").asText()).isEqualTo("Status");
    assertThat(f.get(pods + "/bound").code()).isEqualTo(404);
  }
}
