package dev.kubelite.store.server;

import dev.kubelite.store.api.etcdserverpb.LeaseRevokeRequest;
import dev.kubelite.store.api.kubelitepb.InternalRequest;
import dev.kubelite.store.raft.RaftConfig;
import dev.kubelite.store.raft.Role;
import dev.kubelite.store.raft.driver.RaftDriver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lease expiry, on the leader only (etcd's "primary lessor"). Leases themselves (id, granted TTL,
 * attached keys) are replicated MVCC state; their deadlines are not: the leader keeps them in
 * memory and renewals only touch them here. A member that becomes leader starts every lease afresh,
 * with a deadline of now + election timeout + TTL (as etcd's {@code Promote(electionTimeout)}), so
 * a leader change never expires a lease early; leases it learns of later (grants applied after the
 * promotion) start at the time it first sees them. Expired leases are revoked through Raft by a
 * background loop, at most {@link #REVOKES_PER_ROUND} per round.
 */
final class Lessor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Lessor.class);

  /** Returned by {@link #renew} and {@link #timeToLive} on a member that is not the leader. */
  static final long NOT_PRIMARY = Long.MIN_VALUE;

  /** How often expired leases are looked for. */
  static final Duration EXPIRY_INTERVAL = Duration.ofMillis(500);

  /** etcd revokes at most 1000 leases a second (leaseRevokeRate); we check twice a second. */
  static final int REVOKES_PER_ROUND = 500;

  private final StoreMember member;
  private final long minTtlSeconds;
  private final long extendNanos;
  private final LongSupplier clock;
  private final AtomicLong idSuffix;
  private final long idPrefix;
  private final Set<Long> revoking = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer;

  // Guarded by this.
  private final Map<Long, Long> deadlines = new HashMap<>();
  private boolean primary;
  private long promotedAt;

  Lessor(StoreMember member, long minTtlSeconds, Duration electionTimeout) {
    this.member = member;
    this.minTtlSeconds = minTtlSeconds;
    this.extendNanos = electionTimeout.toNanos();
    this.clock = System::nanoTime;
    // Lease ids as etcd's idutil.Generator: member id's low 16 bits, then a time-seeded counter.
    this.idPrefix = (member.memberId() & 0xFFFFL) << 48;
    this.idSuffix = new AtomicLong((System.currentTimeMillis() & ((1L << 40) - 1)) << 8);
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "store-lessor-" + MemberIds.hex(member.memberId()));
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * A lessor for a member running with the default Raft timing (what {@link StoreMember} uses): 100
   * ms ticks, an election timeout of {@code electionTicks} ticks.
   */
  static Lessor withDefaultTiming(StoreMember member) {
    int electionTicks = RaftConfig.builder(member.memberId()).build().electionTicks();
    Duration tick = RaftDriver.Options.defaults().tick();
    return new Lessor(member, minTtlSeconds(electionTicks, tick), tick.multipliedBy(electionTicks));
  }

  /**
   * etcd's minimum lease TTL: {@code ceil((3 * electionTicks / 2) * heartbeat)} in seconds (the
   * integer division is etcd's), so a lease outlives a leader election.
   */
  static long minTtlSeconds(int electionTicks, Duration tick) {
    long millis = (3L * electionTicks / 2) * tick.toMillis();
    return (millis + 999) / 1000;
  }

  /** Starts following leadership and the expiry loop. */
  void start() {
    member.addSoftStateListener(
        (leader, role, term) -> {
          if (role == Role.LEADER) {
            promote();
          } else {
            demote();
          }
        });
    if (member.raftStatus().role() == Role.LEADER) {
      promote();
    }
    long every = EXPIRY_INTERVAL.toMillis();
    timer.scheduleWithFixedDelay(this::expireSafely, every, every, TimeUnit.MILLISECONDS);
  }

  long minTtlSeconds() {
    return minTtlSeconds;
  }

  /** A fresh positive lease id, unique across the cluster (as etcd picks ids for ID 0). */
  long nextId() {
    long id;
    do {
      id = (idPrefix | (idSuffix.incrementAndGet() & 0xFFFF_FFFF_FFFFL)) & Long.MAX_VALUE;
    } while (id == 0);
    return id;
  }

  synchronized boolean isPrimary() {
    return primary;
  }

  synchronized void promote() {
    if (!primary) {
      log.info("member {}: now the primary lessor", MemberIds.hex(member.memberId()));
    }
    primary = true;
    promotedAt = clock.getAsLong();
    deadlines.clear();
  }

  synchronized void demote() {
    if (primary) {
      log.info("member {}: no longer the primary lessor", MemberIds.hex(member.memberId()));
    }
    primary = false;
    deadlines.clear();
  }

  /** A lease this member just saw granted: its clock starts now. */
  synchronized void granted(long id, long ttlSeconds) {
    if (primary) {
      deadlines.put(id, clock.getAsLong() + TimeUnit.SECONDS.toNanos(ttlSeconds));
    }
  }

  synchronized void revoked(long id) {
    deadlines.remove(id);
  }

  private long deadline(long id, long ttlSeconds, long now) {
    return deadlines.computeIfAbsent(
        id, k -> Math.max(now, promotedAt + extendNanos) + TimeUnit.SECONDS.toNanos(ttlSeconds));
  }

  /**
   * Renews a lease on the leader: its granted TTL, 0 if the lease is unknown or already expired
   * (etcd answers a keep-alive for such a lease with TTL 0), or {@link #NOT_PRIMARY}.
   */
  synchronized long renew(long id) {
    if (!primary) {
      return NOT_PRIMARY;
    }
    var ttl = member.mvcc().leaseTtl(id);
    if (ttl.isEmpty()) {
      return 0;
    }
    long now = clock.getAsLong();
    if (deadline(id, ttl.get(), now) - now <= 0) {
      return 0; // expired: being revoked
    }
    deadlines.put(id, now + TimeUnit.SECONDS.toNanos(ttl.get()));
    return ttl.get();
  }

  /**
   * Whole seconds left on a lease, truncated (etcd's {@code int64(Remaining().Seconds())}), 0 once
   * expired; -1 if the lease is unknown; {@link #NOT_PRIMARY} on a follower.
   */
  synchronized long remainingSeconds(long id) {
    if (!primary) {
      return NOT_PRIMARY;
    }
    var ttl = member.mvcc().leaseTtl(id);
    if (ttl.isEmpty()) {
      return -1;
    }
    long now = clock.getAsLong();
    long left = deadline(id, ttl.get(), now) - now;
    return Math.max(0, TimeUnit.NANOSECONDS.toSeconds(left));
  }

  private void expireSafely() {
    try {
      expire();
    } catch (RuntimeException e) {
      log.error("lease expiry round failed", e);
    }
  }

  /** One round: revoke (through Raft) the leases whose deadline passed. */
  void expire() {
    List<Long> expired = new ArrayList<>();
    synchronized (this) {
      if (!primary || member.raftStatus().role() != Role.LEADER) {
        return;
      }
      Map<Long, Long> leases = member.mvcc().leases();
      deadlines.keySet().retainAll(leases.keySet());
      long now = clock.getAsLong();
      for (Map.Entry<Long, Long> e : leases.entrySet()) {
        long id = e.getKey();
        if (deadline(id, e.getValue(), now) - now <= 0
            && !revoking.contains(id)
            && expired.size() < REVOKES_PER_ROUND) {
          expired.add(id);
        }
      }
    }
    for (long id : expired) {
      revoking.add(id);
      log.info("lease {} expired; revoking it", Long.toHexString(id));
      member
          .write(
              InternalRequest.newBuilder()
                  .setLeaseRevoke(LeaseRevokeRequest.newBuilder().setID(id)))
          .whenComplete(
              (r, err) -> {
                revoking.remove(id);
                if (err != null) {
                  log.debug("revoking expired lease {} failed: {}", Long.toHexString(id), err);
                }
              });
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
