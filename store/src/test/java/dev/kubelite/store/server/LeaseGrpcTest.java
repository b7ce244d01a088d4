package dev.kubelite.store.server;

import static dev.kubelite.store.testing.TestGrpc.get;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.kubelite.store.api.etcdserverpb.KVGrpcClient;
import dev.kubelite.store.api.etcdserverpb.LeaseGrantRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseGrantResponse;
import dev.kubelite.store.api.etcdserverpb.LeaseGrpcClient;
import dev.kubelite.store.api.etcdserverpb.LeaseKeepAliveRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseKeepAliveResponse;
import dev.kubelite.store.api.etcdserverpb.LeaseLeasesRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseLeasesResponse;
import dev.kubelite.store.api.etcdserverpb.LeaseRevokeRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseStatus;
import dev.kubelite.store.api.etcdserverpb.LeaseTimeToLiveRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseTimeToLiveResponse;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.etcdserverpb.RangeRequest;
import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.LocalMember;
import dev.kubelite.store.testing.TestGrpc;
import io.vertx.core.Future;
import io.vertx.core.net.SocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Lease API over gRPC, differentially against a real etcd 3.4: the same calls must give the
 * same responses (less member ids) and the same errors. Covers what etcdctl cannot send: explicit
 * ids, duplicate grants, too-large TTLs, several renewals on one stream.
 */
class LeaseGrpcTest {
  @TempDir Path dir;

  @RegisterExtension final LocalMember member = LocalMember.perTest();
  @RegisterExtension final TestGrpc grpc = new TestGrpc();
  private EtcdProcess etcd;
  private Side theirs;
  private Side ours;

  /** One server's clients. */
  private record Side(LeaseGrpcClient lease, KVGrpcClient kv) {}

  @BeforeEach
  void start() throws Exception {
    EtcdProcess.binary("etcd");
    etcd = EtcdProcess.start(dir, "etcd", "lease-diff");
    theirs = side(etcd.clientPort);
    ours = side(member.clientPort());
  }

  private Side side(int port) {
    SocketAddress a = TestGrpc.at(port);
    return new Side(LeaseGrpcClient.create(grpc.client, a), KVGrpcClient.create(grpc.client, a));
  }

  @AfterEach
  void stop() throws Exception {
    if (etcd != null) {
      etcd.close();
    }
  }

  /**
   * A response as text without member-specific header fields, or the error (the client reports the
   * status code; etcdctl tests check the messages).
   */
  private static String outcome(Future<? extends Message> call) {
    try {
      return normalize(get(call));
    } catch (Exception e) {
      Throwable t = e.getCause() != null ? e.getCause() : e;
      return "ERROR " + t.getMessage();
    }
  }

  private static String normalize(Message m) {
    Message.Builder b = m.toBuilder();
    var header = b.getDescriptorForType().findFieldByName("header");
    if (header != null && m.hasField(header)) {
      var h = (dev.kubelite.store.api.etcdserverpb.ResponseHeader) m.getField(header);
      b.clearField(header);
      return "rev=" + h.getRevision() + " " + b.build().toString().replace("\n", " ");
    }
    return m.toString().replace("\n", " ");
  }

  private void both(String what, Function<Side, Future<? extends Message>> call) {
    String etcdSays = outcome(call.apply(theirs));
    String weSay = outcome(call.apply(ours));
    assertThat(weSay).as("%s\netcd: %s\nours: %s", what, etcdSays, weSay).isEqualTo(etcdSays);
  }

  private static LeaseGrantRequest grant(long id, long ttl) {
    return LeaseGrantRequest.newBuilder().setID(id).setTTL(ttl).build();
  }

  /**
   * Sends {@code ids} on one keep-alive stream and collects one answer per request, in order. Runs
   * on a Vert.x context so the response handler is set before responses can arrive.
   */
  private Future<List<LeaseKeepAliveResponse>> keepAlive(LeaseGrpcClient c, long... ids) {
    CompletableFuture<List<LeaseKeepAliveResponse>> done = new CompletableFuture<>();
    grpc.vertx.getOrCreateContext().runOnContext(v -> keepAliveOnContext(c, done, ids));
    return Future.fromCompletionStage(done);
  }

  private static void keepAliveOnContext(
      LeaseGrpcClient c, CompletableFuture<List<LeaseKeepAliveResponse>> done, long... ids) {
    List<LeaseKeepAliveResponse> answers = new ArrayList<>();
    c.leaseKeepAlive(
            (requests, err) -> {
              if (err == null) {
                for (long id : ids) {
                  requests.write(LeaseKeepAliveRequest.newBuilder().setID(id).build());
                }
              }
            })
        .onFailure(done::completeExceptionally)
        .onSuccess(
            stream -> {
              stream.exceptionHandler(done::completeExceptionally);
              stream.handler(
                  r -> {
                    answers.add(r);
                    if (answers.size() == ids.length) {
                      done.complete(answers);
                    }
                  });
            });
  }

  private Future<LeaseKeepAliveResponse> keepAliveOnce(LeaseGrpcClient c, long id) {
    return keepAlive(c, id).map(l -> l.get(0));
  }

  @Test
  void leaseCallsAnswerAsEtcdDoes() throws Exception {
    both("grant an explicit id", s -> s.lease().leaseGrant(grant(0x1234, 60)));
    both("grant it again", s -> s.lease().leaseGrant(grant(0x1234, 60)));
    both("grant below the minimum TTL", s -> s.lease().leaseGrant(grant(0x2000, 1)));
    both("grant a negative TTL", s -> s.lease().leaseGrant(grant(0x2001, -5)));
    both("grant too long a TTL", s -> s.lease().leaseGrant(grant(0x3000, 9_000_000_001L)));
    both(
        "put with the lease",
        s ->
            s.kv()
                .put(
                    PutRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8("k"))
                        .setValue(ByteString.copyFromUtf8("v"))
                        .setLease(0x1234)
                        .build()));
    both(
        "put with an unknown lease",
        s ->
            s.kv()
                .put(
                    PutRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8("k2"))
                        .setValue(ByteString.copyFromUtf8("v"))
                        .setLease(0x9999)
                        .build()));
    both(
        "time to live with keys (remaining TTL aside)",
        s ->
            s.lease()
                .leaseTimeToLive(
                    LeaseTimeToLiveRequest.newBuilder().setID(0x1234).setKeys(true).build())
                .map(
                    r ->
                        r.toBuilder()
                            .setTTL(r.getTTL() >= 58 && r.getTTL() <= 60 ? 1 : -99)
                            .build()));
    both(
        "time to live of an unknown lease",
        s -> s.lease().leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(0x9999).build()));
    both(
        "leases (in id order)",
        s ->
            s.lease()
                .leaseLeases(LeaseLeasesRequest.getDefaultInstance())
                .map(
                    r -> {
                      List<LeaseStatus> sorted = new ArrayList<>(r.getLeasesList());
                      sorted.sort(Comparator.comparingLong(LeaseStatus::getID));
                      return r.toBuilder().clearLeases().addAllLeases(sorted).build();
                    }));
    both("keep-alive", s -> keepAliveOnce(s.lease(), 0x1234));
    both("keep-alive of an unknown lease", s -> keepAliveOnce(s.lease(), 0x9999));
    both(
        "several keep-alives on one stream",
        s ->
            keepAlive(s.lease(), 0x1234, 0x9999, 0x2000)
                .map(
                    l ->
                        LeaseLeasesResponse.newBuilder()
                            .addAllLeases(
                                l.stream()
                                    .map(
                                        r ->
                                            LeaseStatus.newBuilder()
                                                .setID(r.getID() * 1000 + r.getTTL())
                                                .build())
                                    .toList())
                            .build()));
    both(
        "revoke",
        s -> s.lease().leaseRevoke(LeaseRevokeRequest.newBuilder().setID(0x1234).build()));
    both(
        "revoke again",
        s -> s.lease().leaseRevoke(LeaseRevokeRequest.newBuilder().setID(0x1234).build()));
    both(
        "the attached key is gone",
        s -> s.kv().range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).build()));
  }

  @Test
  void grantWithoutAnIdGetsAFreshPositiveOne() throws Exception {
    LeaseGrantResponse a = get(ours.lease().leaseGrant(grant(0, 30)));
    LeaseGrantResponse b = get(ours.lease().leaseGrant(grant(0, 30)));
    assertThat(a.getID()).isPositive();
    assertThat(b.getID()).isPositive().isNotEqualTo(a.getID());
    assertThat(a.getTTL()).isEqualTo(30);
    LeaseTimeToLiveResponse t =
        get(
            ours.lease()
                .leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(a.getID()).build()));
    assertThat(t.getGrantedTTL()).isEqualTo(30);
    assertThat(t.getTTL()).isBetween(28L, 30L);
  }
}
