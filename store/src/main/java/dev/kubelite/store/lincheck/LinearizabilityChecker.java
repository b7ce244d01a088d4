package dev.kubelite.store.lincheck;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Decides whether a history is linearizable with respect to a {@link Model}.
 *
 * <p>The search is Wing and Gong's algorithm with Lowe's memoization, iterative (an explicit undo
 * stack, no recursion). Call and return events are kept in one time-ordered doubly linked list
 * (closed intervals: at equal times calls sort before returns, see the package documentation). At
 * each node the candidates are the operations whose call precedes the first remaining return event;
 * they are tried earliest-return first. Linearizing one removes its events from the list, undone on
 * backtrack. A node with no candidate left fails: the operation whose return event comes first
 * cannot take effect in time. A cache of explored (set of linearized operations, model state)
 * configurations, the set as a {@code long[]} bitset with a Zobrist hash, prunes configurations
 * reached again by a different order.
 *
 * <p>Two further prunings keep read-heavy histories cheap. A completed read-only operation (see
 * {@link Model#isReadOnly}) that is legal and may go next is taken without trying alternatives.
 * Pending operations ({@link Operation#pending}) have no return event, so they never force a
 * backtrack; the search succeeds once every completed operation is linearized, leaving the others
 * as "never took effect". A pending operation that would not change the state is not linearized,
 * and a configuration with pending operations used is pruned when the same configuration without
 * them already failed.
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

  /**
   * Key of the memo cache: the set of linearized operations and the state it led to. The completed
   * operations are stored as {@code full} leading all-ones words (not stored) and the words after
   * them up to the last non-zero one, which is canonical and, as operations are numbered in call
   * order, short. The pending ones are stored up to the last non-zero word (so none is empty).
   */
  private static final class CacheKey<S> {
    private static final long[] NONE = new long[0];

    private final int full;
    private final long[] rest;
    private final long[] pendingUsed;
    private final S state;
    private final int hash;

    CacheKey(long[] linearized, long[] pendingUsed, S state, long setHash) {
      int lo = 0;
      while (lo < linearized.length && linearized[lo] == -1L) {
        lo++;
      }
      this.full = lo;
      this.rest = trimmedCopy(linearized, lo);
      this.pendingUsed = trimmedCopy(pendingUsed, 0);
      this.state = state;
      long h = setHash ^ (state.hashCode() * 0x9E3779B97F4A7C15L);
      h ^= h >>> 33;
      h *= 0xFF51AFD7ED558CCDL;
      h ^= h >>> 33;
      this.hash = (int) h;
    }

    private static long[] trimmedCopy(long[] words, int from) {
      int to = words.length;
      while (to > from && words[to - 1] == 0L) {
        to--;
      }
      return to == from ? NONE : Arrays.copyOfRange(words, from, to);
    }

    boolean hasPending() {
      return pendingUsed.length > 0;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof CacheKey<?> k
          && k.hash == hash
          && k.full == full
          && Arrays.equals(k.rest, rest)
          && Arrays.equals(k.pendingUsed, pendingUsed)
          && k.state.equals(state);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /** Whether the exploration of a cached configuration is complete (so it led nowhere). */
  private static final class Explored {
    boolean finished;
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
    // Index of each operation among the completed ones, or among the pending ones.
    private int[] bitIndex;
    // Linearized completed operations, by bitIndex.
    private long[] linearized;
    // Zobrist hash of the completed operations in linearized.
    private long completedHash;
    // Zobrist hash of the pending operations in pendingUsed.
    private long pendingHash;
    // Linearized pending operations, by bitIndex.
    private long[] pendingUsed;
    private final HashMap<CacheKey<S>, Explored> cache = new HashMap<>();
    private static final long[] NO_PENDING = new long[0];
    private int[] stackEvent;
    private Explored[] stackExplored;
    private int head;
    // Candidates of the nodes on the current path: node d (d operations linearized) tries
    // candidates[nodeStart[d] .. nodeEnd[d]), and is at nodePos[d].
    private int[] candidates = new int[64];
    private int[] nodeStart;
    private int[] nodeEnd;
    private int[] nodePos;
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
      // Number operations in call order, so the set of linearized operations is mostly a prefix
      // of the numbering and cache keys can be stored compactly (see CacheKey).
      List<Operation<I, O>> sorted = new ArrayList<>(ops);
      sorted.sort(Comparator.comparingLong(Operation::callTime));
      this.ops = sorted;
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
      int[] bitIndex = new int[n];
      int pendingCount = 0;
      SplittableRandom random = new SplittableRandom(0x6C696E636865636BL);
      for (int i = 0; i < n; i++) {
        Operation<I, O> op = ops.get(i);
        inputs[i] = op.input();
        outputs[i] = op.output();
        pending[i] = op.isPending();
        readOnly[i] = !pending[i] && model.isReadOnly(op.input(), op.output());
        zobrist[i] = random.nextLong();
        bitIndex[i] = pending[i] ? pendingCount++ : i - pendingCount;
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
      this.bitIndex = bitIndex;
      this.linearized = new long[(completed + 63) >>> 6];
      this.pendingUsed = new long[(pendingCount + 63) >>> 6];
      this.stackEvent = new int[n];
      this.stackExplored = new Explored[n];
      this.remaining = completed;
      this.state = Objects.requireNonNull(model.init(), "model.init() returned null");

      this.head = head;
      this.nodeStart = new int[n + 1];
      this.nodeEnd = new int[n + 1];
      this.nodePos = new int[n + 1];
      buildNode();
      while (true) {
        steps++;
        if (steps > maxSteps) {
          return Verdict.UNKNOWN;
        }
        if ((steps & 0x3FF) == 0 && System.nanoTime() - startNanos > timeoutNanos) {
          timedOut = true;
          return Verdict.UNKNOWN;
        }
        if (nodePos[depth] == nodeEnd[depth]) {
          // No candidate of this node leads to a linearization.
          if (depth == 0) {
            return Verdict.NOT_LINEARIZABLE;
          }
          pop();
          nodePos[depth]++;
          continue;
        }
        int ev = candidates[nodePos[depth]];
        int op = eventOp[ev];
        Optional<S> stepped =
            pending[op]
                ? model.stepPending(state, inputs[op])
                : model.step(state, inputs[op], outputs[op]);
        // A pending operation that changes nothing here need not be linearized here.
        if (stepped.isPresent()
            && !(pending[op] && stepped.get().equals(state))
            && push(ev, stepped.get())) {
          if (remaining == 0) {
            return Verdict.LINEARIZABLE;
          }
          buildNode();
        } else {
          nodePos[depth]++;
        }
      }
    }

    /**
     * Lists the candidates of the node at the current depth: the operations whose call precedes the
     * first remaining return (while a completed operation is unlinearized its return is in the
     * list, so the scan stops before running off its end). They are tried in order of return time,
     * earliest first (pending ones last), which tends to follow the order operations took effect in
     * and keeps long-running operations from being tried early at every node.
     *
     * <p>If a completed read-only operation is legal now, it is the only candidate: any
     * linearization from here can be reordered to start with it (nothing must precede it, and it
     * changes no state the others see), so there is no need to try alternatives at this node.
     */
    private void buildNode() {
      int start = depth == 0 ? 0 : nodeEnd[depth - 1];
      int end = start;
      for (int e = next[head]; e != NONE && eventIsCall[e]; e = next[e]) {
        int op = eventOp[e];
        if (readOnly[op]) {
          Optional<S> stepped = model.step(state, inputs[op], outputs[op]);
          if (stepped.isPresent() && stepped.get().equals(state)) {
            candidates = ensureCapacity(candidates, start + 1);
            candidates[start] = e;
            end = start + 1;
            break;
          }
        }
        candidates = ensureCapacity(candidates, end + 1);
        // Insertion sort by (return time, operation number).
        int i = end++;
        while (i > start && returnsBefore(e, candidates[i - 1])) {
          candidates[i] = candidates[i - 1];
          i--;
        }
        candidates[i] = e;
      }
      nodeStart[depth] = start;
      nodeEnd[depth] = end;
      nodePos[depth] = start;
    }

    private boolean returnsBefore(int callEvA, int callEvB) {
      int a = eventOp[callEvA];
      int b = eventOp[callEvB];
      long ra = ops.get(a).returnTime();
      long rb = ops.get(b).returnTime();
      return ra < rb || (ra == rb && a < b);
    }

    private static int[] ensureCapacity(int[] array, int size) {
      return size <= array.length ? array : Arrays.copyOf(array, Math.max(size, array.length * 2));
    }

    /** Adds or removes {@code op} from the linearized sets. */
    private void toggle(int op) {
      int b = bitIndex[op];
      if (pending[op]) {
        pendingUsed[b >>> 6] ^= 1L << b;
        pendingHash ^= zobrist[op];
      } else {
        linearized[b >>> 6] ^= 1L << b;
        completedHash ^= zobrist[op];
      }
    }

    /**
     * Linearizes the operation of call event {@code ev}, leading to {@code newState}, unless that
     * configuration is known not to help. Returns whether it did.
     *
     * <p>A configuration does not help if it was explored before, or if the configuration with the
     * same completed operations and state but no pending operation linearized was fully explored
     * without success: not having used up pending operations leaves at least as many options. (The
     * second rule is applied only to a finished exploration, never to one still on the stack.)
     */
    private boolean push(int ev, S newState) {
      int op = eventOp[ev];
      toggle(op);
      CacheKey<S> key =
          new CacheKey<>(linearized, pendingUsed, newState, completedHash ^ pendingHash);
      boolean known = cache.containsKey(key);
      if (!known && key.hasPending()) {
        Explored without =
            cache.get(new CacheKey<>(linearized, NO_PENDING, newState, completedHash));
        known = without != null && without.finished;
      }
      if (known) {
        toggle(op);
        return false;
      }
      Explored explored = new Explored();
      cache.put(key, explored);
      stackExplored[depth] = explored;
      stackEvent[depth] = ev;
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

    /** Undoes the last linearization; the configuration it led to is now fully explored. */
    private void pop() {
      depth--;
      int callEv = stackEvent[depth];
      int op = eventOp[callEv];
      state = stackState.remove(depth);
      toggle(op);
      stackExplored[depth].finished = true;
      stackExplored[depth] = null;
      if (!pending[op]) {
        remaining++;
      }
      unlift(callEv, returnEventOf[op], next, prev);
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
