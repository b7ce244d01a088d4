package dev.kubelite.store.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Figure 8 of the Raft paper, scripted message by message on five nodes, with the safety checker
 * watching. A leader that commits an entry of an earlier term by counting its replicas lets a later
 * leader overwrite a committed entry; the correct commit rule does not. This shows both that the
 * rule is implemented and that the checker catches its violation.
 */
class Figure8Test {

  private static TestCluster figure8Cluster(Set<RaftConfig.InjectedBug> bugs) {
    TestCluster c = TestCluster.of(5);
    c.maxSizePerMessage = 1; // one entry per APPEND, so acknowledgements can split
    for (long id = 1; id <= 5; id++) {
      c.add(id, c.disks.get(id), bugs);
    }
    c.settle();
    return c;
  }

  private static Message timeoutNow(long to, long term) {
    return Message.builder(MessageType.TIMEOUT_NOW).from(2).to(to).term(term).build();
  }

  /** Runs the figure up to the point where node 5 (holding a conflicting entry) may win again. */
  private static void runUntilOldEntryIsOnAMajority(TestCluster c) {
    // (a) Node 1 leads term 2 and appends entry 7 only locally.
    c.elect(1);
    c.isolated.addAll(Set.of(2L, 3L, 4L, 5L));
    c.node(1).propose("from term 2".getBytes());
    c.stabilize();
    assertThat(c.node(1).termAt(7)).isEqualTo(2);

    // (b) Node 5 wins term 3 without node 1 and appends its own entry 7, which goes nowhere.
    c.isolated.clear();
    c.isolated.add(1L);
    c.dropFilter = m -> m.from() == 5 && m.type() == MessageType.APPEND;
    c.node(5).step(timeoutNow(5, 2));
    c.stabilize();
    assertThat(c.node(5).role()).isEqualTo(Role.LEADER);
    assertThat(c.node(5).termAt(7)).isEqualTo(3);

    // (c) Node 1 returns and wins term 4; entry 7 (term 2) reaches nodes 2-4, its term-4 no-op
    // at 8 does not.
    c.isolated.clear();
    c.isolated.add(5L);
    c.dropFilter =
        m ->
            m.from() == 1
                && m.type() == MessageType.APPEND
                && m.entries().stream().anyMatch(e -> e.index() >= 8)
                && c.node(m.to()).termAt(7) == 2; // let the probe through, then hold back 8
    c.node(1).step(timeoutNow(1, 3));
    c.stabilize();
    assertThat(c.node(1).role()).isEqualTo(Role.LEADER);
    assertThat(c.node(1).term()).isEqualTo(4);
    for (long id = 2; id <= 4; id++) {
      assertThat(c.node(id).termAt(7)).as("node %d holds the term-2 entry", id).isEqualTo(2);
    }
  }

  /** (d) Node 1 is cut off; node 5, whose last entry has the newer term 3, wins term 5. */
  private static void nodeFiveWinsAgain(TestCluster c) {
    c.isolated.clear();
    c.isolated.add(1L);
    c.dropFilter = m -> false;
    c.tick(5, 1); // its heartbeat is refused with term 4: it steps down
    c.node(5).step(timeoutNow(5, 4));
    c.stabilize();
  }

  @Test
  void correctCommitRuleLeavesTheOldEntryUncommittedAndOverwritingItIsSafe() {
    TestCluster c = figure8Cluster(Set.of());
    runUntilOldEntryIsOnAMajority(c);
    assertThat(c.node(1).commitIndex()).isLessThan(7);

    nodeFiveWinsAgain(c);
    assertThat(c.node(5).role()).isEqualTo(Role.LEADER);
    c.tickAll(2);
    for (long id = 2; id <= 5; id++) {
      assertThat(c.node(id).termAt(7)).isEqualTo(3);
    }
  }

  @Test
  void countingOldTermReplicasCommitsAnEntryThatIsLaterLostAndTheCheckerSaysSo() {
    TestCluster c = figure8Cluster(Set.of(RaftConfig.InjectedBug.COMMIT_STALE_TERM_ENTRIES));
    runUntilOldEntryIsOnAMajority(c);
    assertThat(c.node(1).commitIndex()).isEqualTo(7); // the bug: committed on term-2 replicas

    assertThatThrownBy(() -> nodeFiveWinsAgain(c))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("leader completeness")
        .hasMessageContaining("committed index 7");
  }
}
