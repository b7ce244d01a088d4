package dev.kubelite.apiserver.testing;

import dev.kubelite.store.client.GetResult;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.RangeQuery;
import dev.kubelite.store.client.RangeResult;
import dev.kubelite.store.client.Watch;
import dev.kubelite.store.client.WatchListener;
import dev.kubelite.store.client.WatchOptions;
import dev.kubelite.store.client.WriteResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/** A {@link KvStore} that counts the watches and reads the API server asks its store for. */
public final class CountingKvStore extends ForwardingKvStore {
  public final AtomicInteger watches = new AtomicInteger();
  public final AtomicInteger openWatches = new AtomicInteger();
  public final AtomicInteger ranges = new AtomicInteger();
  public final AtomicInteger gets = new AtomicInteger();
  public final AtomicInteger writes = new AtomicInteger();

  public CountingKvStore(KvStore delegate) {
    super(delegate);
  }

  @Override
  public CompletableFuture<GetResult> get(byte[] key) {
    gets.incrementAndGet();
    return delegate.get(key);
  }

  @Override
  public CompletableFuture<RangeResult> range(RangeQuery query) {
    ranges.incrementAndGet();
    return delegate.range(query);
  }

  @Override
  public CompletableFuture<WriteResult> put(byte[] key, byte[] value) {
    writes.incrementAndGet();
    return delegate.put(key, value);
  }

  @Override
  public CompletableFuture<WriteResult> create(byte[] key, byte[] value) {
    writes.incrementAndGet();
    return delegate.create(key, value);
  }

  @Override
  public CompletableFuture<WriteResult> update(byte[] key, byte[] value, long expected) {
    writes.incrementAndGet();
    return delegate.update(key, value, expected);
  }

  @Override
  public CompletableFuture<WriteResult> delete(byte[] key, long expected) {
    writes.incrementAndGet();
    return delegate.delete(key, expected);
  }

  @Override
  public Watch watch(WatchOptions options, WatchListener listener) {
    watches.incrementAndGet();
    openWatches.incrementAndGet();
    Watch w = delegate.watch(options, listener);
    return new Watch() {
      @Override
      public void requestProgress() {
        w.requestProgress();
      }

      @Override
      public void close() {
        openWatches.decrementAndGet();
        w.close();
      }
    };
  }
}
