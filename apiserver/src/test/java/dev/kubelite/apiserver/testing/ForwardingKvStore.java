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
import java.util.concurrent.CompletableFuture;

/**
 * A {@link KvStore} that passes every call to another; test wrappers extend it and override the
 * calls they slow down, hold or count. {@link #close} leaves the delegate open: the fixture that
 * made it closes it.
 */
public abstract class ForwardingKvStore implements KvStore {
  protected final KvStore delegate;

  protected ForwardingKvStore(KvStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public CompletableFuture<GetResult> get(byte[] key) {
    return delegate.get(key);
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
