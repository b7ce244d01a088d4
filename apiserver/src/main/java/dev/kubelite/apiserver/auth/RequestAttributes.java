package dev.kubelite.apiserver.auth;

import dev.kubelite.apiserver.http.RequestInfo;
import io.vertx.core.http.HttpMethod;
import java.util.Locale;

/**
 * What a request asks to do, in the terms authorization works with (Kubernetes' authorizer
 * attributes): a verb on a resource ({@code get pods/log in default}) or on a non-resource path
 * ({@code get /healthz}).
 *
 * @param verb get, list, watch, create, update, patch, delete, deletecollection for resources; the
 *     lower-case HTTP method for non-resource paths
 * @param resourceRequest whether this is an API resource request
 * @param apiGroup the API group ("" for the core group); null for non-resource requests
 * @param resource the resource plural, null for non-resource requests
 * @param subresource the subresource, or null
 * @param namespace the namespace, or null (cluster-scoped or all namespaces)
 * @param name the object's name, or null (collections)
 * @param path the request path (for non-resource requests)
 * @param fieldSelector a list's or watch's {@code fieldSelector}, or null (the Node authorizer lets
 *     a kubelet list only its own node's pods)
 */
public record RequestAttributes(
    String verb,
    boolean resourceRequest,
    String apiGroup,
    String resource,
    String subresource,
    String namespace,
    String name,
    String path,
    String fieldSelector) {

  public RequestAttributes(
      String verb,
      boolean resourceRequest,
      String apiGroup,
      String resource,
      String subresource,
      String namespace,
      String name,
      String path) {
    this(verb, resourceRequest, apiGroup, resource, subresource, namespace, name, path, null);
  }

  /** A resource request, its verb derived from the method as Kubernetes does. */
  public static RequestAttributes resource(
      HttpMethod method, RequestInfo info, boolean watch, String path) {
    boolean collection = info.name() == null;
    String verb =
        switch (method.name()) {
          case "GET", "HEAD" -> collection ? (watch ? "watch" : "list") : "get";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> collection ? "deletecollection" : "delete";
          default -> method.name().toLowerCase(Locale.ROOT);
        };
    return new RequestAttributes(
        verb,
        true,
        info.group(),
        info.resource(),
        info.subresource(),
        // As Kubernetes: a request for namespace x is a request in the namespace x.
        info.namespace() == null && info.group().isEmpty() && "namespaces".equals(info.resource())
            ? info.name()
            : info.namespace(),
        info.name(),
        path,
        null);
  }

  /** The same request with the list's or watch's field selector. */
  public RequestAttributes withFieldSelector(String selector) {
    return new RequestAttributes(
        verb, resourceRequest, apiGroup, resource, subresource, namespace, name, path, selector);
  }

  /** A request for a path that is not an API resource ({@code /version}, {@code /healthz}). */
  public static RequestAttributes nonResource(HttpMethod method, String path) {
    return new RequestAttributes(
        method.name().toLowerCase(Locale.ROOT), false, null, null, null, null, null, path);
  }
}
