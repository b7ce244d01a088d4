/**
 * A linearizability checker for client histories of concurrent objects, following Wing and Gong's
 * search with Lowe's memoization (the approach popularised by Knossos and Porcupine).
 *
 * <p>A history is a list of {@link dev.kubelite.store.lincheck.Operation}s, each with a call and a
 * return time. {@link dev.kubelite.store.lincheck.LinearizabilityChecker#check} searches for a
 * total order of the operations that respects real time (an operation that returned before another
 * was called comes first) and is legal for a sequential {@link dev.kubelite.store.lincheck.Model}.
 *
 * <p><b>Time convention.</b> Intervals are closed: an operation occupies {@code [callTime,
 * returnTime]}. Operation A precedes operation B in real time only when {@code A.returnTime <
 * B.callTime}; if A returns at the same instant B is called they are treated as concurrent and may
 * be linearized in either order. A recorder that wants "returned at t, then called at t" to mean
 * strict precedence should use a clock that ticks between events (for example a global event
 * counter).
 *
 * <p><b>Unknown outcomes.</b> An operation whose result the client never learned (timeout, crash)
 * is recorded with {@link dev.kubelite.store.lincheck.Operation#pending}: it may take effect at any
 * point after its call, or never.
 */
package dev.kubelite.store.lincheck;
