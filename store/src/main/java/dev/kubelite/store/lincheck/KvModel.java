package dev.kubelite.store.lincheck;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A key-value store of string keys to string values (an absent key reads as null), as a set of
 * independent registers.
 *
 * <p>Inputs are {@link Put} (answers {@link #OK}), {@link Get} (answers the value read, null if
 * absent) and {@link Cas} (answers {@link #OK} if it swapped, {@link #FAIL} if the current value
 * differed from the expected one). A put or cas the store definitely rejected never took effect and
 * should be left out of the history; one with an unknown outcome is {@link Operation#pending}.
 *
 * <p>{@link #partition} splits the history by key, so a state is just the value of one key: {@link
 * #step} ignores the key. For the same reason this model is only meaningful through {@link
 * LinearizabilityChecker}, which always partitions first.
 *
 * <p>Partitioning also simplifies pending operations where that provably keeps the verdict (see
 * {@code simplifyPending}): pending gets and pending puts nobody observed are dropped, and a
 * pending write of a unique value that was observed becomes a completed write that returned when
 * its first observer did. Writing unique values (as test clients should) keeps the search fast even
 * with many timed-out writes.
 */
public final class KvModel implements Model<KvModel.Value, KvModel.Input, String> {

  public static final String OK = "ok";
  public static final String FAIL = "fail";

  /**
   * The answer {@link #partition} gives a pending write it proved must have succeeded (see {@code
   * simplifyPending}); {@link #step} treats it as {@link #OK}. It only marks such operations in
   * reports.
   */
  public static final String OK_INFERRED = "ok (inferred; was pending)";

  /** Shared instance; the model is stateless. */
  public static final KvModel INSTANCE = new KvModel();

  /** An operation on one key. */
  public sealed interface Input permits Put, Get, Cas {
    String key();
  }

  /** Sets {@code key} to {@code value}; answers {@link #OK}. */
  public record Put(String key, String value) implements Input {
    public Put {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }
  }

  /** Reads {@code key}; answers its value, or null if absent. */
  public record Get(String key) implements Input {
    public Get {
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * Sets {@code key} to {@code value} if its current value equals {@code expected} (null: the key
   * is absent); answers {@link #OK} or {@link #FAIL}.
   */
  public record Cas(String key, String expected, String value) implements Input {
    public Cas {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }
  }

  /** The value of one key; {@code value} is null when the key is absent. */
  public record Value(String value) {
    public static final Value ABSENT = new Value(null);

    @Override
    public String toString() {
      return value == null ? "absent" : quote(value);
    }
  }

  public static Put put(String key, String value) {
    return new Put(key, value);
  }

  public static Get get(String key) {
    return new Get(key);
  }

  public static Cas cas(String key, String expected, String value) {
    return new Cas(key, expected, value);
  }

  @Override
  public Value init() {
    return Value.ABSENT;
  }

  @Override
  public Optional<Value> step(Value state, Input input, String output) {
    if (input instanceof Put p) {
      return isOk(output) ? Optional.of(new Value(p.value())) : Optional.empty();
    }
    if (input instanceof Get) {
      return Objects.equals(state.value(), output) ? Optional.of(state) : Optional.empty();
    }
    Cas c = (Cas) input;
    boolean matches = Objects.equals(state.value(), c.expected());
    if (matches) {
      return isOk(output) ? Optional.of(new Value(c.value())) : Optional.empty();
    }
    return FAIL.equals(output) ? Optional.of(state) : Optional.empty();
  }

  private static boolean isOk(String output) {
    return OK.equals(output) || OK_INFERRED.equals(output);
  }

  @Override
  public Optional<Value> stepPending(Value state, Input input) {
    if (input instanceof Put p) {
      return Optional.of(new Value(p.value()));
    }
    if (input instanceof Get) {
      return Optional.of(state);
    }
    Cas c = (Cas) input;
    return Optional.of(Objects.equals(state.value(), c.expected()) ? new Value(c.value()) : state);
  }

  @Override
  public boolean isReadOnly(Input input, String output) {
    return input instanceof Get || (input instanceof Cas && FAIL.equals(output));
  }

  @Override
  public List<List<Operation<Input, String>>> partition(List<Operation<Input, String>> history) {
    Map<String, List<Operation<Input, String>>> byKey = new LinkedHashMap<>();
    for (Operation<Input, String> op : history) {
      byKey.computeIfAbsent(op.input().key(), k -> new ArrayList<>()).add(op);
    }
    List<List<Operation<Input, String>>> parts = new ArrayList<>(byKey.size());
    for (List<Operation<Input, String>> ops : byKey.values()) {
      parts.add(simplifyPending(ops));
    }
    return parts;
  }

  /**
   * Simplifies the pending operations of one key's history without changing its verdict:
   *
   * <ul>
   *   <li>A pending get has no effect: dropped.
   *   <li>A pending put or cas whose value {@code v} no other operation writes, and that some
   *       completed get returned (or some successful cas expected), must have taken effect, and
   *       before the earliest such observer returned: it becomes a completed operation answering
   *       {@link #OK_INFERRED} that returned then.
   *   <li>A pending put whose value no get returned and no cas expected can be removed from any
   *       linearization without making another operation illegal (nothing reads or compares against
   *       the value it writes), except perhaps a failed cas that saw it: dropped if no failed cas
   *       on the key returned at or after its call.
   * </ul>
   */
  private static List<Operation<Input, String>> simplifyPending(
      List<Operation<Input, String>> ops) {
    Map<String, Integer> writers = new HashMap<>();
    Map<String, Long> firstObservedReturn = new HashMap<>();
    Set<String> compared = new HashSet<>();
    long lastFailedCasReturn = Long.MIN_VALUE;
    for (Operation<Input, String> op : ops) {
      Input in = op.input();
      if (in instanceof Put p) {
        writers.merge(p.value(), 1, Integer::sum);
      } else if (in instanceof Cas c) {
        writers.merge(c.value(), 1, Integer::sum);
        if (c.expected() != null) {
          compared.add(c.expected());
          if (OK.equals(op.output())) {
            firstObservedReturn.merge(c.expected(), op.returnTime(), Math::min);
          }
        }
        if (FAIL.equals(op.output())) {
          lastFailedCasReturn = Math.max(lastFailedCasReturn, op.returnTime());
        }
      } else if (!op.isPending() && op.output() != null) {
        firstObservedReturn.merge(op.output(), op.returnTime(), Math::min);
      }
    }
    List<Operation<Input, String>> kept = new ArrayList<>(ops.size());
    for (Operation<Input, String> op : ops) {
      if (!op.isPending()) {
        kept.add(op);
        continue;
      }
      Input in = op.input();
      if (in instanceof Get) {
        continue;
      }
      String value = in instanceof Put p ? p.value() : ((Cas) in).value();
      Long observedBy = firstObservedReturn.get(value);
      if (observedBy != null && writers.get(value) == 1 && observedBy >= op.callTime()) {
        kept.add(Operation.of(op.clientId(), in, OK_INFERRED, op.callTime(), observedBy));
      } else if (in instanceof Put
          && observedBy == null
          && !compared.contains(value)
          && lastFailedCasReturn < op.callTime()) {
        continue;
      } else {
        kept.add(op);
      }
    }
    return kept;
  }

  @Override
  public String describeInput(Input input) {
    if (input instanceof Put p) {
      return "put(" + quote(p.key()) + ", " + quote(p.value()) + ")";
    }
    if (input instanceof Get g) {
      return "get(" + quote(g.key()) + ")";
    }
    Cas c = (Cas) input;
    return "cas("
        + quote(c.key())
        + ", "
        + (c.expected() == null ? "absent" : quote(c.expected()))
        + ", "
        + quote(c.value())
        + ")";
  }

  @Override
  public String describe(Input input, String output) {
    String out = input instanceof Get ? (output == null ? "absent" : quote(output)) : output;
    return describeInput(input) + " -> " + out;
  }

  @Override
  public String describeState(Value state) {
    return state.toString();
  }

  @Override
  public String describePartition(List<Operation<Input, String>> partition) {
    return partition.isEmpty() ? "" : "key " + quote(partition.get(0).input().key());
  }

  private static String quote(String s) {
    return '"' + s + '"';
  }
}
