package dev.kubelite.apiserver.encryption;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Which {@link ValueTransformer} stores the value under a key: by the longest matching key prefix
 * ({@code /registry/secrets/}), plaintext for every other key.
 */
public final class KeyTransformers {
  private record Entry(String prefix, ValueTransformer transformer) {}

  private final List<Entry> entries;

  private KeyTransformers(List<Entry> entries) {
    this.entries = entries;
  }

  /** Every value in plaintext; encrypted values are refused (no configuration). */
  public static KeyTransformers none() {
    return new KeyTransformers(List.of());
  }

  /** Key prefix → transformer; keys under no prefix are plaintext. */
  public static KeyTransformers of(Map<String, ValueTransformer> byKeyPrefix) {
    List<Entry> list = new ArrayList<>();
    byKeyPrefix.forEach(
        (p, t) -> {
          if (t != ValueTransformer.PLAINTEXT) {
            list.add(new Entry(p, t));
          }
        });
    list.sort(Comparator.comparingInt((Entry e) -> e.prefix().length()).reversed());
    return new KeyTransformers(List.copyOf(list));
  }

  public ValueTransformer forKey(String key) {
    for (Entry e : entries) {
      if (key.startsWith(e.prefix())) {
        return e.transformer();
      }
    }
    return ValueTransformer.PLAINTEXT;
  }

  /** The key prefixes with a configured (non-plaintext) transformer. */
  public List<String> configuredPrefixes() {
    return entries.stream().map(Entry::prefix).toList();
  }
}
