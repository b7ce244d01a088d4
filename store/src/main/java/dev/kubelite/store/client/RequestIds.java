package dev.kubelite.store.client;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Request ids for mutating calls: a random per-client prefix and a counter, e.g. {@code
 * 3f9a1c2e7b4d5a60-42}. One logical operation keeps its id across retries.
 */
final class RequestIds {
  private final String prefix;
  private final AtomicLong seq = new AtomicLong();

  RequestIds() {
    byte[] b = new byte[8];
    new SecureRandom().nextBytes(b);
    this.prefix = HexFormat.of().formatHex(b);
  }

  String next() {
    return prefix + "-" + seq.incrementAndGet();
  }
}
