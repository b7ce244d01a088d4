package dev.kubelite.store.server;

import static dev.kubelite.store.testing.TestGrpc.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.DeleteRangeRequest;
import dev.kubelite.store.api.etcdserverpb.KVGrpcClient;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.etcdserverpb.RequestOp;
import dev.kubelite.store.api.etcdserverpb.TxnRequest;
import dev.kubelite.store.api.etcdserverpb.WatchCreateRequest;
import dev.kubelite.store.api.etcdserverpb.WatchRequest;
import dev.kubelite.store.api.etcdserverpb.WatchResponse;
import dev.kubelite.store.api.mvccpb.Event;
import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.LocalMember;
import dev.kubelite.store.testing.TestGrpc;
import dev.kubelite.store.testing.WatchStreamClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Watch responses split into fragments ({@code fragment=true} in the create request), against a
 * real etcd 3.4: the same writes must give the same sequence of responses — the same split, the
 * same fragment flags, the same events — and fragments must reassemble to exactly what a watch
 * without {@code fragment} receives in one response.
 */
class WatchFragmentTest {
  /** etcd's threshold: --max-request-bytes (1.5 MiB by default) plus 512 KiB for gRPC. */
  private static final int SPLIT_ABOVE = 1536 * 1024 + 512 * 1024;

  @TempDir Path dir;

  @RegisterExtension final TestGrpc grpc = new TestGrpc();
  private EtcdProcess etcd;
  private LocalMember member;
  private final List<WatchStreamClient> streams = new ArrayList<>();

  @AfterEach
  void stop() {
    streams.forEach(WatchStreamClient::close);
    if (member != null) {
      member.close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  private static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private KVGrpcClient kv(int p) {
    return KVGrpcClient.create(grpc.client, TestGrpc.at(p));
  }

  private static ByteString value(Random rng, int size) {
    byte[] b = new byte[size];
    rng.nextBytes(b);
    return ByteString.copyFrom(b);
  }

  private static WatchRequest prefixWatch(
      long id, long startRevision, boolean prevKv, boolean frag) {
    return WatchRequest.newBuilder()
        .setCreateRequest(
            WatchCreateRequest.newBuilder()
                .setWatchId(id)
                .setKey(bs("f/"))
                .setRangeEnd(bs("f0"))
                .setStartRevision(startRevision)
                .setPrevKv(prevKv)
                .setFragment(frag))
        .build();
  }

  /** What one server sent to each watch, after the same writes. */
  private record Seen(
      List<WatchResponse> fragmented, List<WatchResponse> whole, List<WatchResponse> catchUp) {}

  /**
   * On the server at {@code port}: three 900 kB values, then a txn replacing two of them with 700
   * kB values (one revision, 1.4 MB of request), then a delete of all three (one revision); a live
   * watch with prev_kv and fragment, one with prev_kv and no fragment, and afterwards one from the
   * first write's revision (history) with fragment.
   */
  private Seen run(int p) throws Exception {
    KVGrpcClient kv = kv(p);
    Random rng = new Random(42);
    WatchStreamClient live = WatchStreamClient.open(grpc.vertx, grpc.client, p);
    streams.add(live);
    live.send(prefixWatch(1, 0, true, true));
    live.send(prefixWatch(2, 0, true, false));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> live.received().stream().filter(WatchResponse::getCreated).count() == 2);
    long first = 0;
    for (int i = 1; i <= 3; i++) {
      long rev =
          get(kv.put(
                  PutRequest.newBuilder()
                      .setKey(bs("f/" + i))
                      .setValue(value(rng, 900_000))
                      .build()))
              .getHeader()
              .getRevision();
      first = first == 0 ? rev : first;
    }
    TxnRequest.Builder txn = TxnRequest.newBuilder();
    for (int i = 1; i <= 2; i++) {
      txn.addSuccess(
          RequestOp.newBuilder()
              .setRequestPut(
                  PutRequest.newBuilder().setKey(bs("f/" + i)).setValue(value(rng, 700_000))));
    }
    assertThat(txn.build().getSerializedSize()).isLessThan(1536 * 1024);
    get(kv.txn(txn.build()));
    long last =
        get(kv.deleteRange(
                DeleteRangeRequest.newBuilder().setKey(bs("f/")).setRangeEnd(bs("f0")).build()))
            .getHeader()
            .getRevision();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                reassemble(live.receivedFor(1)).size() == 3 + 2 + 3
                    && live.receivedFor(2).size() == 1 + 5);

    WatchStreamClient history = WatchStreamClient.open(grpc.vertx, grpc.client, p);
    streams.add(history);
    history.send(prefixWatch(3, first, false, true));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                reassemble(history.receivedFor(3)).size() == 8
                    && history
                            .receivedFor(3)
                            .get(history.receivedFor(3).size() - 1)
                            .getHeader()
                            .getRevision()
                        == last);
    return new Seen(live.receivedFor(1), live.receivedFor(2), history.receivedFor(3));
  }

  /** The events of a watch's responses, fragments joined. */
  private static List<Event> reassemble(List<WatchResponse> rs) {
    List<Event> events = new ArrayList<>();
    for (WatchResponse r : rs) {
      events.addAll(r.getEventsList());
    }
    return events;
  }

  /** A response as comparable text: flags, revision, and each event without its value bytes. */
  private static String shape(WatchResponse r) {
    StringBuilder sb =
        new StringBuilder()
            .append(r.getCreated() ? "created " : "")
            .append(r.getFragment() ? "fragment " : "")
            .append("rev=")
            .append(r.getHeader().getRevision())
            .append(" [");
    for (Event e : r.getEventsList()) {
      sb.append(e.getType())
          .append(' ')
          .append(e.getKv().getKey().toStringUtf8())
          .append('@')
          .append(e.getKv().getModRevision())
          .append(" value=")
          .append(e.getKv().getValue().hashCode())
          .append(" prev=")
          .append(e.hasPrevKv() ? e.getPrevKv().getValue().hashCode() : "none")
          .append("; ");
    }
    return sb.append(']').toString();
  }

  private static List<String> shapes(List<WatchResponse> rs) {
    return rs.stream().map(WatchFragmentTest::shape).toList();
  }

  @Test
  void largeResponsesAreSplitAsEtcdSplitsThemAndReassembleExactly() throws Exception {
    etcd = EtcdProcess.start(dir, "etcd", "frag");
    member = LocalMember.start(dir.resolve("m"));
    Seen theirs = run(etcd.clientPort);
    Seen ours = run(member.clientPort());

    assertThat(shapes(ours.fragmented())).isEqualTo(shapes(theirs.fragmented()));
    assertThat(shapes(ours.whole())).isEqualTo(shapes(theirs.whole()));
    assertThat(shapes(ours.catchUp())).isEqualTo(shapes(theirs.catchUp()));

    for (Seen side : List.of(theirs, ours)) {
      // Without fragment: one response per revision, however large.
      List<WatchResponse> whole = side.whole().subList(1, side.whole().size());
      assertThat(whole).noneMatch(WatchResponse::getFragment);
      assertThat(whole.get(3).getSerializedSize()).isGreaterThan(SPLIT_ABOVE);
      // With fragment: the same events, split; all but the last part of a response flagged.
      assertThat(reassemble(side.fragmented())).isEqualTo(reassemble(side.whole()));
      List<WatchResponse> parts = side.fragmented().subList(1, side.fragmented().size());
      assertThat(parts.stream().map(WatchResponse::getFragment).toList())
          .containsExactly(false, false, false, true, false, true, false);
      assertThat(parts.stream().map(WatchResponse::getEventsCount).toList())
          .containsExactly(1, 1, 1, 1, 1, 2, 1);
      for (WatchResponse part : parts) {
        assertThat(part.getSerializedSize() < SPLIT_ABOVE || part.getEventsCount() == 1).isTrue();
      }
      // History replayed in one response is split the same way: 900+900 | 900+700 | 700+deletes.
      List<WatchResponse> history = side.catchUp().subList(1, side.catchUp().size());
      assertThat(history.stream().map(WatchResponse::getEventsCount).toList())
          .containsExactly(2, 2, 4);
      assertThat(history.stream().map(WatchResponse::getFragment).toList())
          .containsExactly(true, true, false);
    }
  }

  @Test
  void maxRequestBytesMovesTheSplitAndRefusesLargerWrites() throws Exception {
    member = LocalMember.start(dir.resolve("m"), c -> c.withMaxRequestBytes(50_000));
    KVGrpcClient kv = kv(member.clientPort());
    assertThat(member.etcdctl().fails("put", "f/big", "x".repeat(60_000)).output())
        .contains("etcdserver: request is too large");
    Random rng = new Random(7);
    for (int i = 0; i < 14; i++) {
      get(
          kv.put(
              PutRequest.newBuilder()
                  .setKey(bs(String.format("f/%02d", i)))
                  .setValue(value(rng, 45_000))
                  .build()));
    }
    WatchStreamClient s = WatchStreamClient.open(grpc.vertx, grpc.client, member.clientPort());
    streams.add(s);
    s.send(prefixWatch(1, 0, true, true));
    await().atMost(Duration.ofSeconds(10)).until(() -> !s.receivedFor(1).isEmpty());
    get(
        kv.deleteRange(
            DeleteRangeRequest.newBuilder().setKey(bs("f/")).setRangeEnd(bs("f0")).build()));
    // 14 deletes with 45 kB previous values: 630 kB, above 50,000 + 512 KiB; 12 fit in one.
    await().atMost(Duration.ofSeconds(10)).until(() -> reassemble(s.receivedFor(1)).size() == 14);
    List<WatchResponse> parts = s.receivedFor(1).subList(1, s.receivedFor(1).size());
    assertThat(parts.stream().map(WatchResponse::getEventsCount).toList()).containsExactly(12, 2);
    assertThat(parts.stream().map(WatchResponse::getFragment).toList())
        .containsExactly(true, false);
    assertThat(parts.get(0).getSerializedSize()).isLessThan(50_000 + 512 * 1024);
  }
}
