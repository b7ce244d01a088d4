/**
 * Deterministic simulation of a whole Raft cluster in one thread: the harness that proves the
 * consensus core safe under every interleaving it generates. See docs/store-raft.md.
 */
package dev.kubelite.store.raft.sim;
