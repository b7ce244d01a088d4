package dev.kubelite.store.server;

import dev.kubelite.store.api.etcdserverpb.ClusterService;
import dev.kubelite.store.api.etcdserverpb.MemberListRequest;
import dev.kubelite.store.api.etcdserverpb.MemberListResponse;
import io.vertx.core.Future;

/** etcd's Cluster service: membership as this member knows it (adding members comes later). */
final class ClusterApi extends ClusterService {
  private final StoreMember member;

  ClusterApi(StoreMember member) {
    this.member = member;
  }

  @Override
  public Future<MemberListResponse> memberList(MemberListRequest request) {
    return Future.succeededFuture(
        MemberListResponse.newBuilder()
            .setHeader(member.header())
            .addAllMembers(member.members())
            .build());
  }
}
