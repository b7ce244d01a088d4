package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.kubelite.store.api.etcdserverpb.AlarmRequest;
import dev.kubelite.store.api.etcdserverpb.AlarmType;
import dev.kubelite.store.api.etcdserverpb.CompactionRequest;
import dev.kubelite.store.api.etcdserverpb.DefragmentRequest;
import dev.kubelite.store.api.etcdserverpb.DeleteRangeRequest;
import dev.kubelite.store.api.etcdserverpb.HashKVRequest;
import dev.kubelite.store.api.etcdserverpb.KVGrpcClient;
import dev.kubelite.store.api.etcdserverpb.LeaseGrantRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseGrpcClient;
import dev.kubelite.store.api.etcdserverpb.LeaseRevokeRequest;
import dev.kubelite.store.api.etcdserverpb.MaintenanceGrpcClient;
import dev.kubelite.store.api.etcdserverpb.MoveLeaderRequest;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.etcdserverpb.RangeRequest;
import dev.kubelite.store.api.etcdserverpb.RequestOp;
import dev.kubelite.store.api.etcdserverpb.ResponseHeader;
import dev.kubelite.store.api.etcdserverpb.StatusRequest;
import dev.kubelite.store.api.etcdserverpb.StatusResponse;
import dev.kubelite.store.api.etcdserverpb.TxnRequest;
import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.FreePorts;
import dev.kubelite.store.testing.GrpcUnary;
import io.vertx.core.Vertx;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.ServiceMethod;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Maintenance API and the alarms' effect on writes, against a real etcd 3.4 and against our
 * store over the same gRPC calls: every response (less member and cluster ids) and every status
 * code and message must match, HashKV's hash included.
 */
class DifferentialMaintenanceTest {
  /** Both sides get this quota; the big-value test fills it. */
  private static final long QUOTA = 512 * 1024;

  @TempDir Path dir;

  private Vertx vertx;
  private GrpcClient grpc;
  private EtcdProcess etcd;
  private StoreServer ours;
  private int ourPort;

  @BeforeEach
  void start() throws Exception {
    etcd =
        EtcdProcess.start(
            dir, "etcd0", "diff-maint", List.of("--quota-backend-bytes", Long.toString(QUOTA)));
    ourPort = FreePorts.next();
    int peer = FreePorts.next();
    String c = "http://127.0.0.1:" + ourPort;
    String p = "http://127.0.0.1:" + peer;
    ours =
        StoreServer.start(
            MemberConfig.fromFlags(
                    "ours", dir.resolve("ours").toString(), c, c, p, p, null, null, "d")
                .withQuotaBackendBytes(QUOTA));
    vertx = Vertx.vertx();
    grpc = GrpcClient.client(vertx);
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(
            () ->
                GrpcUnary.call(
                            grpc,
                            ourPort,
                            KVGrpcClient.Range,
                            RangeRequest.newBuilder().setKey(bs("probe")).build())
                        .response()
                    != null);
  }

  @AfterEach
  void stop() throws Exception {
    if (grpc != null) {
      grpc.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (ours != null) {
      ours.close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  private static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  /** The outcome as text: the response less member-specific header fields, or the error. */
  private <Req, Resp extends Message> String outcome(
      int port, ServiceMethod<Resp, Req> method, Req request) throws Exception {
    GrpcUnary.Outcome<Resp> o = GrpcUnary.call(grpc, port, method, request);
    if (o.response() == null) {
      return o.error();
    }
    Message m = o.response();
    Message.Builder b = m.toBuilder();
    var header = b.getDescriptorForType().findFieldByName("header");
    String rev = "";
    if (header != null && m.hasField(header)) {
      rev = "rev=" + ((ResponseHeader) m.getField(header)).getRevision() + " ";
      b.clearField(header);
    }
    // Headers inside txn responses carry member ids too; keep their revision only.
    return rev
        + b.build()
            .toString()
            .replaceAll("header \\{[^}]*?revision: (\\d+)[^}]*\\}", "header{$1}")
            .replace("\n", " ");
  }

  private <Req, Resp extends Message> String both(
      String what, ServiceMethod<Resp, Req> method, Req request) throws Exception {
    String theirs = outcome(etcd.clientPort, method, request);
    String mine = outcome(ourPort, method, request);
    assertThat(mine).as("%s\netcd: %s\nours: %s", what, theirs, mine).isEqualTo(theirs);
    return mine;
  }

  /**
   * An Alarm call on both sides; the alarms compared as a set, since etcd lists them in Go map
   * order (ours are sorted by member id, then type).
   */
  private void bothAlarms(String what, AlarmRequest request) throws Exception {
    var theirs = GrpcUnary.call(grpc, etcd.clientPort, MaintenanceGrpcClient.Alarm, request);
    var mine = GrpcUnary.call(grpc, ourPort, MaintenanceGrpcClient.Alarm, request);
    assertThat(mine.error()).as(what).isEqualTo(theirs.error());
    if (theirs.response() != null) {
      assertThat(mine.response().getAlarmsList())
          .as("%s\netcd: %s\nours: %s", what, theirs.response(), mine.response())
          .containsExactlyInAnyOrderElementsOf(theirs.response().getAlarmsList());
      assertThat(mine.response().hasHeader()).isEqualTo(theirs.response().hasHeader());
    }
  }

  private static AlarmRequest alarm(AlarmRequest.AlarmAction action, long member, AlarmType t) {
    return AlarmRequest.newBuilder().setAction(action).setMemberID(member).setAlarm(t).build();
  }

  private static PutRequest put(String k, String v) {
    return PutRequest.newBuilder().setKey(bs(k)).setValue(bs(v)).build();
  }

  private static TxnRequest txn(RequestOp... ops) {
    return TxnRequest.newBuilder().addAllSuccess(List.of(ops)).build();
  }

  private String statusErrors(int port) throws Exception {
    StatusResponse s =
        GrpcUnary.call(grpc, port, MaintenanceGrpcClient.Status, StatusRequest.getDefaultInstance())
            .response();
    return s.getErrorsList().stream().sorted().toList().toString(); // etcd: map order
  }

  @Test
  void alarmsAndWhatTheyRefuseMatchEtcd() throws Exception {
    var activate = AlarmRequest.AlarmAction.ACTIVATE;
    var deactivate = AlarmRequest.AlarmAction.DEACTIVATE;
    var get = AlarmRequest.AlarmAction.GET;
    both("put", KVGrpcClient.Put, put("a", "1"));
    both(
        "lease grant",
        LeaseGrpcClient.LeaseGrant,
        LeaseGrantRequest.newBuilder().setID(77).setTTL(600).build());
    bothAlarms("list nothing", alarm(get, 0, AlarmType.NONE));
    bothAlarms("raise", alarm(activate, 42, AlarmType.NOSPACE));
    bothAlarms("raise again", alarm(activate, 42, AlarmType.NOSPACE));
    bothAlarms("raise for 43", alarm(activate, 43, AlarmType.NOSPACE));
    bothAlarms("raise NONE", alarm(activate, 44, AlarmType.NONE));
    bothAlarms("clear NONE", alarm(deactivate, 44, AlarmType.NONE));
    bothAlarms("clear what is not raised", alarm(deactivate, 45, AlarmType.CORRUPT));
    bothAlarms("list all", alarm(get, 0, AlarmType.NONE));
    bothAlarms("list NOSPACE", alarm(get, 99, AlarmType.NOSPACE));
    bothAlarms("list CORRUPT", alarm(get, 0, AlarmType.CORRUPT));
    assertThat(statusErrors(ourPort)).isEqualTo(statusErrors(etcd.clientPort));

    both("put while NOSPACE", KVGrpcClient.Put, put("b", "1"));
    both(
        "txn with a put",
        KVGrpcClient.Txn,
        txn(RequestOp.newBuilder().setRequestPut(put("b", "1")).build()));
    both(
        "txn with a delete",
        KVGrpcClient.Txn,
        txn(
            RequestOp.newBuilder()
                .setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(bs("zz")))
                .build()));
    both(
        "lease grant while NOSPACE",
        LeaseGrpcClient.LeaseGrant,
        LeaseGrantRequest.newBuilder().setID(78).setTTL(600).build());
    both("range", KVGrpcClient.Range, RangeRequest.newBuilder().setKey(bs("a")).build());
    both(
        "lease revoke",
        LeaseGrpcClient.LeaseRevoke,
        LeaseRevokeRequest.newBuilder().setID(77).build());
    both(
        "delete",
        KVGrpcClient.DeleteRange,
        DeleteRangeRequest.newBuilder().setKey(bs("a")).build());
    both("compact", KVGrpcClient.Compact, CompactionRequest.newBuilder().setRevision(2).build());
    both("defragment", MaintenanceGrpcClient.Defragment, DefragmentRequest.getDefaultInstance());

    bothAlarms("clear 42", alarm(deactivate, 42, AlarmType.NOSPACE));
    bothAlarms("clear 42 again", alarm(deactivate, 42, AlarmType.NOSPACE));
    both("put while 43's alarm", KVGrpcClient.Put, put("b", "1"));
    bothAlarms("clear 43", alarm(deactivate, 43, AlarmType.NOSPACE));
    both("put again", KVGrpcClient.Put, put("b", "2"));

    bothAlarms("corrupt", alarm(activate, 42, AlarmType.CORRUPT));
    both("put while CORRUPT", KVGrpcClient.Put, put("b", "3"));
    both(
        "delete while CORRUPT",
        KVGrpcClient.DeleteRange,
        DeleteRangeRequest.newBuilder().setKey(bs("b")).build());
    both(
        "range while CORRUPT",
        KVGrpcClient.Range,
        RangeRequest.newBuilder().setKey(bs("b")).build());
    assertThat(statusErrors(ourPort)).isEqualTo(statusErrors(etcd.clientPort));
    bothAlarms("clear corrupt", alarm(deactivate, 42, AlarmType.CORRUPT));
    both("put after", KVGrpcClient.Put, put("b", "4"));
    bothAlarms("list at the end", alarm(get, 0, AlarmType.NONE));
  }

  @Test
  void hashKvMatchesEtcdsHashForTheSameHistory() throws Exception {
    Random rng = new Random(11);
    String[] keys = {"a", "a/1", "b", "c", "foo"};
    both(
        "lease grant",
        LeaseGrpcClient.LeaseGrant,
        LeaseGrantRequest.newBuilder().setID(5).setTTL(600).build());
    for (int step = 0; step < 120; step++) {
      String k = keys[rng.nextInt(keys.length)];
      int kind = rng.nextInt(10);
      if (kind < 5) {
        PutRequest p = put(k, "v" + step).toBuilder().setLease(rng.nextInt(4) == 0 ? 5 : 0).build();
        both("put", KVGrpcClient.Put, p);
      } else if (kind < 7) {
        both(
            "delete",
            KVGrpcClient.DeleteRange,
            DeleteRangeRequest.newBuilder().setKey(bs(k)).build());
      } else if (kind < 8) {
        both(
            "txn",
            KVGrpcClient.Txn,
            txn(
                RequestOp.newBuilder().setRequestPut(put(k, "t" + step)).build(),
                RequestOp.newBuilder()
                    .setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(bs(k + "x")))
                    .build()));
      } else if (kind < 9 && step > 20) {
        long current =
            GrpcUnary.call(
                    grpc,
                    ourPort,
                    KVGrpcClient.Range,
                    RangeRequest.newBuilder().setKey(bs("zz")).build())
                .response()
                .getHeader()
                .getRevision();
        both(
            "compact",
            KVGrpcClient.Compact,
            CompactionRequest.newBuilder().setRevision(current - rng.nextInt(5)).build());
      }
      if (step % 10 == 9) {
        both("hashkv", MaintenanceGrpcClient.HashKV, HashKVRequest.getDefaultInstance());
        both(
            "hashkv at a past revision",
            MaintenanceGrpcClient.HashKV,
            HashKVRequest.newBuilder().setRevision(1 + rng.nextInt(step + 2)).build());
      }
    }
    both(
        "lease revoke deletes its keys",
        LeaseGrpcClient.LeaseRevoke,
        LeaseRevokeRequest.newBuilder().setID(5).build());
    both("hashkv after revoke", MaintenanceGrpcClient.HashKV, HashKVRequest.getDefaultInstance());
    both(
        "hashkv of a negative revision",
        MaintenanceGrpcClient.HashKV,
        HashKVRequest.newBuilder().setRevision(-3).build());
    both(
        "hashkv of the future",
        MaintenanceGrpcClient.HashKV,
        HashKVRequest.newBuilder().setRevision(100_000).build());
  }

  @Test
  void quotaAndMoveLeaderErrorsMatchEtcd() throws Exception {
    // Fill both past the same quota: the refusal, then what the alarm refuses, are etcd's.
    String big = "x".repeat(100_000);
    boolean etcdFull = false;
    boolean oursFull = false;
    for (int i = 0; i < 30 && !(etcdFull && oursFull); i++) {
      PutRequest p = put("big" + i, big);
      if (!etcdFull) {
        String e = outcome(etcd.clientPort, KVGrpcClient.Put, p);
        etcdFull = !e.startsWith("rev=");
        if (etcdFull) {
          assertThat(e).isEqualTo("RESOURCE_EXHAUSTED: etcdserver: mvcc: database space exceeded");
        }
      }
      if (!oursFull) {
        String o = outcome(ourPort, KVGrpcClient.Put, p);
        oursFull = !o.startsWith("rev=");
        if (oursFull) {
          assertThat(o).isEqualTo("RESOURCE_EXHAUSTED: etcdserver: mvcc: database space exceeded");
        }
      }
    }
    assertThat(etcdFull).isTrue();
    assertThat(oursFull).isTrue();
    String etcdAlarms = statusErrors(etcd.clientPort);
    String ourAlarms = statusErrors(ourPort);
    long etcdId = etcdMemberId();
    assertThat(ourAlarms.replace(Long.toUnsignedString(ours.member().memberId()), "ID"))
        .isEqualTo(etcdAlarms.replace(Long.toUnsignedString(etcdId), "ID"));
    both("put while full", KVGrpcClient.Put, put("s", "1"));

    both(
        "move leader to an unknown member",
        MaintenanceGrpcClient.MoveLeader,
        MoveLeaderRequest.newBuilder().setTargetID(12345).build());
    String toSelfEtcd =
        outcome(
            etcd.clientPort,
            MaintenanceGrpcClient.MoveLeader,
            MoveLeaderRequest.newBuilder().setTargetID(etcdId).build());
    String toSelfOurs =
        outcome(
            ourPort,
            MaintenanceGrpcClient.MoveLeader,
            MoveLeaderRequest.newBuilder().setTargetID(ours.member().memberId()).build());
    assertThat(toSelfOurs).as("an empty response: success").isEqualTo(toSelfEtcd).isEmpty();
  }

  private long etcdMemberId() throws Exception {
    return GrpcUnary.call(
            grpc, etcd.clientPort, MaintenanceGrpcClient.Status, StatusRequest.getDefaultInstance())
        .response()
        .getHeader()
        .getMemberId();
  }
}
