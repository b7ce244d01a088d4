package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Backend;
import dev.kubelite.apiserver.testing.ApiServerFixture.Response;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The read-only store inspection endpoints ({@code /kubelite/v1/store/keys} and {@code
 * /kubelite/v1/store/status}) over HTTP against a real API server, backed by our store (embedded
 * and over gRPC) and by a real etcd 3.4. Backends start once per class; each test works in its own
 * namespace.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StoreInspectionTest {
  private final Map<Backend, ApiServerFixture> fixtures = new EnumMap<>(Backend.class);
  private int namespaces;

  private ApiServerFixture api(Backend b) throws Exception {
    ApiServerFixture f = fixtures.get(b);
    if (f == null) {
      f = ApiServerFixture.start(b);
      fixtures.put(b, f);
    }
    return f;
  }

  @AfterAll
  void stop() {
    fixtures.values().forEach(ApiServerFixture::close);
  }

  private String namespace(ApiServerFixture f) throws Exception {
    String ns = "inspect-" + (++namespaces);
    assertThat(f.post("/api/v1/namespaces", "{\"metadata\":{\"name\":\"" + ns + "\"}}").code())
        .isEqualTo(201);
    return ns;
  }

  private static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static JsonNode ok(Response r) {
    assertThat(r.code()).as(r.body()).isEqualTo(200);
    assertThat(r.contentType()).startsWith("application/json");
    JsonNode j = r.json();
    assertThat(j.path("apiVersion").asText()).isEqualTo("kubelite/v1");
    return j;
  }

  private static void assertStatus(Response r, int code, String reason, String messagePart) {
    assertThat(r.code()).as(r.body()).isEqualTo(code);
    JsonNode j = r.json();
    assertThat(j.path("kind").asText()).isEqualTo("Status");
    assertThat(j.path("status").asText()).isEqualTo("Failure");
    assertThat(j.path("code").asInt()).isEqualTo(code);
    assertThat(j.path("reason").asText()).isEqualTo(reason);
    assertThat(j.path("message").asText()).contains(messagePart);
  }

  private static List<String> keys(JsonNode list) {
    List<String> out = new ArrayList<>();
    list.path("kvs").forEach(kv -> out.add(kv.path("key").asText()));
    return out;
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void listsWhatACreatedPodWrote(Backend backend) throws Exception {
    ApiServerFixture f = api(backend);
    String ns = namespace(f);
    Response created =
        f.post(
            "/api/v1/namespaces/" + ns + "/pods",
            "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"containers\":[{\"name\":\"c\","
                + "\"image\":\"nginx\"}]}}");
    assertThat(created.code()).as(created.body()).isEqualTo(201);
    long rv = Long.parseLong(created.json().path("metadata").path("resourceVersion").asText());
    String key = "/registry/pods/" + ns + "/web";

    JsonNode list =
        ok(
            f.get(
                "/kubelite/v1/store/keys?key=" + q("/registry/pods/" + ns + "/") + "&prefix=true"));
    assertThat(list.path("kind").asText()).isEqualTo("StoreKeyValueList");
    assertThat(keys(list)).containsExactly(key);
    assertThat(list.path("count").asLong()).isEqualTo(1);
    assertThat(list.path("more").asBoolean()).isFalse();
    assertThat(list.path("header").path("revision").asLong()).isGreaterThanOrEqualTo(rv);
    JsonNode kv = list.path("kvs").get(0);
    assertThat(kv.path("modRevision").asLong()).isEqualTo(rv);
    assertThat(kv.path("createRevision").asLong()).isEqualTo(rv);
    assertThat(kv.path("version").asLong()).isEqualTo(1);
    assertThat(kv.path("lease").asText()).isEqualTo("0");
    assertThat(kv.has("valueEncoding")).isFalse();
    // The value is the stored JSON text of the pod, as the API server wrote it.
    JsonNode stored = ApiServerFixture.JSON.readTree(kv.path("value").asText());
    assertThat(stored.path("kind").asText()).isEqualTo("Pod");
    assertThat(stored.path("metadata").path("name").asText()).isEqualTo("web");
    assertThat(stored.path("metadata").path("namespace").asText()).isEqualTo(ns);
    assertThat(stored.path("metadata").path("uid").asText())
        .isEqualTo(created.json().path("metadata").path("uid").asText());

    // One key, no prefix; and the example: every pod key, keys only.
    JsonNode one = ok(f.get("/kubelite/v1/store/keys?key=" + q(key)));
    assertThat(keys(one)).containsExactly(key);
    assertThat(one.path("kvs").get(0).path("value").asText()).isEqualTo(kv.path("value").asText());
    JsonNode all =
        ok(f.get("/kubelite/v1/store/keys?key=/registry/pods&prefix=true&keysOnly=true"));
    assertThat(keys(all)).contains(key);
    all.path("kvs").forEach(k -> assertThat(k.has("value")).as(k.toString()).isFalse());
    assertThat(all.path("kvs").get(0).has("modRevision")).isTrue();

    // A key that does not exist: an empty list, as etcd answers.
    JsonNode none = ok(f.get("/kubelite/v1/store/keys?key=" + q(key + "-not-there")));
    assertThat(none.path("kvs").size()).isZero();
    assertThat(none.path("count").asLong()).isZero();
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void limitMoreCountAndPastRevisions(Backend backend) throws Exception {
    ApiServerFixture f = api(backend);
    String ns = namespace(f);
    List<Long> revisions = new ArrayList<>();
    for (String name : List.of("a", "b", "c")) {
      Response r =
          f.post(
              "/api/v1/namespaces/" + ns + "/configmaps",
              "{\"metadata\":{\"name\":\"" + name + "\"},\"data\":{\"v\":\"1\"}}");
      assertThat(r.code()).as(r.body()).isEqualTo(201);
      revisions.add(Long.parseLong(r.json().path("metadata").path("resourceVersion").asText()));
    }
    String prefix = q("/registry/configmaps/" + ns + "/");
    String base = "/registry/configmaps/" + ns + "/";
    JsonNode page = ok(f.get("/kubelite/v1/store/keys?key=" + prefix + "&prefix=true&limit=2"));
    assertThat(keys(page)).containsExactly(base + "a", base + "b");
    assertThat(page.path("more").asBoolean()).isTrue();
    assertThat(page.path("count").asLong()).isEqualTo(3);

    JsonNode counted =
        ok(f.get("/kubelite/v1/store/keys?key=" + prefix + "&prefix=true&countOnly=true"));
    assertThat(counted.path("kvs").size()).isZero();
    assertThat(counted.path("count").asLong()).isEqualTo(3);

    // An explicit range end, as etcdctl get KEY RANGE_END: [a, c).
    JsonNode ranged =
        ok(f.get("/kubelite/v1/store/keys?key=" + q(base + "a") + "&rangeEnd=" + q(base + "c")));
    assertThat(keys(ranged)).containsExactly(base + "a", base + "b");

    // fromKey: every key from b on (the namespace's configmaps first).
    JsonNode from =
        ok(f.get("/kubelite/v1/store/keys?key=" + q(base + "b") + "&fromKey=true&keysOnly=true"));
    assertThat(keys(from)).startsWith(base + "b", base + "c");

    // At the revision of the second create, the third does not exist yet.
    JsonNode past =
        ok(
            f.get(
                "/kubelite/v1/store/keys?key="
                    + prefix
                    + "&prefix=true&revision="
                    + revisions.get(1)));
    assertThat(keys(past)).containsExactly(base + "a", base + "b");
    assertThat(past.path("header").path("revision").asLong())
        .isGreaterThanOrEqualTo(revisions.get(2));

    // An update shows as a new modRevision and version 2; the old value stays readable.
    Response updated =
        f.patch(
            "/api/v1/namespaces/" + ns + "/configmaps/a",
            "application/merge-patch+json",
            "{\"data\":{\"v\":\"2\"}}");
    assertThat(updated.code()).as(updated.body()).isEqualTo(200);
    long updatedRv =
        Long.parseLong(updated.json().path("metadata").path("resourceVersion").asText());
    JsonNode a = ok(f.get("/kubelite/v1/store/keys?key=" + q(base + "a"))).path("kvs").get(0);
    assertThat(a.path("modRevision").asLong()).isEqualTo(updatedRv);
    assertThat(a.path("createRevision").asLong()).isEqualTo(revisions.get(0));
    assertThat(a.path("version").asLong()).isEqualTo(2);
    JsonNode old =
        ok(f.get("/kubelite/v1/store/keys?key=" + q(base + "a") + "&revision=" + revisions.get(0)))
            .path("kvs")
            .get(0);
    assertThat(
            ApiServerFixture.JSON
                .readTree(old.path("value").asText())
                .path("data")
                .path("v")
                .asText())
        .isEqualTo("1");
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void binaryValuesAreBase64(Backend backend) throws Exception {
    ApiServerFixture f = api(backend);
    byte[] value = {'k', '8', 's', 0, 1, 2, (byte) 0xff};
    String key = "/kubelite-test/binary-" + backend;
    f.store.put(key.getBytes(StandardCharsets.UTF_8), value).get(10, TimeUnit.SECONDS);
    JsonNode kv = ok(f.get("/kubelite/v1/store/keys?key=" + q(key))).path("kvs").get(0);
    assertThat(kv.path("valueEncoding").asText()).isEqualTo("base64");
    assertThat(java.util.Base64.getDecoder().decode(kv.path("value").asText())).isEqualTo(value);
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void statusOfOneMember(Backend backend) throws Exception {
    ApiServerFixture f = api(backend);
    long current = f.store.currentRevision().get(10, TimeUnit.SECONDS);
    JsonNode s = ok(f.get("/kubelite/v1/store/status"));
    assertThat(s.path("kind").asText()).isEqualTo("StoreStatus");
    JsonNode members = s.path("members");
    assertThat(members.size()).isEqualTo(1);
    JsonNode m = members.get(0);
    assertThat(s.path("leader").asText()).isEqualTo(m.path("id").asText());
    assertThat(s.path("answeredBy").asText()).isEqualTo(m.path("id").asText());
    assertThat(m.path("isLeader").asBoolean()).isTrue();
    assertThat(m.path("isLearner").asBoolean()).isFalse();
    assertThat(m.path("name").asText()).isEqualTo(backend == Backend.REMOTE_ETCD ? "etcd1" : "m1");
    assertThat(m.path("clientURLs").get(0).asText()).isEqualTo("http://" + f.storeEndpoint);
    assertThat(m.path("peerURLs").size()).isEqualTo(1);
    assertThat(m.has("error")).isFalse();
    JsonNode st = m.path("status");
    assertThat(st.path("endpoint").asText()).isEqualTo("http://" + f.storeEndpoint);
    assertThat(st.path("version").asText()).startsWith("3.4.");
    assertThat(st.path("leader").asText()).isEqualTo(m.path("id").asText());
    assertThat(st.path("errors").size()).isZero();
    assertThat(st.path("dbSize").asLong()).isPositive();
    assertThat(s.path("raftTerm").asLong()).isPositive();
    assertThat(s.path("raftIndex").asLong()).isPositive();
    assertThat(s.path("revision").asLong()).isGreaterThanOrEqualTo(current);
    assertThat(s.path("dbSize").asLong()).isPositive();
    assertThat(s.path("clusterId").asText()).matches("[0-9a-f]+");
    assertThat(s.path("compactRevision").isIntegralNumber()).as(s.toString()).isTrue();
  }

  /** A revision the store has not reached is the caller's mistake (400); a compacted one is 410. */
  @ParameterizedTest
  @EnumSource(Backend.class)
  void futureAndCompactedRevisions(Backend backend) throws Exception {
    ApiServerFixture f = api(backend);
    long current = f.store.currentRevision().get(10, TimeUnit.SECONDS);
    assertStatus(
        f.get("/kubelite/v1/store/keys?key=/registry&prefix=true&revision=" + (current + 1000)),
        400,
        "BadRequest",
        "future revision");
    String key = "/kubelite-test/compacted-" + backend;
    long first =
        f.store
            .put(key.getBytes(StandardCharsets.UTF_8), "1".getBytes(StandardCharsets.UTF_8))
            .get(10, TimeUnit.SECONDS)
            .revision();
    long second =
        f.store
            .put(key.getBytes(StandardCharsets.UTF_8), "2".getBytes(StandardCharsets.UTF_8))
            .get(10, TimeUnit.SECONDS)
            .revision();
    f.store.compact(second).get(10, TimeUnit.SECONDS);
    assertStatus(
        f.get("/kubelite/v1/store/keys?key=" + q(key) + "&revision=" + first),
        410,
        "Expired",
        "compacted");
    assertThat(ok(f.get("/kubelite/v1/store/status")).path("compactRevision").asLong())
        .isEqualTo(second);
  }

  @Test
  void badInputIsA400StatusNeverA500() throws Exception {
    ApiServerFixture f = api(Backend.EMBEDDED);
    String k = "/kubelite/v1/store/keys";
    assertStatus(f.get(k), 400, "BadRequest", "\"key\" is required");
    assertStatus(f.get(k + "?prefix=true"), 400, "BadRequest", "\"key\" is required");
    assertStatus(f.get(k + "?key="), 400, "BadRequest", "key is not provided");
    assertStatus(f.get(k + "?key=/a&limit=abc"), 400, "BadRequest", "\"limit\" must be a");
    assertStatus(f.get(k + "?key=/a&limit=-1"), 400, "BadRequest", "\"limit\" must be a");
    assertStatus(f.get(k + "?key=/a&limit=1e3"), 400, "BadRequest", "\"limit\"");
    assertStatus(f.get(k + "?key=/a&limit=99999999999999999999"), 400, "BadRequest", "\"limit\"");
    assertStatus(f.get(k + "?key=/a&revision=x"), 400, "BadRequest", "\"revision\" must be a");
    assertStatus(f.get(k + "?key=/a&prefix=maybe"), 400, "BadRequest", "\"prefix\" must be");
    assertStatus(f.get(k + "?key=/a&keysOnly=yes"), 400, "BadRequest", "\"keysOnly\" must be");
    assertStatus(
        f.get(k + "?key=/a&prefix=true&fromKey=true"), 400, "BadRequest", "cannot both be true");
    assertStatus(
        f.get(k + "?key=/a&keysOnly=true&countOnly=true"), 400, "BadRequest", "cannot both");
    assertStatus(f.get(k + "?key=/a&prefix=true&rangeEnd=/b"), 400, "BadRequest", "rangeEnd");
    // An empty key with prefix=true is every key, as with etcdctl get "" --prefix.
    JsonNode everything = ok(f.get(k + "?key=&prefix=true&keysOnly=true"));
    assertThat(keys(everything)).contains("/registry/namespaces/default");

    for (String method : List.of("POST", "PUT", "PATCH", "DELETE")) {
      for (String path : List.of(k + "?key=/a", "/kubelite/v1/store/status")) {
        assertStatus(
            f.request(method, path, "application/json", "{}", null),
            405,
            "MethodNotAllowed",
            "read-only");
      }
    }
    assertThat(f.request("HEAD", k + "?key=/a", null, null, null).code()).isEqualTo(200);
    assertThat(f.request("HEAD", "/kubelite/v1/store/status", null, null, null).code())
        .isEqualTo(200);
    assertStatus(f.get("/kubelite/v1/store/nothing"), 404, "NotFound", "");
    assertStatus(f.get("/kubelite"), 404, "NotFound", "");

    // Odd values for every parameter: always a 2xx or a 4xx Status, never a 5xx.
    List<String> odd =
        List.of(
            "",
            "%00",
            "%FF%FE",
            "true",
            "0",
            "-0",
            "+5",
            "%201",
            "9223372036854775807",
            "%25zz",
            "%C3%28",
            "%5Cu0000",
            "a%26b%3Dc");
    for (String param :
        List.of(
            "key", "rangeEnd", "prefix", "fromKey", "keysOnly", "countOnly", "limit", "revision")) {
      for (String v : odd) {
        String path = k + "?" + (param.equals("key") ? "" : "key=/registry&") + param + "=" + v;
        Response r = f.get(path);
        assertThat(r.code()).as(path + " -> " + r.body()).isLessThan(500);
        if (r.code() >= 400) {
          assertThat(r.json().path("kind").asText()).as(path).isEqualTo("Status");
        }
      }
    }
  }
}
