package dev.kubelite.store.server;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.MaintenanceService;
import dev.kubelite.store.api.etcdserverpb.SnapshotRequest;
import dev.kubelite.store.api.etcdserverpb.SnapshotResponse;
import dev.kubelite.store.api.etcdserverpb.StatusRequest;
import dev.kubelite.store.api.etcdserverpb.StatusResponse;
import dev.kubelite.store.mvcc.MvccException;
import dev.kubelite.store.mvcc.MvccStore;
import dev.kubelite.store.raft.driver.RaftDriver;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.streams.WriteStream;
import io.vertx.grpc.server.GrpcServerResponse;

/** etcd's Maintenance service: member status and snapshots (alarms and defrag come later). */
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

  @Override
  public Future<StatusResponse> status(StatusRequest request) {
    RaftDriver.Status raft = member.raftStatus();
    long db;
    try {
      db = member.withMvcc(MvccStore::dbSizeBytes);
    } catch (MvccException e) {
      return Future.failedFuture(EtcdErrors.of(e));
    }
    return Future.succeededFuture(
        StatusResponse.newBuilder()
            .setHeader(member.header())
            .setVersion(API_VERSION)
            .setDbSize(db)
            .setDbSizeInUse(db)
            .setLeader(raft.leader())
            .setRaftIndex(raft.commitIndex())
            .setRaftTerm(raft.term())
            .setRaftAppliedIndex(raft.appliedIndex())
            .setIsLearner(raft.conf().learners().contains(member.memberId()))
            .build());
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
