package dev.kubelite.apiserver.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Discovery;
import dev.kubelite.apiserver.api.Json;
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
import dev.kubelite.apiserver.handler.StoreInspection;
import dev.kubelite.apiserver.handler.SubresourceHandlers;
import dev.kubelite.apiserver.handler.WatchHandler;
import dev.kubelite.apiserver.registry.Registry;
import dev.kubelite.apiserver.registry.ResourceType;
import dev.kubelite.apiserver.storage.ObjectEvent;
import dev.kubelite.apiserver.storage.WatchCache;
import dev.kubelite.store.client.KvStore;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

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
  private final ResourceHandlers resources;
  private final PatchHandler patches;
  private final SubresourceHandlers subresources;
  private final WatchHandler watches;
  private final HealthChecks health;
  private final StoreInspection inspection;
  private final EncryptionEndpoints encryption;
  private PodLogHandler podLogs;

  private final Authenticator authenticator;
  private final Authorizer authorizer;
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
    this.resources = new ResourceHandlers(registry);
    this.patches = new PatchHandler(registry);
    this.subresources = new SubresourceHandlers(registry);
    this.watches = new WatchHandler(registry);
    this.health = health;
    this.inspection = new StoreInspection(store);
    this.encryption = new EncryptionEndpoints(registry.table(), registry.storage());
  }

  public Router router(Vertx vertx) {
    podLogs =
        new PodLogHandler(
            registry,
            vertx.createHttpClient(
                new HttpClientOptions().setConnectTimeout(KUBELET_CONNECT_TIMEOUT_MS)));
    Router router = Router.router(vertx);
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
    try {
      route(ctx);
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
    UserInfo user =
        Impersonation.apply(ctx.request(), authenticator.authenticate(ctx.request()), authorizer);
    ctx.put(UserInfo.CONTEXT_KEY, user);
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
        json(ctx, 200, discovery.openApiRoot(), "application/json");
        return;
      }
      default -> {}
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
              : discovery.openApiGroupVersion(gv.group(), gv.version());
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

  /** RBAC escalation prevention for a write of a role or binding (see {@link Escalation}). */
  private void checkEscalation(
      AuthorizerChain chain, UserInfo user, Exchange ex, HttpMethod method, RequestAttributes a) {
    ObjectNode body = null;
    ObjectNode current = null;
    if (method.equals(HttpMethod.PATCH)) {
      WatchCache cache = registry.caches().cache(ex.type().keyPrefix());
      if (cache == null) {
        throw ApiException.unavailable(
            "the RBAC policy is not loaded yet; retry in a moment (the API server is starting)");
      }
      String key = ex.type().key(ex.namespace(), ex.name());
      for (ObjectEvent e : cache.snapshot(key).entries()) {
        if (e.key().equals(key)) {
          current = e.object();
        }
      }
    } else {
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
