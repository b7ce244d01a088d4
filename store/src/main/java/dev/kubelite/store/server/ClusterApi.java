package dev.kubelite.store.server;

import dev.kubelite.store.api.etcdserverpb.ClusterService;
import dev.kubelite.store.api.etcdserverpb.Member;
import dev.kubelite.store.api.etcdserverpb.MemberAddRequest;
import dev.kubelite.store.api.etcdserverpb.MemberAddResponse;
import dev.kubelite.store.api.etcdserverpb.MemberListRequest;
import dev.kubelite.store.api.etcdserverpb.MemberListResponse;
import dev.kubelite.store.api.etcdserverpb.MemberPromoteRequest;
import dev.kubelite.store.api.etcdserverpb.MemberPromoteResponse;
import dev.kubelite.store.api.etcdserverpb.MemberRemoveRequest;
import dev.kubelite.store.api.etcdserverpb.MemberRemoveResponse;
import dev.kubelite.store.raft.ConfChange;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * etcd's Cluster service. Membership changes go through Raft one at a time; a member added at
 * runtime gets the id computed from its peer URLs and the cluster token (so the new member, started
 * with {@code --initial-cluster-state existing}, derives the same id from its own flags).
 */
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

  @Override
  public Future<MemberAddResponse> memberAdd(MemberAddRequest request) {
    List<URI> urls = new ArrayList<>();
    try {
      for (String u : request.getPeerURLsList()) {
        urls.addAll(MemberConfig.urls("peer URL", u));
      }
    } catch (MemberConfig.InvalidConfigException e) {
      return Future.failedFuture(
          EtcdErrors.of(GrpcStatus.INVALID_ARGUMENT, "etcdserver: " + e.getMessage()));
    }
    if (urls.isEmpty()) {
      return Future.failedFuture(
          EtcdErrors.of(GrpcStatus.INVALID_ARGUMENT, "etcdserver: member has no peer URLs"));
    }
    for (Member m : member.members()) {
      for (String existing : m.getPeerURLsList()) {
        if (request.getPeerURLsList().contains(existing)) {
          return Future.failedFuture(
              EtcdErrors.of(
                  GrpcStatus.FAILED_PRECONDITION, "etcdserver: Peer URLs already exists"));
        }
      }
    }
    long id = MemberIds.memberId(urls, member.config().initialClusterToken(), null);
    ConfChange change =
        new ConfChange(
            request.getIsLearner() ? ConfChange.Type.ADD_LEARNER : ConfChange.Type.ADD_VOTER,
            id,
            StoreMember.newMemberAttributes(request.getPeerURLsList()).toByteArray());
    return Grpc.future(
        member
            .changeMembership(change)
            .thenApply(
                v ->
                    MemberAddResponse.newBuilder()
                        .setHeader(member.header())
                        .setMember(
                            Member.newBuilder()
                                .setID(id)
                                .addAllPeerURLs(request.getPeerURLsList())
                                .setIsLearner(request.getIsLearner()))
                        .addAllMembers(member.members())
                        .build()));
  }

  @Override
  public Future<MemberRemoveResponse> memberRemove(MemberRemoveRequest request) {
    if (find(request.getID()) == null) {
      return Future.failedFuture(notFound());
    }
    return Grpc.future(
        member
            .changeMembership(new ConfChange(ConfChange.Type.REMOVE_NODE, request.getID()))
            .thenApply(
                v ->
                    MemberRemoveResponse.newBuilder()
                        .setHeader(member.header())
                        .addAllMembers(member.members())
                        .build()));
  }

  @Override
  public Future<MemberPromoteResponse> memberPromote(MemberPromoteRequest request) {
    Member m = find(request.getID());
    if (m == null) {
      return Future.failedFuture(notFound());
    }
    if (!m.getIsLearner()) {
      return Future.failedFuture(
          EtcdErrors.of(
              GrpcStatus.FAILED_PRECONDITION, "etcdserver: can only promote a learner member"));
    }
    return Grpc.future(
        member
            .changeMembership(new ConfChange(ConfChange.Type.ADD_VOTER, request.getID()))
            .thenApply(
                v ->
                    MemberPromoteResponse.newBuilder()
                        .setHeader(member.header())
                        .addAllMembers(member.members())
                        .build()));
  }

  private Member find(long id) {
    for (Member m : member.members()) {
      if (m.getID() == id) {
        return m;
      }
    }
    return null;
  }

  private static io.vertx.grpc.server.StatusException notFound() {
    return EtcdErrors.of(GrpcStatus.NOT_FOUND, "etcdserver: member not found");
  }
}
