package dev.kubelite.store.server;

import dev.kubelite.store.api.etcdserverpb.ClusterGrpcClient;
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
import dev.kubelite.store.api.etcdserverpb.MemberUpdateRequest;
import dev.kubelite.store.api.etcdserverpb.MemberUpdateResponse;
import dev.kubelite.store.api.kubelitepb.InternalRequest;
import dev.kubelite.store.raft.ConfChange;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
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
  /** etcd's readyPercent: a learner may be promoted once its match index is 90% of the leader's. */
  static final double PROMOTE_READY_FRACTION = 0.9;

  private static final long LEADER_RETRY_MS = 100;

  private final StoreMember member;
  private final Vertx vertx;
  private final GrpcClient client;

  ClusterApi(StoreMember member, Vertx vertx) {
    this.member = member;
    this.vertx = vertx;
    this.client =
        member.newMemberClient(new GrpcClientOptions().setScheduleDeadlineAutomatically(true));
  }

  void close() {
    client.close();
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
    List<URI> urls;
    try {
      urls = peerUrls(request.getPeerURLsList());
    } catch (io.vertx.grpc.server.StatusException e) {
      return Future.failedFuture(e);
    }
    if (peerUrlsUsed(request.getPeerURLsList(), 0)) {
      return Future.failedFuture(
          EtcdErrors.of(GrpcStatus.FAILED_PRECONDITION, EtcdErrors.PEER_URL_EXISTS));
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

  /**
   * etcd's member update: new peer URLs for a member, through the log (checked again on apply), so
   * every member's registry and peer connection move to them. The member itself must then be
   * restarted listening on the new URLs, as with etcd.
   */
  @Override
  public Future<MemberUpdateResponse> memberUpdate(MemberUpdateRequest request) {
    try {
      peerUrls(request.getPeerURLsList());
    } catch (io.vertx.grpc.server.StatusException e) {
      return Future.failedFuture(e);
    }
    if (find(request.getID()) == null) {
      return Future.failedFuture(notFound());
    }
    if (peerUrlsUsed(request.getPeerURLsList(), request.getID())) {
      return Future.failedFuture(
          EtcdErrors.of(GrpcStatus.FAILED_PRECONDITION, EtcdErrors.PEER_URL_EXISTS));
    }
    return Grpc.future(
        member
            .write(
                InternalRequest.newBuilder()
                    .setMemberUpdate(
                        dev.kubelite.store.api.kubelitepb.MemberUpdateRequest.newBuilder()
                            .setMemberId(request.getID())
                            .addAllPeerUrls(request.getPeerURLsList())))
            .thenApply(
                v ->
                    MemberUpdateResponse.newBuilder()
                        .setHeader(member.header())
                        .addAllMembers(member.members())
                        .build()));
  }

  /**
   * etcd 3.4's promote: only the leader knows whether the learner caught up (its match index at
   * least 90% of the leader's), so a follower forwards the request to the leader and relays its
   * answer, as etcd forwards it over the peer URL.
   */
  @Override
  public Future<MemberPromoteResponse> memberPromote(MemberPromoteRequest request) {
    Member m = find(request.getID());
    if (m == null) {
      return Future.failedFuture(notFound());
    }
    if (!m.getIsLearner()) {
      return Future.failedFuture(
          EtcdErrors.of(GrpcStatus.FAILED_PRECONDITION, EtcdErrors.NOT_LEARNER));
    }
    if (member.raftStatus().leader() != member.memberId()) {
      return forwardPromote(request);
    }
    return Grpc.future(member.leaderMatch(request.getID()))
        .compose(
            match -> {
              if (match == null) {
                return forwardPromote(request); // no longer the leader
              }
              if (match.peer() < match.leader() * PROMOTE_READY_FRACTION) {
                return Future.failedFuture(
                    EtcdErrors.of(GrpcStatus.FAILED_PRECONDITION, EtcdErrors.LEARNER_NOT_READY));
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
            });
  }

  private Future<MemberPromoteResponse> forwardPromote(MemberPromoteRequest request) {
    return forwardPromote(request, System.nanoTime() + StoreMember.REQUEST_TIMEOUT.toNanos());
  }

  /** Forwards to the leader, waiting for one (as etcd does) until {@code deadline}. */
  private Future<MemberPromoteResponse> forwardPromote(
      MemberPromoteRequest request, long deadline) {
    long leader = member.raftStatus().leader();
    if (leader != 0 && leader != member.memberId()) {
      for (Member m : member.members()) {
        if (m.getID() == leader && m.getClientURLsCount() > 0) {
          URI u = URI.create(m.getClientURLs(0));
          return Grpc.call(
                  client,
                  SocketAddress.inetSocketAddress(u.getPort(), u.getHost()),
                  ClusterGrpcClient.MemberPromote,
                  request,
                  StoreMember.REQUEST_TIMEOUT.toMillis())
              .map(r -> r.toBuilder().setHeader(member.header()).build());
        }
      }
    }
    if (leader == member.memberId()) {
      return memberPromote(request); // became the leader meanwhile
    }
    if (System.nanoTime() - deadline >= 0) {
      return Future.failedFuture(EtcdErrors.of(GrpcStatus.UNAVAILABLE, EtcdErrors.NO_LEADER));
    }
    io.vertx.core.Promise<MemberPromoteResponse> later = io.vertx.core.Promise.promise();
    vertx.setTimer(LEADER_RETRY_MS, t -> forwardPromote(request, deadline).onComplete(later));
    return later.future();
  }

  /** Parses peer URLs as member add and update take them: INVALID_ARGUMENT if bad or none. */
  private static List<URI> peerUrls(List<String> given)
      throws io.vertx.grpc.server.StatusException {
    List<URI> urls = new ArrayList<>();
    try {
      for (String u : given) {
        urls.addAll(MemberConfig.urls("peer URL", u));
      }
    } catch (MemberConfig.InvalidConfigException e) {
      throw EtcdErrors.of(GrpcStatus.INVALID_ARGUMENT, "etcdserver: " + e.getMessage());
    }
    if (urls.isEmpty()) {
      throw EtcdErrors.of(GrpcStatus.INVALID_ARGUMENT, "etcdserver: member has no peer URLs");
    }
    return urls;
  }

  /** Whether a member other than {@code except} already has one of {@code urls}. */
  private boolean peerUrlsUsed(List<String> urls, long except) {
    for (Member m : member.members()) {
      if (m.getID() != except && m.getPeerURLsList().stream().anyMatch(urls::contains)) {
        return true;
      }
    }
    return false;
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
    return EtcdErrors.of(GrpcStatus.NOT_FOUND, EtcdErrors.MEMBER_NOT_FOUND);
  }
}
