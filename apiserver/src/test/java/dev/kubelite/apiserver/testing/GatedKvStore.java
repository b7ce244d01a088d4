package dev.kubelite.apiserver.testing;

import dev.kubelite.store.client.GetResult;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.RangeQuery;
import dev.kubelite.store.client.RangeResult;
import dev.kubelite.store.client.StoreStatus;
import dev.kubelite.store.client.Watch;
import dev.kubelite.store.client.WatchListener;
import dev.kubelite.store.client.WatchOptions;
import dev.kubelite.store.client.WriteResult;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link KvStore} whose single-key reads of keys containing {@code marker} wait until {@link
 * #open()} (a slow store, for requests that stay in flight as long as a test wants).
 */
public final class GatedKvStore implements KvStore {
  private final KvStore delegate;
  private final String marker;
  private volatile CompletableFuture<Void> gate = new CompletableFuture<>();

  /** Reads waiting at the gate. */
  public final AtomicInteger parked = new AtomicInteger();

  public GatedKvStore(KvStore delegate, String marker) {
    this.delegate = delegate;
    this.marker = marker;
  }

  /** Lets every waiting read through, and the following ones without waiting. */
  public void open() {
    gate.complete(null);
  }

  @Override
  public CompletableFuture<GetResult> get(byte[] key) {
    if (!new String(key, StandardCharsets.UTF_8).contains(marker)) {
      return delegate.get(key);
    }
    parked.incrementAndGet();
    return gate.thenCompose(
        v -> {
          parked.decrementAndGet();
          return delegate.get(key);
        });
  }

  @Override
  public CompletableFuture<RangeResult> range(RangeQuery query) {
    return delegate.range(query);
  }

  @Override
  public CompletableFuture<WriteResult> put(byte[] key, byte[] value) {
    return delegate.put(key, value);
  }

  @Override
  public CompletableFuture<WriteResult> create(byte[] key, byte[] value) {
    return delegate.create(key, value);
  }

  @Override
  public CompletableFuture<WriteResult> update(byte[] key, byte[] value, long expected) {
    return delegate.update(key, value, expected);
  }

  @Override
  public CompletableFuture<WriteResult> delete(byte[] key, long expected) {
    return delegate.delete(key, expected);
  }

  @Override
  public CompletableFuture<Long> compact(long revision) {
    return delegate.compact(revision);
  }

  @Override
  public CompletableFuture<Long> currentRevision() {
    return delegate.currentRevision();
  }

  @Override
  public CompletableFuture<StoreStatus> status() {
    return delegate.status();
  }

  @Override
  public Watch watch(WatchOptions options, WatchListener listener) {
    return delegate.watch(options, listener);
  }

  @Override
  public void close() {
    // The fixture closes the real client.
  }
}
