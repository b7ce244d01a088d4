package dev.kubelite.store.raft;

import java.util.List;

/**
 * A batch of work the node hands its driver. The driver must execute it in this order, then call
 * {@link RaftNode#advance(Ready)} before stepping the node again:
 *
 * <ol>
 *   <li>Persist {@code snapshot} (if any), {@code entries} and {@code hardState} (if any) to stable
 *       storage, durably — one sync for the batch.
 *   <li>Send {@code messages}. They may depend on what step 1 persisted (a vote, an acknowledged
 *       entry), which is why they come after it.
 *   <li>Install {@code snapshot} into the state machine, then apply {@code committedEntries} in
 *       order; hand each {@link ReadState} to whoever waits for it.
 * </ol>
 */
public record Ready(
    SoftState softState,
    HardState hardState,
    List<Entry> entries,
    Snapshot snapshot,
    List<Entry> committedEntries,
    List<Message> messages,
    List<ReadState> readStates) {

  public boolean isEmpty() {
    return softState == null
        && hardState == null
        && entries.isEmpty()
        && snapshot == null
        && committedEntries.isEmpty()
        && messages.isEmpty()
        && readStates.isEmpty();
  }
}
