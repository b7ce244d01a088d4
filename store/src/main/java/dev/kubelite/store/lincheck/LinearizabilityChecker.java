package dev.kubelite.store.lincheck;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Decides whether a history is linearizable with respect to a {@link Model}.
 *
 * <p>The search is Wing and Gong's algorithm with Lowe's memoization. Call and return events are
 * kept in one time-ordered doubly linked list. At each point the operations that may be linearized
 * next are those whose call event precedes the first remaining return event. The search tries them
 * in order, removing a linearized operation's events from the list (undone on backtrack through an
 * explicit stack, so there is no recursion). It backtracks when it reaches a return event: that
 * operation must have taken effect before it returned. A cache of (set of linearized operations,
 * model state) pairs already explored prunes configurations reached again by a different order.
 *
 * <p>Pending operations ({@link Operation#pending}) have no return event, so they never force a
 * backtrack; the search succeeds once every completed operation is linearized, which leaves pending
 * operations that were never linearized as "never took effect". Linearizing a pending operation
 * that does not change the state is skipped as it cannot help.
 *
 * <p>The verdict is {@link Verdict#LINEARIZABLE} only when a full linearization was found for every
 * partition, and {@link Verdict#NOT_LINEARIZABLE} only when the search of some partition was
 * exhaustive; if the budget runs out first the verdict is {@link Verdict#UNKNOWN}.
 */
public final class LinearizabilityChecker {

  /** The outcome of a check. */
  public enum Verdict {
    LINEARIZABLE,
    NOT_LINEARIZABLE,
    /** The budget ran out before the search could decide. */
    UNKNOWN
  }

  /**
   * Result of {@link #check}.
   *
   * @param verdict the verdict
   * @param explanation empty when linearizable; otherwise readable lines explaining the failure or
   *     which partitions ran out of budget
   * @param partitions how many partitions the model split the history into
   * @param steps search steps taken over all partitions
   * @param elapsed wall time of the check
   */
  public record Result(
      Verdict verdict, String explanation, int partitions, long steps, Duration elapsed) {

    public Result {
      Objects.requireNonNull(verdict, "verdict");
      Objects.requireNonNull(explanation, "explanation");
      Objects.requireNonNull(elapsed, "elapsed");
    }

    public boolean isLinearizable() {
      return verdict == Verdict.LINEARIZABLE;
    }

    @Override
    public String toString() {
      return verdict
          + " ("
          + partitions
          + " partitions, "
          + steps
          + " steps, "
          + elapsed.toMillis()
          + " ms)"
          + (explanation.isEmpty() ? "" : "\n" + explanation);
    }
  }

  private LinearizabilityChecker() {}

  /** Checks with {@link Budget#DEFAULT}. */
  public static <S, I, O> Result check(Model<S, I, O> model, List<Operation<I, O>> history) {
    return check(model, history, Budget.DEFAULT);
  }

  /** Checks {@code history} against {@code model}, giving up with UNKNOWN past {@code budget}. */
  public static <S, I, O> Result check(
      Model<S, I, O> model, List<Operation<I, O>> history, Budget budget) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(budget, "budget");
    long start = System.nanoTime();
    long timeoutNanos = saturatedNanos(budget.timeout());

    List<List<Operation<I, O>>> parts = model.partition(List.copyOf(history));
    long totalSteps = 0;
    List<String> unknown = new ArrayList<>();
    for (int p = 0; p < parts.size(); p++) {
      List<Operation<I, O>> part = parts.get(p);
      Search<S, I, O> search =
          new Search<>(model, part, budget.maxStepsPerPartition(), start, timeoutNanos);
      Verdict v = search.run();
      totalSteps += search.steps;
      if (v == Verdict.NOT_LINEARIZABLE) {
        String explanation = search.explain(partitionLabel(model, parts, p));
        return new Result(v, explanation, parts.size(), totalSteps, since(start));
      }
      if (v == Verdict.UNKNOWN) {
        unknown.add(
            partitionLabel(model, parts, p)
                + ": "
                + (search.timedOut ? "deadline passed" : "step budget exhausted")
                + " after "
                + search.steps
                + " steps");
      }
    }
    if (!unknown.isEmpty()) {
      StringBuilder sb = new StringBuilder();
      sb.append("Search cut short in ")
          .append(unknown.size())
          .append(" of ")
          .append(parts.size())
          .append(" partitions (no violation found in the others):");
      for (String line : unknown) {
        sb.append("\n  ").append(line);
      }
      return new Result(Verdict.UNKNOWN, sb.toString(), parts.size(), totalSteps, since(start));
    }
    return new Result(Verdict.LINEARIZABLE, "", parts.size(), totalSteps, since(start));
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  private static Duration since(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  private static <S, I, O> String partitionLabel(
      Model<S, I, O> model, List<List<Operation<I, O>>> parts, int p) {
    String label = model.describePartition(parts.get(p));
    return "partition "
        + (p + 1)
        + " of "
        + parts.size()
        + (label.isEmpty() ? "" : " (" + label + ")")
        + ", "
        + parts.get(p).size()
        + " ops";
  }

  /** Formats one operation as a report line. */
  static <S, I, O> String formatOperation(Model<S, I, O> model, Operation<I, O> op) {
    String ret = op.isPending() ? "pending" : Long.toString(op.returnTime());
    String what =
        op.isPending()
            ? model.describeInput(op.input()) + " -> ? (outcome unknown)"
            : model.describe(op.input(), op.output());
    return "client " + op.clientId() + "  [" + op.callTime() + ", " + ret + "]  " + what;
  }

  /** Key of the memo cache: the set of linearized operations and the state it led to. */
  private static final class CacheKey<S> {
    private final long[] linearized;
    private final S state;
    private final int hash;

    CacheKey(long[] linearized, S state, long setHash) {
      this.linearized = linearized;
      this.state = state;
      long h = setHash ^ (state.hashCode() * 0x9E3779B97F4A7C15L);
      h ^= h >>> 33;
      h *= 0xFF51AFD7ED558CCDL;
      h ^= h >>> 33;
      this.hash = (int) h;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof CacheKey<?> k
          && k.hash == hash
          && Arrays.equals(k.linearized, linearized)
          && k.state.equals(state);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /** The search over one partition. */
  private static final class Search<S, I, O> {
    private static final int NONE = -1;

    private final Model<S, I, O> model;
    private final List<Operation<I, O>> ops;
    private final long maxSteps;
    private final long startNanos;
    private final long timeoutNanos;
    long steps;
    boolean timedOut;

    // Deepest point reached, for the explanation: the operations linearized there, in order.
    private int[] bestPrefix = new int[0];

    // Search state, set up by run().
    private int[] eventOp;
    private boolean[] eventIsCall;
    private int[] next;
    private int[] prev;
    private int[] returnEventOf;
    private I[] inputs;
    private O[] outputs;
    private boolean[] pending;
    private boolean[] readOnly;
    private long[] zobrist;
    private long[] linearized;
    private long setHash;
    private final HashSet<CacheKey<S>> cache = new HashSet<>();
    private int[] stackEvent;
    private boolean[] stackForced;
    private final List<S> stackState = new ArrayList<>();
    private int depth;
    private int remaining;
    private S state;

    Search(
        Model<S, I, O> model,
        List<Operation<I, O>> ops,
        long maxSteps,
        long startNanos,
        long timeoutNanos) {
      this.model = model;
      this.ops = ops;
      this.maxSteps = maxSteps;
      this.startNanos = startNanos;
      this.timeoutNanos = timeoutNanos;
    }

    Verdict run() {
      final int n = ops.size();
      int completed = 0;
      for (Operation<I, O> op : ops) {
        Objects.requireNonNull(op, "history contains a null operation");
        if (!op.isPending()) {
          completed++;
        }
      }
      if (completed == 0) {
        return Verdict.LINEARIZABLE;
      }

      // Events: ids 0..m-1, sorted by time; at equal times calls come before returns (closed
      // intervals), then by operation index for determinism. Slot m is the list head.
      final int m = n + completed;
      long[] sortKeys = new long[m];
      int[] eventOp = new int[m];
      boolean[] eventIsCall = new boolean[m];
      Integer[] order = new Integer[m];
      {
        int k = 0;
        for (int i = 0; i < n; i++) {
          Operation<I, O> op = ops.get(i);
          eventOp[k] = i;
          eventIsCall[k] = true;
          sortKeys[k] = op.callTime();
          order[k] = k;
          k++;
          if (!op.isPending()) {
            eventOp[k] = i;
            eventIsCall[k] = false;
            sortKeys[k] = op.returnTime();
            order[k] = k;
            k++;
          }
        }
      }
      Arrays.sort(
          order,
          (a, b) -> {
            int c = Long.compare(sortKeys[a], sortKeys[b]);
            if (c != 0) {
              return c;
            }
            if (eventIsCall[a] != eventIsCall[b]) {
              return eventIsCall[a] ? -1 : 1;
            }
            return Integer.compare(eventOp[a], eventOp[b]);
          });
      final int head = m;
      int[] next = new int[m + 1];
      int[] prev = new int[m + 1];
      int[] returnEventOf = new int[n];
      Arrays.fill(returnEventOf, NONE);
      int last = head;
      for (int idx = 0; idx < m; idx++) {
        int ev = order[idx];
        next[last] = ev;
        prev[ev] = last;
        last = ev;
        if (!eventIsCall[ev]) {
          returnEventOf[eventOp[ev]] = ev;
        }
      }
      next[last] = NONE;

      @SuppressWarnings("unchecked") // erased generic array; only ever holds I or O values
      I[] inputs = (I[]) new Object[n];
      @SuppressWarnings("unchecked") // as above
      O[] outputs = (O[]) new Object[n];
      boolean[] pending = new boolean[n];
      boolean[] readOnly = new boolean[n];
      long[] zobrist = new long[n];
      SplittableRandom random = new SplittableRandom(0x6C696E636865636BL);
      for (int i = 0; i < n; i++) {
        Operation<I, O> op = ops.get(i);
        inputs[i] = op.input();
        outputs[i] = op.output();
        pending[i] = op.isPending();
        readOnly[i] = !pending[i] && model.isReadOnly(op.input(), op.output());
        zobrist[i] = random.nextLong();
      }

      this.eventOp = eventOp;
      this.eventIsCall = eventIsCall;
      this.next = next;
      this.prev = prev;
      this.returnEventOf = returnEventOf;
      this.inputs = inputs;
      this.outputs = outputs;
      this.pending = pending;
      this.readOnly = readOnly;
      this.zobrist = zobrist;
      this.linearized = new long[(n + 63) >>> 6];
      this.stackEvent = new int[n];
      this.stackForced = new boolean[n];
      this.remaining = completed;
      this.state = Objects.requireNonNull(model.init(), "model.init() returned null");

      boolean atNewNode = true;
      int ev = head;
      while (true) {
        steps++;
        if (steps > maxSteps) {
          return Verdict.UNKNOWN;
        }
        if ((steps & 0x3FF) == 0 && System.nanoTime() - startNanos > timeoutNanos) {
          timedOut = true;
          return Verdict.UNKNOWN;
        }
        if (atNewNode) {
          atNewNode = false;
          // A minimal completed read-only operation that is legal now can be linearized first
          // without loss: any linearization from here can be reordered to start with it (nothing
          // must precede it, and it changes no state the others see). So take it without trying
          // alternatives at this node.
          int forced = NONE;
          for (int e = next[head]; e != NONE && eventIsCall[e]; e = next[e]) {
            int op = eventOp[e];
            if (readOnly[op]) {
              Optional<S> stepped = model.step(state, inputs[op], outputs[op]);
              if (stepped.isPresent() && stepped.get().equals(state)) {
                forced = e;
                break;
              }
            }
          }
          if (forced != NONE) {
            if (push(forced, state, true)) {
              if (remaining == 0) {
                return Verdict.LINEARIZABLE;
              }
              atNewNode = true;
            } else if ((ev = backtrack()) == NONE) {
              return Verdict.NOT_LINEARIZABLE;
            }
            continue;
          }
          ev = next[head];
        }
        // While a completed operation is unlinearized its return event is in the list, and the
        // scan reaches it before running off the end.
        int op = eventOp[ev];
        if (eventIsCall[ev]) {
          Optional<S> stepped =
              pending[op]
                  ? model.stepPending(state, inputs[op])
                  : model.step(state, inputs[op], outputs[op]);
          if (stepped.isPresent()
              && !(pending[op] && stepped.get().equals(state))
              && push(ev, stepped.get(), false)) {
            if (remaining == 0) {
              return Verdict.LINEARIZABLE;
            }
            atNewNode = true;
            continue;
          }
          ev = next[ev];
        } else if ((ev = backtrack()) == NONE) {
          // The operation returning here must already have been linearized, and no choice is left.
          return Verdict.NOT_LINEARIZABLE;
        }
      }
    }

    /**
     * Linearizes the operation of call event {@code ev}, leading to {@code newState}, unless that
     * configuration was explored before. Returns whether it did.
     */
    private boolean push(int ev, S newState, boolean forced) {
      int op = eventOp[ev];
      linearized[op >>> 6] ^= 1L << op;
      setHash ^= zobrist[op];
      if (!cache.add(new CacheKey<>(linearized.clone(), newState, setHash))) {
        linearized[op >>> 6] ^= 1L << op;
        setHash ^= zobrist[op];
        return false;
      }
      stackEvent[depth] = ev;
      stackForced[depth] = forced;
      stackState.add(state);
      depth++;
      state = newState;
      lift(ev, returnEventOf[op], next, prev);
      if (!pending[op]) {
        remaining--;
      }
      if (depth > bestPrefix.length) {
        bestPrefix = new int[depth];
        for (int d = 0; d < depth; d++) {
          bestPrefix[d] = eventOp[stackEvent[d]];
        }
      }
      return true;
    }

    /**
     * The current node has no way forward: undoes linearizations until one that has untried
     * alternatives, returning the event to resume scanning from, or {@link #NONE} if none is left.
     * A forced choice has no alternatives, so its failure fails the node it was made from too.
     */
    private int backtrack() {
      while (depth > 0) {
        depth--;
        int callEv = stackEvent[depth];
        int op = eventOp[callEv];
        state = stackState.remove(depth);
        linearized[op >>> 6] ^= 1L << op;
        setHash ^= zobrist[op];
        if (!pending[op]) {
          remaining++;
        }
        unlift(callEv, returnEventOf[op], next, prev);
        if (!stackForced[depth]) {
          return next[callEv];
        }
      }
      return NONE;
    }

    private static void lift(int callEv, int returnEv, int[] next, int[] prev) {
      unlink(callEv, next, prev);
      if (returnEv != NONE) {
        unlink(returnEv, next, prev);
      }
    }

    private static void unlift(int callEv, int returnEv, int[] next, int[] prev) {
      if (returnEv != NONE) {
        relink(returnEv, next, prev);
      }
      relink(callEv, next, prev);
    }

    private static void unlink(int e, int[] next, int[] prev) {
      next[prev[e]] = next[e];
      if (next[e] != NONE) {
        prev[next[e]] = prev[e];
      }
    }

    private static void relink(int e, int[] next, int[] prev) {
      next[prev[e]] = e;
      if (next[e] != NONE) {
        prev[next[e]] = e;
      }
    }

    /** Readable account of where the search got stuck (call after NOT_LINEARIZABLE). */
    String explain(String partitionLabel) {
      final int maxPrefixLines = 12;
      final int maxCandidateLines = 24;
      int n = ops.size();
      boolean[] inPrefix = new boolean[n];
      S state = model.init();
      for (int op : bestPrefix) {
        inPrefix[op] = true;
        Operation<I, O> o = ops.get(op);
        Optional<S> s =
            o.isPending()
                ? model.stepPending(state, o.input())
                : model.step(state, o.input(), o.output());
        state = s.orElseThrow(() -> new IllegalStateException("model is not deterministic"));
      }
      long deadlineTime = Long.MAX_VALUE;
      int completedLeft = 0;
      for (int i = 0; i < n; i++) {
        Operation<I, O> o = ops.get(i);
        if (!inPrefix[i] && !o.isPending()) {
          completedLeft++;
          deadlineTime = Math.min(deadlineTime, o.returnTime());
        }
      }
      StringBuilder sb = new StringBuilder();
      sb.append("Not linearizable: ").append(partitionLabel).append('\n');
      sb.append("Longest linearizable prefix found: ")
          .append(bestPrefix.length)
          .append(" ops (")
          .append(completedLeft)
          .append(" completed ops could not be placed after it)");
      int from = Math.max(0, bestPrefix.length - maxPrefixLines);
      if (bestPrefix.length > 0) {
        sb.append(from > 0 ? "; its last " + (bestPrefix.length - from) + ", in order:" : ":");
      }
      for (int d = from; d < bestPrefix.length; d++) {
        sb.append("\n  ").append(formatOperation(model, ops.get(bestPrefix[d])));
      }
      sb.append("\nState after the prefix: ").append(model.describeState(state));
      sb.append("\nOperations that could come next (called by t=")
          .append(deadlineTime)
          .append(", when the earliest unplaced op returned); none leads to a linearization:");
      int shown = 0;
      int total = 0;
      for (int i = 0; i < n; i++) {
        Operation<I, O> o = ops.get(i);
        if (inPrefix[i] || o.callTime() > deadlineTime) {
          continue;
        }
        total++;
        if (shown == maxCandidateLines) {
          continue;
        }
        shown++;
        Optional<S> s =
            o.isPending()
                ? model.stepPending(state, o.input())
                : model.step(state, o.input(), o.output());
        String why;
        if (s.isEmpty()) {
          why = "illegal in this state";
        } else if (o.isPending() && s.get().equals(state)) {
          why = "no effect in this state";
        } else {
          why = "legal here, but no linearization follows";
        }
        sb.append("\n  ").append(formatOperation(model, o)).append("   <- ").append(why);
        if (!o.isPending() && o.returnTime() == deadlineTime) {
          sb.append("; must take effect by t=").append(deadlineTime);
        }
      }
      if (total > shown) {
        sb.append("\n  ... and ").append(total - shown).append(" more");
      }
      return sb.toString();
    }
  }
}
