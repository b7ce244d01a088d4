package dev.kubelite.store.client;

import dev.kubelite.store.api.etcdserverpb.MaintenanceGrpcClient;
import dev.kubelite.store.api.etcdserverpb.Member;
import dev.kubelite.store.api.etcdserverpb.StatusRequest;
import dev.kubelite.store.api.etcdserverpb.StatusResponse;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Builds a {@link StoreStatus} the way {@code etcdctl endpoint status --cluster} does: the member
 * list, then every member's Maintenance.Status asked at its first client URL (in parallel, each
 * with its own deadline; a member that cannot be asked gets an error instead of failing the whole
 * answer). Shared by {@link RemoteKvStore} and {@link EmbeddedKvStore}.
 */
final class ClusterStatus {
  /** How long one member's Status may take. */
  static final Duration MEMBER_STATUS_TIMEOUT = Duration.ofSeconds(3);

  private ClusterStatus() {}

  /**
   * The status from {@code first} (a Status answer from some member) and {@code members} (a
   * MemberList answer); every other member is asked through {@code statusAt} (given its first
   * client URL). The compact revision is left {@link StoreStatus#UNKNOWN}.
   */
  static CompletableFuture<StoreStatus> collect(
      StatusResponse first,
      List<Member> members,
      Function<String, CompletableFuture<StatusResponse>> statusAt) {
    long answeredBy = first.getHeader().getMemberId();
    List<Member> sorted = new ArrayList<>(members);
    sorted.sort(Comparator.comparing(Member::getName).thenComparingLong(Member::getID));
    List<CompletableFuture<StoreStatus.MemberStatus>> asked = new ArrayList<>();
    for (Member m : sorted) {
      String url = m.getClientURLsCount() == 0 ? "" : m.getClientURLs(0);
      if (m.getID() == answeredBy) {
        asked.add(CompletableFuture.completedFuture(member(m, endpoint(url, first), null)));
      } else if (url.isEmpty()) {
        asked.add(
            CompletableFuture.completedFuture(
                member(
                    m,
                    null,
                    "the member has not published a client URL (not started yet?), so it"
                        + " cannot be asked")));
      } else {
        CompletableFuture<StatusResponse> f;
        try {
          f = statusAt.apply(url);
        } catch (RuntimeException e) {
          f = CompletableFuture.failedFuture(e);
        }
        asked.add(
            f.orTimeout(MEMBER_STATUS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .handle(
                    (r, err) ->
                        err == null
                            ? member(m, endpoint(url, r), null)
                            : member(m, null, "Status at " + url + " failed: " + describe(err))));
      }
    }
    return CompletableFuture.allOf(asked.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              List<StoreStatus.MemberStatus> out = new ArrayList<>();
              asked.forEach(f -> out.add(f.join()));
              long leader = first.getLeader();
              StoreStatus.EndpointStatus ref = null;
              for (StoreStatus.MemberStatus m : out) {
                if (m.id() == leader && m.status() != null) {
                  ref = m.status();
                }
              }
              if (ref == null) {
                ref = endpoint("", first);
              }
              return new StoreStatus(
                  first.getHeader().getClusterId(),
                  answeredBy,
                  leader,
                  ref.raftTerm(),
                  ref.raftIndex(),
                  ref.revision(),
                  StoreStatus.UNKNOWN,
                  ref.dbSize(),
                  out);
            });
  }

  static StoreStatus withCompactRevision(StoreStatus s, long compactRevision) {
    return new StoreStatus(
        s.clusterId(),
        s.answeredBy(),
        s.leader(),
        s.raftTerm(),
        s.raftIndex(),
        s.revision(),
        compactRevision,
        s.dbSize(),
        s.members());
  }

  private static StoreStatus.MemberStatus member(
      Member m, StoreStatus.EndpointStatus status, String error) {
    return new StoreStatus.MemberStatus(
        m.getID(),
        m.getName(),
        m.getPeerURLsList(),
        m.getClientURLsList(),
        m.getIsLearner(),
        status,
        error);
  }

  static StoreStatus.EndpointStatus endpoint(String url, StatusResponse r) {
    return new StoreStatus.EndpointStatus(
        url,
        r.getHeader().getMemberId(),
        r.getVersion(),
        r.getDbSize(),
        r.getDbSizeInUse(),
        r.getLeader(),
        r.getRaftTerm(),
        r.getRaftIndex(),
        r.getRaftAppliedIndex(),
        r.getHeader().getRevision(),
        r.getIsLearner(),
        r.getErrorsList());
  }

  /**
   * One Maintenance.Status call to {@code clientUrl} through {@code client}, no retries; {@code
   * tls} says whether the client speaks TLS, which must match the URL's scheme.
   */
  static CompletableFuture<StatusResponse> statusAt(
      GrpcClient client, boolean tls, String clientUrl) {
    boolean secure = clientUrl.startsWith("https://") || clientUrl.startsWith("unixs://");
    if (secure != tls) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "client URL "
                  + clientUrl
                  + (secure
                      ? " needs TLS, and this client is set up without it"
                      : " is plain http://, and this client is set up for TLS")));
    }
    SocketAddress ep = RemoteKvStore.parse(clientUrl);
    CompletableFuture<StatusResponse> result = new CompletableFuture<>();
    client
        .request(ep, MaintenanceGrpcClient.Status)
        .onComplete(
            (req, err) -> {
              if (err != null) {
                result.completeExceptionally(err);
                return;
              }
              req.timeout(MEMBER_STATUS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
              req.send(StatusRequest.getDefaultInstance())
                  .onComplete(
                      (resp, err2) -> {
                        if (err2 != null) {
                          result.completeExceptionally(err2);
                          return;
                        }
                        List<StatusResponse> got = new ArrayList<>(1);
                        resp.handler(got::add);
                        resp.exceptionHandler(result::completeExceptionally);
                        resp.endHandler(
                            v -> {
                              if (resp.status() == GrpcStatus.OK && !got.isEmpty()) {
                                result.complete(got.get(0));
                              } else {
                                result.completeExceptionally(
                                    new IllegalStateException(
                                        "answered "
                                            + resp.status()
                                            + " "
                                            + (resp.statusMessage() == null
                                                ? ""
                                                : resp.statusMessage())));
                              }
                            });
                      });
            });
    return result;
  }

  private static String describe(Throwable t) {
    Throwable c = t;
    while (c instanceof java.util.concurrent.CompletionException && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof TimeoutException) {
      return "no answer within " + MEMBER_STATUS_TIMEOUT.toMillis() + " ms";
    }
    return Failure.describe(c);
  }
}
