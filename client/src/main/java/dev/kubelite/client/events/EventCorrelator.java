package dev.kubelite.client.events;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Decides how an event is written, as client-go's event correlator does, so that a burst of events
 * about one object costs a few writes instead of one each:
 *
 * <ul>
 *   <li><b>Aggregation.</b> Events about one object with the same type and reason but different
 *       messages (a ReplicaSet's "Created pod: x" for each of its pods) are written one by one
 *       until {@value #MAX_SIMILAR} different messages were seen within ten minutes; from then on
 *       they are folded into one Event whose message starts {@value #COMBINED} and whose count goes
 *       up.
 *   <li><b>Spam filter.</b> At most {@value #BURST} writes (creates or count updates) per source
 *       and object at once, then one per five minutes (a token bucket per object); events beyond
 *       that are not written.
 * </ul>
 *
 * Not thread-safe: the recorder calls it from its one writer thread.
 */
final class EventCorrelator {
  static final int MAX_SIMILAR = 10;
  static final String COMBINED = "(combined from similar events): ";
  static final int BURST = 25;
  static final Duration REFILL = Duration.ofMinutes(5);
  static final Duration SIMILAR_WINDOW = Duration.ofMinutes(10);
  private static final int MAX_TRACKED = 4096;

  /** How to write one event: under which dedup {@code key}, with which {@code message}. */
  record Decision(String key, String message) {}

  private record Similar(Set<String> messages, Instant last) {}

  private static final class Bucket {
    double tokens = BURST;
    Instant last;

    Bucket(Instant now) {
      last = now;
    }
  }

  private final Map<String, Similar> similar = lru();
  private final Map<String, Bucket> buckets = lru();

  private static <V> Map<String, V> lru() {
    return new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > MAX_TRACKED;
      }
    };
  }

  /**
   * The decision for an event about the object {@code objectKey} (source and involved object), or
   * null when the spam filter drops it.
   */
  Decision correlate(String objectKey, String type, String reason, String message, Instant now) {
    if (!take(objectKey, now)) {
      return null;
    }
    String aggregateKey = objectKey + "\u0000" + type + "\u0000" + reason;
    Similar s = similar.get(aggregateKey);
    if (s == null || s.last().plus(SIMILAR_WINDOW).isBefore(now)) {
      s = new Similar(new HashSet<>(), now);
    }
    s.messages().add(message);
    boolean fold = s.messages().size() >= MAX_SIMILAR;
    if (fold) {
      s.messages().remove(message); // the set never grows beyond the threshold
    }
    similar.put(aggregateKey, new Similar(s.messages(), now));
    return fold
        ? new Decision(aggregateKey, COMBINED + message)
        : new Decision(aggregateKey + "\u0000" + message, message);
  }

  /** Takes a token from the object's bucket: false when it is empty. */
  private boolean take(String objectKey, Instant now) {
    Bucket b = buckets.computeIfAbsent(objectKey, k -> new Bucket(now));
    double refilled = (double) Duration.between(b.last, now).toMillis() / REFILL.toMillis();
    if (refilled > 0) {
      b.tokens = Math.min(BURST, b.tokens + refilled);
      b.last = now;
    }
    if (b.tokens < 1) {
      return false;
    }
    b.tokens -= 1;
    return true;
  }
}
