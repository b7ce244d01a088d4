package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Response;
import dev.kubelite.apiserver.testing.WatchClient;
import dev.kubelite.store.client.GetResult;
import dev.kubelite.store.client.RangeQuery;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;

/**
 * The REST API, verb by verb and error by error, over real HTTP against a real store. Subclasses
 * pick the store (our store embedded, or a real etcd 3.4): the same tests pass on both. Every test
 * works in its own namespace.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RestApiContract {
  protected ApiServerFixture f;
  protected String ns;

  abstract ApiServerFixture.Backend backend();

  @BeforeAll
  void start() throws Exception {
    f = ApiServerFixture.start(backend());
  }

  @AfterAll
  void stop() {
    if (f != null) {
      f.close();
    }
  }

  @BeforeEach
  void namespace(TestInfo info) throws Exception {
    String m = info.getTestMethod().orElseThrow().getName().toLowerCase();
    ns =
        (m.length() > 40 ? m.substring(0, 40) : m)
            + "-"
            + Long.toString(System.nanoTime() % 100000);
    Response r = f.post("/api/v1/namespaces", "{\"metadata\":{\"name\":\"" + ns + "\"}}");
    assertThat(r.code()).as(r.body()).isEqualTo(201);
  }

  String cm(String name, String labels) {
    return "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\""
        + name
        + "\",\"labels\":{"
        + labels
        + "}},\"data\":{\"k\":\"v\"}}";
  }

  String deployment(String name, int replicas, String image) {
    return """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"%s","labels":{"app":"%s"}},
         "spec":{"replicas":%d,"selector":{"matchLabels":{"app":"%s"}},
          "template":{"metadata":{"labels":{"app":"%s"}},
           "spec":{"containers":[{"name":"main","image":"%s","env":[{"name":"A","value":"1"}]},
                                 {"name":"sidecar","image":"busybox"}]}}}}"""
        .formatted(name, name, replicas, name, name, image);
  }

  static void assertStatus(Response r, int code, String reason) {
    assertThat(r.code()).as(r.body()).isEqualTo(code);
    assertThat(r.contentType()).startsWith("application/json");
    JsonNode s = r.json();
    assertThat(s.path("kind").asText()).isEqualTo("Status");
    assertThat(s.path("apiVersion").asText()).isEqualTo("v1");
    assertThat(s.path("status").asText()).isEqualTo("Failure");
    assertThat(s.path("reason").asText()).isEqualTo(reason);
    assertThat(s.path("code").asInt()).isEqualTo(code);
    assertThat(s.path("message").asText()).isNotEmpty();
  }

  String base() {
    return "/api/v1/namespaces/" + ns;
  }

  // ------------------------------------------------------------------------- meta and discovery

  @Test
  void versionAndHealth() throws Exception {
    Response v = f.get("/version?timeout=5s");
    assertThat(v.code()).isEqualTo(200);
    assertThat(v.json().path("major").asText()).isEqualTo("1");
    assertThat(v.json().path("minor").asText()).isEqualTo("32");
    assertThat(v.json().path("gitVersion").asText()).matches("v1\\.32\\.\\d+.*");
    var raw =
        f.http()
            .send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(f.url() + "/version"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(raw.headers().firstValue("Cache-Control")).contains("no-cache, private");
    assertThat(f.get("/healthz").body()).isEqualTo("ok");
    assertThat(f.get("/livez").code()).isEqualTo(200);
    assertThat(f.get("/readyz").code()).isEqualTo(200);
    assertThat(f.get("/readyz?verbose").body())
        .startsWith("[+]ping ok\n")
        .contains("[+]etcd ok\n")
        .endsWith("readyz check passed\n");
    assertThat(f.get("/livez/etcd").body()).isEqualTo("ok");
    assertStatus(f.get("/livez/nope"), 404, "NotFound");
  }

  @Test
  void aggregatedAndLegacyDiscovery() throws Exception {
    String agg =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
            + "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
    Response api = f.request("GET", "/api?timeout=32s", null, null, agg);
    assertThat(api.contentType())
        .isEqualTo("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    JsonNode core = api.json().path("items").get(0);
    assertThat(core.path("metadata").path("name").asText()).isEmpty();
    List<String> coreResources = new ArrayList<>();
    core.path("versions")
        .get(0)
        .path("resources")
        .forEach(r -> coreResources.add(r.path("resource").asText()));
    assertThat(coreResources)
        .containsExactlyInAnyOrder(
            "namespaces",
            "pods",
            "nodes",
            "events",
            "configmaps",
            "secrets",
            "serviceaccounts",
            "services");
    JsonNode pods = find(core.path("versions").get(0).path("resources"), "resource", "pods");
    assertThat(pods.path("scope").asText()).isEqualTo("Namespaced");
    assertThat(pods.path("responseKind").path("kind").asText()).isEqualTo("Pod");
    assertThat(pods.path("shortNames").get(0).asText()).isEqualTo("po");
    assertThat(pods.path("categories").get(0).asText()).isEqualTo("all");
    JsonNode nodes = find(core.path("versions").get(0).path("resources"), "resource", "nodes");
    assertThat(nodes.path("scope").asText()).isEqualTo("Cluster");

    Response apis = f.request("GET", "/apis", null, null, agg);
    assertThat(apis.contentType()).contains("as=APIGroupDiscoveryList");
    List<String> groups = new ArrayList<>();
    apis.json().path("items").forEach(g -> groups.add(g.path("metadata").path("name").asText()));
    assertThat(groups).containsExactly("apps", "coordination.k8s.io", "rbac.authorization.k8s.io");
    JsonNode deploy =
        find(
            apis.json().path("items").get(0).path("versions").get(0).path("resources"),
            "resource",
            "deployments");
    JsonNode scale = find(deploy.path("subresources"), "subresource", "scale");
    assertThat(scale.path("responseKind").path("group").asText()).isEqualTo("autoscaling");

    // Legacy discovery for clients that do not ask for the aggregated form.
    Response legacyApi = f.get("/api");
    assertThat(legacyApi.contentType()).isEqualTo("application/json");
    assertThat(legacyApi.json().path("kind").asText()).isEqualTo("APIVersions");
    assertThat(f.get("/apis").json().path("groups").get(0).path("name").asText()).isEqualTo("apps");
    JsonNode v1 = f.get("/api/v1").json();
    assertThat(v1.path("kind").asText()).isEqualTo("APIResourceList");
    assertThat(find(v1.path("resources"), "name", "pods/status").path("verbs").toString())
        .contains("update");
    JsonNode apps = f.get("/apis/apps/v1").json();
    assertThat(find(apps.path("resources"), "name", "deployments/scale").path("group").asText())
        .isEqualTo("autoscaling");
    assertThat(f.get("/apis/apps").json().path("kind").asText()).isEqualTo("APIGroup");
    assertStatus(f.get("/apis/nope/v1"), 404, "NotFound");
  }

  @Test
  void openApiDeclaresFieldValidationOnPatchForEveryKind() throws Exception {
    JsonNode root = f.get("/openapi/v3?timeout=32s").json();
    assertThat(root.path("paths").has("api/v1")).isTrue();
    assertThat(root.path("paths").has("apis/apps/v1")).isTrue();
    String url = root.path("paths").path("apis/apps/v1").path("serverRelativeURL").asText();
    JsonNode doc = f.get(url).json();
    JsonNode op =
        doc.path("paths")
            .path("/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
            .path("patch");
    assertThat(op.path("x-kubernetes-group-version-kind").path("kind").asText())
        .isEqualTo("Deployment");
    assertThat(op.path("parameters").toString()).contains("\"fieldValidation\"");
    JsonNode core = f.get("/openapi/v3/api/v1").json();
    assertThat(
            core.path("paths")
                .path("/api/v1/namespaces/{name}")
                .path("patch")
                .path("x-kubernetes-group-version-kind")
                .path("kind")
                .asText())
        .isEqualTo("Namespace");
    assertStatus(f.get("/openapi/v2"), 404, "NotFound");
  }

  static JsonNode find(JsonNode array, String field, String value) {
    for (JsonNode n : array) {
      if (value.equals(n.path(field).asText())) {
        return n;
      }
    }
    throw new AssertionError("no element with " + field + "=" + value + " in " + array);
  }

  // ------------------------------------------------------------------------- create, get, storage

  @Test
  void secretStringDataIsWriteOnlyAndLandsInData() throws Exception {
    Response r =
        f.post(
            base() + "/secrets",
            "{\"metadata\":{\"name\":\"s\"},\"data\":{\"a\":\"eA==\",\"b\":\"eA==\"},"
                + "\"stringData\":{\"b\":\"two\",\"c\":\"three\"}}");
    assertThat(r.code()).as(r.body()).isEqualTo(201);
    JsonNode s = f.get(base() + "/secrets/s").json();
    assertThat(s.has("stringData")).isFalse();
    assertThat(s.path("type").asText()).isEqualTo("Opaque");
    assertThat(s.path("data").path("a").asText()).isEqualTo("eA==");
    assertThat(s.path("data").path("b").asText()).isEqualTo("dHdv"); // "two" wins over data
    assertThat(s.path("data").path("c").asText()).isEqualTo("dGhyZWU=");
    r =
        f.patch(
            base() + "/secrets/s",
            "application/merge-patch+json",
            "{\"stringData\":{\"a\":\"one\"}}");
    assertThat(r.code()).as(r.body()).isEqualTo(200);
    assertThat(r.json().has("stringData")).isFalse();
    assertThat(r.json().path("data").path("a").asText()).isEqualTo("b25l");
    assertThat(r.json().path("data").path("c").asText()).isEqualTo("dGhyZWU=");
  }

  @Test
  void createStoresTheObjectUnderItsRegistryKeyAndGetReturnsIt() throws Exception {
    Response r = f.post(base() + "/configmaps", cm("c1", "\"app\":\"web\""));
    assertThat(r.code()).as(r.body()).isEqualTo(201);
    JsonNode created = r.json();
    assertThat(created.path("kind").asText()).isEqualTo("ConfigMap");
    assertThat(created.path("apiVersion").asText()).isEqualTo("v1");
    JsonNode meta = created.path("metadata");
    assertThat(meta.path("uid").asText()).matches("[0-9a-f-]{36}");
    assertThat(meta.path("creationTimestamp").asText())
        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
    assertThat(meta.path("generation").asLong()).isEqualTo(1);
    assertThat(meta.path("namespace").asText()).isEqualTo(ns);
    String rv = meta.path("resourceVersion").asText();

    GetResult stored =
        f.store
            .get(("/registry/configmaps/" + ns + "/c1").getBytes(StandardCharsets.UTF_8))
            .get(10, TimeUnit.SECONDS);
    assertThat(stored.kv()).isNotNull();
    assertThat(Long.toString(stored.kv().modRevision())).isEqualTo(rv);
    JsonNode value = ApiServerFixture.JSON.readTree(stored.kv().value());
    assertThat(value.path("metadata").has("resourceVersion")).isFalse();
    assertThat(value.path("data").path("k").asText()).isEqualTo("v");

    Response got = f.get(base() + "/configmaps/c1");
    assertThat(got.code()).isEqualTo(200);
    assertThat(got.json()).isEqualTo(created);

    assertStatus(f.post(base() + "/configmaps", cm("c1", "")), 409, "AlreadyExists");
    assertThat(f.post(base() + "/configmaps", cm("c1", "")).json().path("message").asText())
        .isEqualTo("configmaps \"c1\" already exists");
    Response missing = f.get(base() + "/configmaps/nope");
    assertStatus(missing, 404, "NotFound");
    assertThat(missing.json().path("message").asText()).isEqualTo("configmaps \"nope\" not found");

    // YAML in and out.
    Response yaml =
        f.request(
            "POST",
            base() + "/configmaps",
            "application/yaml",
            "metadata:\n  name: y1\ndata:\n  a: b\n",
            "application/yaml");
    assertThat(yaml.code()).as(yaml.body()).isEqualTo(201);
    assertThat(yaml.contentType()).isEqualTo("application/yaml");
    assertThat(yaml.body()).contains("name: y1");
  }

  @Test
  void generateNameAndDefaultNamespaces() throws Exception {
    Response r = f.post(base() + "/configmaps", "{\"metadata\":{\"generateName\":\"gen-\"}}");
    assertThat(r.code()).as(r.body()).isEqualTo(201);
    assertThat(r.json().path("metadata").path("name").asText()).matches("gen-[a-z0-9]{5}");
    List<String> names = new ArrayList<>();
    f.get("/api/v1/namespaces")
        .json()
        .path("items")
        .forEach(n -> names.add(n.path("metadata").path("name").asText()));
    assertThat(names).contains("default", "kube-system", "kube-public", "kube-node-lease", ns);
  }

  @Test
  void protobufCreateNamespaceAsKubectlSendsIt() throws Exception {
    // The body kubectl 1.32 sent for `kubectl create namespace team-x` (reference §4.g), renamed.
    String name = "pb-" + ns.substring(ns.length() - 5);
    byte[] meta =
        concat(
            hex("0a"),
            lenPrefixed(name.getBytes(StandardCharsets.UTF_8)),
            hex("12001a0022002a00320038004200"));
    byte[] raw = concat(hex("0a"), lenPrefixed(meta), hex("1200"), hex("1a020a00"));
    byte[] body = protobufBody("Namespace", raw);
    Response r =
        f.request(
            "POST",
            "/api/v1/namespaces?fieldManager=kubectl-create&fieldValidation=Strict",
            body,
            "application/vnd.kubernetes.protobuf");
    assertThat(r.code()).as(r.body()).isEqualTo(201);
    assertThat(r.json().path("kind").asText()).isEqualTo("Namespace");
    assertThat(r.json().path("metadata").path("name").asText()).isEqualTo(name);
    assertThat(r.json().path("status").path("phase").asText()).isEqualTo("Active");
    assertStatus(
        f.request("POST", "/api/v1/namespaces", body, "application/vnd.kubernetes.protobuf"),
        409,
        "AlreadyExists");
    assertStatus(
        f.request(
            "POST", "/api/v1/namespaces", hex("6b38730012"), "application/vnd.kubernetes.protobuf"),
        400,
        "BadRequest");
    assertStatus(
        f.request("POST", base() + "/pods", body, "application/vnd.kubernetes.protobuf"),
        415,
        "UnsupportedMediaType");
  }

  @Test
  void protobufDeleteOptionsAsKubectlDrainSendsThem() throws Exception {
    assertThat(f.post(base() + "/configmaps", "{\"metadata\":{\"name\":\"pb-del\"}}").code())
        .isEqualTo(201);
    String uid = f.get(base() + "/configmaps/pb-del").json().path("metadata").path("uid").asText();
    // dryRun: ["All"] (field 5) in the body: answered, nothing deleted.
    Response dry = deleteWithProtobuf("pb-del", hex("2a03416c6c"));
    assertThat(dry.code()).as(dry.body()).isEqualTo(200);
    assertThat(f.get(base() + "/configmaps/pb-del").code()).isEqualTo(200);
    // preconditions (field 2) with another uid: 409, nothing deleted.
    byte[] otherUid = "00000000-0000-0000-0000-000000000000".getBytes(StandardCharsets.UTF_8);
    assertStatus(
        deleteWithProtobuf(
            "pb-del", concat(hex("12"), lenPrefixed(concat(hex("0a"), lenPrefixed(otherUid))))),
        409,
        "Conflict");
    // gracePeriodSeconds: 0 (field 1, kept although zero) and the right uid: deleted.
    byte[] rightUid = uid.getBytes(StandardCharsets.UTF_8);
    Response gone =
        deleteWithProtobuf(
            "pb-del",
            concat(hex("0800"), hex("12"), lenPrefixed(concat(hex("0a"), lenPrefixed(rightUid)))));
    assertThat(gone.code()).as(gone.body()).isEqualTo(200);
    assertThat(f.get(base() + "/configmaps/pb-del").code()).isEqualTo(404);
  }

  private Response deleteWithProtobuf(String name, byte[] deleteOptions) throws Exception {
    return f.request(
        "DELETE",
        base() + "/configmaps/" + name,
        protobufBody("DeleteOptions", deleteOptions),
        "application/vnd.kubernetes.protobuf");
  }

  /**
   * A v1 {@code kind} as kubectl's protobuf body: the {@code k8s\0} magic and a runtime.Unknown
   * with its TypeMeta, {@code raw} and empty content encoding and type.
   */
  static byte[] protobufBody(String kind, byte[] raw) {
    byte[] k = kind.getBytes(StandardCharsets.UTF_8);
    byte[] typeMeta =
        concat(hex("0a02"), "v1".getBytes(StandardCharsets.UTF_8), hex("12"), lenPrefixed(k));
    return concat(
        hex("6b387300"),
        hex("0a"),
        lenPrefixed(typeMeta),
        hex("12"),
        lenPrefixed(raw),
        hex("1a002200"));
  }

  static byte[] hex(String h) {
    return HexFormat.of().parseHex(h);
  }

  static byte[] lenPrefixed(byte[] b) {
    return concat(new byte[] {(byte) b.length}, b);
  }

  static byte[] concat(byte[]... parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  // ------------------------------------------------------------------------- errors

  @Test
  void badInputIsAStatusNeverA5xx() throws Exception {
    assertStatus(f.post(base() + "/configmaps", "{not json"), 400, "BadRequest");
    assertStatus(f.post(base() + "/configmaps", "[1,2]"), 400, "BadRequest");
    assertStatus(f.post(base() + "/configmaps", ""), 400, "BadRequest");
    assertStatus(
        f.post(base() + "/configmaps", "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"}}"),
        400,
        "BadRequest");
    assertStatus(
        f.post(base() + "/configmaps", "{\"apiVersion\":\"v2\",\"metadata\":{\"name\":\"x\"}}"),
        400,
        "BadRequest");
    assertStatus(f.post(base() + "/configmaps", "{\"metadata\":\"x\"}"), 400, "BadRequest");
    assertStatus(
        f.post(base() + "/configmaps", "{\"metadata\":{\"name\":\"x\",\"namespace\":\"other\"}}"),
        400,
        "BadRequest");
    assertStatus(
        f.request("POST", base() + "/configmaps", "text/plain", "hi", null),
        415,
        "UnsupportedMediaType");
    assertStatus(
        f.request("PUT", base() + "/configmaps", "application/json", "{}", null),
        405,
        "MethodNotAllowed");
    assertStatus(f.post("/api/v1/configmaps", cm("x", "")), 405, "MethodNotAllowed");
    assertStatus(f.get("/api/v1/nothings"), 404, "NotFound");
    assertStatus(f.get("/nothing"), 404, "NotFound");
    assertStatus(f.get(base() + "/configmaps/a/b/c"), 404, "NotFound");
    assertStatus(f.get("/api/v1/namespaces/" + ns + "/nodes"), 404, "NotFound");
    assertStatus(f.post("/api/v1/namespaces/missing-ns/configmaps", cm("x", "")), 404, "NotFound");
    assertStatus(f.get(base() + "/configmaps?labelSelector=a%20in%20(b"), 400, "BadRequest");
    assertStatus(f.get(base() + "/configmaps?labelSelector=!!x"), 400, "BadRequest");
    assertStatus(f.get(base() + "/configmaps?fieldSelector=spec.foo%3Dx"), 400, "BadRequest");
    assertStatus(f.get(base() + "/configmaps?limit=abc"), 400, "BadRequest");
    assertStatus(f.get(base() + "/configmaps?continue=garbage"), 400, "BadRequest");
    assertStatus(f.get(base() + "/configmaps?resourceVersion=abc"), 400, "BadRequest");
    assertStatus(
        f.request("GET", base() + "/configmaps", null, null, "application/vnd.kubernetes.protobuf"),
        406,
        "NotAcceptable");
    String deep = "[".repeat(5000) + "]".repeat(5000);
    assertStatus(
        f.post(base() + "/configmaps", "{\"metadata\":{\"name\":\"d\"},\"data\":" + deep + "}"),
        400,
        "BadRequest");
    // Above the 3 MiB request limit, and above the store's 1.5 MiB value limit.
    assertStatus(
        f.post(base() + "/configmaps", cmWithData("big1", 4 * 1024 * 1024)),
        413,
        "RequestEntityTooLarge");
    assertStatus(
        f.post(base() + "/configmaps", cmWithData("big2", 2 * 1024 * 1024)),
        413,
        "RequestEntityTooLarge");
    assertThat(f.get(base() + "/configmaps").json().path("items")).isEmpty();
  }

  static String cmWithData(String name, int bytes) {
    return "{\"metadata\":{\"name\":\""
        + name
        + "\"},\"data\":{\"k\":\""
        + "x".repeat(bytes)
        + "\"}}";
  }

  @Test
  void invalidNamesAre422WithCauses() throws Exception {
    Response r = f.post(base() + "/configmaps", cm("BadName", ""));
    assertStatus(r, 422, "Invalid");
    JsonNode d = r.json().path("details");
    assertThat(d.path("kind").asText()).isEqualTo("ConfigMap");
    assertThat(d.path("name").asText()).isEqualTo("BadName");
    assertThat(d.path("causes").get(0).path("field").asText()).isEqualTo("metadata.name");
    assertThat(d.path("causes").get(0).path("reason").asText()).isEqualTo("FieldValueInvalid");
    assertThat(d.path("causes").get(0).path("message").asText())
        .startsWith("Invalid value: \"BadName\": a lowercase RFC 1123 subdomain");
    assertThat(r.json().path("message").asText())
        .startsWith("ConfigMap \"BadName\" is invalid: metadata.name: Invalid value");
    assertStatus(f.post(base() + "/configmaps", "{\"metadata\":{}}"), 422, "Invalid");
    assertStatus(f.post("/api/v1/namespaces", "{\"metadata\":{\"name\":\"a.b\"}}"), 422, "Invalid");
    assertStatus(f.post(base() + "/configmaps", cm("ok", "\"bad key!\":\"v\"")), 422, "Invalid");
    assertStatus(
        f.post(base() + "/pods", "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[]}}"),
        422,
        "Invalid");
    Response sel =
        f.post(
            "/apis/apps/v1/namespaces/" + ns + "/deployments",
            deployment("d", 1, "nginx")
                .replace("\"matchLabels\":{\"app\":\"d\"}", "\"matchLabels\":{\"app\":\"other\"}"));
    assertStatus(sel, 422, "Invalid");
    assertThat(sel.json().path("message").asText())
        .contains("`selector` does not match template `labels`");
  }

  // ------------------------------------------------------------------------- update

  @Test
  void updateWithStaleResourceVersionConflictsAndGenerationFollowsSpec() throws Exception {
    String path = "/apis/apps/v1/namespaces/" + ns + "/deployments";
    JsonNode d = f.post(path, deployment("web", 1, "nginx:1.27")).json();
    assertThat(d.path("metadata").path("generation").asLong()).isEqualTo(1);
    assertThat(d.path("status").isEmpty()).isTrue();
    String rv1 = d.path("metadata").path("resourceVersion").asText();

    // Label change: new resourceVersion, same generation.
    var obj = (com.fasterxml.jackson.databind.node.ObjectNode) d.deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) obj.path("metadata").path("labels"))
        .put("tier", "fe");
    Response r = f.put(path + "/web", obj.toString());
    assertThat(r.code()).as(r.body()).isEqualTo(200);
    String rv2 = r.json().path("metadata").path("resourceVersion").asText();
    assertThat(Long.parseLong(rv2)).isGreaterThan(Long.parseLong(rv1));
    assertThat(r.json().path("metadata").path("generation").asLong()).isEqualTo(1);

    // Stale resourceVersion: 409 Conflict, nothing written.
    Response stale = f.put(path + "/web", obj.toString());
    assertStatus(stale, 409, "Conflict");
    assertThat(stale.json().path("message").asText())
        .isEqualTo(
            "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again");

    // Spec change and a status write through the main resource: generation +1, status ignored.
    var obj2 = (com.fasterxml.jackson.databind.node.ObjectNode) r.json().deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) obj2.path("spec")).put("replicas", 3);
    obj2.putObject("status").put("replicas", 99);
    JsonNode updated = f.put(path + "/web", obj2.toString()).json();
    assertThat(updated.path("metadata").path("generation").asLong()).isEqualTo(2);
    assertThat(updated.path("spec").path("replicas").asInt()).isEqualTo(3);
    assertThat(updated.path("status").has("replicas")).isFalse();
    assertThat(updated.path("metadata").path("uid")).isEqualTo(d.path("metadata").path("uid"));

    // /status writes status only; spec changes there are ignored; generation unchanged.
    var obj3 = (com.fasterxml.jackson.databind.node.ObjectNode) updated.deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) obj3.path("spec")).put("replicas", 7);
    obj3.putObject("status").put("replicas", 3).put("observedGeneration", 2);
    JsonNode st = f.put(path + "/web/status", obj3.toString()).json();
    assertThat(st.path("status").path("replicas").asInt()).isEqualTo(3);
    assertThat(st.path("spec").path("replicas").asInt()).isEqualTo(3);
    assertThat(st.path("metadata").path("generation").asLong()).isEqualTo(2);

    // Unconditional update (no resourceVersion) works; a renamed body is refused.
    var obj4 = (com.fasterxml.jackson.databind.node.ObjectNode) st.deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) obj4.path("metadata"))
        .remove("resourceVersion");
    assertThat(f.put(path + "/web", obj4.toString()).code()).isEqualTo(200);
    ((com.fasterxml.jackson.databind.node.ObjectNode) obj4.path("metadata")).put("name", "other");
    assertStatus(f.put(path + "/web", obj4.toString()), 400, "BadRequest");
    assertStatus(f.put(path + "/missing", deployment("missing", 1, "x")), 404, "NotFound");

    // The selector is immutable.
    var obj5 =
        (com.fasterxml.jackson.databind.node.ObjectNode) f.get(path + "/web").json().deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode)
            obj5.path("spec").path("selector").path("matchLabels"))
        .put("x", "y");
    ((com.fasterxml.jackson.databind.node.ObjectNode)
            obj5.path("spec").path("template").path("metadata").path("labels"))
        .put("x", "y");
    Response immutable = f.put(path + "/web", obj5.toString());
    assertStatus(immutable, 422, "Invalid");
    assertThat(immutable.json().path("message").asText()).contains("field is immutable");
  }

  // ------------------------------------------------------------------------- delete

  @Test
  void deleteReturnsStatusAndFinalizersBlockRemoval() throws Exception {
    f.post(base() + "/configmaps", cm("gone", ""));
    Response del = f.delete(base() + "/configmaps/gone", "{\"propagationPolicy\":\"Background\"}");
    assertThat(del.code()).as(del.body()).isEqualTo(200);
    assertThat(del.json().path("kind").asText()).isEqualTo("Status");
    assertThat(del.json().path("status").asText()).isEqualTo("Success");
    assertThat(del.json().path("details").path("name").asText()).isEqualTo("gone");
    assertStatus(f.get(base() + "/configmaps/gone"), 404, "NotFound");
    assertStatus(f.delete(base() + "/configmaps/gone", null), 404, "NotFound");
    assertStatus(f.delete(base() + "/configmaps/x", "{bad"), 400, "BadRequest");

    f.post(
        base() + "/configmaps",
        "{\"metadata\":{\"name\":\"fin\",\"finalizers\":[\"example.com/keep\"]}}");
    Response pending = f.delete(base() + "/configmaps/fin", null);
    assertThat(pending.code()).isEqualTo(200);
    assertThat(pending.json().path("kind").asText()).isEqualTo("ConfigMap");
    assertThat(pending.json().path("metadata").path("deletionTimestamp").asText()).isNotEmpty();
    assertThat(f.get(base() + "/configmaps/fin").code()).isEqualTo(200);
    Response removed =
        f.patch(
            base() + "/configmaps/fin",
            "application/merge-patch+json",
            "{\"metadata\":{\"finalizers\":null}}");
    assertThat(removed.code()).as(removed.body()).isEqualTo(200);
    assertStatus(f.get(base() + "/configmaps/fin"), 404, "NotFound");

    // Preconditions.
    JsonNode c = f.post(base() + "/configmaps", cm("pre", "")).json();
    assertStatus(
        f.delete(base() + "/configmaps/pre", "{\"preconditions\":{\"uid\":\"nope\"}}"),
        409,
        "Conflict");
    assertThat(
            f.delete(
                    base() + "/configmaps/pre",
                    "{\"preconditions\":{\"uid\":\""
                        + c.path("metadata").path("uid").asText()
                        + "\"}}")
                .code())
        .isEqualTo(200);
  }

  @Test
  void podsOnANodeAreDeletedGracefullyAndBindingAssignsThem() throws Exception {
    String pod =
        "{\"metadata\":{\"name\":\"p1\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}";
    JsonNode p = f.post(base() + "/pods", pod).json();
    assertThat(p.path("status").path("phase").asText()).isEqualTo("Pending");
    assertThat(p.path("spec").path("restartPolicy").asText()).isEqualTo("Always");
    Response bind =
        f.post(
            base() + "/pods/p1/binding",
            "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"p1\"},\"target\":{\"kind\":\"Node\",\"name\":\"node-1\"}}");
    assertThat(bind.code()).as(bind.body()).isEqualTo(201);
    assertThat(f.get(base() + "/pods/p1").json().path("spec").path("nodeName").asText())
        .isEqualTo("node-1");
    assertStatus(
        f.post(base() + "/pods/p1/binding", "{\"target\":{\"name\":\"node-2\"}}"), 409, "Conflict");
    // Pod spec is immutable apart from images.
    var changed =
        (com.fasterxml.jackson.databind.node.ObjectNode)
            f.get(base() + "/pods/p1").json().deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) changed.path("spec"))
        .put("restartPolicy", "Never");
    assertStatus(f.put(base() + "/pods/p1", changed.toString()), 422, "Invalid");

    Response graceful = f.delete(base() + "/pods/p1", "{}");
    assertThat(graceful.json().path("kind").asText()).isEqualTo("Pod");
    assertThat(graceful.json().path("metadata").path("deletionGracePeriodSeconds").asLong())
        .isEqualTo(30);
    assertThat(f.get(base() + "/pods/p1").code()).isEqualTo(200);
    // In its grace period the pod takes status writes (its kubelet reports the containers
    // stopping) and stays until the delete with grace period 0.
    Response stopping =
        f.patch(
            base() + "/pods/p1/status",
            "application/merge-patch+json",
            "{\"status\":{\"phase\":\"Succeeded\"}}");
    assertThat(stopping.code()).as(stopping.body()).isEqualTo(200);
    JsonNode afterStatus = f.get(base() + "/pods/p1").json();
    assertThat(afterStatus.path("status").path("phase").asText()).isEqualTo("Succeeded");
    assertThat(afterStatus.path("metadata").path("deletionGracePeriodSeconds").asLong())
        .isEqualTo(30);
    Response now = f.delete(base() + "/pods/p1", "{\"gracePeriodSeconds\":0}");
    assertThat(now.json().path("status").asText()).isEqualTo("Success");
    assertStatus(f.get(base() + "/pods/p1"), 404, "NotFound");
  }

  @Test
  void deletingANamespaceMarksItTerminatingAndRefusesNewContent() throws Exception {
    Response missing = f.post("/api/v1/namespaces/no-such-ns/configmaps", cm("x", ""));
    assertStatus(missing, 404, "NotFound");
    assertThat(missing.json().path("message").asText())
        .isEqualTo("namespaces \"no-such-ns\" not found");
    assertThat(missing.json().path("details").path("kind").asText()).isEqualTo("namespaces");
    // Refused before validation, as Kubernetes' admission does: an invalid object is still 404.
    assertStatus(
        f.post("/api/v1/namespaces/no-such-ns/configmaps", cm("Bad_Name", "")), 404, "NotFound");

    assertThat(f.post(base() + "/configmaps", cm("early", "")).code()).isEqualTo(201);
    Response d = f.delete("/api/v1/namespaces/" + ns, "{}");
    assertThat(d.code()).isEqualTo(200);
    assertThat(d.json().path("status").path("phase").asText()).isEqualTo("Terminating");
    assertThat(d.json().path("metadata").path("deletionTimestamp").asText()).isNotEmpty();
    assertThat(d.json().path("spec").path("finalizers").toString()).isEqualTo("[\"kubernetes\"]");
    JsonNode stored = f.get("/api/v1/namespaces/" + ns).json();
    assertThat(stored.path("status").path("phase").asText()).isEqualTo("Terminating");
    assertThat(stored.path("metadata").path("deletionTimestamp").asText()).isNotEmpty();
    // A second delete keeps it as it is.
    Response again = f.delete("/api/v1/namespaces/" + ns, "{}");
    assertThat(again.code()).isEqualTo(200);
    assertThat(again.json().path("metadata").path("resourceVersion").asText())
        .isEqualTo(stored.path("metadata").path("resourceVersion").asText());

    Response late = f.post(base() + "/configmaps", cm("late", ""));
    assertStatus(late, 403, "Forbidden");
    assertThat(late.json().path("message").asText())
        .isEqualTo(
            "configmaps \"late\" is forbidden: unable to create new content in namespace "
                + ns
                + " because it is being terminated");
    assertThat(late.json().path("details").path("kind").asText()).isEqualTo("configmaps");
    Response lateDeploy =
        f.post("/apis/apps/v1/namespaces/" + ns + "/deployments", deployment("web", 1, "x"));
    assertStatus(lateDeploy, 403, "Forbidden");
    assertThat(lateDeploy.json().path("message").asText())
        .startsWith("deployments.apps \"web\" is forbidden: unable to create new content");
    // Objects already there can still be changed (the namespace controller needs that).
    Response label =
        f.patch(
            base() + "/configmaps/early",
            "application/merge-patch+json",
            "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}");
    assertThat(label.code()).as(label.body()).isEqualTo(200);
    assertStatus(f.delete("/api/v1/namespaces/default", "{}"), 403, "Forbidden");
  }

  @Test
  void fieldValidationStrictWarnIgnore() throws Exception {
    String path = "/apis/apps/v1/namespaces/" + ns + "/deployments";
    String typo =
        deployment("web", 1, "nginx")
            .replace("\"replicas\":1", "\"replicas\":1,\"foo\":true")
            .replace("\"image\":\"nginx\"", "\"image\":\"nginx\",\"imagee\":\"x\"");
    Response strict = f.post(path + "?fieldValidation=Strict", typo);
    assertStatus(strict, 400, "BadRequest");
    assertThat(strict.json().path("message").asText())
        .isEqualTo(
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding"
                + " error: unknown field \"spec.foo\", unknown field"
                + " \"spec.template.spec.containers[0].imagee\"");
    assertStatus(f.get(path + "/web"), 404, "NotFound");

    // Duplicate fields are strict errors too.
    String dup =
        deployment("web", 1, "nginx").replace("\"replicas\":1", "\"replicas\":1,\"replicas\":2");
    Response dupStrict = f.post(path + "?fieldValidation=Strict", dup);
    assertStatus(dupStrict, 400, "BadRequest");
    assertThat(dupStrict.json().path("message").asText())
        .endsWith("strict decoding error: duplicate field \"spec.replicas\"");

    // Warn (also the default): accepted, the unknown fields dropped, one Warning header each.
    var warn =
        f.http()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(f.url() + path + "?fieldValidation=Warn"))
                    .header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(typo))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(warn.statusCode()).as(warn.body()).isEqualTo(201);
    assertThat(warn.headers().allValues("Warning"))
        .containsExactly(
            "299 - \"unknown field \\\"spec.foo\\\"\"",
            "299 - \"unknown field \\\"spec.template.spec.containers[0].imagee\\\"\"");
    JsonNode stored = f.get(path + "/web").json();
    assertThat(stored.path("spec").has("foo")).isFalse();
    assertThat(
            stored
                .path("spec")
                .path("template")
                .path("spec")
                .path("containers")
                .get(0)
                .has("imagee"))
        .isFalse();
    assertThat(stored.path("spec").path("replicas").asInt()).isEqualTo(1);

    // Ignore: accepted silently, dropped.
    Response ignore = f.post(path + "?fieldValidation=Ignore", typo.replace("\"web\"", "\"web2\""));
    assertThat(ignore.code()).as(ignore.body()).isEqualTo(201);
    assertThat(ignore.json().path("spec").has("foo")).isFalse();

    // Updates and patches are checked the same way.
    Response put = f.put(path + "/web?fieldValidation=Strict", typo);
    assertStatus(put, 400, "BadRequest");
    Response patch =
        f.patch(
            path + "/web?fieldValidation=Strict",
            "application/strategic-merge-patch+json",
            "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"main\",\"imagee\":\"y\"}]}}}}");
    assertStatus(patch, 400, "BadRequest");
    assertThat(patch.json().path("message").asText())
        .isEqualTo(
            "strict decoding error: unknown field \"spec.template.spec.containers[0].imagee\"");
    Response goodPatch =
        f.patch(
            path + "/web?fieldValidation=Strict",
            "application/merge-patch+json",
            "{\"metadata\":{\"labels\":{\"x\":\"y\"}},\"spec\":{\"paused\":true}}");
    assertThat(goodPatch.code()).as(goodPatch.body()).isEqualTo(200);
    // Every kind's usual fields pass Strict: a pod with volumes, probes, resources, tolerations.
    String pod =
        """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"},
          "annotations":{"x":"y"}},
         "spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80,"name":"http"}],
           "env":[{"name":"A","value":"1"},{"name":"B","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
           "resources":{"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"100m"}},
           "volumeMounts":[{"name":"v","mountPath":"/data","readOnly":true}],
           "readinessProbe":{"httpGet":{"path":"/","port":80},"periodSeconds":5},
           "securityContext":{"runAsUser":1000}}],
          "volumes":[{"name":"v","emptyDir":{}}],"nodeSelector":{"disk":"ssd"},
          "tolerations":[{"key":"k","operator":"Exists","effect":"NoSchedule"}],
          "affinity":{"nodeAffinity":{}}}}""";
    Response p = f.post(base() + "/pods?fieldValidation=Strict", pod);
    assertThat(p.code()).as(p.body()).isEqualTo(201);
    assertStatus(f.post(base() + "/pods?fieldValidation=Nope", pod), 400, "BadRequest");
  }

  long storeRevision() throws Exception {
    return f.store.currentRevision().get(10, TimeUnit.SECONDS);
  }

  @Test
  void dryRunValidatesAndAnswersButStoresNothing() throws Exception {
    String cms = base() + "/configmaps";
    assertThat(f.post(cms, cm("there", "\"a\":\"1\"")).code()).isEqualTo(201);
    String before = f.get(cms + "/there").body();
    long rev = storeRevision();

    Response created = f.post(cms + "?dryRun=All", cm("new", ""));
    assertThat(created.code()).as(created.body()).isEqualTo(201);
    assertThat(created.json().path("metadata").path("uid").asText()).isNotEmpty();
    assertThat(created.json().path("metadata").path("creationTimestamp").asText()).isNotEmpty();
    assertThat(created.json().path("metadata").has("resourceVersion")).isFalse();
    assertStatus(f.get(cms + "/new"), 404, "NotFound");
    // Every check still runs: name taken, invalid, missing namespace, unknown fields.
    assertStatus(f.post(cms + "?dryRun=All", cm("there", "")), 409, "AlreadyExists");
    assertStatus(f.post(cms + "?dryRun=All", cm("Bad_Name", "")), 422, "Invalid");
    assertStatus(
        f.post("/api/v1/namespaces/nowhere/configmaps?dryRun=All", cm("x", "")), 404, "NotFound");
    assertStatus(
        f.post(
            cms + "?dryRun=All&fieldValidation=Strict",
            cm("y", "").replace("\"data\"", "\"dataa\"")),
        400,
        "BadRequest");
    assertStatus(f.post(cms + "?dryRun=Some", cm("z", "")), 400, "BadRequest");

    String current = f.get(cms + "/there").json().path("metadata").path("resourceVersion").asText();
    Response put = f.put(cms + "/there?dryRun=All", cm("there", "\"a\":\"2\""));
    assertThat(put.code()).as(put.body()).isEqualTo(200);
    assertThat(put.json().path("metadata").path("labels").path("a").asText()).isEqualTo("2");
    assertThat(put.json().path("metadata").path("resourceVersion").asText()).isEqualTo(current);
    Response patched =
        f.patch(
            cms + "/there?dryRun=All",
            "application/strategic-merge-patch+json",
            "{\"data\":{\"k\":\"patched\"}}");
    assertThat(patched.code()).as(patched.body()).isEqualTo(200);
    assertThat(patched.json().path("data").path("k").asText()).isEqualTo("patched");

    Response deleted = f.delete(cms + "/there?dryRun=All", "{}");
    assertThat(deleted.code()).as(deleted.body()).isEqualTo(200);
    assertThat(deleted.json().path("status").asText()).isEqualTo("Success");
    Response deletedByBody =
        f.delete(cms + "/there", "{\"kind\":\"DeleteOptions\",\"dryRun\":[\"All\"]}");
    assertThat(deletedByBody.code()).as(deletedByBody.body()).isEqualTo(200);
    Response all = f.delete(cms + "?dryRun=All", null);
    assertThat(all.code()).as(all.body()).isEqualTo(200);
    assertThat(all.json().path("items").size()).isEqualTo(1);

    String deploys = "/apis/apps/v1/namespaces/" + ns + "/deployments";
    assertThat(f.post(deploys, deployment("web", 1, "nginx")).code()).isEqualTo(201);
    String deployBefore = f.get(deploys + "/web").body();
    long rev2 = storeRevision();
    Response scaled =
        f.patch(
            deploys + "/web/scale?dryRun=All",
            "application/merge-patch+json",
            "{\"spec\":{\"replicas\":5}}");
    assertThat(scaled.code()).as(scaled.body()).isEqualTo(200);
    assertThat(scaled.json().path("spec").path("replicas").asInt()).isEqualTo(5);
    Response nsDelete = f.delete("/api/v1/namespaces/" + ns + "?dryRun=All", "{}");
    assertThat(nsDelete.json().path("status").path("phase").asText()).isEqualTo("Terminating");

    // Nothing was written: same objects, same store revision.
    assertThat(storeRevision()).isEqualTo(rev2);
    assertThat(f.get(deploys + "/web").body()).isEqualTo(deployBefore);
    assertThat(f.get("/api/v1/namespaces/" + ns).json().path("status").path("phase").asText())
        .isEqualTo("Active");
    assertThat(f.get(cms + "/there").body()).isEqualTo(before);
    assertThat(rev2).isEqualTo(rev + 1);
  }

  // ------------------------------------------------------------------------- list

  @Test
  void listWithSelectorsPagingAndAllNamespaces() throws Exception {
    f.post(base() + "/configmaps", cm("a", "\"app\":\"web\",\"tier\":\"fe\""));
    f.post(base() + "/configmaps", cm("b", "\"app\":\"web\",\"tier\":\"be\""));
    f.post(base() + "/configmaps", cm("c", "\"app\":\"db\""));
    f.post(base() + "/configmaps", cm("d", ""));
    assertThat(names(base() + "/configmaps")).containsExactly("a", "b", "c", "d");
    assertThat(names(base() + "/configmaps?labelSelector=app%3Dweb")).containsExactly("a", "b");
    assertThat(names(base() + "/configmaps?labelSelector=app%3D%3Dweb,tier!%3Dfe"))
        .containsExactly("b");
    assertThat(names(base() + "/configmaps?labelSelector=app%20in%20(db,web)"))
        .containsExactly("a", "b", "c");
    assertThat(names(base() + "/configmaps?labelSelector=app%20notin%20(web)"))
        .containsExactly("c", "d");
    assertThat(names(base() + "/configmaps?labelSelector=tier")).containsExactly("a", "b");
    assertThat(names(base() + "/configmaps?labelSelector=!tier")).containsExactly("c", "d");
    assertThat(names(base() + "/configmaps?fieldSelector=metadata.name%3Dc")).containsExactly("c");
    assertThat(names(base() + "/configmaps?fieldSelector=metadata.name!%3Dc"))
        .containsExactly("a", "b", "d");
    assertThat(names(base() + "/configmaps?fieldSelector=metadata.namespace%3D" + ns)).hasSize(4);

    JsonNode list = f.get(base() + "/configmaps").json();
    assertThat(list.path("kind").asText()).isEqualTo("ConfigMapList");
    assertThat(list.path("metadata").path("resourceVersion").asText()).matches("\\d+");

    // Paging: 2 + 2, the second page at the first page's revision even after a new write.
    JsonNode p1 = f.get(base() + "/configmaps?limit=2").json();
    assertThat(p1.path("items")).hasSize(2);
    String token = p1.path("metadata").path("continue").asText();
    assertThat(token).isNotEmpty();
    f.post(base() + "/configmaps", cm("e", ""));
    JsonNode p2 = f.get(base() + "/configmaps?limit=2&continue=" + token).json();
    List<String> second = new ArrayList<>();
    p2.path("items").forEach(i -> second.add(i.path("metadata").path("name").asText()));
    assertThat(second).containsExactly("c", "d");
    assertThat(p2.path("metadata").path("resourceVersion"))
        .isEqualTo(p1.path("metadata").path("resourceVersion"));
    assertThat(p2.path("metadata").has("continue")).isFalse();
    // Paging with a selector fills pages with matches only.
    JsonNode sel = f.get(base() + "/configmaps?limit=1&labelSelector=app%3Dweb").json();
    assertThat(sel.path("items").get(0).path("metadata").path("name").asText()).isEqualTo("a");
    JsonNode sel2 =
        f.get(
                base()
                    + "/configmaps?limit=1&labelSelector=app%3Dweb&continue="
                    + sel.path("metadata").path("continue").asText())
            .json();
    assertThat(sel2.path("items").get(0).path("metadata").path("name").asText()).isEqualTo("b");

    // All namespaces.
    JsonNode all = f.get("/api/v1/configmaps?labelSelector=app%3Ddb").json();
    List<String> where = new ArrayList<>();
    all.path("items")
        .forEach(
            i ->
                where.add(
                    i.path("metadata").path("namespace").asText()
                        + "/"
                        + i.path("metadata").path("name").asText()));
    assertThat(where).contains(ns + "/c");

    // Pods: spec.nodeName and status.phase field selectors.
    String pod =
        "{\"metadata\":{\"name\":\"%s\"},\"spec\":{%s\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}";
    f.post(base() + "/pods", pod.formatted("p1", "\"nodeName\":\"n1\","));
    f.post(base() + "/pods", pod.formatted("p2", ""));
    assertThat(names(base() + "/pods?fieldSelector=spec.nodeName%3Dn1")).containsExactly("p1");
    assertThat(names(base() + "/pods?fieldSelector=spec.nodeName%3D")).containsExactly("p2");
    assertThat(names(base() + "/pods?fieldSelector=status.phase%3DPending"))
        .containsExactly("p1", "p2");
    assertThat(names(base() + "/pods?fieldSelector=status.phase%3DRunning")).isEmpty();
  }

  List<String> names(String path) throws Exception {
    Response r = f.get(path);
    assertThat(r.code()).as(r.body()).isEqualTo(200);
    List<String> out = new ArrayList<>();
    r.json().path("items").forEach(i -> out.add(i.path("metadata").path("name").asText()));
    return out;
  }

  @Test
  void tablesForListsAndSingleObjects() throws Exception {
    String table =
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    f.post(
        base() + "/pods",
        "{\"metadata\":{\"name\":\"nginx\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}");
    Response r = f.request("GET", base() + "/pods?limit=500", null, null, table);
    assertThat(r.code()).isEqualTo(200);
    JsonNode t = r.json();
    assertThat(t.path("kind").asText()).isEqualTo("Table");
    assertThat(t.path("apiVersion").asText()).isEqualTo("meta.k8s.io/v1");
    assertThat(t.path("metadata").path("resourceVersion").asText()).matches("\\d+");
    List<String> cols = new ArrayList<>();
    t.path("columnDefinitions")
        .forEach(c -> cols.add(c.path("name").asText() + ":" + c.path("priority").asInt()));
    assertThat(cols)
        .containsExactly(
            "Name:0",
            "Ready:0",
            "Status:0",
            "Restarts:0",
            "Age:0",
            "IP:1",
            "Node:1",
            "Nominated Node:1",
            "Readiness Gates:1");
    assertThat(t.path("columnDefinitions").get(0).path("format").asText()).isEqualTo("name");
    JsonNode row = t.path("rows").get(0);
    assertThat(row.path("cells").get(0).asText()).isEqualTo("nginx");
    assertThat(row.path("cells").get(1).asText()).isEqualTo("0/1");
    assertThat(row.path("cells").get(2).asText()).isEqualTo("Pending");
    assertThat(row.path("cells").get(4).asText()).matches("\\d+s");
    assertThat(row.path("object").path("kind").asText()).isEqualTo("PartialObjectMetadata");
    assertThat(row.path("object").path("metadata").path("labels").path("app").asText())
        .isEqualTo("web");
    JsonNode one = f.request("GET", base() + "/pods/nginx", null, null, table).json();
    assertThat(one.path("rows")).hasSize(1);
    JsonNode withObject =
        f.request("GET", base() + "/pods?includeObject=Object", null, null, table).json();
    assertThat(withObject.path("rows").get(0).path("object").path("kind").asText())
        .isEqualTo("Pod");
    JsonNode ns1 = f.request("GET", "/api/v1/namespaces/" + ns, null, null, table).json();
    assertThat(ns1.path("rows").get(0).path("cells").get(1).asText()).isEqualTo("Active");
  }

  // ------------------------------------------------------------------------- patch

  @Test
  void updatesAndPatchesAreDefaultedLikeCreates() throws Exception {
    String path = "/apis/apps/v1/namespaces/" + ns + "/deployments";
    f.post(path, deployment("dflt", 1, "nginx:1.27"));
    // A container added by a patch gets the same defaults as one sent on create.
    String add =
        """
        {"spec":{"template":{"spec":{"containers":[{"name":"log","image":"fluentd:1"}]}}}}""";
    JsonNode added = f.patch(path + "/dflt", "application/strategic-merge-patch+json", add).json();
    JsonNode log = added.path("spec").path("template").path("spec").path("containers").get(2);
    assertThat(log.path("name").asText()).isEqualTo("log");
    assertThat(log.path("imagePullPolicy").asText()).isEqualTo("IfNotPresent");
    assertThat(log.path("terminationMessagePolicy").asText()).isEqualTo("File");
    // A strategy of type RollingUpdate without parameters gets 25%/25%; Recreate gets none.
    JsonNode ru =
        f.patch(
                path + "/dflt",
                "application/merge-patch+json",
                "{\"spec\":{\"strategy\":{\"rollingUpdate\":null}}}")
            .json();
    assertThat(ru.path("spec").path("strategy").toString())
        .isEqualTo(
            "{\"type\":\"RollingUpdate\",\"rollingUpdate\":"
                + "{\"maxUnavailable\":\"25%\",\"maxSurge\":\"25%\"}}");
    JsonNode recreate =
        f.patch(
                path + "/dflt",
                "application/merge-patch+json",
                "{\"spec\":{\"strategy\":{\"type\":\"Recreate\",\"rollingUpdate\":null},"
                    + "\"revisionHistoryLimit\":null}}")
            .json();
    assertThat(recreate.path("spec").path("strategy").toString())
        .isEqualTo("{\"type\":\"Recreate\"}");
    assertThat(recreate.path("spec").path("revisionHistoryLimit").asInt()).isEqualTo(10);
  }

  @Test
  void strategicMergePatchAsClientSideApplySendsIt() throws Exception {
    String path = "/apis/apps/v1/namespaces/" + ns + "/deployments";
    f.post(path, deployment("web", 1, "nginx:1.27"));
    // The body kubectl apply sent in the reference probe (§6.h), adapted to this deployment.
    String smp =
        """
        {"metadata":{"labels":{"b":null,"tier":"fe"}},
         "spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"main"}],
           "containers":[{"env":null,"image":"nginx:1.28","name":"main"},{"$patch":"delete","name":"sidecar"}]}}}}""";
    Response r =
        f.patch(
            path + "/web?fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
            "application/strategic-merge-patch+json",
            smp);
    assertThat(r.code()).as(r.body()).isEqualTo(200);
    JsonNode containers = r.json().path("spec").path("template").path("spec").path("containers");
    assertThat(containers).hasSize(1);
    assertThat(containers.get(0).path("name").asText()).isEqualTo("main");
    assertThat(containers.get(0).path("image").asText()).isEqualTo("nginx:1.28");
    assertThat(containers.get(0).has("env")).isFalse();
    assertThat(containers.get(0).path("terminationMessagePath").asText())
        .isEqualTo("/dev/termination-log");
    assertThat(r.json().path("metadata").path("labels").path("tier").asText()).isEqualTo("fe");
    assertThat(r.json().path("metadata").path("generation").asLong()).isEqualTo(2);

    // Merge by key adds a container and a port; $setElementOrder orders them.
    String add =
        """
        {"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"log"},{"name":"main"}],
          "containers":[{"name":"log","image":"fluentd"},{"name":"main","ports":[{"containerPort":80}]}]}}}}""";
    JsonNode added = f.patch(path + "/web", "application/strategic-merge-patch+json", add).json();
    JsonNode cs = added.path("spec").path("template").path("spec").path("containers");
    assertThat(cs.get(0).path("name").asText()).isEqualTo("log");
    assertThat(cs.get(1).path("image").asText()).isEqualTo("nginx:1.28");
    assertThat(cs.get(1).path("ports").get(0).path("containerPort").asInt()).isEqualTo(80);

    // Merge patch, JSON patch, scale.
    JsonNode merged =
        f.patch(
                path + "/web",
                "application/merge-patch+json",
                "{\"metadata\":{\"annotations\":{\"a\":\"1\"}}}")
            .json();
    assertThat(merged.path("metadata").path("annotations").path("a").asText()).isEqualTo("1");
    JsonNode jp =
        f.patch(
                path + "/web",
                "application/json-patch+json",
                "[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":4}]")
            .json();
    assertThat(jp.path("spec").path("replicas").asInt()).isEqualTo(4);
    Response scale =
        f.patch(path + "/web/scale", "application/merge-patch+json", "{\"spec\":{\"replicas\":6}}");
    assertThat(scale.code()).as(scale.body()).isEqualTo(200);
    assertThat(scale.json().path("kind").asText()).isEqualTo("Scale");
    assertThat(scale.json().path("apiVersion").asText()).isEqualTo("autoscaling/v1");
    assertThat(scale.json().path("status").path("selector").asText()).isEqualTo("app=web");
    JsonNode after = f.get(path + "/web").json();
    assertThat(after.path("spec").path("replicas").asInt()).isEqualTo(6);
    assertThat(after.path("metadata").path("generation").asLong()).isEqualTo(5);
    assertThat(f.get(path + "/web/scale").json().path("spec").path("replicas").asInt())
        .isEqualTo(6);

    // Bad patches: 400 for malformed bodies, 422 for ones that do not apply, 415 for unknown types.
    assertStatus(
        f.patch(path + "/web", "application/merge-patch+json", "{oops"), 400, "BadRequest");
    assertStatus(f.patch(path + "/web", "application/json-patch+json", "{}"), 422, "Invalid");
    assertStatus(
        f.patch(
            path + "/web",
            "application/json-patch+json",
            "[{\"op\":\"remove\",\"path\":\"/spec/nope\"}]"),
        422,
        "Invalid");
    assertStatus(
        f.patch(
            path + "/web",
            "application/json-patch+json",
            "[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":1}]"),
        422,
        "Invalid");
    assertStatus(
        f.patch(
            path + "/web",
            "application/strategic-merge-patch+json",
            "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}}}"),
        422,
        "Invalid");
    assertStatus(f.patch(path + "/web", "text/plain", "x"), 415, "UnsupportedMediaType");
    assertStatus(
        f.patch(
            path + "/web",
            "application/merge-patch+json",
            "{\"metadata\":{\"resourceVersion\":\"1\"}}"),
        409,
        "Conflict");
    assertStatus(
        f.patch(
            path + "/web/scale", "application/merge-patch+json", "{\"spec\":{\"replicas\":-1}}"),
        422,
        "Invalid");
    assertStatus(f.patch(path + "/nope", "application/merge-patch+json", "{}"), 404, "NotFound");
    assertThat(f.get(path + "/web").json().path("spec").path("replicas").asInt()).isEqualTo(6);
  }

  // ------------------------------------------------------------------------- watch

  @Test
  void watchFromAResourceVersionSeesAddedModifiedDeleted() throws Exception {
    JsonNode list = f.get(base() + "/configmaps").json();
    String rv = list.path("metadata").path("resourceVersion").asText();
    try (WatchClient w =
        new WatchClient(
            f.http(), f.url() + base() + "/configmaps?watch=true&resourceVersion=" + rv, null)) {
      assertThat(w.status).isEqualTo(200);
      f.post(base() + "/configmaps", cm("w1", "\"app\":\"web\""));
      f.patch(
          base() + "/configmaps/w1", "application/merge-patch+json", "{\"data\":{\"k\":\"v2\"}}");
      f.delete(base() + "/configmaps/w1", null);
      JsonNode a = w.next();
      assertThat(a.path("type").asText()).isEqualTo("ADDED");
      assertThat(a.path("object").path("kind").asText()).isEqualTo("ConfigMap");
      assertThat(a.path("object").path("apiVersion").asText()).isEqualTo("v1");
      JsonNode m = w.next();
      assertThat(m.path("type").asText()).isEqualTo("MODIFIED");
      assertThat(m.path("object").path("data").path("k").asText()).isEqualTo("v2");
      JsonNode d = w.next();
      assertThat(d.path("type").asText()).isEqualTo("DELETED");
      assertThat(Long.parseLong(d.path("object").path("metadata").path("resourceVersion").asText()))
          .isGreaterThan(
              Long.parseLong(m.path("object").path("metadata").path("resourceVersion").asText()));
    }
    // From the list's revision again: the same three changes are replayed, nothing older.
    try (WatchClient w =
        new WatchClient(
            f.http(), f.url() + base() + "/configmaps?watch=1&resourceVersion=" + rv, null)) {
      assertThat(w.next().path("type").asText()).isEqualTo("ADDED");
      assertThat(w.next().path("type").asText()).isEqualTo("MODIFIED");
      assertThat(w.next().path("type").asText()).isEqualTo("DELETED");
    }
  }

  @Test
  void watchAppliesSelectorsToOldAndNewObjectAndSendsTables() throws Exception {
    f.post(base() + "/configmaps", cm("pre", "\"app\":\"web\""));
    String table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    // No resourceVersion: current objects first, as ADDED.
    try (WatchClient w =
        new WatchClient(
            f.http(), f.url() + base() + "/configmaps?watch=true&labelSelector=app%3Dweb", table)) {
      JsonNode first = w.next();
      assertThat(first.path("type").asText()).isEqualTo("ADDED");
      assertThat(first.path("object").path("kind").asText()).isEqualTo("Table");
      assertThat(first.path("object").path("rows").get(0).path("cells").get(0).asText())
          .isEqualTo("pre");
      f.post(base() + "/configmaps", cm("other", "\"app\":\"db\""));
      f.patch(
          base() + "/configmaps/pre",
          "application/merge-patch+json",
          "{\"metadata\":{\"labels\":{\"app\":\"db\"}}}");
      f.patch(
          base() + "/configmaps/other",
          "application/merge-patch+json",
          "{\"metadata\":{\"labels\":{\"app\":\"web\"}}}");
      JsonNode left = w.next();
      assertThat(left.path("type").asText()).isEqualTo("DELETED");
      assertThat(left.path("object").path("rows").get(0).path("cells").get(0).asText())
          .isEqualTo("pre");
      JsonNode joined = w.next();
      assertThat(joined.path("type").asText()).isEqualTo("ADDED");
      assertThat(joined.path("object").path("rows").get(0).path("cells").get(0).asText())
          .isEqualTo("other");
    }
    // fieldSelector=metadata.name as kubectl delete --wait / rollout status use it.
    String rv =
        f.get(base() + "/configmaps").json().path("metadata").path("resourceVersion").asText();
    try (WatchClient w =
        new WatchClient(
            f.http(),
            f.url()
                + base()
                + "/configmaps?allowWatchBookmarks=true&fieldSelector=metadata.name%3Dother&resourceVersion="
                + rv
                + "&timeoutSeconds=300&watch=true",
            null)) {
      f.delete(base() + "/configmaps/pre", null);
      f.delete(base() + "/configmaps/other", null);
      JsonNode d = w.next();
      assertThat(d.path("type").asText()).isEqualTo("DELETED");
      assertThat(d.path("object").path("metadata").path("name").asText()).isEqualTo("other");
    }
  }

  @Test
  void watchEndsAfterTimeoutSecondsWithABookmark() throws Exception {
    String rv =
        f.get(base() + "/configmaps").json().path("metadata").path("resourceVersion").asText();
    try (WatchClient w =
        new WatchClient(
            f.http(),
            f.url()
                + base()
                + "/configmaps?watch=true&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion="
                + rv,
            null)) {
      JsonNode b = w.next(Duration.ofSeconds(10));
      assertThat(b.path("type").asText()).isEqualTo("BOOKMARK");
      assertThat(b.path("object").path("kind").asText()).isEqualTo("ConfigMap");
      // At least the list's revision: store progress may have moved it on (other types' writes).
      assertThat(b.path("object").path("metadata").path("resourceVersion").asLong())
          .isGreaterThanOrEqualTo(Long.parseLong(rv));
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(w::ended);
    }
  }

  @Test
  void watchFromACompactedRevisionIsAnErrorEventWith410() throws Exception {
    JsonNode c = f.post(base() + "/configmaps", cm("old", "")).json();
    long rv = c.path("metadata").path("resourceVersion").asLong();
    f.patch(base() + "/configmaps/old", "application/merge-patch+json", "{\"data\":{\"k\":\"2\"}}");
    long now = f.store.currentRevision().get(10, TimeUnit.SECONDS);
    f.store.compact(now).get(10, TimeUnit.SECONDS);
    // Revision 1 predates the watch caches (they start after the default namespaces), so the watch
    // goes to the store, which has compacted it. A recent revision is still served from the cache's
    // window, as kube-apiserver's watch cache does.
    try (WatchClient w =
        new WatchClient(
            f.http(), f.url() + base() + "/configmaps?watch=true&resourceVersion=1", null)) {
      JsonNode e = w.next();
      assertThat(e.path("type").asText()).isEqualTo("ERROR");
      assertThat(e.path("object").path("kind").asText()).isEqualTo("Status");
      assertThat(e.path("object").path("code").asInt()).isEqualTo(410);
      assertThat(e.path("object").path("reason").asText()).isEqualTo("Expired");
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(w::ended);
    }
    try (WatchClient w =
        new WatchClient(
            f.http(),
            f.url() + base() + "/configmaps?watch=true&resourceVersion=" + (rv - 1),
            null)) {
      assertThat(w.next().path("type").asText()).isEqualTo("ADDED");
      assertThat(w.next().path("type").asText()).isEqualTo("MODIFIED");
    }
    // An exact list at a compacted revision is 410 as well.
    assertStatus(
        f.get(base() + "/configmaps?resourceVersion=" + (rv - 1) + "&resourceVersionMatch=Exact"),
        410,
        "Expired");
  }

  @Test
  void storeKeysLookLikeARealCluster() throws Exception {
    f.post(
        base() + "/pods",
        "{\"metadata\":{\"name\":\"web-1\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}");
    f.post("/api/v1/nodes", "{\"metadata\":{\"name\":\"node-1\"}}");
    f.post(
        base() + "/services",
        "{\"metadata\":{\"name\":\"svc\"},\"spec\":{\"ports\":[{\"port\":80}]}}");
    f.post(
        "/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases",
        "{\"metadata\":{\"name\":\"node-1\"},\"spec\":{\"holderIdentity\":\"node-1\"}}");
    f.post("/apis/apps/v1/namespaces/" + ns + "/deployments", deployment("web", 1, "nginx"));
    List<String> keys = new ArrayList<>();
    f.store
        .range(RangeQuery.prefix("/registry/".getBytes(StandardCharsets.UTF_8)))
        .get(10, TimeUnit.SECONDS)
        .kvs()
        .forEach(kv -> keys.add(kv.keyUtf8()));
    assertThat(keys)
        .contains(
            "/registry/namespaces/default",
            "/registry/namespaces/" + ns,
            "/registry/pods/" + ns + "/web-1",
            "/registry/minions/node-1",
            "/registry/services/specs/" + ns + "/svc",
            "/registry/leases/" + ns + "/node-1",
            "/registry/deployments/" + ns + "/web");
  }
}
