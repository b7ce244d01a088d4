package dev.kubelite.apiserver.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.audit.AuditLog;
import dev.kubelite.apiserver.audit.AuditPolicy;
import dev.kubelite.apiserver.audit.AuditPolicy.Decision;
import dev.kubelite.apiserver.audit.AuditPolicy.Level;
import dev.kubelite.apiserver.audit.AuditPolicy.Stage;
import dev.kubelite.apiserver.auth.RequestAttributes;
import dev.kubelite.apiserver.auth.UserInfo;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.UUID;

/**
 * Writes the audit events of every request, as kube-apiserver's audit filter does: an {@code
 * audit.k8s.io/v1} Event with the request's ID (also sent back as the {@code Audit-Id} header), its
 * user, verb, object and response code, at the stages and level the {@link AuditPolicy} gives it.
 * Events are handed to the {@link AuditLog}'s writer thread; nothing here blocks.
 *
 * <p>Stages: RequestReceived once the user is known (before authorization and limits);
 * ResponseStarted when a long-running request (watch, pods/log) sends its headers; ResponseComplete
 * when the response ends or the client goes away.
 */
final class AuditFilter {
  private static final String STATE_KEY = "kubelite.audit";

  private static final DateTimeFormatter MICRO_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  private final AuditPolicy policy;
  private final AuditLog log;

  /** {@code log} null: nothing is audited. */
  AuditFilter(AuditPolicy policy, AuditLog log) {
    this.policy = policy;
    this.log = log;
  }

  /** No audit log. */
  static AuditFilter disabled() {
    return new AuditFilter(AuditPolicy.metadataForAll(), null);
  }

  /** One request's audit state. */
  private static final class State {
    final String id = UUID.randomUUID().toString();
    final Instant received = Instant.now();
    Decision decision;
    boolean complete;
  }

  /** The first handler: an ID for the request, and its events when it ends. */
  void handle(RoutingContext ctx) {
    if (log == null) {
      ctx.next();
      return;
    }
    State s = new State();
    ctx.put(STATE_KEY, s);
    ctx.response().putHeader("Audit-Id", s.id);
    if (RequestLimits.longRunning(ApiRouter.attributes(ctx))) {
      ctx.addHeadersEndHandler(v -> emit(ctx, s, Stage.ResponseStarted));
    }
    ctx.addEndHandler(
        ar -> {
          if (!s.complete) {
            s.complete = true;
            emit(ctx, s, Stage.ResponseComplete);
          }
        });
    ctx.next();
  }

  /** Called once the request's user is known. */
  void authenticated(RoutingContext ctx) {
    State s = ctx.get(STATE_KEY);
    if (s != null) {
      emit(ctx, s, Stage.RequestReceived);
    }
  }

  private void emit(RoutingContext ctx, State s, Stage stage) {
    UserInfo user = ctx.get(UserInfo.CONTEXT_KEY);
    RequestAttributes a = ApiRouter.attributes(ctx);
    if (s.decision == null || (user != null && stage == Stage.RequestReceived)) {
      s.decision = policy.decide(user, a);
    }
    Decision d = s.decision;
    if (!d.writes(stage)) {
      return;
    }
    log.offer(event(ctx, s, stage, d.level(), user, a));
  }

  private static ObjectNode event(
      RoutingContext ctx, State s, Stage stage, Level level, UserInfo user, RequestAttributes a) {
    ObjectNode e = Json.object();
    e.put("kind", "Event");
    e.put("apiVersion", "audit.k8s.io/v1");
    e.put("level", level.name());
    e.put("auditID", s.id);
    e.put("stage", stage.name());
    e.put("requestURI", ctx.request().uri());
    e.put("verb", a.verb());
    ObjectNode u = e.putObject("user");
    if (user != null) {
      u.put("username", user.name());
      if (!user.uid().isEmpty()) {
        u.put("uid", user.uid());
      }
      ArrayNode groups = u.putArray("groups");
      user.groups().forEach(groups::add);
    }
    ArrayNode ips = e.putArray("sourceIPs");
    String forwarded = ctx.request().getHeader("X-Forwarded-For");
    if (forwarded != null) {
      for (String ip : forwarded.split(",")) {
        if (!ip.isBlank()) {
          ips.add(ip.trim());
        }
      }
    }
    SocketAddress remote = ctx.request().remoteAddress();
    if (remote != null && remote.hostAddress() != null) {
      ips.add(remote.hostAddress());
    }
    String agent = ctx.request().getHeader("User-Agent");
    if (agent != null) {
      e.put("userAgent", agent);
    }
    JsonNode response = stage == Stage.RequestReceived ? null : Exchange.responseBody(ctx);
    if (a.resourceRequest()) {
      ObjectNode ref = e.putObject("objectRef");
      ref.put("resource", a.resource());
      if (a.namespace() != null) {
        ref.put("namespace", a.namespace());
      }
      String name = a.name();
      if (name == null
          && a.verb().equals("create")
          && response != null
          && !"Status".equals(response.path("kind").asText())) {
        // A create names its object in the body; the created object tells.
        String created = response.path("metadata").path("name").asText("");
        name = created.isEmpty() ? null : created;
      }
      if (name != null) {
        ref.put("name", name);
      }
      if (a.apiGroup() != null && !a.apiGroup().isEmpty()) {
        ref.put("apiGroup", a.apiGroup());
      }
      RequestInfo info = RequestInfo.parse(a.path());
      if (info != null) {
        ref.put("apiVersion", info.version());
      }
      if (a.subresource() != null) {
        ref.put("subresource", a.subresource());
      }
    }
    if (stage != Stage.RequestReceived) {
      ObjectNode status = e.putObject("responseStatus");
      status.putObject("metadata");
      int code = ctx.response().getStatusCode();
      if (response != null && "Status".equals(response.path("kind").asText())) {
        for (String f : new String[] {"status", "message", "reason"}) {
          if (response.hasNonNull(f)) {
            status.set(f, response.get(f));
          }
        }
      }
      status.put("code", code);
      if (level.atLeast(Level.Request)) {
        JsonNode body = requestObject(ctx);
        if (body != null) {
          e.set("requestObject", body);
        }
      }
      if (level.atLeast(Level.RequestResponse)
          && stage == Stage.ResponseComplete
          && response != null) {
        e.set("responseObject", response);
      }
    }
    e.put("requestReceivedTimestamp", MICRO_TIME.format(s.received));
    e.put("stageTimestamp", MICRO_TIME.format(Instant.now()));
    return e;
  }

  /** The request's body as an object, when it is JSON or YAML (not for protobuf). */
  private static JsonNode requestObject(RoutingContext ctx) {
    Buffer b = ctx.body() == null ? null : ctx.body().buffer();
    if (b == null || b.length() == 0) {
      return null;
    }
    String type = Negotiation.mediaType(ctx.request().getHeader("Content-Type"));
    boolean yaml = type.endsWith("yaml");
    if (!type.isEmpty() && !yaml && !type.endsWith("json")) {
      return null;
    }
    try {
      return (yaml ? Json.YAML : Json.MAPPER).readTree(b.getBytes());
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
