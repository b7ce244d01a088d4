package dev.kubelite.store.server;

import dev.kubelite.store.api.etcdserverpb.WatchRequest;
import dev.kubelite.store.api.etcdserverpb.WatchResponse;
import dev.kubelite.store.api.etcdserverpb.WatchService;
import io.vertx.core.Vertx;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;
import java.util.concurrent.Executor;

/** etcd's Watch service: one {@link WatchStream} per client stream. */
final class WatchApi extends WatchService {
  private final StoreMember member;
  private final WatchHub hub;
  private final Executor worker;

  WatchApi(StoreMember member, WatchHub hub, Executor worker) {
    this.member = member;
    this.hub = hub;
    this.worker = worker;
  }

  @Override
  protected void watch(ReadStream<WatchRequest> requests, WriteStream<WatchResponse> responses) {
    WatchStream stream = new WatchStream(member, hub, responses, Vertx.currentContext(), worker);
    requests.handler(stream::onRequest);
    requests.exceptionHandler(e -> stream.close());
    requests.endHandler(
        v -> {
          stream.close();
          responses.end();
        });
  }
}
