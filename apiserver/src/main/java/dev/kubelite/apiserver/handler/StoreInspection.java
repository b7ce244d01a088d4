package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.storage.ObjectStorage;
import dev.kubelite.store.client.Kv;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.KvStoreException;
import dev.kubelite.store.client.RangeQuery;
import dev.kubelite.store.client.RangeResult;
import dev.kubelite.store.client.StoreStatus;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Read-only store inspection for people learning how the API server uses its store (issue 6), under
 * a path outside the Kubernetes API: {@code GET /kubelite/v1/store/keys} (etcdctl get) and {@code
 * GET /kubelite/v1/store/status} (etcdctl member list + endpoint status --cluster). The API server
 * stays the store's only client. See docs/apiserver.md and docs/decisions/0026-store-inspection.md.
 */
public final class StoreInspection {
  /** Every inspection path starts with this. */
  public static final String ROOT = "/kubelite";

  public static final String KEYS = "/kubelite/v1/store/keys";
  public static final String STATUS = "/kubelite/v1/store/status";

  /** The apiVersion of the answers (they are not Kubernetes objects). */
  public static final String API_VERSION = "kubelite/v1";

  private final KvStore store;

  public StoreInspection(KvStore store) {
    this.store = store;
  }

  /** Whether {@code path} (normalized, no trailing slash) is under {@link #ROOT}. */
  public static boolean owns(String path) {
    return path.equals(ROOT) || path.startsWith(ROOT + "/");
  }

  /** Answers a request for a path {@link #owns} accepted; throws {@link ApiException} early. */
  public void handle(RoutingContext ctx, String path) {
    HttpMethod method = ctx.request().method();
    switch (path) {
      case KEYS -> {
        readOnly(method);
        keys(ctx);
      }
      case STATUS -> {
        readOnly(method);
        status(ctx);
      }
      default -> throw ApiException.noRoute();
    }
  }

  private static void readOnly(HttpMethod method) {
    if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
      throw ApiException.methodNotAllowed(
          "the server does not allow this method on the requested resource ("
              + method
              + "): store inspection is read-only, use GET");
    }
  }

  // ------------------------------------------------------------------------------- keys

  /** The parsed query of {@link #KEYS}. */
  record KeysQuery(RangeQuery range, String shownKey) {}

  static KeysQuery parseKeys(Function<String, String> param) {
    String key = param.apply("key");
    if (key == null) {
      throw ApiException.badRequest(
          "the query parameter \"key\" is required: the key to read, or with prefix=true the key"
              + " prefix (e.g. ?key=/registry/pods&prefix=true&keysOnly=true)");
    }
    boolean prefix = bool(param, "prefix");
    boolean fromKey = bool(param, "fromKey");
    boolean keysOnly = bool(param, "keysOnly");
    boolean countOnly = bool(param, "countOnly");
    String rangeEnd = param.apply("rangeEnd");
    long limit = nonNegative(param, "limit");
    long revision = nonNegative(param, "revision");
    if (prefix && fromKey) {
      throw ApiException.badRequest("prefix and fromKey cannot both be true");
    }
    if (rangeEnd != null && (prefix || fromKey)) {
      throw ApiException.badRequest(
          "rangeEnd cannot be combined with prefix=true or fromKey=true (they set the range end)");
    }
    if (keysOnly && countOnly) {
      throw ApiException.badRequest("keysOnly and countOnly cannot both be true");
    }
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    byte[] end;
    if (k.length == 0) {
      if (!prefix && !fromKey) {
        throw ApiException.badRequest(
            "the query parameter \"key\" is empty: name a key, or list every key with"
                + " key=&prefix=true (etcdserver: key is not provided)");
      }
      // etcdctl: an empty key with --prefix or --from-key means every key.
      k = new byte[] {0};
      end = new byte[] {0};
    } else if (prefix) {
      end = RangeQuery.prefixEnd(k);
    } else if (fromKey) {
      end = new byte[] {0};
    } else {
      end = rangeEnd == null ? new byte[0] : rangeEnd.getBytes(StandardCharsets.UTF_8);
    }
    RangeQuery.Mode mode =
        keysOnly
            ? RangeQuery.Mode.KEYS_ONLY
            : countOnly ? RangeQuery.Mode.COUNT_ONLY : RangeQuery.Mode.ALL;
    return new KeysQuery(new RangeQuery(k, end, limit, revision, mode), key);
  }

  /** Kubernetes' (Go's strconv.ParseBool) boolean query values; absent = false. */
  private static boolean bool(Function<String, String> param, String name) {
    String v = param.apply(name);
    if (v == null) {
      return false;
    }
    return switch (v) {
      case "1", "t", "T", "true", "TRUE", "True" -> true;
      case "0", "f", "F", "false", "FALSE", "False" -> false;
      default ->
          throw ApiException.badRequest(
              "the query parameter \"" + name + "\" must be true or false, got \"" + v + "\"");
    };
  }

  private static long nonNegative(Function<String, String> param, String name) {
    String v = param.apply(name);
    if (v == null || v.isEmpty()) {
      return 0;
    }
    long n;
    try {
      n = Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw ApiException.badRequest(
          "the query parameter \"" + name + "\" must be a non-negative integer, got \"" + v + "\"");
    }
    if (n < 0) {
      throw ApiException.badRequest(
          "the query parameter \"" + name + "\" must be a non-negative integer, got " + n);
    }
    return n;
  }

  private void keys(RoutingContext ctx) {
    KeysQuery q = parseKeys(name -> param(ctx, name));
    answer(ctx, store.range(q.range()), r -> keysAnswer(r, q.range().mode()));
  }

  static ObjectNode keysAnswer(RangeResult r, RangeQuery.Mode mode) {
    ObjectNode out = Json.object();
    out.put("kind", "StoreKeyValueList");
    out.put("apiVersion", API_VERSION);
    out.putObject("header").put("revision", r.revision());
    ArrayNode kvs = out.putArray("kvs");
    for (Kv kv : r.kvs()) {
      ObjectNode o = kvs.addObject();
      String key = text(kv.key());
      if (key == null) {
        o.put("key", Base64.getEncoder().encodeToString(kv.key()));
        o.put("keyEncoding", "base64");
      } else {
        o.put("key", key);
      }
      o.put("createRevision", kv.createRevision());
      o.put("modRevision", kv.modRevision());
      o.put("version", kv.version());
      o.put("lease", Long.toHexString(kv.lease()));
      if (mode == RangeQuery.Mode.ALL) {
        String value = text(kv.value());
        if (value == null) {
          o.put("value", Base64.getEncoder().encodeToString(kv.value()));
          o.put("valueEncoding", "base64");
        } else {
          o.put("value", value);
        }
      }
    }
    out.put("count", r.count());
    out.put("more", r.more());
    return out;
  }

  /**
   * {@code bytes} as text if they are valid UTF-8 without control characters other than tab, line
   * feed and carriage return; null otherwise (then they are shown as base64).
   */
  static String text(byte[] bytes) {
    String s;
    try {
      s =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
        return null;
      }
    }
    return s;
  }

  // ------------------------------------------------------------------------------- status

  private void status(RoutingContext ctx) {
    answer(ctx, store.status(), StoreInspection::statusAnswer);
  }

  static ObjectNode statusAnswer(StoreStatus s) {
    ObjectNode out = Json.object();
    out.put("kind", "StoreStatus");
    out.put("apiVersion", API_VERSION);
    out.put("clusterId", hex(s.clusterId()));
    putId(out, "leader", s.leader());
    out.put("answeredBy", hex(s.answeredBy()));
    out.put("raftTerm", s.raftTerm());
    out.put("raftIndex", s.raftIndex());
    out.put("revision", s.revision());
    if (s.compactRevision() == StoreStatus.UNKNOWN) {
      out.putNull("compactRevision");
    } else {
      out.put("compactRevision", s.compactRevision());
    }
    out.put("dbSize", s.dbSize());
    ArrayNode members = out.putArray("members");
    for (StoreStatus.MemberStatus m : s.members()) {
      ObjectNode o = members.addObject();
      o.put("id", hex(m.id()));
      o.put("name", m.name());
      ArrayNode peers = o.putArray("peerURLs");
      m.peerUrls().forEach(peers::add);
      ArrayNode clients = o.putArray("clientURLs");
      m.clientUrls().forEach(clients::add);
      o.put("isLearner", m.learner());
      o.put("isLeader", s.leader() != 0 && m.id() == s.leader());
      if (m.status() != null) {
        StoreStatus.EndpointStatus e = m.status();
        ObjectNode st = o.putObject("status");
        st.put("endpoint", e.endpoint());
        st.put("version", e.version());
        st.put("dbSize", e.dbSize());
        st.put("dbSizeInUse", e.dbSizeInUse());
        putId(st, "leader", e.leader());
        st.put("raftTerm", e.raftTerm());
        st.put("raftIndex", e.raftIndex());
        st.put("raftAppliedIndex", e.raftAppliedIndex());
        st.put("revision", e.revision());
        st.put("isLearner", e.learner());
        ArrayNode errors = st.putArray("errors");
        e.errors().forEach(errors::add);
      }
      if (m.error() != null) {
        o.put("error", m.error());
      }
    }
    return out;
  }

  /** Member, cluster and lease ids as etcd prints them: lower-case hex, no leading zeros. */
  static String hex(long id) {
    return Long.toHexString(id);
  }

  /** An id that is 0 when there is none (a leader): null then. */
  private static void putId(ObjectNode o, String field, long id) {
    if (id == 0) {
      o.putNull(field);
    } else {
      o.put(field, hex(id));
    }
  }

  // ------------------------------------------------------------------------------- plumbing

  private static String param(RoutingContext ctx, String name) {
    try {
      return ctx.request().getParam(name);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("malformed query string: " + e.getMessage());
    }
  }

  /** Writes {@code render(result)} as JSON on the request's context, or the failure as a Status. */
  private static <T> void answer(
      RoutingContext ctx, CompletableFuture<T> f, Function<T, ObjectNode> render) {
    Future.fromCompletionStage(f, ctx.vertx().getOrCreateContext())
        .onComplete(
            ar -> {
              ObjectNode body;
              try {
                if (ar.failed()) {
                  throw storeFailure(ar.cause());
                }
                body = render.apply(ar.result());
              } catch (RuntimeException e) {
                Exchange.fail(ctx, e);
                return;
              }
              HttpServerResponse resp = ctx.response();
              if (resp.ended() || resp.closed()) {
                return;
              }
              resp.setStatusCode(200)
                  .putHeader("Content-Type", "application/json")
                  .putHeader("Cache-Control", "no-cache, private")
                  .end(Buffer.buffer(Json.bytes(body)));
            });
  }

  /**
   * As the rest of the API maps store failures ({@link ObjectStorage#translate}), except that what
   * the caller asked for wrongly is a 400: a revision the store has not reached, or a range the
   * store rejects.
   */
  static ApiException storeFailure(Throwable t) {
    Throwable c = ObjectStorage.unwrap(t);
    if (c instanceof KvStoreException k) {
      switch (k.code()) {
        case FUTURE_REVISION -> {
          return ApiException.badRequest(
              "the revision is newer than the store's current revision: " + k.getMessage());
        }
        case INVALID_ARGUMENT -> {
          return ApiException.badRequest("the store rejected the request: " + k.getMessage());
        }
        case COMPACTED -> {
          return ApiException.expired(
              "the revision is compacted (older history is discarded): " + k.getMessage());
        }
        default -> {}
      }
    }
    return ObjectStorage.translate(t);
  }
}
