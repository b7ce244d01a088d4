package dev.kubelite.apiserver.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/** A watch request whose newline-delimited events are collected as they arrive. */
public final class WatchClient implements AutoCloseable {
  private final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
  private final AtomicBoolean ended = new AtomicBoolean();
  private final Thread reader;
  private volatile Stream<String> lines;
  private volatile RuntimeException failure;
  public final int status;

  public WatchClient(HttpClient http, String url, String accept) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
    if (accept != null) {
      b.header("Accept", accept);
    }
    HttpResponse<Stream<String>> r =
        http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofLines()).get(30, TimeUnit.SECONDS);
    status = r.statusCode();
    lines = r.body();
    reader =
        new Thread(
            () -> {
              try {
                lines.forEach(
                    l -> {
                      if (!l.isBlank()) {
                        try {
                          events.add(ApiServerFixture.JSON.readTree(l));
                        } catch (Exception e) {
                          throw new IllegalStateException("watch line is not JSON: " + l, e);
                        }
                      }
                    });
              } catch (RuntimeException e) {
                // Expected when close() cuts the stream; otherwise reported by next().
                failure = e;
              } finally {
                ended.set(true);
              }
            },
            "watch-client");
    reader.setDaemon(true);
    reader.start();
  }

  /** The next event, waiting up to {@code timeout}; fails if none arrives. */
  public JsonNode next(Duration timeout) throws InterruptedException {
    JsonNode e = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (e == null) {
      throw new AssertionError(
          "no watch event within "
              + timeout
              + " (stream ended: "
              + ended.get()
              + ", reader failure: "
              + failure
              + ")");
    }
    return e;
  }

  public JsonNode next() throws InterruptedException {
    return next(Duration.ofSeconds(20));
  }

  /** Events received so far and not yet taken. */
  public int pending() {
    return events.size();
  }

  /** Whether the server ended the stream. */
  public boolean ended() {
    return ended.get();
  }

  @Override
  public void close() {
    Stream<String> l = lines;
    if (l != null) {
      l.close();
    }
    reader.interrupt();
  }
}
