package dev.kubelite.store.server;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.LeaseGrantRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseGrantResponse;
import dev.kubelite.store.api.etcdserverpb.LeaseGrpcClient;
import dev.kubelite.store.api.etcdserverpb.LeaseKeepAliveRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseKeepAliveResponse;
import dev.kubelite.store.api.etcdserverpb.LeaseLeasesRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseLeasesResponse;
import dev.kubelite.store.api.etcdserverpb.LeaseRevokeRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseRevokeResponse;
import dev.kubelite.store.api.etcdserverpb.LeaseService;
import dev.kubelite.store.api.etcdserverpb.LeaseStatus;
import dev.kubelite.store.api.etcdserverpb.LeaseTimeToLiveRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseTimeToLiveResponse;
import dev.kubelite.store.api.etcdserverpb.Member;
import dev.kubelite.store.api.kubelitepb.ClientRequestId;
import dev.kubelite.store.api.kubelitepb.InternalRequest;
import dev.kubelite.store.mvcc.Responses;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * etcd's Lease service. Grants and revocations go through Raft; renewals and remaining TTLs are the
 * leader's in-memory business ({@link Lessor}), so a follower forwards them to the leader's client
 * URL (decision 0009), as etcd forwards them to the leader's peer URL.
 */
final class LeaseApi extends LeaseService {
  /** How long a follower keeps trying to reach a leader for one renewal (etcd: ReqTimeout). */
  private static final long FORWARD_TIMEOUT_MS = StoreMember.REQUEST_TIMEOUT.toMillis();

  private static final long FORWARD_RETRY_MS = 100;

  private final StoreMember member;
  private final Lessor lessor;
  private final GrpcClient client;
  private final Context forwarding;
  private volatile boolean closed;

  LeaseApi(StoreMember member, Lessor lessor, Vertx vertx) {
    this.member = member;
    this.lessor = lessor;
    this.client = member.newMemberClient(new io.vertx.grpc.client.GrpcClientOptions());
    this.forwarding = vertx.getOrCreateContext();
  }

  @Override
  public Future<LeaseGrantResponse> leaseGrant(LeaseGrantRequest r) {
    return leaseGrant(r, java.util.Optional.empty());
  }

  /**
   * A grant with the client's request id, if it sent one. Its fingerprint is taken from the request
   * as sent, before a lease id is chosen, so a retry (which gets another chosen id) is recognised
   * and answered with the lease the first attempt granted.
   */
  Future<LeaseGrantResponse> leaseGrant(
      LeaseGrantRequest r, java.util.Optional<ClientRequestId> clientRequest) {
    // The id is chosen here, before proposing, so every member applies the same one; the minimum
    // TTL is applied here too (etcd's lessor does it on apply; every member has the same minimum).
    long id = r.getID() == 0 ? lessor.nextId() : r.getID();
    long ttl = Math.max(r.getTTL(), lessor.minTtlSeconds());
    LeaseGrantRequest req = r.toBuilder().setID(id).setTTL(ttl).build();
    InternalRequest.Builder entry = InternalRequest.newBuilder().setLeaseGrant(req);
    clientRequest.ifPresent(
        c ->
            entry.setClientRequest(
                c.toBuilder()
                    .setFingerprint(
                        ClientRequestIds.fingerprint(
                            InternalRequest.newBuilder().setLeaseGrant(r)))));
    return Grpc.future(
        BackendQuota.check(member, BackendQuota.LEASE_OVERHEAD)
            .thenCompose(x -> member.write(entry))
            .thenApply(
                resp -> {
                  Responses.LeaseGrantResponse g = (Responses.LeaseGrantResponse) resp;
                  if (member.mvcc().leaseTtl(g.id()).isPresent()) {
                    // (A retry answered from the request table may name a lease since revoked.)
                    lessor.granted(g.id(), g.ttlSeconds());
                  }
                  return LeaseGrantResponse.newBuilder()
                      .setHeader(member.header(g.revision()))
                      .setID(g.id())
                      .setTTL(g.ttlSeconds())
                      .build();
                }));
  }

  @Override
  public Future<LeaseRevokeResponse> leaseRevoke(LeaseRevokeRequest r) {
    return leaseRevoke(r, java.util.Optional.empty());
  }

  Future<LeaseRevokeResponse> leaseRevoke(
      LeaseRevokeRequest r, java.util.Optional<ClientRequestId> clientRequest) {
    InternalRequest.Builder entry = InternalRequest.newBuilder().setLeaseRevoke(r);
    clientRequest.ifPresent(entry::setClientRequest);
    return Grpc.future(
        member
            .write(entry)
            .thenApply(
                resp -> {
                  Responses.LeaseRevokeResponse v = (Responses.LeaseRevokeResponse) resp;
                  lessor.revoked(r.getID());
                  return LeaseRevokeResponse.newBuilder()
                      .setHeader(member.header(v.revision()))
                      .build();
                }));
  }

  @Override
  public Future<LeaseTimeToLiveResponse> leaseTimeToLive(LeaseTimeToLiveRequest r) {
    return Grpc.future(
        onLeader(
                () -> {
                  long remaining = lessor.remainingSeconds(r.getID());
                  if (remaining == Lessor.NOT_PRIMARY) {
                    return null;
                  }
                  return CompletableFuture.completedFuture(timeToLive(r, remaining));
                },
                leader -> leader.leaseTimeToLive(r))
            .thenApply(resp -> resp.toBuilder().setHeader(member.header()).build()));
  }

  private LeaseTimeToLiveResponse timeToLive(LeaseTimeToLiveRequest r, long remaining) {
    LeaseTimeToLiveResponse.Builder b = LeaseTimeToLiveResponse.newBuilder().setID(r.getID());
    var granted = member.mvcc().leaseTtl(r.getID());
    if (remaining < 0 || granted.isEmpty()) {
      return b.setTTL(-1).build(); // etcd's answer for a lease it does not know
    }
    b.setTTL(remaining).setGrantedTTL(granted.get());
    if (r.getKeys()) {
      member.mvcc().leaseKeys(r.getID()).forEach(k -> b.addKeys(ByteString.copyFrom(k)));
    }
    return b.build();
  }

  @Override
  public Future<LeaseLeasesResponse> leaseLeases(LeaseLeasesRequest r) {
    LeaseLeasesResponse.Builder b = LeaseLeasesResponse.newBuilder().setHeader(member.header());
    member.mvcc().leases().keySet().stream()
        .sorted()
        .forEach(id -> b.addLeases(LeaseStatus.newBuilder().setID(id)));
    return Future.succeededFuture(b.build());
  }

  @Override
  protected void leaseKeepAlive(
      ReadStream<LeaseKeepAliveRequest> requests, WriteStream<LeaseKeepAliveResponse> responses) {
    Context ctx = Vertx.currentContext();
    // Answers go out in request order: each renewal waits for the one before it.
    CompletableFuture<?>[] tail = {CompletableFuture.completedFuture(null)};
    boolean[] failed = {false};
    requests.handler(
        req ->
            tail[0] =
                tail[0]
                    .thenCompose(x -> renew(req.getID()))
                    .whenComplete(
                        (ttl, err) ->
                            ctx.runOnContext(
                                v -> {
                                  if (failed[0]) {
                                    return;
                                  }
                                  if (err != null) {
                                    // As etcd: a renewal that cannot reach a leader ends the
                                    // stream with the error; the client opens a new one.
                                    failed[0] = true;
                                    responses.end();
                                    return;
                                  }
                                  responses.write(
                                      LeaseKeepAliveResponse.newBuilder()
                                          .setHeader(member.header())
                                          .setID(req.getID())
                                          .setTTL(ttl)
                                          .build());
                                })));
    requests.endHandler(
        v ->
            tail[0].whenComplete(
                (x, err) ->
                    ctx.runOnContext(
                        w -> {
                          if (!failed[0]) {
                            failed[0] = true;
                            responses.end();
                          }
                        })));
  }

  /** The lease's TTL after renewing it, on the leader (this member or another), 0 if unknown. */
  private CompletableFuture<Long> renew(long id) {
    return onLeader(
        () -> {
          long ttl = lessor.renew(id);
          return ttl == Lessor.NOT_PRIMARY ? null : CompletableFuture.completedFuture(ttl);
        },
        leader -> renewOn(leader, id));
  }

  private static Future<Long> renewOn(LeaseGrpcClient leader, long id) {
    Promise<LeaseKeepAliveResponse> answer = Promise.promise();
    leader
        .leaseKeepAlive(
            (requests, err) -> {
              if (err == null) {
                requests.write(LeaseKeepAliveRequest.newBuilder().setID(id).build());
                requests.end();
              }
            })
        .onFailure(answer::tryFail)
        .onSuccess(
            stream -> {
              stream.handler(answer::tryComplete);
              stream.exceptionHandler(answer::tryFail);
              stream.endHandler(
                  v ->
                      answer.tryFail(
                          EtcdErrors.of(GrpcStatus.UNAVAILABLE, "leader ended keep-alive stream")));
            });
    return answer.future().map(LeaseKeepAliveResponse::getTTL);
  }

  /**
   * Runs {@code local} if this member is the leader (it returns null when it is not), else {@code
   * remote} against the leader's client URL; retries while there is no reachable leader, for up to
   * the request timeout.
   */
  private <T> CompletableFuture<T> onLeader(
      Supplier<CompletableFuture<T>> local, Function<LeaseGrpcClient, Future<T>> remote) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FORWARD_TIMEOUT_MS);
    CompletableFuture<T> result = new CompletableFuture<>();
    attempt(local, remote, deadline, result);
    return result;
  }

  private <T> void attempt(
      Supplier<CompletableFuture<T>> local,
      Function<LeaseGrpcClient, Future<T>> remote,
      long deadline,
      CompletableFuture<T> result) {
    CompletableFuture<T> here = local.get();
    if (here != null) {
      here.whenComplete(
          (v, err) -> {
            if (err != null) {
              result.completeExceptionally(err);
            } else {
              result.complete(v);
            }
          });
      return;
    }
    LeaseGrpcClient leader = leaderClient();
    Future<T> there =
        leader == null
            ? Future.failedFuture(EtcdErrors.of(GrpcStatus.UNAVAILABLE, EtcdErrors.NO_LEADER))
            : onForwardingContext(() -> remote.apply(leader));
    there.onComplete(
        (v, err) -> {
          if (err == null) {
            result.complete(v);
          } else if (System.nanoTime() - deadline >= 0 || closed) {
            result.completeExceptionally(
                EtcdErrors.of(GrpcStatus.UNAVAILABLE, EtcdErrors.NO_LEADER));
          } else {
            CompletableFuture.delayedExecutor(FORWARD_RETRY_MS, TimeUnit.MILLISECONDS)
                .execute(() -> attempt(local, remote, deadline, result));
          }
        });
  }

  /**
   * Runs a forwarded call on one Vert.x context, so its response stream's handlers are set on the
   * thread that delivers its messages, before any arrive.
   */
  private <T> Future<T> onForwardingContext(Supplier<Future<T>> call) {
    Promise<T> p = Promise.promise();
    forwarding.runOnContext(v -> call.get().onComplete(p));
    return p.future();
  }

  /** A client for the leader's first client URL, or null if there is none (yet). */
  private LeaseGrpcClient leaderClient() {
    long leader = member.raftStatus().leader();
    if (leader == 0 || leader == member.memberId()) {
      return null; // no leader, or we are becoming it: try again shortly
    }
    for (Member m : member.members()) {
      if (m.getID() == leader && m.getClientURLsCount() > 0) {
        URI u = URI.create(m.getClientURLs(0));
        return LeaseGrpcClient.create(
            client, SocketAddress.inetSocketAddress(u.getPort(), u.getHost()));
      }
    }
    return null;
  }

  void close() {
    closed = true;
    client.close();
  }
}
