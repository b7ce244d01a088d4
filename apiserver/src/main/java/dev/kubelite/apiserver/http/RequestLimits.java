package dev.kubelite.apiserver.http;

import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.auth.RequestAttributes;
import dev.kubelite.apiserver.auth.UserInfo;
import dev.kubelite.apiserver.handler.EncryptionEndpoints;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How much one API server takes on at once, as kube-apiserver's filters limit it, plus per-client
 * caps Kubernetes leaves to API Priority and Fairness (decision 0096):
 *
 * <ul>
 *   <li>a deadline for every request that is not long-running ({@code --request-timeout}, or the
 *       shorter {@code ?timeout=}): past it the request is answered 504 Timeout, as Kubernetes'
 *       timeout filter does; watches end at their own {@code timeoutSeconds};
 *   <li>{@code --max-requests-inflight} read-only and {@code --max-mutating-requests-inflight}
 *       mutating requests at once (long-running requests and authenticated {@code system:masters}
 *       members are not counted, as in Kubernetes);
 *   <li>{@code --max-requests-inflight-per-client} requests at once from one client, and {@code
 *       --max-watches-per-client} open watches: a client is its authenticated user, or its IP
 *       address when the server runs without authentication (or the request is anonymous).
 * </ul>
 *
 * Beyond a cap the request is answered 429 TooManyRequests with {@code Retry-After: 1}. Zero turns
 * a cap off. Counters are released when the response ends or its connection closes.
 */
public final class RequestLimits {
  /** The limits; 0 disables a cap. */
  public record Settings(
      int maxRequestsInflight,
      int maxMutatingRequestsInflight,
      int maxRequestsInflightPerClient,
      int maxWatchesPerClient,
      Duration requestTimeout) {

    /**
     * kube-apiserver's defaults (400 read-only, 200 mutating, 60 s), and Kubelite's per-client
     * caps: 100 requests in flight, 500 open watches.
     */
    public static final Settings DEFAULTS =
        new Settings(400, 200, 100, 500, Duration.ofSeconds(60));

    public Settings {
      if (maxRequestsInflight < 0
          || maxMutatingRequestsInflight < 0
          || maxRequestsInflightPerClient < 0
          || maxWatchesPerClient < 0) {
        throw new IllegalArgumentException("request limits must be 0 (no limit) or positive");
      }
      if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
        throw new IllegalArgumentException(
            "--request-timeout must be positive, got " + requestTimeout);
      }
    }

    public Settings withInflight(int readOnly, int mutating) {
      return new Settings(
          readOnly, mutating, maxRequestsInflightPerClient, maxWatchesPerClient, requestTimeout);
    }

    public Settings withPerClient(int inflight, int watches) {
      return new Settings(
          maxRequestsInflight, maxMutatingRequestsInflight, inflight, watches, requestTimeout);
    }

    public Settings withRequestTimeout(Duration timeout) {
      return new Settings(
          maxRequestsInflight,
          maxMutatingRequestsInflight,
          maxRequestsInflightPerClient,
          maxWatchesPerClient,
          timeout);
    }
  }

  /** Kubernetes' message for a 429. */
  static final String TOO_MANY = "Too many requests, please try again later.";

  /** Subresources that stream (kube-apiserver's long-running check). */
  private static final Set<String> LONG_RUNNING_SUBRESOURCES =
      Set.of("attach", "exec", "proxy", "log", "portforward");

  private static final Set<String> READ_ONLY_VERBS = Set.of("get", "list", "watch");

  private final Settings settings;
  private final AtomicInteger readOnly = new AtomicInteger();
  private final AtomicInteger mutating = new AtomicInteger();
  private final ConcurrentHashMap<String, AtomicInteger> perClient = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicInteger> watches = new ConcurrentHashMap<>();

  public RequestLimits(Settings settings) {
    this.settings = settings;
  }

  public Settings settings() {
    return settings;
  }

  /** Whether a request streams until the client or a timeout ends it. */
  public static boolean longRunning(RequestAttributes a) {
    if (!a.resourceRequest()) {
      return false;
    }
    return a.verb().equals("watch")
        || (a.subresource() != null && LONG_RUNNING_SUBRESOURCES.contains(a.subresource()));
  }

  /** The first handler for every request: arms the deadline of a request that is not streaming. */
  void deadline(RoutingContext ctx) {
    RequestAttributes a = ApiRouter.attributes(ctx);
    if (longRunning(a) || EncryptionEndpoints.REWRITE.equals(a.path())) {
      // The encryption rewrite runs as long as there are objects to rewrite: a 504 half-way
      // would not stop it, only hide its counts.
      ctx.next();
      return;
    }
    long ms = settings.requestTimeout().toMillis();
    String param = ctx.request().getParam("timeout");
    if (param != null && !param.isEmpty()) {
      Duration asked = GoDuration.parse(param);
      if (asked == null) {
        Exchange.fail(ctx, ApiException.badRequest("invalid timeout specified in the request URL"));
        return;
      }
      if (asked.toMillis() > 0 && asked.toMillis() < ms) {
        ms = asked.toMillis();
      }
    }
    Vertx vertx = ctx.vertx();
    long timer =
        vertx.setTimer(
            ms,
            id -> {
              HttpServerResponse r = ctx.response();
              if (!r.ended() && !r.closed() && !r.headWritten()) {
                Exchange.fail(ctx, ApiException.requestTimeout());
              }
            });
    ctx.addEndHandler(ar -> vertx.cancelTimer(timer));
    ctx.next();
  }

  /**
   * Counts an authenticated request against the caps, or throws 429. Called once the user is known,
   * before authorization (where kube-apiserver's max-in-flight filter sits).
   */
  void admit(RoutingContext ctx) {
    UserInfo user = ctx.get(UserInfo.CONTEXT_KEY);
    RequestAttributes a = ApiRouter.attributes(ctx);
    String client = client(ctx, user);
    if (longRunning(a)) {
      if (a.verb().equals("watch") && settings.maxWatchesPerClient() > 0) {
        AtomicInteger n = acquire(watches, client, settings.maxWatchesPerClient());
        if (n == null) {
          throw ApiException.tooManyRequests(
              TOO_MANY
                  + " "
                  + client
                  + " has "
                  + settings.maxWatchesPerClient()
                  + " watches open (--max-watches-per-client).",
              1);
        }
        ctx.addEndHandler(ar -> release(watches, client, n));
      }
      return;
    }
    if (privileged(user)) {
      return;
    }
    boolean isMutating = !READ_ONLY_VERBS.contains(a.verb());
    AtomicInteger global = isMutating ? mutating : readOnly;
    int limit =
        isMutating ? settings.maxMutatingRequestsInflight() : settings.maxRequestsInflight();
    if (limit > 0 && global.incrementAndGet() > limit) {
      global.decrementAndGet();
      throw ApiException.tooManyRequests(
          TOO_MANY
              + " The server has "
              + limit
              + (isMutating
                  ? " mutating requests in flight (--max-mutating-requests-inflight)."
                  : " read-only requests in flight (--max-requests-inflight)."),
          1);
    }
    AtomicInteger mine = null;
    if (settings.maxRequestsInflightPerClient() > 0) {
      mine = acquire(perClient, client, settings.maxRequestsInflightPerClient());
      if (mine == null) {
        if (limit > 0) {
          global.decrementAndGet();
        }
        throw ApiException.tooManyRequests(
            TOO_MANY
                + " "
                + client
                + " has "
                + settings.maxRequestsInflightPerClient()
                + " requests in flight (--max-requests-inflight-per-client).",
            1);
      }
    }
    AtomicInteger counted = mine;
    ctx.addEndHandler(
        ar -> {
          if (limit > 0) {
            global.decrementAndGet();
          }
          if (counted != null) {
            release(perClient, client, counted);
          }
        });
  }

  /** Authenticated members of system:masters are not counted, as in kube-apiserver. */
  private static boolean privileged(UserInfo user) {
    return user != null
        && user != UserInfo.UNAUTHENTICATED_ADMIN
        && user.groups().contains("system:masters");
  }

  /** Who a request counts against: its user, or its IP address when no user is known. */
  static String client(RoutingContext ctx, UserInfo user) {
    if (user != null
        && user != UserInfo.UNAUTHENTICATED_ADMIN
        && !user.name().isEmpty()
        && !user.name().equals("system:anonymous")) {
      return "User \"" + user.name() + "\"";
    }
    // The connection's peer: what the routing request's remoteAddress() answers too (the router
    // trusts no Forwarded headers), without it working out forwarding on every request.
    HttpConnection conn = ctx.request().connection();
    SocketAddress remote = conn != null ? conn.remoteAddress() : ctx.request().remoteAddress();
    String ip = remote == null ? "unknown" : remote.hostAddress();
    return "Client " + ip;
  }

  private static AtomicInteger acquire(
      ConcurrentHashMap<String, AtomicInteger> counts, String client, int max) {
    while (true) {
      AtomicInteger n = counts.computeIfAbsent(client, k -> new AtomicInteger());
      int v = n.get();
      if (v < 0) {
        // Being removed by release(); take a fresh counter.
        counts.remove(client, n);
        continue;
      }
      if (v >= max) {
        return null;
      }
      if (n.compareAndSet(v, v + 1)) {
        return n;
      }
    }
  }

  private static void release(
      ConcurrentHashMap<String, AtomicInteger> counts, String client, AtomicInteger n) {
    if (n.decrementAndGet() == 0 && n.compareAndSet(0, -1)) {
      counts.remove(client, n);
    }
  }

  /** Requests in flight that count against the caps (for tests and diagnostics). */
  public int inFlight() {
    return readOnly.get() + mutating.get();
  }

  /** Open watches of all clients. */
  public int openWatches() {
    return watches.values().stream().mapToInt(n -> Math.max(0, n.get())).sum();
  }
}
