package dev.kubelite.apiserver.storage;

import dev.kubelite.apiserver.api.ApiException;
import java.util.List;

/**
 * Receives decoded object events in revision order, without gaps or duplicates, never concurrently.
 * Calls must not block. {@link #onExpired} and {@link #onError} are terminal.
 */
public interface ObjectWatcher {
  void onEvents(List<ObjectEvent> events);

  /** The start revision is no longer available (compacted): Kubernetes' 410 Gone. */
  void onExpired(long compactRevision);

  void onError(ApiException error);
}
