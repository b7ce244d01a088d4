package dev.kubelite.store.client;

import java.util.concurrent.CompletableFuture;

/**
 * The store as the API server uses it: etcd v3 semantics (revisions, optimistic concurrency on
 * {@code modRevision}, watches from a revision) with plain Java types. All operations are
 * asynchronous; futures fail with {@link KvStoreException}. Results complete on an internal thread
 * (a Vert.x event loop for {@link RemoteKvStore}): do not block in callbacks.
 *
 * <p>Every mutating call gets a request id; see docs/decisions/0010 for which failures are retried
 * and why a retried write is never applied twice.
 */
public interface KvStore extends AutoCloseable {
  /** The key's current value (linearizable). */
  CompletableFuture<GetResult> get(byte[] key);

  /** A range read (linearizable), optionally at a past revision. */
  CompletableFuture<RangeResult> range(RangeQuery query);

  /** Unconditional write. Never retried once it may have reached the store. */
  CompletableFuture<WriteResult> put(byte[] key, byte[] value);

  /** Writes only if the key does not exist: OK or ALREADY_EXISTS (with the current value). */
  CompletableFuture<WriteResult> create(byte[] key, byte[] value);

  /**
   * Writes only if the key's modRevision is {@code expectedModRevision}: OK, CONFLICT (with the
   * current value) or NOT_FOUND.
   */
  CompletableFuture<WriteResult> update(byte[] key, byte[] value, long expectedModRevision);

  /**
   * Deletes the key if its modRevision is {@code expectedModRevision}, or whatever its revision if
   * {@code expectedModRevision} is {@link #ANY_REVISION}: OK (with the deleted value), CONFLICT
   * (with the current value) or NOT_FOUND.
   */
  CompletableFuture<WriteResult> delete(byte[] key, long expectedModRevision);

  /** For {@link #delete}: no modRevision precondition. */
  long ANY_REVISION = 0;

  /** Discards history before {@code revision}; completes with the store's current revision. */
  CompletableFuture<Long> compact(long revision);

  /** The store's current revision (linearizable). */
  CompletableFuture<Long> currentRevision();

  /**
   * The store cluster: its members and each member's own status, as {@code etcdctl member list} and
   * {@code etcdctl endpoint status --cluster} show them, plus the compact revision. Read from the
   * members as they are (not through consensus), like etcd's Maintenance.Status. Fails only if no
   * member answers; a member that cannot be asked is reported with an error.
   */
  CompletableFuture<StoreStatus> status();

  /** Starts a watch; events go to {@code listener} until {@link Watch#close()}. */
  Watch watch(WatchOptions options, WatchListener listener);

  @Override
  void close();
}
