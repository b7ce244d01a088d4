package dev.kubelite.store.server;

import dev.kubelite.store.api.etcdserverpb.AlarmRequest;
import dev.kubelite.store.api.etcdserverpb.AlarmType;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.etcdserverpb.RequestOp;
import dev.kubelite.store.api.etcdserverpb.TxnRequest;
import dev.kubelite.store.api.kubelitepb.InternalRequest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's backend quota, checked by the member that receives a write before it proposes it: a write
 * that would take the backend to the quota or beyond raises the NOSPACE alarm through Raft and
 * fails with {@code RESOURCE_EXHAUSTED} "etcdserver: mvcc: database space exceeded". The alarm then
 * makes every member refuse writes that add data when applying them ({@code MvccStore}), until it
 * is disarmed. The cost of a write is etcd's estimate: 256 bytes of overhead plus key and value per
 * put, 64 bytes per lease. See docs/decisions/0014-backend-quota-and-alarms.md.
 */
final class BackendQuota {
  private static final Logger log = LoggerFactory.getLogger(BackendQuota.class);

  /** etcd's kvOverhead: estimated metadata bytes per stored key version. */
  static final int KV_OVERHEAD = 256;

  /** etcd's leaseOverhead: estimated bytes per lease. */
  static final int LEASE_OVERHEAD = 64;

  private BackendQuota() {}

  static long cost(PutRequest p) {
    return KV_OVERHEAD + (long) p.getKey().size() + p.getValue().size();
  }

  /**
   * The larger branch's puts, as etcd; unlike etcd, puts in nested txns count too (a nested put
   * adds data like any other).
   */
  static long cost(TxnRequest t) {
    return Math.max(cost(t.getSuccessList()), cost(t.getFailureList()));
  }

  private static long cost(List<RequestOp> ops) {
    long sum = 0;
    for (RequestOp op : ops) {
      if (op.hasRequestPut()) {
        sum += cost(op.getRequestPut());
      } else if (op.hasRequestTxn()) {
        sum += cost(op.getRequestTxn());
      }
    }
    return sum;
  }

  /**
   * Completes if a write costing {@code cost} bytes fits in {@code member}'s quota (a write that
   * adds nothing always does); otherwise raises NOSPACE for this member through Raft, waits for
   * that to apply (or fail), and fails with etcd's "database space exceeded". Never blocks.
   */
  static CompletableFuture<Void> check(StoreMember member, long cost) {
    long quota = member.config().quota();
    if (cost == 0 || quota == Long.MAX_VALUE) {
      return CompletableFuture.completedFuture(null);
    }
    long size = member.backendSizeForQuota();
    if (size + cost < quota) {
      member.quotaAdmitted(cost);
      return CompletableFuture.completedFuture(null);
    }
    log.warn(
        "backend quota exceeded: {} bytes in use + {} for this write >= quota {}; raising NOSPACE",
        size,
        cost,
        quota);
    AlarmRequest raise =
        AlarmRequest.newBuilder()
            .setAction(AlarmRequest.AlarmAction.ACTIVATE)
            .setMemberID(member.memberId())
            .setAlarm(AlarmType.NOSPACE)
            .build();
    return member
        .write(InternalRequest.newBuilder().setAlarm(raise))
        .handle(
            (r, err) -> {
              if (err != null) {
                log.warn("could not raise the NOSPACE alarm (the write still fails): {}", err);
              }
              return null;
            })
        .thenCompose(x -> CompletableFuture.failedFuture(EtcdErrors.noSpace()));
  }
}
