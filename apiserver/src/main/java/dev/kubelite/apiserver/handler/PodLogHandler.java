package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.registry.Registry;
import dev.kubelite.apiserver.registry.ResourceType;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET pods/<name>/log}: as kube-apiserver does, finds the pod's node and streams the answer
 * of that node's kubelet ({@code GET /containerLogs/<namespace>/<pod>/<container>}, on the port the
 * node publishes in {@code status.daemonEndpoints.kubeletEndpoint.Port}), passing {@code follow},
 * {@code previous}, {@code tailLines}, {@code limitBytes}, {@code sinceSeconds} and {@code
 * timestamps} through.
 *
 * <p>Deviation: the kubelet is dialled on 127.0.0.1, not on the node's address — Kubelite's nodes
 * are simulated by kubelet processes on this machine, and their addresses are not routable.
 */
public final class PodLogHandler {
  private static final List<String> INT_OPTIONS =
      List.of("tailLines", "limitBytes", "sinceSeconds");
  private static final List<String> BOOL_OPTIONS = List.of("follow", "previous", "timestamps");

  private final Registry registry;
  private final HttpClient kubelets;

  public PodLogHandler(Registry registry, HttpClient kubelets) {
    this.registry = registry;
    this.kubelets = kubelets;
  }

  public void log(Exchange ex) {
    String query = kubeletQuery(ex);
    ResourceType nodes =
        registry
            .table()
            .find("", "v1", "nodes")
            .orElseThrow(() -> new IllegalStateException("the nodes resource is not registered"));
    ex.complete(
        registry
            .get(ex.type(), ex.namespace(), ex.name())
            .thenCompose(
                pod -> {
                  String container = container(pod, ex.query("container"));
                  String node = Json.text(pod, "spec", "nodeName");
                  if (node == null || node.isEmpty()) {
                    throw ApiException.badRequest(
                        "container \""
                            + container
                            + "\" in pod \""
                            + ex.name()
                            + "\" is waiting to start: the pod is not scheduled to a node yet");
                  }
                  return registry
                      .get(nodes, null, node)
                      .thenApply(n -> new Target(node, kubeletPort(n, node), container));
                }),
        target -> proxy(ex, target, query));
  }

  private record Target(String node, int port, String container) {}

  /** The container named by {@code ?container=}, or the pod's only container. */
  private static String container(ObjectNode pod, String wanted) {
    List<String> names = new ArrayList<>();
    for (String list : List.of("containers", "initContainers")) {
      for (JsonNode c : pod.path("spec").path(list)) {
        names.add(c.path("name").asText());
      }
    }
    String pod_ = Json.text(pod, "metadata", "name");
    if (wanted == null || wanted.isEmpty()) {
      int regular = pod.path("spec").path("containers").size();
      if (regular == 1) {
        return pod.path("spec").path("containers").get(0).path("name").asText();
      }
      throw ApiException.badRequest(
          "a container name must be specified for pod " + pod_ + ", choose one of: " + names);
    }
    if (!names.contains(wanted)) {
      throw ApiException.badRequest("container " + wanted + " is not valid for pod " + pod_);
    }
    return wanted;
  }

  private static int kubeletPort(ObjectNode node, String name) {
    int port =
        node.path("status").path("daemonEndpoints").path("kubeletEndpoint").path("Port").asInt(0);
    if (port <= 0 || port > 65535) {
      throw ApiException.unavailable(
          "node \""
              + name
              + "\" publishes no kubelet endpoint (status.daemonEndpoints.kubeletEndpoint.Port);"
              + " is its kubelet running?");
    }
    return port;
  }

  /** Validates the log options and turns them into the kubelet's query string. */
  private static String kubeletQuery(Exchange ex) {
    StringBuilder q = new StringBuilder();
    for (String o : INT_OPTIONS) {
      String v = ex.query(o);
      if (v == null) {
        continue;
      }
      long n;
      try {
        n = Long.parseLong(v);
      } catch (NumberFormatException e) {
        throw ApiException.badRequest(o + ": expected an integer, got \"" + v + "\"");
      }
      if (n < 0 || (n == 0 && !o.equals("tailLines"))) {
        throw ApiException.badRequest(
            o + ": must be " + (o.equals("tailLines") ? "0 or more" : "greater than 0"));
      }
      q.append(q.length() == 0 ? "?" : "&").append(o).append('=').append(n);
    }
    for (String o : BOOL_OPTIONS) {
      String v = ex.query(o);
      if (v == null) {
        continue;
      }
      if (!v.equals("true") && !v.equals("false") && !v.equals("1") && !v.equals("0")) {
        throw ApiException.badRequest(o + ": expected true or false, got \"" + v + "\"");
      }
      boolean b = v.equals("true") || v.equals("1");
      q.append(q.length() == 0 ? "?" : "&").append(o).append('=').append(b);
    }
    return q.toString();
  }

  private void proxy(Exchange ex, Target t, String query) {
    String path =
        "/containerLogs/"
            + enc(ex.namespace())
            + "/"
            + enc(ex.name())
            + "/"
            + enc(t.container())
            + query;
    HttpServerResponse out = ex.routing().response();
    kubelets
        .request(HttpMethod.GET, t.port(), "127.0.0.1", path)
        .compose(req -> req.send())
        .onSuccess(
            in -> {
              if (in.statusCode() != 200) {
                relayError(ex, t, in);
                return;
              }
              out.setStatusCode(200).setChunked(true);
              out.putHeader("Content-Type", "text/plain");
              ex.routing()
                  .addEndHandler(
                      ar -> {
                        if (ar.failed()) {
                          in.request().reset();
                        }
                      });
              in.pipeTo(out);
            })
        .onFailure(
            e ->
                ex.fail(
                    ApiException.unavailable(
                        "cannot reach the kubelet of node \""
                            + t.node()
                            + "\" at 127.0.0.1:"
                            + t.port()
                            + ": "
                            + e.getMessage())));
  }

  /** A kubelet's refusal (plain text) becomes a Status with the same code class. */
  private static void relayError(Exchange ex, Target t, HttpClientResponse in) {
    in.body()
        .onComplete(
            ar -> {
              String text =
                  ar.succeeded() ? ar.result().toString(StandardCharsets.UTF_8).trim() : "";
              String message =
                  text.isEmpty()
                      ? "the kubelet of node \"" + t.node() + "\" answered " + in.statusCode()
                      : text;
              ex.fail(
                  in.statusCode() == 404
                      ? ApiException.notFound("", "pods", ex.name())
                      : in.statusCode() < 500
                          ? ApiException.badRequest(message)
                          : ApiException.unavailable(message));
            });
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
