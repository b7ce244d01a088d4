package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.api.Tables;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.http.Negotiation.Output;
import dev.kubelite.apiserver.registry.Registry;
import dev.kubelite.apiserver.registry.Registry.ListOptions;
import dev.kubelite.apiserver.storage.ObjectEvent;
import dev.kubelite.apiserver.storage.ObjectWatcher;
import dev.kubelite.store.client.Watch;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ?watch=true}: a stream of newline-delimited JSON watch events ({@code ADDED}, {@code
 * MODIFIED}, {@code DELETED}, {@code BOOKMARK}, {@code ERROR}), served by the resource's watch
 * cache (or, for a start revision older than the cache's window, by a store watch of its own).
 * After a resourceVersion N it sends only changes newer than N; without one (or with "0") it first
 * sends the current objects as ADDED. Selectors apply to both the old and the new object, so an
 * object that stops matching is reported DELETED. A compacted start revision ends the stream with
 * an ERROR event carrying 410 Expired. A client that does not read (its write queue is full) is
 * disconnected, so it never holds up anyone else.
 *
 * <p>This is one store watch per client watch; the shared watch cache is the next step (see
 * docs/apiserver.md).
 */
public final class WatchHandler {
  private static final Logger log = LoggerFactory.getLogger(WatchHandler.class);

  /** How often a bookmark is sent to clients that asked for them. */
  static final long BOOKMARK_INTERVAL_MS = 60_000;

  /** Event batches that may wait for one client's event loop before the client is dropped. */
  static final int MAX_PENDING_BATCHES = 10_000;

  private final Registry registry;

  public WatchHandler(Registry registry) {
    this.registry = registry;
  }

  public void watch(Exchange ex) {
    ListOptions o = ListOptionsParser.parse(ex);
    boolean bookmarks = "true".equals(ex.query("allowWatchBookmarks"));
    long timeoutSeconds = timeout(ex.query("timeoutSeconds"));
    String rvParam = ex.query("resourceVersion");
    boolean fromNow = rvParam == null || rvParam.isEmpty() || rvParam.equals("0");
    long rv = fromNow ? 0 : parseRv(rvParam);
    if (fromNow) {
      ListOptions all = new ListOptions(o.labels(), o.fields(), 0, null, null, null);
      ex.complete(
          registry.list(ex.type(), ex.namespace(), all),
          r -> new Stream(ex, o, bookmarks, timeoutSeconds).start(r.items(), r.revision()));
    } else {
      new Stream(ex, o, bookmarks, timeoutSeconds).start(List.of(), rv);
    }
  }

  private static long parseRv(String rv) {
    try {
      long v = Long.parseLong(rv);
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("invalid resource version: \"" + rv + "\"");
    }
  }

  /** timeoutSeconds, or Kubernetes' default: a random 30 to 60 minutes. */
  private static long timeout(String s) {
    if (s == null || s.isEmpty()) {
      return 1800 + ThreadLocalRandom.current().nextLong(1800);
    }
    try {
      long v = Long.parseLong(s);
      return v <= 0 ? 1800 : v;
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("timeoutSeconds must be an integer, got \"" + s + "\"");
    }
  }

  /** One client watch. Apart from the watcher callbacks, everything runs on its event loop. */
  private final class Stream implements ObjectWatcher {
    private final Exchange ex;
    private final ListOptions options;
    private final boolean bookmarks;
    private final long timeoutSeconds;
    private final HttpServerResponse resp;

    /** Event batches handed to this stream's event loop and not yet written. */
    private final AtomicInteger pending = new AtomicInteger();

    private Watch source;
    private long lastRevision;
    private long timer = -1;
    private long bookmarkTimer = -1;
    private boolean done;
    private boolean firstTable = true;

    Stream(Exchange ex, ListOptions options, boolean bookmarks, long timeoutSeconds) {
      this.ex = ex;
      this.options = options;
      this.bookmarks = bookmarks;
      this.timeoutSeconds = timeoutSeconds;
      this.resp = ex.routing().response();
    }

    void start(List<ObjectNode> initial, long fromRevision) {
      if (resp.closed()) {
        return;
      }
      resp.setStatusCode(200)
          .setChunked(true)
          .putHeader("Content-Type", "application/json")
          .putHeader("Cache-Control", "no-cache, private");
      // Through the routing context, which shares the response's close handler with the audit
      // log and the request limits (a handler set on the response itself would replace theirs).
      ex.routing().addEndHandler(ar -> stop());
      // Headers go out now, so the client knows the watch is established.
      resp.write(Buffer.buffer());
      lastRevision = fromRevision;
      for (ObjectNode obj : initial) {
        send("ADDED", obj);
      }
      var vertx = ex.routing().vertx();
      timer = vertx.setTimer(timeoutSeconds * 1000, id -> finish());
      if (bookmarks) {
        bookmarkTimer = vertx.setPeriodic(BOOKMARK_INTERVAL_MS, id -> bookmark());
      }
      source = registry.watch(ex.type(), ex.namespace(), fromRevision, this).watch();
      if (done) {
        source.close();
      }
    }

    // Callbacks arrive on the cache's or the store's threads; hop to the request's context, in
    // order. A client whose loop falls this far behind is dropped instead of queueing forever.

    @Override
    public void onEvents(List<ObjectEvent> events) {
      if (pending.incrementAndGet() > MAX_PENDING_BATCHES) {
        ex.context().runOnContext(v -> drop("too many undelivered events"));
        return;
      }
      ex.context()
          .runOnContext(
              v -> {
                pending.decrementAndGet();
                deliver(events);
              });
    }

    @Override
    public void onProgress(long revision) {
      ex.context()
          .runOnContext(
              v -> {
                // Queued behind every event up to `revision`: the client has seen all of them.
                if (!done && revision > lastRevision) {
                  lastRevision = revision;
                }
              });
    }

    @Override
    public void onExpired(long compactRevision) {
      ex.context()
          .runOnContext(
              v -> {
                ApiException gone =
                    ApiException.expired(
                        "too old resource version: " + lastRevision + " (" + compactRevision + ")");
                sendRaw("ERROR", gone.toStatus());
                finish();
              });
    }

    @Override
    public void onError(ApiException error) {
      ex.context()
          .runOnContext(
              v -> {
                log.warn("watch on {} ended: {}", ex.type().keyPrefix(), error.getMessage());
                sendRaw("ERROR", error.toStatus());
                finish();
              });
    }

    private void deliver(List<ObjectEvent> events) {
      for (ObjectEvent e : events) {
        if (done) {
          return;
        }
        lastRevision = e.revision();
        boolean put = e.type() == ObjectEvent.Type.PUT;
        boolean curMatches = put && registry.matches(e.cached(), options);
        boolean prevMatches =
            e.previousCached() != null && registry.matches(e.previousCached(), options);
        if (put) {
          if (curMatches) {
            send(prevMatches ? "MODIFIED" : "ADDED", e);
          } else if (prevMatches) {
            // No longer selected: the client sees it go, with this change's revision.
            ObjectNode gone = e.previous(); // parsed: the watcher's own
            Json.child(gone, "metadata").put("resourceVersion", Long.toString(e.revision()));
            send("DELETED", gone);
          }
        } else if (prevMatches) {
          send("DELETED", e);
        }
      }
    }

    /**
     * Sends the event's own object; in plain JSON the line is serialised once per event and shared
     * by every watcher.
     */
    private void send(String type, ObjectEvent e) {
      if (ex.output() == Output.TABLE || ex.output() == Output.PARTIAL_METADATA) {
        send(type, e.object());
        return;
      }
      if (done || resp.closed()) {
        return;
      }
      resp.write(Buffer.buffer(e.watchLine(type)));
      if (resp.writeQueueFull()) {
        drop("it does not read its stream");
      }
    }

    private void send(String type, ObjectNode obj) {
      ObjectNode out = obj;
      if (ex.output() == Output.TABLE) {
        out =
            Tables.table(
                ex.type().kind(),
                List.of(obj),
                Json.text(obj, "metadata", "resourceVersion"),
                null,
                Render.include(ex),
                Instant.now(),
                firstTable);
        firstTable = false;
      } else if (ex.output() == Output.PARTIAL_METADATA) {
        out = Tables.partialMetadata(obj);
      }
      sendRaw(type, out);
    }

    private void bookmark() {
      if (done) {
        return;
      }
      ObjectNode obj = Json.object();
      obj.put("kind", ex.type().kind());
      obj.put("apiVersion", ex.type().apiVersion());
      obj.putObject("metadata").put("resourceVersion", Long.toString(lastRevision));
      sendRaw("BOOKMARK", obj);
    }

    private void sendRaw(String type, ObjectNode obj) {
      if (done || resp.closed()) {
        return;
      }
      ObjectNode event = Json.object();
      event.put("type", type);
      event.set("object", obj);
      byte[] line = Json.bytes(event);
      Buffer b = Buffer.buffer(line.length + 1).appendBytes(line).appendByte((byte) '\n');
      resp.write(b);
      if (resp.writeQueueFull()) {
        drop("it does not read its stream");
      }
    }

    private void drop(String why) {
      if (done) {
        return;
      }
      log.warn(
          "watch client {} on {} is not keeping up ({}); disconnecting it",
          ex.routing().request().remoteAddress(),
          ex.type().keyPrefix(ex.namespace()),
          why);
      stop();
      ex.routing().request().connection().close();
    }

    /** Ends the stream normally (timeout, 410, store error). */
    private void finish() {
      if (done) {
        return;
      }
      if (bookmarks && !resp.closed()) {
        bookmark();
      }
      stop();
      if (!resp.ended() && !resp.closed()) {
        resp.end();
      }
    }

    private void stop() {
      if (done) {
        return;
      }
      done = true;
      var vertx = ex.routing().vertx();
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
      if (bookmarkTimer >= 0) {
        vertx.cancelTimer(bookmarkTimer);
      }
      if (source != null) {
        source.close();
      }
    }
  }
}
