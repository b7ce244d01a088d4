package dev.kubelite.store.server;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.AlarmRequest;
import dev.kubelite.store.api.etcdserverpb.AlarmResponse;
import dev.kubelite.store.api.etcdserverpb.DefragmentRequest;
import dev.kubelite.store.api.etcdserverpb.DefragmentResponse;
import dev.kubelite.store.api.etcdserverpb.HashKVRequest;
import dev.kubelite.store.api.etcdserverpb.HashKVResponse;
import dev.kubelite.store.api.etcdserverpb.HashRequest;
import dev.kubelite.store.api.etcdserverpb.HashResponse;
import dev.kubelite.store.api.etcdserverpb.MaintenanceService;
import dev.kubelite.store.api.etcdserverpb.MoveLeaderRequest;
import dev.kubelite.store.api.etcdserverpb.MoveLeaderResponse;
import dev.kubelite.store.api.etcdserverpb.SnapshotRequest;
import dev.kubelite.store.api.etcdserverpb.SnapshotResponse;
import dev.kubelite.store.api.etcdserverpb.StatusRequest;
import dev.kubelite.store.api.etcdserverpb.StatusResponse;
import dev.kubelite.store.api.kubelitepb.InternalRequest;
import dev.kubelite.store.mvcc.Alarm;
import dev.kubelite.store.mvcc.MvccStore;
import dev.kubelite.store.mvcc.Responses;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.streams.WriteStream;
import io.vertx.grpc.server.GrpcServerResponse;

/**
 * etcd's Maintenance service: status, snapshots, alarms (the NOSPACE quota alarm), defragmentation,
 * hashes, leadership transfer. See docs/store.md.
 */
final class MaintenanceApi extends MaintenanceService {
  /**
   * The etcd API level we implement, reported as the server version: clients such as etcdctl choose
   * features by it.
   */
  static final String API_VERSION = "3.4.0";

  /** Bytes per SnapshotResponse, as etcd sends them. */
  static final int SNAPSHOT_CHUNK_BYTES = 32 * 1024;

  private final StoreMember member;

  MaintenanceApi(StoreMember member) {
    this.member = member;
  }

  /** Answered from memory, never blocking: {@link StoreMember#status}. */
  @Override
  public Future<StatusResponse> status(StatusRequest request) {
    return Future.succeededFuture(member.status());
  }

  /**
   * GET lists the active alarms of the requested type (NONE: all) after a ReadIndex round; ACTIVATE
   * and DEACTIVATE go through Raft like a write and answer the alarm they changed (none when
   * deactivating an alarm that is not active), as etcd's applier does. Like etcd 3.4's, the
   * response carries no header.
   */
  @Override
  public Future<AlarmResponse> alarm(AlarmRequest r) {
    if (r.getAction() == AlarmRequest.AlarmAction.GET) {
      return Grpc.future(member.read(false, mvcc -> alarmResponse(mvcc.alarms(r.getAlarmValue()))));
    }
    return Grpc.future(
        member
            .write(InternalRequest.newBuilder().setAlarm(r))
            .thenApply(resp -> alarmResponse(((Responses.AlarmResponse) resp).alarms())));
  }

  private static AlarmResponse alarmResponse(java.util.List<Alarm> alarms) {
    AlarmResponse.Builder b = AlarmResponse.newBuilder();
    alarms.forEach(a -> b.addAlarms(EtcdMapping.alarmMember(a)));
    return b.build();
  }

  /**
   * Defragments this member only (as etcd), on the member's defragmentation thread; the response is
   * empty, as etcd's.
   */
  @Override
  public Future<DefragmentResponse> defragment(DefragmentRequest request) {
    return Grpc.future(member.defragment().thenApply(v -> DefragmentResponse.getDefaultInstance()));
  }

  /** A hash of this member's whole backend ({@link MvccStore#hash}), computed off the loop. */
  @Override
  public Future<HashResponse> hash(HashRequest request) {
    return Grpc.future(
        member.read(
            true,
            mvcc -> {
              MvccStore.HashResult h = mvcc.hash();
              return HashResponse.newBuilder()
                  .setHeader(member.header(h.revision()))
                  .setHash(h.hash())
                  .build();
            }));
  }

  /**
   * etcd's HashKV on this member's local state ({@link MvccStore#hashKv}), computed off the loop.
   */
  @Override
  public Future<HashKVResponse> hashKV(HashKVRequest request) {
    return Grpc.future(
        member.read(
            true,
            mvcc -> {
              MvccStore.HashResult h = mvcc.hashKv(request.getRevision());
              return HashKVResponse.newBuilder()
                  .setHeader(member.header(h.revision()))
                  .setHash(h.hash())
                  .setCompactRevision(h.compactRevision())
                  .build();
            }));
  }

  /**
   * etcd's MoveLeader: must be sent to the leader; answers (an empty response, as etcd's) once the
   * target leads.
   */
  @Override
  public Future<MoveLeaderResponse> moveLeader(MoveLeaderRequest request) {
    return Grpc.future(
        member
            .moveLeader(request.getTargetID())
            .thenApply(v -> MoveLeaderResponse.getDefaultInstance()));
  }

  /**
   * Streams a {@link StateImage} of this member's state (not etcd's bbolt file: see docs/store.md)
   * in {@link #SNAPSHOT_CHUNK_BYTES} chunks, each with the bytes still to come, honouring the
   * client's flow control. The image is built on a worker thread.
   */
  @Override
  protected void snapshot(SnapshotRequest request, WriteStream<SnapshotResponse> response) {
    Context ctx = Vertx.currentContext();
    ctx.executeBlocking(member::stateImage, false)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                if (response instanceof GrpcServerResponse<?, ?> r) {
                  r.fail(Grpc.asStatus(ar.cause()));
                } else {
                  response.end();
                }
                return;
              }
              new Sender(ar.result(), response).send();
            });
  }

  private final class Sender {
    private final byte[] image;
    private final WriteStream<SnapshotResponse> out;
    private int sent;

    Sender(byte[] image, WriteStream<SnapshotResponse> out) {
      this.image = image;
      this.out = out;
    }

    void send() {
      while (sent < image.length) {
        if (out.writeQueueFull()) {
          out.drainHandler(v -> send());
          return;
        }
        int n = Math.min(SNAPSHOT_CHUNK_BYTES, image.length - sent);
        SnapshotResponse.Builder b =
            SnapshotResponse.newBuilder()
                .setBlob(ByteString.copyFrom(image, sent, n))
                .setRemainingBytes(image.length - sent - n);
        if (sent == 0) {
          b.setHeader(member.header());
        }
        sent += n;
        out.write(b.build());
      }
      out.end();
    }
  }
}
