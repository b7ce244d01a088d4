package dev.kubelite.store.client;

import java.util.Optional;

/** One key's current value, if any, and the store's revision when it answered. */
public record GetResult(Kv kv, long revision) {
  public Optional<Kv> found() {
    return Optional.ofNullable(kv);
  }
}
