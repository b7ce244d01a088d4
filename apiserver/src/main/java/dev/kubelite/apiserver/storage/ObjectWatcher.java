package dev.kubelite.apiserver.storage;

import dev.kubelite.apiserver.api.ApiException;
import java.util.List;

/**
 * Receives decoded object events in revision order, without gaps or duplicates, never concurrently.
 * Calls must not block. {@link #onExpired} and {@link #onError} are terminal.
 */
public interface ObjectWatcher {
  void onEvents(List<ObjectEvent> events);

  /**
   * Every event up to {@code revision} has been delivered (a store progress notification, passed on
   * by the watch cache): a watcher that has seen nothing since may treat itself as being at that
   * revision (its next bookmark carries it).
   */
  void onProgress(long revision);

  /** The start revision is no longer available (compacted): Kubernetes' 410 Gone. */
  void onExpired(long compactRevision);

  void onError(ApiException error);
}
