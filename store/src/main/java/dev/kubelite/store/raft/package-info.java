/**
 * Raft consensus as a pure, deterministic state machine: no threads, clocks or IO. A driver feeds
 * it {@code tick()}, {@code step(Message)} and proposals, then executes each {@link
 * dev.kubelite.store.raft.Ready} batch in order (persist, send, apply) and calls {@code advance}.
 * See docs/store-raft.md for the design and the persistence contract.
 */
package dev.kubelite.store.raft;
