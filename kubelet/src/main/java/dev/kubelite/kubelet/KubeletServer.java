package dev.kubelite.kubelet;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The part of the kubelet API the API server proxies {@code pods/log} to: {@code GET
 * /containerLogs/<namespace>/<pod>/<container>} with {@code follow}, {@code previous}, {@code
 * tailLines}, {@code limitBytes}, {@code sinceSeconds} and {@code timestamps}, answered from the
 * simulated containers' {@link ContainerLog}s. One server serves every node of the process; it
 * listens on 127.0.0.1 only.
 */
final class KubeletServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KubeletServer.class);
  private static final DateTimeFormatter RFC3339_NANO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS'Z'").withZone(ZoneOffset.UTC);

  /** Finds a container's log on this process's nodes, or null. */
  interface Logs {
    ContainerLog find(String namespace, String pod, String container);
  }

  private final HttpServer server;
  private final ExecutorService threads;
  private final Logs logs;
  private final Clock clock;
  private volatile boolean closed;

  KubeletServer(int port, Logs logs, Clock clock) throws IOException {
    this.logs = logs;
    this.clock = clock;
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    AtomicInteger n = new AtomicInteger();
    // Followed logs hold a thread each while open; there are few (people reading logs).
    this.threads =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "kubelet-api-" + n.getAndIncrement());
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(threads);
    server.createContext("/containerLogs/", this::containerLogs);
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  private void containerLogs(HttpExchange ex) throws IOException {
    try (ex) {
      if (!ex.getRequestMethod().equals("GET")) {
        text(ex, 405, "only GET is served here");
        return;
      }
      String[] parts = ex.getRequestURI().getRawPath().split("/");
      // "", "containerLogs", namespace, pod, container
      if (parts.length != 5) {
        text(ex, 404, "expected /containerLogs/<namespace>/<pod>/<container>");
        return;
      }
      String ns = decode(parts[2]);
      String pod = decode(parts[3]);
      String container = decode(parts[4]);
      Map<String, String> q = query(ex.getRequestURI());
      Long tail = number(q, "tailLines");
      Long limit = number(q, "limitBytes");
      Long since = number(q, "sinceSeconds");
      boolean follow = flag(q, "follow");
      boolean previous = flag(q, "previous");
      boolean timestamps = flag(q, "timestamps");
      ContainerLog log = logs.find(ns, pod, container);
      if (log == null) {
        text(
            ex,
            404,
            "container \"" + container + "\" of pod " + ns + "/" + pod + " is not on these nodes");
        return;
      }
      List<ContainerLog.Line> lines = log.lines(previous);
      if (lines == null) {
        text(
            ex,
            400,
            "previous terminated container \"" + container + "\" in pod \"" + pod + "\" not found");
        return;
      }
      long seen = previous ? 0 : log.appendedCount();
      Instant from = since == null ? null : clock.instant().minusSeconds(since);
      lines = lines.stream().filter(l -> from == null || !l.at().isBefore(from)).toList();
      if (tail != null && lines.size() > tail) {
        lines = lines.subList((int) (lines.size() - tail), lines.size());
      }
      ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      long[] budget = {limit == null ? Long.MAX_VALUE : limit};
      if (!write(out, lines, timestamps, budget)) {
        return;
      }
      out.flush();
      while (follow && !previous && !closed && budget[0] > 0) {
        List<ContainerLog.Line> more = log.after(seen, 1000);
        seen += more.size();
        if (!more.isEmpty()) {
          if (!write(out, more, timestamps, budget)) {
            return;
          }
          out.flush();
        } else if (log.ended()) {
          return;
        }
      }
    } catch (IllegalArgumentException e) {
      text(ex, 400, e.getMessage());
    } catch (IOException e) {
      // The reader went away (kubectl logs -f interrupted): nothing to answer any more.
      LOG.debug("log reader of {} left: {}", ex.getRequestURI(), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Writes lines within the byte budget; false once the budget is spent. */
  private static boolean write(
      OutputStream out, List<ContainerLog.Line> lines, boolean timestamps, long[] budget)
      throws IOException {
    for (ContainerLog.Line l : lines) {
      String text = (timestamps ? RFC3339_NANO.format(l.at()) + " " : "") + l.text() + "\n";
      byte[] b = text.getBytes(StandardCharsets.UTF_8);
      int n = (int) Math.min(b.length, budget[0]);
      out.write(b, 0, n);
      budget[0] -= n;
      if (budget[0] <= 0) {
        return false;
      }
    }
    return true;
  }

  private static void text(HttpExchange ex, int code, String message) throws IOException {
    byte[] b = message.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    ex.sendResponseHeaders(code, b.length);
    ex.getResponseBody().write(b);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  private static Map<String, String> query(URI uri) {
    Map<String, String> q = new HashMap<>();
    String raw = uri.getRawQuery();
    if (raw == null) {
      return q;
    }
    for (String kv : raw.split("&")) {
      int eq = kv.indexOf('=');
      q.put(decode(eq < 0 ? kv : kv.substring(0, eq)), eq < 0 ? "" : decode(kv.substring(eq + 1)));
    }
    return q;
  }

  private static Long number(Map<String, String> q, String name) {
    String v = q.get(name);
    if (v == null) {
      return null;
    }
    try {
      long n = Long.parseLong(v);
      if (n < 0) {
        throw new IllegalArgumentException(name + " must not be negative: " + v);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": expected an integer, got \"" + v + "\"");
    }
  }

  private static boolean flag(Map<String, String> q, String name) {
    String v = q.get(name);
    return v != null && (v.equals("true") || v.equals("1"));
  }

  @Override
  public void close() {
    closed = true;
    server.stop(0);
    threads.shutdownNow();
  }
}
