package dev.kubelite.apiserver.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.ApiException.Cause;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.api.ProtobufBody;
import dev.kubelite.apiserver.auth.Authorizer;
import dev.kubelite.apiserver.auth.AuthorizerChain;
import dev.kubelite.apiserver.auth.Decision;
import dev.kubelite.apiserver.auth.RbacAuthorizer;
import dev.kubelite.apiserver.auth.RequestAttributes;
import dev.kubelite.apiserver.auth.UserInfo;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code authorization.k8s.io/v1} SelfSubjectAccessReview ("may I ...?", what {@code kubectl auth
 * can-i} asks) and SubjectAccessReview ("may this user ...?", for those allowed to create them):
 * the authorizer's decision for the attributes in the spec, answered in the status as
 * kube-apiserver does ({@code allowed}, {@code denied}, {@code reason}); and SelfSubjectRulesReview
 * (what {@code kubectl auth can-i --list} asks). Nothing is stored.
 */
final class AccessReviews {
  static final String BASE = "/apis/authorization.k8s.io/v1/";
  private static final String SELF = BASE + "selfsubjectaccessreviews";
  private static final String OTHER = BASE + "subjectaccessreviews";
  private static final String RULES = BASE + "selfsubjectrulesreviews";

  private final Authorizer authorizer;

  AccessReviews(Authorizer authorizer) {
    this.authorizer = authorizer;
  }

  static boolean owns(String path) {
    return path.equals(SELF) || path.equals(OTHER) || path.equals(RULES);
  }

  void handle(RoutingContext ctx, HttpMethod method, String path) {
    if (!method.equals(HttpMethod.POST)) {
      throw ApiException.methodNotAllowed(
          "the server does not allow this method on the requested resource (" + method + ")");
    }
    if (path.equals(RULES)) {
      rulesReview(ctx);
      return;
    }
    boolean self = path.equals(SELF);
    String kind = self ? "SelfSubjectAccessReview" : "SubjectAccessReview";
    ObjectNode review = body(ctx, kind);
    JsonNode spec = review.path("spec");
    UserInfo user;
    if (self) {
      user = ctx.get(UserInfo.CONTEXT_KEY);
    } else {
      List<String> groups = new ArrayList<>();
      spec.path("groups").forEach(g -> groups.add(g.asText()));
      String name = spec.path("user").asText("");
      if (name.isEmpty() && groups.isEmpty()) {
        throw invalid(
            kind,
            new Cause(
                "FieldValueInvalid",
                "spec.user",
                "Invalid value: \"\": at least one of user or group must be specified"));
      }
      user = new UserInfo(name, spec.path("uid").asText(""), groups);
    }
    JsonNode res = spec.path("resourceAttributes");
    JsonNode nonRes = spec.path("nonResourceAttributes");
    boolean hasRes = res.isObject();
    boolean hasNonRes = nonRes.isObject();
    if (hasRes == hasNonRes) {
      throw invalid(
          kind,
          new Cause(
              "FieldValueInvalid",
              "spec.resourceAttributes",
              "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes"
                  + " must be specified"));
    }
    RequestAttributes attrs;
    if (hasRes) {
      String ns = res.path("namespace").asText("");
      String sub = res.path("subresource").asText("");
      String name = res.path("name").asText("");
      String selector = res.path("fieldSelector").path("rawSelector").asText("");
      attrs =
          new RequestAttributes(
              res.path("verb").asText(""),
              true,
              res.path("group").asText(""),
              res.path("resource").asText(""),
              sub.isEmpty() ? null : sub,
              ns.isEmpty() ? null : ns,
              name.isEmpty() ? null : name,
              "",
              selector.isEmpty() ? null : selector);
    } else {
      attrs =
          new RequestAttributes(
              nonRes.path("verb").asText(""),
              false,
              null,
              null,
              null,
              null,
              null,
              nonRes.path("path").asText(""),
              null);
    }
    Decision d = decide(user, attrs);
    ObjectNode status = Json.object();
    status.put("allowed", d.allowed());
    if (d.kind() == Decision.Kind.DENY) {
      status.put("denied", true);
    }
    if (d.reason() != null && !d.reason().isEmpty()) {
      status.put("reason", d.reason());
    }
    answer(ctx, kind, spec, status);
  }

  /**
   * SelfSubjectRulesReview ({@code kubectl auth can-i --list}): the requester's rules in {@code
   * spec.namespace}, resource and non-resource rules apart, as kube-apiserver lists them.
   */
  private void rulesReview(RoutingContext ctx) {
    String kind = "SelfSubjectRulesReview";
    ObjectNode review = body(ctx, kind);
    JsonNode spec = review.path("spec");
    String ns = spec.path("namespace").asText("");
    UserInfo user = ctx.get(UserInfo.CONTEXT_KEY);
    AuthorizerChain.Rules rules =
        authorizer instanceof AuthorizerChain chain
            ? chain.rulesFor(user, ns.isEmpty() ? null : ns)
            : AuthorizerChain.Rules.EVERYTHING; // no authorization: everyone may do everything
    ObjectNode status = Json.object();
    ArrayNode resourceRules = status.putArray("resourceRules");
    ArrayNode nonResourceRules = status.putArray("nonResourceRules");
    for (RbacAuthorizer.Rule r : rules.rules()) {
      if (!r.resources().isEmpty()) {
        ObjectNode o = resourceRules.addObject();
        strings(o, "verbs", r.verbs());
        strings(o, "apiGroups", r.apiGroups());
        strings(o, "resources", r.resources());
        strings(o, "resourceNames", r.resourceNames());
      }
      if (!r.nonResourceURLs().isEmpty()) {
        ObjectNode o = nonResourceRules.addObject();
        strings(o, "verbs", r.verbs());
        strings(o, "nonResourceURLs", r.nonResourceURLs());
      }
    }
    status.put("incomplete", rules.incomplete());
    if (rules.error() != null) {
      status.put("evaluationError", rules.error());
    }
    answer(ctx, kind, spec, status);
  }

  /** The review as created (201): its spec as sent and the status worked out; nothing stored. */
  private static void answer(RoutingContext ctx, String kind, JsonNode spec, ObjectNode status) {
    ObjectNode out = Json.object();
    out.put("kind", kind);
    out.put("apiVersion", "authorization.k8s.io/v1");
    out.putObject("metadata").putNull("creationTimestamp");
    out.set("spec", spec.isObject() ? spec.deepCopy() : Json.object());
    out.set("status", status);
    ctx.response()
        .setStatusCode(201)
        .putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-cache, private")
        .end(Buffer.buffer(Json.bytes(out)));
  }

  private static void strings(ObjectNode o, String field, List<String> values) {
    if (!values.isEmpty()) {
      ArrayNode a = o.putArray(field);
      values.forEach(a::add);
    }
  }

  private Decision decide(UserInfo user, RequestAttributes attrs) {
    if (authorizer instanceof Decision.Maker m) {
      return m.decide(user, attrs);
    }
    try {
      authorizer.authorize(user, attrs);
      return Decision.allow("");
    } catch (ApiException e) {
      if (e.code() == 403) {
        return Decision.noOpinion(e.getMessage());
      }
      throw e;
    }
  }

  private static ObjectNode body(RoutingContext ctx, String kind) {
    Buffer b = ctx.body() == null ? null : ctx.body().buffer();
    byte[] bytes = b == null ? new byte[0] : b.getBytes();
    String ct = Negotiation.mediaType(ctx.request().getHeader("Content-Type"));
    ObjectNode o =
        switch (ct) {
          case "", "application/json" -> Json.parseObject(bytes, false);
          case "application/yaml" -> Json.parseObject(bytes, true);
          case "application/vnd.kubernetes.protobuf" -> ProtobufBody.decode(bytes, kind);
          default ->
              throw ApiException.unsupportedMediaType(
                  "the body of the request was in an unknown format - accepted media types"
                      + " include: application/json, application/yaml,"
                      + " application/vnd.kubernetes.protobuf");
        };
    String k = Json.text(o, "kind");
    if (k != null && !k.isEmpty() && !k.equals(kind)) {
      throw ApiException.badRequest(
          "the kind in the data (" + k + ") does not match the expected kind (" + kind + ")");
    }
    return o;
  }

  private static ApiException invalid(String kind, Cause cause) {
    return ApiException.invalid("authorization.k8s.io", kind, "", List.of(cause));
  }
}
