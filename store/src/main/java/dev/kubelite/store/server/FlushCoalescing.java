package dev.kubelite.store.server;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * One socket write for all the answers an event loop sends on a client connection in one turn,
 * instead of one per answer (docs/decisions/0015). Vert.x flushes every write made outside a read
 * of that connection, and our answers are all written outside reads: they are completed by the Raft
 * thread, a batch at a time, and handed to the event loop. A Netty {@link
 * FlushConsolidationHandler} below the HTTP/2 handler turns those flushes into one flush at the end
 * of the event loop's current batch of tasks.
 *
 * <p>Installed per connection from the HTTP server's connection handler, like {@link
 * SchemeInAuthority}, which reaches into Vert.x's connection the same way.
 */
final class FlushCoalescing {
  static final String HANDLER_NAME = "kubelite-flush-coalescing";

  private FlushCoalescing() {}

  static void install(HttpConnection connection) {
    if (!(connection instanceof ConnectionBase base)) {
      return;
    }
    ChannelPipeline pipeline = base.channel().pipeline();
    Http2ConnectionHandler http2 = pipeline.get(Http2ConnectionHandler.class);
    if (http2 == null || pipeline.get(HANDLER_NAME) != null) {
      return; // HTTP/1.x (not gRPC), or already installed
    }
    pipeline.addBefore(
        pipeline.context(http2).name(),
        HANDLER_NAME,
        new FlushConsolidationHandler(
            FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
  }
}
