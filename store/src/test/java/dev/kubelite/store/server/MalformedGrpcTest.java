package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.LocalMember;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Raw HTTP/2 requests that are not well-formed gRPC or protobuf are refused — with an error status
 * or a stream reset, never a hang or a crash — and change nothing; the member keeps serving.
 */
class MalformedGrpcTest {
  @RegisterExtension final LocalMember member = LocalMember.perTest();
  private int port;
  private Vertx vertx;
  private HttpClient http;

  @BeforeEach
  void start() {
    port = member.clientPort();
    vertx = Vertx.vertx();
    http =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(false));
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /**
   * Sends a gRPC-framed body and returns the grpc-status (trailer or header), or "reset" when the
   * server refused the stream outright (what Vert.x gRPC does with a body it cannot decode).
   */
  private String call(String method, Buffer body) throws Exception {
    try {
      HttpClientResponse resp =
          http.request(
                  new RequestOptions()
                      .setMethod(HttpMethod.POST)
                      .setHost("127.0.0.1")
                      .setPort(port)
                      .setURI("/etcdserverpb.KV/" + method)
                      .putHeader("content-type", "application/grpc")
                      .putHeader("te", "trailers"))
              .compose(req -> req.send(body))
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      resp.body().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      String status = resp.getTrailer("grpc-status");
      return status != null ? status : resp.getHeader("grpc-status");
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof io.vertx.core.http.StreamResetException) {
        return "reset";
      }
      throw e;
    }
  }

  private static Buffer frame(byte[] payload) {
    return Buffer.buffer().appendByte((byte) 0).appendInt(payload.length).appendBytes(payload);
  }

  @Test
  void garbageGetsAnErrorStatusAndTheMemberKeepsServing() throws Exception {
    EtcdProcess.Etcdctl ctl = member.etcdctl();
    ctl.ok("put", "k", "v");

    // Not a protobuf message at all: refused at once (a gRPC error or a stream reset).
    assertThat(call("Put", frame(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01})))
        .isNotEqualTo("0");
    // A frame whose length prefix promises more than is sent: reset by the unary-call deadline
    // rather than left hanging.
    assertThat(
            call(
                "Put",
                Buffer.buffer().appendByte((byte) 0).appendInt(1000).appendBytes(new byte[3])))
        .isNotEqualTo("0");
    assertThat(ctl.ok("get", "", "--prefix").output()).isEqualTo("k\nv\n");
  }
}
