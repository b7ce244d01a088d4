package dev.kubelite.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A generic client of the Kubernetes REST API (JSON over HTTP/1.1 or HTTPS, JDK HttpClient): every
 * verb for any {@link Resource}. Objects are Jackson {@link ObjectNode}s. A refusal is an {@link
 * ApiException} carrying the server's Status; a transport failure is an {@link
 * UncheckedIOException}. A request the server refuses with 429 Too Many Requests is sent again
 * after its {@code Retry-After}, up to ten times, as client-go does. Thread-safe; blocking calls
 * (use it from worker threads, not event loops).
 */
public final class KubeClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KubeClient.class);
  public static final ObjectMapper JSON = new ObjectMapper();

  private final URI server;
  private final String bearerToken;
  private final HttpClient http;
  private final Duration requestTimeout;

  /** Sent as {@code User-Agent}; null: the JDK's. The API server names field managers after it. */
  private final String userAgent;

  public KubeClient(URI server, String bearerToken, Duration requestTimeout) {
    this(server, bearerToken, requestTimeout, null);
  }

  /**
   * A client of {@code server} (http or https), sending {@code bearerToken} if not null; {@code
   * ssl} (for https) says which CAs to trust and which client certificate to present (null: the
   * JDK's default trust, no client certificate).
   */
  public KubeClient(URI server, String bearerToken, Duration requestTimeout, SSLContext ssl) {
    String s = server.toString();
    this.server = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
    this.bearerToken = bearerToken;
    this.requestTimeout = requestTimeout;
    // The client's own stages run on the thread that completes them (decision 0066): the caller
    // writes its request, the selector thread reads the answer and hands it to the waiting caller.
    // The default executor (a cached pool) added two thread hand-offs per call and a thread per
    // call in flight. Safe because no stage blocks: answers are collected as bytes (or dropped),
    // and streamed bodies are read by the caller through the client's InputStream, never inside a
    // stage. HTTP/1.1 only: the JDK's cleartext HTTP/2 upgrade hangs without an executor thread.
    HttpClient.Builder b =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .executor(Runnable::run)
            .connectTimeout(Duration.ofSeconds(10));
    if (ssl != null) {
      b.sslContext(ssl);
    }
    this.http = b.build();
    this.userAgent = null;
  }

  private KubeClient(KubeClient base, String userAgent) {
    this.server = base.server;
    this.bearerToken = base.bearerToken;
    this.requestTimeout = base.requestTimeout;
    this.http = base.http;
    this.userAgent = userAgent;
  }

  /**
   * The same client (same connections and credentials) introducing itself as {@code component}:
   * {@code User-Agent: kube-scheduler/v1.32.0-kubelite (java)}, as client-go's default agent does.
   * The API server records writes without a {@code fieldManager} under the part before the {@code
   * /}, so a component's entries in {@code managedFields} carry its name.
   */
  public KubeClient withUserAgent(String component) {
    return new KubeClient(this, component + "/" + VERSION + " (java)");
  }

  /** The Kubernetes version the components speak (the API server's {@code /version}). */
  static final String VERSION = "v1.32.0-kubelite";

  public KubeClient(URI server) {
    this(server, null, Duration.ofSeconds(30));
  }

  /** A client for the current context of a kubeconfig. */
  public static KubeClient fromConfig(KubeConfig config) {
    return fromConfig(config, config.currentContext());
  }

  /**
   * A client for a context of a kubeconfig, as kubectl connects: the cluster's server; for https,
   * its CA ({@code certificate-authority(-data)}; else the JDK's default trust) and the user's
   * client certificate ({@code client-certificate(-data)} + {@code client-key(-data)}); the user's
   * bearer token ({@code token}, else {@code tokenFile}).
   */
  public static KubeClient fromConfig(KubeConfig config, KubeConfig.Context ctx) {
    KubeConfig.Cluster cluster = config.cluster(ctx);
    KubeConfig.User user = config.user(ctx);
    if (cluster.server() == null) {
      throw new IllegalArgumentException(
          "cluster " + ctx.cluster() + " in the kubeconfig has no server URL");
    }
    return new KubeClient(
        URI.create(cluster.server()),
        ClientCredentials.token(user),
        Duration.ofSeconds(30),
        ClientCredentials.sslContext(cluster, user));
  }

  public URI server() {
    return server;
  }

  public ObjectNode get(Resource r, String namespace, String name) {
    return send("GET", r.path(namespace, name), null, null);
  }

  /** GET on any path of the API (discovery documents: {@code /api/v1}, {@code /apis}). */
  public ObjectNode getPath(String path) {
    return send("GET", path, null, null);
  }

  /**
   * GET on any path with a chosen {@code Accept} header, e.g. server-side printing ({@code
   * application/json;as=Table;v=v1;g=meta.k8s.io}) as kubectl asks for it.
   */
  public ObjectNode getPath(String pathAndQuery, String accept) {
    return send("GET", pathAndQuery, null, null, accept);
  }

  /**
   * Any verb on any path (with its query), for callers that need what the typed methods do not
   * offer (query parameters such as {@code dryRun=All}). {@code body} may be null.
   */
  public ObjectNode call(String method, String pathAndQuery, String contentType, JsonNode body) {
    return send(method, pathAndQuery, contentType, body);
  }

  /** A list ({@code kind: ...List}, {@code metadata.resourceVersion}, {@code items}). */
  public ObjectNode list(Resource r, String namespace, ListOptions o) {
    String q = o.query(false);
    return send("GET", r.path(namespace) + (q.isEmpty() ? "" : "?" + q), null, null);
  }

  public ObjectNode create(Resource r, String namespace, ObjectNode obj) {
    return send("POST", r.path(namespace), "application/json", obj);
  }

  /** PUT; a {@code metadata.resourceVersion} in the object makes it conditional (409 if stale). */
  public ObjectNode update(Resource r, ObjectNode obj) {
    return send("PUT", r.path(Meta.namespace(obj), Meta.name(obj)), "application/json", obj);
  }

  public ObjectNode updateStatus(Resource r, ObjectNode obj) {
    return send(
        "PUT", r.path(Meta.namespace(obj), Meta.name(obj)) + "/status", "application/json", obj);
  }

  public ObjectNode patch(
      Resource r, String namespace, String name, PatchType type, JsonNode patch) {
    return send("PATCH", r.path(namespace, name), type.contentType, patch);
  }

  public ObjectNode patchStatus(
      Resource r, String namespace, String name, PatchType type, JsonNode patch) {
    return send("PATCH", r.path(namespace, name) + "/status", type.contentType, patch);
  }

  /**
   * {@link #patchStatus} for a caller that does not read the answer (it follows the object through
   * an informer): a success's body is not parsed, or even kept; a refusal is an {@link
   * ApiException} as for {@code patchStatus}.
   */
  public void patchStatusIgnoringAnswer(
      Resource r, String namespace, String name, PatchType type, JsonNode patch) {
    send(
        "PATCH",
        r.path(namespace, name) + "/status",
        type.contentType,
        patch,
        "application/json",
        false);
  }

  /** Any other subresource, e.g. POST pods/binding. */
  public ObjectNode subresource(
      String method, Resource r, String namespace, String name, String sub, ObjectNode body) {
    return send(method, r.path(namespace, name) + "/" + sub, "application/json", body);
  }

  /**
   * DELETE; {@code options} is a DeleteOptions body or null. Returns what the server answered: a
   * Status (gone) or the object (deletion pending: finalizers, grace period).
   */
  public ObjectNode delete(Resource r, String namespace, String name, ObjectNode options) {
    return send(
        "DELETE", r.path(namespace, name), options == null ? null : "application/json", options);
  }

  public ObjectNode delete(Resource r, String namespace, String name) {
    return delete(r, namespace, name, null);
  }

  /** Opens a watch stream ({@code ?watch=true}); a refusal before the stream starts throws. */
  public Watch watch(Resource r, String namespace, ListOptions o) {
    return watchPath(r.path(namespace) + "?" + o.query(true), "application/json");
  }

  /**
   * Opens a watch stream on a path whose query already asks for one ({@code watch=true}), with a
   * chosen {@code Accept} (kubectl's {@code get -w} watches Tables).
   */
  public Watch watchPath(String path, String accept) {
    HttpRequest.Builder b = request(path, accept).GET();
    HttpResponse<InputStream> resp;
    try {
      resp = exchange("GET", path, b.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot watch " + server + path + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new java.io.InterruptedIOException("interrupted: " + path));
    }
    if (resp.statusCode() != 200) {
      try (InputStream in = resp.body()) {
        throw error("GET", path, resp.statusCode(), new String(in.readAllBytes(), UTF8));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the answer to watch " + path, e);
      }
    }
    LOG.debug("watch {} opened", path);
    return new Watch(JSON, resp.body());
  }

  /**
   * GET on a path whose answer is not a JSON object but text read as it arrives ({@code
   * pods/<name>/log}, with {@code follow=true} an endless stream): the body of a 200 answer, to be
   * closed by the caller (closing aborts the exchange). A refusal is an {@link ApiException}.
   */
  public InputStream stream(String pathAndQuery) {
    HttpRequest.Builder b = request(pathAndQuery, "*/*").GET();
    HttpResponse<InputStream> resp;
    try {
      resp = exchange("GET", pathAndQuery, b.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "GET " + server + pathAndQuery + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(
          new java.io.InterruptedIOException("interrupted: GET " + pathAndQuery));
    }
    if (resp.statusCode() != 200) {
      try (InputStream in = resp.body()) {
        throw error("GET", pathAndQuery, resp.statusCode(), new String(in.readAllBytes(), UTF8));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the answer to GET " + pathAndQuery, e);
      }
    }
    LOG.debug("GET {} streaming", pathAndQuery);
    return resp.body();
  }

  private static final java.nio.charset.Charset UTF8 = StandardCharsets.UTF_8;

  private HttpRequest.Builder request(String path, String accept) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(server + path)).header("Accept", accept);
    if (userAgent != null) {
      b.header("User-Agent", userAgent);
    }
    if (bearerToken != null) {
      b.header("Authorization", "Bearer " + bearerToken);
    }
    return b;
  }

  private ObjectNode send(String method, String path, String contentType, JsonNode body) {
    return send(method, path, contentType, body, "application/json");
  }

  private ObjectNode send(
      String method, String path, String contentType, JsonNode body, String accept) {
    return send(method, path, contentType, body, accept, true);
  }

  /**
   * A success's body, when the caller does not read it: consumed and dropped as it arrives. In a
   * holder, so that a process that never ignores an answer (kubectl-lite) never makes it.
   */
  private static final class ErrorsOnly {
    static final HttpResponse.BodyHandler<byte[]> HANDLER =
        info ->
            info.statusCode() >= 200 && info.statusCode() < 300
                ? HttpResponse.BodySubscribers.replacing(null)
                : HttpResponse.BodySubscribers.ofByteArray();
  }

  /**
   * Sends a request; {@code parse}: whether a success's answer is parsed and returned (else null).
   */
  private ObjectNode send(
      String method, String path, String contentType, JsonNode body, String accept, boolean parse) {
    HttpRequest.Builder b = request(path, accept).timeout(requestTimeout);
    try {
      if (body == null) {
        b.method(method, HttpRequest.BodyPublishers.noBody());
      } else {
        b.header("Content-Type", contentType);
        b.method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
      }
      // The answer's bytes go to the parser as they are (no String of the whole answer first).
      HttpResponse<byte[]> resp =
          exchange(
              method,
              path,
              b.build(),
              parse ? HttpResponse.BodyHandlers.ofByteArray() : ErrorsOnly.HANDLER);
      LOG.debug("{} {} → {}", method, path, resp.statusCode());
      if (resp.statusCode() >= 200 && resp.statusCode() < 300) {
        if (!parse) {
          return null;
        }
        JsonNode n = JSON.readTree(resp.body());
        if (n instanceof ObjectNode o) {
          return o;
        }
        throw new IOException("answer to " + method + " " + path + " is not a JSON object");
      }
      throw error(method, path, resp.statusCode(), new String(resp.body(), UTF8));
    } catch (IOException e) {
      throw new UncheckedIOException(
          method + " " + server + path + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(
          new java.io.InterruptedIOException("interrupted: " + method + " " + path));
    }
  }

  /** How often a request the server asked to retry later is sent again (client-go's default). */
  static final int MAX_RETRIES = 10;

  /** The longest wait a Retry-After may impose before the next attempt. */
  static final Duration MAX_RETRY_WAIT = Duration.ofSeconds(10);

  /**
   * Sends a request, and sends it again, up to {@link #MAX_RETRIES} times, while the server answers
   * 429 Too Many Requests (the request was refused before it was processed, so any verb may repeat)
   * or, for a GET, a 5xx carrying {@code Retry-After} — waiting as long as the header says, as
   * client-go does. The last answer is returned whatever it is.
   */
  private <T> HttpResponse<T> exchange(
      String method, String path, HttpRequest request, HttpResponse.BodyHandler<T> handler)
      throws IOException, InterruptedException {
    for (int attempt = 0; ; attempt++) {
      HttpResponse<T> resp = http.send(request, handler);
      Duration wait = retryAfter(method, resp);
      if (wait == null || attempt >= MAX_RETRIES) {
        return resp;
      }
      LOG.debug(
          "{} {} answered {}; retrying in {} ms (attempt {} of {})",
          method,
          path,
          resp.statusCode(),
          wait.toMillis(),
          attempt + 1,
          MAX_RETRIES);
      if (resp.body() instanceof InputStream in) {
        in.close(); // release the connection of a refused streaming request
      }
      Thread.sleep(wait.toMillis());
    }
  }

  /** How long to wait before sending again, or null if this answer is final. */
  static Duration retryAfter(String method, HttpResponse<?> resp) {
    int code = resp.statusCode();
    var header = resp.headers().firstValue("Retry-After");
    boolean retry = code == 429 || (code >= 500 && method.equals("GET") && header.isPresent());
    if (!retry) {
      return null;
    }
    long seconds = 1;
    if (header.isPresent()) {
      try {
        seconds = Math.max(0, Long.parseLong(header.get().trim()));
      } catch (NumberFormatException dateOrGarbage) {
        seconds = 1; // an HTTP date or garbage: Kubernetes only sends seconds
      }
    }
    Duration d = Duration.ofSeconds(seconds);
    return d.compareTo(MAX_RETRY_WAIT) > 0 ? MAX_RETRY_WAIT : d;
  }

  private static ApiException error(String method, String path, int code, String body) {
    try {
      if (JSON.readTree(body) instanceof ObjectNode s && "Status".equals(s.path("kind").asText())) {
        return new ApiException(code, s.path("reason").asText(""), s.path("message").asText(""), s);
      }
    } catch (IOException notJson) {
      // Not a Status: synthesize one below from the code and the raw body.
    }
    ObjectNode s = JSON.createObjectNode();
    s.put("kind", "Status").put("apiVersion", "v1").put("status", "Failure");
    s.put("code", code).put("message", method + " " + path + ": " + body);
    return new ApiException(code, "", s.get("message").asText(), s);
  }

  @Override
  public void close() {
    // The JDK HttpClient of Java 17 has no close; its connections are released with it.
  }
}
