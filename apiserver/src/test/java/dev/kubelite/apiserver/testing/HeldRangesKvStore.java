package dev.kubelite.apiserver.testing;

import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.RangeQuery;
import dev.kubelite.store.client.RangeResult;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link KvStore} that can hold range reads (an API server's LISTs) of keys under one prefix
 * until released, as a slow or busy store would: {@link #hold} makes every later range whose start
 * key is under the prefix wait, {@link #release} lets the held ones (and later ones) through.
 * Everything else (gets, writes, watches) passes straight to the delegate.
 */
public final class HeldRangesKvStore extends ForwardingKvStore {
  private volatile byte[] heldPrefix;
  private volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);

  /** How many ranges waited (or wait) for a release. */
  public final AtomicInteger heldRanges = new AtomicInteger();

  public HeldRangesKvStore(KvStore delegate) {
    super(delegate);
  }

  /** From now on ranges starting under {@code keyPrefix} (e.g. "/registry/pods/") wait. */
  public synchronized void hold(String keyPrefix) {
    heldPrefix = keyPrefix.getBytes(StandardCharsets.UTF_8);
    if (gate.isDone()) {
      gate = new CompletableFuture<>();
    }
  }

  /** Lets the held ranges go to the store, and later ones at once. */
  public synchronized void release() {
    heldPrefix = null;
    gate.complete(null);
  }

  private boolean held(byte[] key) {
    byte[] p = heldPrefix;
    return p != null && key.length >= p.length && Arrays.equals(key, 0, p.length, p, 0, p.length);
  }

  @Override
  public CompletableFuture<RangeResult> range(RangeQuery query) {
    CompletableFuture<Void> g;
    synchronized (this) {
      if (!held(query.key())) {
        return delegate.range(query);
      }
      g = gate;
    }
    heldRanges.incrementAndGet();
    return g.thenCompose(v -> delegate.range(query));
  }
}
