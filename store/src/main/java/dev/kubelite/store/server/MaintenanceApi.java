package dev.kubelite.store.server;

import dev.kubelite.store.api.etcdserverpb.MaintenanceService;
import dev.kubelite.store.api.etcdserverpb.StatusRequest;
import dev.kubelite.store.api.etcdserverpb.StatusResponse;
import dev.kubelite.store.raft.driver.RaftDriver;
import io.vertx.core.Future;

/** etcd's Maintenance service: member status (snapshots, alarms and defrag come later). */
final class MaintenanceApi extends MaintenanceService {
  /**
   * The etcd API level we implement, reported as the server version: clients such as etcdctl choose
   * features by it.
   */
  static final String API_VERSION = "3.4.0";

  private final StoreMember member;

  MaintenanceApi(StoreMember member) {
    this.member = member;
  }

  @Override
  public Future<StatusResponse> status(StatusRequest request) {
    RaftDriver.Status raft = member.raftStatus();
    long db = member.mvcc().dbSizeBytes();
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
}
