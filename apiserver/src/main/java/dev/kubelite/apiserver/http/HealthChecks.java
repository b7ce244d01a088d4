package dev.kubelite.apiserver.http;

import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code /healthz}, {@code /livez} and {@code /readyz} as kube-apiserver answers them: {@code ok}
 * when every check passes; with {@code ?verbose} one line per check ({@code [+]etcd ok}) and {@code
 * <endpoint> check passed}; a failure is HTTP 500 listing every check ({@code [-]etcd failed:
 * reason withheld}) and {@code <endpoint> check failed}. {@code ?exclude=<check>} skips a check,
 * {@code /<endpoint>/<check>} runs one ({@code ok}, or 500 {@code internal server error:
 * <reason>}).
 */
public final class HealthChecks {
  /** One named check; its future fails with the reason. */
  public record Check(String name, Supplier<Future<Void>> run) {}

  private final List<Check> live;
  private final List<Check> ready;

  /** {@code live} serves /healthz and /livez; {@code ready} serves /readyz. */
  public HealthChecks(List<Check> live, List<Check> ready) {
    this.live = List.copyOf(live);
    this.ready = List.copyOf(ready);
  }

  /** Whether {@code path} is a health endpoint (then it was answered). */
  boolean handle(RoutingContext ctx, String path) {
    for (String endpoint : List.of("healthz", "livez", "readyz")) {
      String root = "/" + endpoint;
      List<Check> checks = endpoint.equals("readyz") ? ready : live;
      if (path.equals(root)) {
        all(ctx, endpoint, checks);
        return true;
      }
      if (path.startsWith(root + "/")) {
        String name = path.substring(root.length() + 1);
        Check c = checks.stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
        if (c == null) {
          return false;
        }
        c.run()
            .get()
            .onComplete(
                ar -> {
                  if (ar.succeeded()) {
                    text(ctx, 200, "ok");
                  } else {
                    text(ctx, 500, "internal server error: " + reason(ar.cause()) + "\n");
                  }
                });
        return true;
      }
    }
    return false;
  }

  private static String reason(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getMessage() == null) {
      c = c.getCause();
    }
    return c.getMessage() == null ? c.toString() : c.getMessage();
  }

  private static void all(RoutingContext ctx, String endpoint, List<Check> checks) {
    boolean verbose = ctx.queryParams().contains("verbose");
    Set<String> excluded = new LinkedHashSet<>();
    for (String e : ctx.queryParam("exclude")) {
      for (String part : e.split(",")) {
        if (!part.isBlank()) {
          excluded.add(part.trim());
        }
      }
    }
    List<Check> run = new ArrayList<>();
    List<Future<Void>> results = new ArrayList<>();
    for (Check c : checks) {
      if (excluded.remove(c.name())) {
        continue;
      }
      run.add(c);
      Future<Void> f;
      try {
        f = c.run().get();
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      results.add(f);
    }
    Future.join(results)
        .onComplete(
            ignored -> {
              StringBuilder out = new StringBuilder();
              boolean failed = false;
              for (int i = 0; i < run.size(); i++) {
                if (results.get(i).succeeded()) {
                  out.append("[+]").append(run.get(i).name()).append(" ok\n");
                } else {
                  failed = true;
                  out.append("[-]").append(run.get(i).name()).append(" failed: reason withheld\n");
                }
              }
              if (!excluded.isEmpty()) {
                List<String> quoted = excluded.stream().map(s -> "\"" + s + "\"").toList();
                out.append("warn: some health checks cannot be excluded: no matches for ")
                    .append(String.join(",", quoted))
                    .append('\n');
              }
              if (failed) {
                text(ctx, 500, out + endpoint + " check failed\n");
              } else if (verbose) {
                text(ctx, 200, out + endpoint + " check passed\n");
              } else {
                text(ctx, 200, "ok");
              }
            });
  }

  private static void text(RoutingContext ctx, int code, String body) {
    ctx.response()
        .setStatusCode(code)
        .putHeader("Content-Type", "text/plain; charset=utf-8")
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Cache-Control", "no-cache, private")
        .end(body);
  }
}
