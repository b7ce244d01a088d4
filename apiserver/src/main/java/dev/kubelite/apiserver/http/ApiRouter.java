package dev.kubelite.apiserver.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Discovery;
import dev.kubelite.apiserver.api.FieldSchema;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.audit.AuditLog;
import dev.kubelite.apiserver.audit.AuditPolicy;
import dev.kubelite.apiserver.auth.Authenticator;
import dev.kubelite.apiserver.auth.Authorizer;
import dev.kubelite.apiserver.auth.AuthorizerChain;
import dev.kubelite.apiserver.auth.Escalation;
import dev.kubelite.apiserver.auth.Impersonation;
import dev.kubelite.apiserver.auth.RequestAttributes;
import dev.kubelite.apiserver.auth.UserInfo;
import dev.kubelite.apiserver.handler.EncryptionEndpoints;
import dev.kubelite.apiserver.handler.PatchHandler;
import dev.kubelite.apiserver.handler.PodLogHandler;
import dev.kubelite.apiserver.handler.ResourceHandlers;
import dev.kubelite.apiserver.handler.SelfSubjectReviews;
import dev.kubelite.apiserver.handler.StoreInspection;
import dev.kubelite.apiserver.handler.SubresourceHandlers;
import dev.kubelite.apiserver.handler.TokenRequests;
import dev.kubelite.apiserver.handler.WatchHandler;
import dev.kubelite.apiserver.openapi.OpenApiDocuments;
import dev.kubelite.apiserver.registry.Registry;
import dev.kubelite.apiserver.registry.ResourceType;
import dev.kubelite.apiserver.storage.CachedObject;
import dev.kubelite.apiserver.storage.WatchCache;
import dev.kubelite.store.client.KvStore;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The HTTP front: meta endpoints (/version, health, discovery, OpenAPI), the read-only store
 * inspection under /kubelite ({@link StoreInspection}) and every resource path, parsed into a
 * {@link RequestInfo} and dispatched by verb to the handlers. Any failure, including a body over
 * the limit or a handler bug, is answered as a Kubernetes Status.
 */
public final class ApiRouter {
  /** kube-apiserver's request body limit (3 MiB). */
  public static final long MAX_BODY_BYTES = 3L * 1024 * 1024;

  /** How long {@code pods/log} waits to connect to a kubelet. */
  private static final int KUBELET_CONNECT_TIMEOUT_MS = 5_000;

  private final Registry registry;
  private final Discovery discovery;
  private final OpenApiDocuments openApi;
  private final ResourceHandlers resources;
  private final PatchHandler patches;

  /** Pod subresources that need a running process: answered with why they are not there. */
  private static final java.util.Set<String> NO_PROCESS =
      java.util.Set.of("exec", "attach", "portforward");

  private final SubresourceHandlers subresources;
  private final WatchHandler watches;
  private final HealthChecks health;
  private final StoreInspection inspection;
  private final EncryptionEndpoints encryption;
  private PodLogHandler podLogs;

  private final Authenticator authenticator;
  private final Authorizer authorizer;
  private AuditFilter audit = AuditFilter.disabled();
  private RequestLimits limits = new RequestLimits(RequestLimits.Settings.DEFAULTS);
  private TokenRequests tokenRequests;
  private final AccessReviews accessReviews;

  /** {@code store} serves the read-only store inspection endpoints ({@link StoreInspection}). */
  public ApiRouter(Registry registry, HealthChecks health, KvStore store) {
    this(registry, health, store, Authenticator.NONE, Authorizer.ALLOW_ALL);
  }

  /** Every request is authenticated, then authorized, before it is routed. */
  public ApiRouter(
      Registry registry,
      HealthChecks health,
      KvStore store,
      Authenticator authenticator,
      Authorizer authorizer) {
    this.authenticator = authenticator;
    this.authorizer = authorizer;
    this.accessReviews = new AccessReviews(authorizer);
    this.registry = registry;
    this.discovery = new Discovery(registry.table());
    this.openApi = new OpenApiDocuments(registry.table(), FieldSchema.builtIn());
    this.resources = new ResourceHandlers(registry);
    this.patches = new PatchHandler(registry);
    this.subresources = new SubresourceHandlers(registry);
    this.watches = new WatchHandler(registry);
    this.health = health;
    this.inspection = new StoreInspection(store);
    this.encryption = new EncryptionEndpoints(registry.table(), registry.storage());
  }

  /** Audits every request to {@code log} (null: no audit log) under {@code policy}. */
  public ApiRouter withAudit(AuditPolicy policy, AuditLog log) {
    this.audit = new AuditFilter(policy, log);
    return this;
  }

  /** Request timeouts and in-flight caps (default {@link RequestLimits.Settings#DEFAULTS}). */
  public ApiRouter withLimits(RequestLimits limits) {
    this.limits = limits;
    return this;
  }

  /** Serves {@code serviceaccounts/<name>/token} (TokenRequest) with this signer. */
  public ApiRouter withTokenRequests(TokenRequests t) {
    this.tokenRequests = t;
    return this;
  }

  public Router router(Vertx vertx) {
    podLogs =
        new PodLogHandler(
            registry,
            vertx.createHttpClient(
                new HttpClientOptions().setConnectTimeout(KUBELET_CONNECT_TIMEOUT_MS)));
    Router router = Router.router(vertx);
    router.route().handler(audit::handle);
    router.route().handler(limits::deadline);
    router.route().handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    router.route().handler(this::dispatch);
    router.route().failureHandler(this::failure);
    return router;
  }

  private void failure(RoutingContext ctx) {
    Throwable t = ctx.failure();
    if (ctx.statusCode() == 413) {
      Exchange.fail(
          ctx,
          ApiException.tooLarge("Request entity too large: limit is " + MAX_BODY_BYTES + " bytes"));
    } else if (t != null) {
      Exchange.fail(ctx, t);
    } else {
      int code = ctx.statusCode() < 400 ? 500 : ctx.statusCode();
      Exchange.fail(
          ctx,
          code == 400
              ? ApiException.badRequest("malformed request")
              : ApiException.internal("request failed with HTTP " + code));
    }
  }

  private void dispatch(RoutingContext ctx) {
    CompletableFuture<UserInfo> user;
    try {
      user = authenticator.authenticateAsync(ctx.request());
    } catch (RuntimeException e) {
      Exchange.fail(ctx, e);
      return;
    }
    if (user.isDone()) {
      authenticated(ctx, user);
      return;
    }
    // A lookup (a ServiceAccount token's account) answers on another thread: back to the loop.
    Context loop = Vertx.currentContext();
    user.whenComplete((u, e) -> loop.runOnContext(v -> authenticated(ctx, user)));
  }

  private void authenticated(RoutingContext ctx, CompletableFuture<UserInfo> user) {
    try {
      ctx.put(UserInfo.CONTEXT_KEY, user.join());
      route(ctx);
    } catch (CompletionException e) {
      Exchange.fail(ctx, e.getCause() == null ? e : e.getCause());
    } catch (RuntimeException e) {
      Exchange.fail(ctx, e);
    }
  }

  private void route(RoutingContext ctx) {
    String path = ctx.normalizedPath();
    if (path.length() > 1 && path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    HttpMethod method = ctx.request().method();
    UserInfo user = Impersonation.apply(ctx.request(), ctx.get(UserInfo.CONTEXT_KEY), authorizer);
    ctx.put(UserInfo.CONTEXT_KEY, user);
    audit.authenticated(ctx);
    limits.admit(ctx);
    authorizer.authorize(user, attributes(method, path, ctx));
    switch (path) {
      case "/version" -> {
        getOnly(method);
        json(ctx, 200, Discovery.version(), "application/json");
        return;
      }
      case "/api" -> {
        getOnly(method);
        discoveryAnswer(ctx, true);
        return;
      }
      case "/apis" -> {
        getOnly(method);
        discoveryAnswer(ctx, false);
        return;
      }
      case "/openapi/v3" -> {
        getOnly(method);
        json(ctx, 200, openApi.root(), "application/json");
        return;
      }
      default -> {}
    }
    if (SelfSubjectReviews.owns(path)) {
      SelfSubjectReviews.handle(ctx);
      return;
    }
    if (AccessReviews.owns(path)) {
      accessReviews.handle(ctx, method, path);
      return;
    }
    if (EncryptionEndpoints.owns(path)) {
      encryption.handle(ctx, path);
      return;
    }
    if (StoreInspection.owns(path)) {
      inspection.handle(ctx, path);
      return;
    }
    if ((path.startsWith("/healthz") || path.startsWith("/livez") || path.startsWith("/readyz"))
        && (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD))
        && health.handle(ctx, path)) {
      return;
    }
    if (path.startsWith("/openapi/v3/")) {
      getOnly(method);
      RequestInfo gv = RequestInfo.parse(path.substring("/openapi/v3".length()));
      ObjectNode doc =
          gv == null || gv.resource() != null
              ? null
              : openApi.groupVersion(gv.group(), gv.version());
      if (doc == null) {
        throw ApiException.noRoute();
      }
      json(ctx, 200, doc, "application/json");
      return;
    }
    if (path.startsWith("/apis/") && path.indexOf('/', "/apis/".length()) < 0) {
      getOnly(method);
      ObjectNode group = discovery.apiGroup(path.substring("/apis/".length()));
      if (group == null) {
        throw ApiException.noRoute();
      }
      json(ctx, 200, group, "application/json");
      return;
    }
    RequestInfo info = RequestInfo.parse(path);
    if (info == null) {
      throw ApiException.noRoute();
    }
    if (info.resource() == null) {
      getOnly(method);
      ObjectNode list = discovery.apiResourceList(info.group(), info.version());
      if (list == null) {
        throw ApiException.noRoute();
      }
      json(ctx, 200, list, "application/json");
      return;
    }
    ResourceType type =
        registry
            .table()
            .find(info.group(), info.version(), info.resource())
            .orElseThrow(ApiException::noRoute);
    if (info.namespace() != null && !type.namespaced()) {
      throw ApiException.noRoute();
    }
    Exchange ex =
        new Exchange(ctx, info, type, Negotiation.output(ctx.request().getHeader("Accept")));
    if (authorizer instanceof AuthorizerChain chain
        && Escalation.governs(info.group(), info.resource())
        && info.subresource() == null
        && (method.equals(HttpMethod.POST)
            || method.equals(HttpMethod.PUT)
            || method.equals(HttpMethod.PATCH))) {
      checkEscalation(chain, user, ex, method, attributes(method, path, ctx));
    }
    resource(ex, method);
  }

  private static final String ATTRIBUTES_KEY = "kubelite.attributes";

  /** What the request asks (computed once per request and kept in its context). */
  static RequestAttributes attributes(RoutingContext ctx) {
    RequestAttributes a = ctx.get(ATTRIBUTES_KEY);
    if (a == null) {
      String path = ctx.normalizedPath();
      if (path.length() > 1 && path.endsWith("/")) {
        path = path.substring(0, path.length() - 1);
      }
      a = attributes(ctx.request().method(), path, ctx);
      ctx.put(ATTRIBUTES_KEY, a);
    }
    return a;
  }

  /** RBAC escalation prevention for a write of a role or binding (see {@link Escalation}). */
  private void checkEscalation(
      AuthorizerChain chain, UserInfo user, Exchange ex, HttpMethod method, RequestAttributes a) {
    ObjectNode body = null;
    ObjectNode current = null;
    if (!method.equals(HttpMethod.POST)) {
      // PATCH: the binding's roleRef; PUT: what the update changes (an update that leaves the
      // rules, or the roleRef and subjects, as they are grants nothing new).
      WatchCache cache = registry.caches().cache(ex.type().keyPrefix());
      if (cache == null) {
        throw ApiException.unavailable(
            "the RBAC policy is not loaded yet; retry in a moment (the API server is starting)");
      }
      CachedObject c = cache.peek(ex.type().key(ex.namespace(), ex.name()));
      if (c != null) {
        current = c.object();
      }
    }
    if (!method.equals(HttpMethod.PATCH)) {
      String ct = ex.contentType();
      try {
        body = Json.parseObject(ex.body(), ct.equals("application/yaml"));
      } catch (RuntimeException e) {
        return; // not an object: the handler refuses the body with its own error
      }
    }
    Escalation.check(chain, user, a, body, current);
  }

  /** What the request asks, for authorization: a resource verb, or a non-resource path. */
  private static RequestAttributes attributes(HttpMethod method, String path, RoutingContext ctx) {
    RequestInfo info =
        path.startsWith("/api/") || path.startsWith("/apis/") ? RequestInfo.parse(path) : null;
    if (info == null || info.resource() == null) {
      return RequestAttributes.nonResource(method, path);
    }
    String watch = ctx.request().getParam("watch");
    return RequestAttributes.resource(method, info, "true".equals(watch) || "1".equals(watch), path)
        .withFieldSelector(ctx.request().getParam("fieldSelector"));
  }

  private void resource(Exchange ex, HttpMethod method) {
    RequestInfo info = ex.info();
    ResourceType type = ex.type();
    String sub = info.subresource();
    if (sub != null
        && info.name() != null
        && type.kind().equals("Pod")
        && NO_PROCESS.contains(sub)) {
      throw ApiException.badRequest(
          sub
              + " is not available for pod \""
              + info.name()
              + "\": Kubelite's nodes are simulated and its containers run no process"
              + " (docs/kubelet.md); kubectl logs shows what the simulated kubelet writes");
    }
    if (sub != null && !type.subresources().contains(sub)) {
      throw ApiException.noRoute();
    }
    if (info.name() == null) {
      // Collection: list / watch / create / deletecollection.
      if (type.namespaced() && info.namespace() == null && !method.equals(HttpMethod.GET)) {
        throw ApiException.methodNotAllowed(
            "the server does not allow this method on the requested resource: "
                + method
                + " on all namespaces; name a namespace");
      }
      if (method.equals(HttpMethod.GET)) {
        String w = ex.query("watch");
        if ("true".equals(w) || "1".equals(w)) {
          watches.watch(ex);
        } else {
          resources.list(ex);
        }
      } else if (method.equals(HttpMethod.POST)) {
        resources.create(ex);
      } else if (method.equals(HttpMethod.DELETE)) {
        resources.deleteCollection(ex);
      } else {
        throw notAllowed(method);
      }
      return;
    }
    if (type.namespaced() && info.namespace() == null) {
      throw ApiException.noRoute();
    }
    if (sub == null || sub.equals("status")) {
      if (method.equals(HttpMethod.GET)) {
        resources.get(ex);
      } else if (method.equals(HttpMethod.PUT)) {
        resources.update(ex);
      } else if (method.equals(HttpMethod.PATCH)) {
        patches.patch(ex);
      } else if (method.equals(HttpMethod.DELETE) && sub == null) {
        resources.delete(ex);
      } else {
        throw notAllowed(method);
      }
    } else if (sub.equals("scale")) {
      if (method.equals(HttpMethod.GET)) {
        subresources.getScale(ex);
      } else if (method.equals(HttpMethod.PUT)) {
        subresources.writeScale(ex, false);
      } else if (method.equals(HttpMethod.PATCH)) {
        subresources.writeScale(ex, true);
      } else {
        throw notAllowed(method);
      }
    } else if (sub.equals("log")) {
      getOnly(method);
      podLogs.log(ex);
    } else if (sub.equals("finalize")) {
      if (method.equals(HttpMethod.PUT)) {
        resources.update(ex);
      } else {
        throw notAllowed(method);
      }
    } else if (sub.equals("binding")) {
      if (method.equals(HttpMethod.POST)) {
        subresources.bind(ex);
      } else {
        throw notAllowed(method);
      }
    } else if (sub.equals("token")) {
      if (!method.equals(HttpMethod.POST)) {
        throw notAllowed(method);
      }
      if (tokenRequests == null) {
        throw ApiException.noRoute(); // no --service-account-signing-key-file
      }
      tokenRequests.create(ex);
    } else {
      throw ApiException.noRoute();
    }
  }

  private static ApiException notAllowed(HttpMethod method) {
    return ApiException.methodNotAllowed(
        "the server does not allow this method on the requested resource (" + method + ")");
  }

  private static void getOnly(HttpMethod method) {
    if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
      throw notAllowed(method);
    }
  }

  private void discoveryAnswer(RoutingContext ctx, boolean core) {
    String accept = ctx.request().getHeader("Accept");
    String version = null;
    if (accept != null) {
      for (String range : accept.split(",")) {
        if (!range.contains("as=APIGroupDiscoveryList")) {
          continue;
        }
        for (String param : range.split(";")) {
          String p = param.trim();
          if (p.equals("v=v2") || p.equals("v=v2beta1")) {
            version = p.substring(2);
          }
        }
        if (version != null) {
          break;
        }
      }
    }
    if (version != null) {
      boolean v2 = version.equals("v2");
      json(
          ctx,
          200,
          discovery.aggregated(core, "apidiscovery.k8s.io/" + version),
          v2 ? Discovery.AGGREGATED_V2 : Discovery.AGGREGATED_V2BETA1);
      return;
    }
    String host =
        ctx.request().localAddress() == null
            ? "127.0.0.1"
            : ctx.request().localAddress().toString();
    json(
        ctx,
        200,
        core ? discovery.apiVersions(host) : discovery.apiGroupList(),
        "application/json");
  }

  private static void json(RoutingContext ctx, int code, ObjectNode body, String contentType) {
    HttpServerResponse r = ctx.response();
    r.setStatusCode(code)
        .putHeader("Content-Type", contentType)
        .putHeader("Cache-Control", "no-cache, private")
        .end(Buffer.buffer(Json.bytes(body)));
  }
}
