package dev.kubelite.apiserver.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.storage.ObjectStorage;
import dev.kubelite.apiserver.storage.ObjectStorage.Outcome;
import dev.kubelite.apiserver.storage.ObjectStorage.Stored;
import java.util.ArrayList;
import java.util.Base64;
import java.util.BitSet;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A set of allocated offsets {@code [0, size)} kept in the store as a {@code RangeAllocation}
 * object (what kube-apiserver keeps under {@code /registry/ranges/serviceips} and {@code
 * /registry/ranges/servicenodeports}): {@code range} names the range, {@code data} is the bitmap
 * (base64). Every change is a compare-and-swap on the object's mod revision, retried when another
 * writer won, so concurrent API servers never hand out the same offset.
 */
final class RangeAllocator {
  private static final int MAX_ATTEMPTS = 20;

  private final ObjectStorage storage;
  private final String key;
  private final String range;
  private final int size;
  private final int minOffset;
  private final int firstDynamic;

  /**
   * @param minOffset the lowest offset ever handed out
   * @param firstDynamic where free values are looked for first; the band below is used when the
   *     rest is full
   */
  RangeAllocator(
      ObjectStorage storage, String key, String range, int size, int minOffset, int firstDynamic) {
    this.storage = storage;
    this.key = key;
    this.range = range;
    this.size = size;
    this.minOffset = minOffset;
    this.firstDynamic = firstDynamic;
  }

  int size() {
    return size;
  }

  /**
   * Allocates the {@code wanted} offsets (an already allocated one fails with {@code
   * alreadyAllocated}) plus {@code free} more of the free ones; returns those {@code free} ones.
   */
  CompletableFuture<List<Integer>> allocate(
      Collection<Integer> wanted, int free, Function<Integer, ApiException> alreadyAllocated) {
    return change(
        bits -> {
          for (int w : wanted) {
            if (bits.get(w)) {
              throw alreadyAllocated.apply(w);
            }
            bits.set(w);
          }
          List<Integer> picked = new ArrayList<>();
          for (int i = 0; i < free; i++) {
            int p = pickFree(bits);
            bits.set(p);
            picked.add(p);
          }
          return picked;
        },
        1);
  }

  /** Frees {@code offsets} (those not allocated are ignored). */
  CompletableFuture<Void> release(Collection<Integer> offsets) {
    if (offsets.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    return change(
            bits -> {
              offsets.forEach(bits::clear);
              return List.<Integer>of();
            },
            1)
        .thenApply(x -> null);
  }

  /**
   * The lowest free offset of the dynamic band, else of the static band below it (Kubernetes'
   * KEP-3070 split: the low band is kept for values asked for by number, such as a DNS service's
   * well-known address). Lowest-first, not random as kube-apiserver, keeps the bitmap small.
   */
  private int pickFree(BitSet bits) {
    int p = bits.nextClearBit(firstDynamic);
    if (p >= size) {
      p = bits.nextClearBit(minOffset);
      if (p >= firstDynamic) {
        throw ApiException.unprocessable("range " + range + " is full: no free value to allocate");
      }
    }
    return p;
  }

  private interface Change {
    List<Integer> apply(BitSet bits);
  }

  private CompletableFuture<List<Integer>> change(Change change, int attempt) {
    return storage
        .get(key)
        .thenCompose(
            current -> {
              BitSet bits = current == null ? new BitSet(size) : bits(current);
              List<Integer> result = change.apply(bits);
              ObjectNode next = object(bits);
              CompletableFuture<ObjectStorage.Written> write =
                  current == null
                      ? storage.create(key, next)
                      : storage.update(key, next, current.modRevision());
              return write.thenCompose(
                  w -> {
                    if (w.outcome() == Outcome.OK) {
                      return CompletableFuture.completedFuture(result);
                    }
                    if (attempt >= MAX_ATTEMPTS) {
                      throw ApiException.conflict(
                          "",
                          "rangeallocations",
                          key,
                          "too many concurrent allocations; try again");
                    }
                    return change(change, attempt + 1);
                  });
            });
  }

  private BitSet bits(Stored s) {
    String data = Json.text(s.object(), "data");
    if (!range.equals(Json.text(s.object(), "range"))) {
      throw ApiException.internal(
          "the allocations at "
              + key
              + " are for range "
              + Json.text(s.object(), "range")
              + ", not "
              + range
              + "; the range cannot change on an existing cluster");
    }
    return data == null ? new BitSet(size) : BitSet.valueOf(Base64.getDecoder().decode(data));
  }

  private ObjectNode object(BitSet bits) {
    ObjectNode o = Json.object();
    o.put("kind", "RangeAllocation");
    o.put("apiVersion", "v1");
    o.putObject("metadata");
    o.put("range", range);
    o.put("data", Base64.getEncoder().encodeToString(bits.toByteArray()));
    return o;
  }
}
