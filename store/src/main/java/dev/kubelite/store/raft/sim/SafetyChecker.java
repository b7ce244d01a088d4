package dev.kubelite.store.raft.sim;

import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.Message;
import dev.kubelite.store.raft.MessageType;
import dev.kubelite.store.raft.RaftNode;
import dev.kubelite.store.raft.RaftStorage;
import dev.kubelite.store.raft.Role;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Raft's safety properties, checked incrementally as a driver runs nodes (the simulation, or a
 * hand-driven test cluster). Each check returns a violation description, or null when all is well.
 *
 * <ul>
 *   <li>Election safety: at most one leader per term.
 *   <li>Log matching: an (index, term) pair identifies one entry and, by induction over the
 *       preceding entry's term, the whole prefix before it.
 *   <li>Committed entries never change: once any node commits or applies index i with term t, no
 *       node ever commits or applies anything else at i.
 *   <li>Leader completeness: a new leader of term T holds every entry committed in earlier terms.
 *   <li>State machine safety: every node applies the same entries in the same order, gap-free.
 *   <li>Persistence contract: nothing leaves a node that depends on state not yet durable.
 * </ul>
 */
public final class SafetyChecker {
  private record EntryId(long index, long term) {}

  private record EntryFacts(int contentHash, long prevTerm) {}

  private record Committed(long term, long observedInTerm) {}

  private final Map<Long, Long> leaderByTerm = new HashMap<>();
  private final Set<String> leadersChecked = new HashSet<>();
  private final Map<EntryId, EntryFacts> entries = new HashMap<>();
  private final TreeMap<Long, Committed> committed = new TreeMap<>();

  static int contentHash(Entry e) {
    return e.type().ordinal() * 31 + Arrays.hashCode(e.data());
  }

  /** A node made these entries durable; {@code disk} is its storage afterwards. */
  public String onPersist(long node, Iterable<Entry> persisted, RaftStorage disk) {
    for (Entry e : persisted) {
      if (e.index() < disk.firstIndex()) {
        continue;
      }
      long prev = disk.term(e.index() - 1);
      EntryFacts facts = new EntryFacts(contentHash(e), prev);
      EntryFacts known = entries.putIfAbsent(new EntryId(e.index(), e.term()), facts);
      if (known == null) {
        continue;
      }
      if (known.contentHash != facts.contentHash) {
        return "log matching: node "
            + node
            + " holds a different entry at index "
            + e.index()
            + " term "
            + e.term();
      }
      if (prev != RaftStorage.UNKNOWN_TERM
          && known.prevTerm != RaftStorage.UNKNOWN_TERM
          && prev != known.prevTerm) {
        return "log matching: node "
            + node
            + " has entry "
            + e.index()
            + "@"
            + e.term()
            + " after term "
            + prev
            + " but another node has it after term "
            + known.prevTerm;
      }
    }
    return null;
  }

  /**
   * Index {@code index} with {@code term} is committed (seen by a node in term {@code nodeTerm}).
   */
  public String onCommitted(long node, long index, long term, long nodeTerm) {
    Committed known = committed.putIfAbsent(index, new Committed(term, nodeTerm));
    if (known != null && known.term != term) {
      return "committed entry changed: index "
          + index
          + " was committed with term "
          + known.term
          + " but node "
          + node
          + " committed term "
          + term;
    }
    return null;
  }

  /**
   * Called whenever a node is observed in a role; checks election safety and, once, completeness.
   */
  public String onRole(RaftNode raft) {
    if (raft.role() != Role.LEADER) {
      return null;
    }
    Long other = leaderByTerm.putIfAbsent(raft.term(), raft.id());
    if (other != null && other != raft.id()) {
      return "two leaders in term " + raft.term() + ": nodes " + other + " and " + raft.id();
    }
    if (!leadersChecked.add(raft.id() + "@" + raft.term())) {
      return null;
    }
    for (Map.Entry<Long, Committed> c : committed.entrySet()) {
      if (c.getValue().observedInTerm >= raft.term()) {
        continue;
      }
      long index = c.getKey();
      long mine = raft.termAt(index);
      if (mine == RaftStorage.UNKNOWN_TERM) {
        if (index > raft.lastIndex()) {
          return "leader completeness: leader "
              + raft.id()
              + " of term "
              + raft.term()
              + " lacks committed entry "
              + index
              + " (its log ends at "
              + raft.lastIndex()
              + ")";
        }
        continue; // compacted into its snapshot
      }
      if (mine != c.getValue().term) {
        return "leader completeness: leader "
            + raft.id()
            + " of term "
            + raft.term()
            + " has term "
            + mine
            + " at committed index "
            + index
            + " (committed term "
            + c.getValue().term
            + ")";
      }
    }
    return null;
  }

  /**
   * Called for each message a node sends, after it persisted its Ready: the message may rely only
   * on what {@code disk} now holds.
   */
  public String onSend(Message m, RaftStorage disk) {
    var hs = disk.hardState();
    boolean futureTermByDesign =
        m.type() == MessageType.PRE_VOTE
            || (m.type() == MessageType.PRE_VOTE_RESPONSE && !m.reject());
    if (!futureTermByDesign && m.term() > hs.term()) {
      return "persistence: node "
          + m.from()
          + " sent "
          + m
          + " while its durable term is "
          + hs.term();
    }
    if (m.type() == MessageType.VOTE_RESPONSE && !m.reject()) {
      if (hs.vote() != m.to() || hs.term() != m.term()) {
        return "persistence: node "
            + m.from()
            + " granted its vote to "
            + m.to()
            + " in term "
            + m.term()
            + " but durably voted for "
            + hs.vote()
            + " in term "
            + hs.term();
      }
    }
    if (m.type() == MessageType.VOTE && hs.vote() != m.from()) {
      return "persistence: candidate "
          + m.from()
          + " asked for votes before its own vote was durable";
    }
    if (m.type() == MessageType.APPEND_RESPONSE && !m.reject() && m.index() > disk.lastIndex()) {
      return "persistence: node "
          + m.from()
          + " acknowledged index "
          + m.index()
          + " but its durable log ends at "
          + disk.lastIndex();
    }
    return null;
  }

  long maxCommittedIndex() {
    return committed.isEmpty() ? 0 : committed.lastKey();
  }
}
