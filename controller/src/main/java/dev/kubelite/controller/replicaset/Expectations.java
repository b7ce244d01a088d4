package dev.kubelite.controller.replicaset;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What a ReplicaSet's last reconcile asked for and the informer has not shown yet: a number of pod
 * creations and the keys of pods being deleted (Kubernetes' UIDTrackingControllerExpectations). A
 * reconcile creates or deletes pods only when the previous round's changes have all been observed
 * (or five minutes passed, in case a watch event was lost), so a stale cache never makes it act
 * twice.
 */
final class Expectations {
  static final Duration TIMEOUT = Duration.ofMinutes(5);

  private static final class Entry {
    int adds;
    final Set<String> deletes = new HashSet<>();
    Instant since;
  }

  private final Clock clock;
  private final Map<String, Entry> entries = new HashMap<>();

  Expectations(Clock clock) {
    this.clock = clock;
  }

  /** True if nothing is pending for {@code key} (or what was pending expired). */
  synchronized boolean satisfied(String key) {
    Entry e = entries.get(key);
    if (e == null || (e.adds <= 0 && e.deletes.isEmpty())) {
      return true;
    }
    return e.since.plus(TIMEOUT).isBefore(clock.instant());
  }

  /** For the log line: what is still pending. */
  synchronized String pending(String key) {
    Entry e = entries.get(key);
    if (e == null) {
      return "nothing";
    }
    return Math.max(0, e.adds) + " creates, " + e.deletes.size() + " deletes";
  }

  synchronized void expectCreations(String key, int n) {
    Entry e = new Entry();
    e.adds = n;
    e.since = clock.instant();
    entries.put(key, e);
  }

  synchronized void expectDeletions(String key, Set<String> podKeys) {
    Entry e = new Entry();
    e.deletes.addAll(podKeys);
    e.since = clock.instant();
    entries.put(key, e);
  }

  /** A pod controlled by {@code key} appeared (or a create failed and will never appear). */
  synchronized void creationObserved(String key) {
    Entry e = entries.get(key);
    if (e != null) {
      e.adds--;
    }
  }

  /** A pod controlled by {@code key} was deleted (or its delete failed). */
  synchronized void deletionObserved(String key, String podKey) {
    Entry e = entries.get(key);
    if (e != null) {
      e.deletes.remove(podKey);
    }
  }

  synchronized void forget(String key) {
    entries.remove(key);
  }

  synchronized int size() {
    return entries.size();
  }
}
