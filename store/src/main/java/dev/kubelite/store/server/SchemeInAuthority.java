package dev.kubelite.store.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameListenerDecorator;
import io.netty.handler.codec.http2.Http2Headers;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Lets etcdctl's per-endpoint commands reach us with a client URL as endpoint. {@code etcdctl
 * endpoint status|hashkv}, {@code defrag} and {@code move-leader} dial each endpoint string
 * verbatim, so with {@code http://127.0.0.1:2379} (and always with {@code --cluster}, which takes
 * the members' client URLs) gRPC's {@code :authority} header becomes {@code http://127.0.0.1:2379}.
 * etcd's Go server ignores the authority; Vert.x's HTTP/2 server cannot parse it and resets the
 * stream before any handler runs. This drops the scheme from the authority as each request's
 * headers are decoded, before Vert.x reads them.
 *
 * <p>Installed per connection from the HTTP server's connection handler, which Vert.x calls when
 * the client's first SETTINGS frame arrives, before any request headers. It reaches into Vert.x's
 * connection ({@link ConnectionBase#channel()}) for the Netty HTTP/2 handler: if a Vert.x upgrade
 * changes that, {@code EtcdctlMaintenanceTest}'s {@code --cluster} commands fail.
 */
final class SchemeInAuthority {
  private SchemeInAuthority() {}

  static void install(HttpConnection connection) {
    if (!(connection instanceof ConnectionBase base)) {
      return;
    }
    Http2ConnectionHandler http2 = base.channel().pipeline().get(Http2ConnectionHandler.class);
    if (http2 == null) {
      return; // HTTP/1.x: not gRPC
    }
    http2
        .decoder()
        .frameListener(
            new Http2FrameListenerDecorator(http2.decoder().frameListener()) {
              @Override
              public void onHeadersRead(
                  ChannelHandlerContext ctx,
                  int streamId,
                  Http2Headers headers,
                  int padding,
                  boolean endStream)
                  throws Http2Exception {
                stripScheme(headers);
                super.onHeadersRead(ctx, streamId, headers, padding, endStream);
              }

              @Override
              public void onHeadersRead(
                  ChannelHandlerContext ctx,
                  int streamId,
                  Http2Headers headers,
                  int streamDependency,
                  short weight,
                  boolean exclusive,
                  int padding,
                  boolean endStream)
                  throws Http2Exception {
                stripScheme(headers);
                super.onHeadersRead(
                    ctx,
                    streamId,
                    headers,
                    streamDependency,
                    weight,
                    exclusive,
                    padding,
                    endStream);
              }
            });
  }

  static void stripScheme(Http2Headers headers) {
    CharSequence authority = headers.authority();
    if (authority == null) {
      return;
    }
    String a = authority.toString();
    int i = a.indexOf("://");
    if (i >= 0) {
      headers.authority(a.substring(i + 3));
    }
  }
}
