package dev.kubelite.apiserver.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.http.Negotiation.Output;
import dev.kubelite.apiserver.registry.ResourceType;
import dev.kubelite.apiserver.storage.ObjectStorage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One API request on its way through the server: the parsed path, the resource it names, the
 * negotiated answer format, and the ways to answer it. Every answer is written on the request's
 * Vert.x context, whatever thread the store completed on.
 */
public final class Exchange {
  private static final Logger log = LoggerFactory.getLogger(Exchange.class);

  private final RoutingContext ctx;
  private final Context context;
  private final RequestInfo info;
  private final ResourceType type;
  private final Output output;

  private final java.util.Set<String> warnings = new java.util.LinkedHashSet<>();

  public Exchange(RoutingContext ctx, RequestInfo info, ResourceType type, Output output) {
    this.ctx = ctx;
    this.context = ctx.vertx().getOrCreateContext();
    this.info = info;
    this.type = type;
    this.output = output;
  }

  public RoutingContext routing() {
    return ctx;
  }

  public Context context() {
    return context;
  }

  public RequestInfo info() {
    return info;
  }

  public ResourceType type() {
    return type;
  }

  public Output output() {
    return output;
  }

  /** The namespace for storage keys: the path's, or null for cluster-scoped resources. */
  public String namespace() {
    return type.namespaced() ? info.namespace() : null;
  }

  public String name() {
    return info.name();
  }

  public String subresource() {
    return info.subresource();
  }

  public String query(String name) {
    return ctx.request().getParam(name);
  }

  public byte[] body() {
    Buffer b = ctx.body() == null ? null : ctx.body().buffer();
    return b == null ? new byte[0] : b.getBytes();
  }

  public String contentType() {
    return Negotiation.mediaType(ctx.request().getHeader("Content-Type"));
  }

  /** Answers with {@code body} once {@code f} completes, or with the failure as a Status. */
  public <T> void complete(CompletableFuture<T> f, Consumer<T> onSuccess) {
    Future.fromCompletionStage(f, context)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                fail(ar.cause());
                return;
              }
              try {
                onSuccess.accept(ar.result());
              } catch (RuntimeException e) {
                fail(e);
              }
            });
  }

  public void reply(int code, ObjectNode body) {
    writeWarnings();
    if (!ctx.response().ended()) {
      ctx.put(RESPONSE_BODY_KEY, body);
    }
    send(ctx.response(), code, body, output == Output.YAML);
  }

  /**
   * Answers with an object in JSON, {@code json} being its JSON already written (as {@link
   * Json#bytes} writes it), so it is not serialised again; {@code body} is the object if the caller
   * has it (else the audit log parses {@code json} if its policy records the answer).
   */
  public void replyJson(int code, ObjectNode body, byte[] json) {
    writeWarnings();
    if (!ctx.response().ended()) {
      ctx.put(RESPONSE_BODY_KEY, body != null ? body : new ResponseJson(json));
    }
    send(ctx.response(), code, json, false);
  }

  public void fail(Throwable t) {
    writeWarnings();
    fail(ctx, t);
  }

  /**
   * Adds a warning for the client, sent as {@code Warning: 299 - "<text>"} with the answer (kubectl
   * prints it as {@code Warning: <text>}). Safe from any thread; repeated texts are sent once.
   */
  public void warn(String text) {
    synchronized (warnings) {
      warnings.add(text);
    }
  }

  private void writeWarnings() {
    HttpServerResponse r = ctx.response();
    if (r.headWritten() || r.ended()) {
      return;
    }
    synchronized (warnings) {
      for (String w : warnings) {
        r.headers()
            .add("Warning", "299 - \"" + w.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
      }
    }
  }

  /**
   * Where the object a request was answered with is kept in its RoutingContext (for the audit log's
   * objectRef and responseObject): an {@link ObjectNode}, or its JSON as a {@link ResponseJson};
   * read it with {@link #responseBody}.
   */
  public static final String RESPONSE_BODY_KEY = "kubelite.response";

  /** An answer kept as the JSON it was sent as (parsed only if the audit log asks for it). */
  record ResponseJson(byte[] json) {}

  /** The object {@code ctx}'s request was answered with, or null. */
  public static ObjectNode responseBody(RoutingContext ctx) {
    Object r = ctx.get(RESPONSE_BODY_KEY);
    if (r instanceof ResponseJson j) {
      ObjectNode parsed = Json.readStored(j.json(), ctx.request().path());
      ctx.put(RESPONSE_BODY_KEY, parsed);
      return parsed;
    }
    return (ObjectNode) r;
  }

  /**
   * Writes {@code t} as a Kubernetes Status (unexpected failures are logged as 500s), with {@code
   * Retry-After} when the failure carries a retry hint, as Kubernetes does.
   */
  public static void fail(RoutingContext ctx, Throwable t) {
    ApiException e = ObjectStorage.translate(t);
    HttpServerResponse resp = ctx.response();
    ObjectNode status = e.toStatus();
    if (!resp.ended() && !resp.closed() && !resp.headWritten()) {
      ctx.put(RESPONSE_BODY_KEY, status);
      if (e.retryAfterSeconds() != null) {
        resp.putHeader("Retry-After", Integer.toString(e.retryAfterSeconds()));
      }
    }
    if (e.code() >= 500) {
      log.warn(
          "{} {} failed: {}",
          ctx.request().method(),
          ctx.request().uri(),
          e.getMessage(),
          t instanceof ApiException ? null : t);
    }
    send(resp, e.code(), status, false);
  }

  static void send(HttpServerResponse resp, int code, ObjectNode body, boolean yaml) {
    if (resp.ended() || resp.closed()) {
      return;
    }
    if (resp.headWritten()) {
      // A stream that already started cannot change its status; end it.
      resp.end();
      return;
    }
    send(resp, code, yaml ? Json.yamlBytes(body) : Json.bytes(body), yaml);
  }

  private static void send(HttpServerResponse resp, int code, byte[] bytes, boolean yaml) {
    if (resp.ended() || resp.closed()) {
      return;
    }
    if (resp.headWritten()) {
      resp.end();
      return;
    }
    resp.setStatusCode(code)
        .putHeader("Content-Type", yaml ? "application/yaml" : "application/json")
        .putHeader("Cache-Control", "no-cache, private")
        .end(Buffer.buffer(bytes));
  }
}
