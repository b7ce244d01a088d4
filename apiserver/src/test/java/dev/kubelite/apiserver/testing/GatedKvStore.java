package dev.kubelite.apiserver.testing;

import dev.kubelite.store.client.GetResult;
import dev.kubelite.store.client.KvStore;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link KvStore} whose single-key reads of keys containing {@code marker} wait until {@link
 * #open()} (a slow store, for requests that stay in flight as long as a test wants).
 */
public final class GatedKvStore extends ForwardingKvStore {
  private final String marker;
  private volatile CompletableFuture<Void> gate = new CompletableFuture<>();

  /** Reads waiting at the gate. */
  public final AtomicInteger parked = new AtomicInteger();

  public GatedKvStore(KvStore delegate, String marker) {
    super(delegate);
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
}
