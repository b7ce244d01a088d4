package dev.kubelite.store.raft;

import java.util.List;

/**
 * Stable storage for one node: what a driver writes a {@link Ready} into. Implementations must make
 * {@link #save} durable before returning — the persistence contract of {@code docs/store-raft.md}
 * depends on it.
 */
public interface RaftLogStorage extends RaftStorage {

  /**
   * Persists, in this order and then durably (one sync for the whole call): a snapshot received
   * from the leader (replacing the whole log), the entries (an entry whose index is already present
   * replaces it and everything after it), then the hard state. Any argument may be null or empty.
   */
  void save(HardState hardState, List<Entry> entries, Snapshot snapshot);

  /**
   * Records a snapshot the local state machine took at {@code snapshot.index()} (which must be
   * applied, hence committed) and discards entries up to {@code compactIndex <= snapshot.index()}.
   * Keeping some entries below the snapshot lets slightly lagging followers catch up from the log.
   */
  void compact(Snapshot snapshot, long compactIndex);
}
