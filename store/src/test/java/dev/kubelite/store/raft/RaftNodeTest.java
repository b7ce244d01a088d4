package dev.kubelite.store.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Scripted scenarios, one Raft mechanism each, on a hand-driven cluster. */
class RaftNodeTest {

  private static byte[] bytes(String s) {
    return s.getBytes();
  }

  @Test
  void electsLeaderAndReplicatesToEveryNode() {
    TestCluster c = TestCluster.of(3);
    c.elect(1);
    assertThat(c.node(1).role()).isEqualTo(Role.LEADER);
    assertThat(c.node(2).leader()).isEqualTo(1);

    assertThat(c.node(1).propose(bytes("x=1"))).isEqualTo(ProposeResult.ACCEPTED);
    assertThat(c.node(2).propose(bytes("x=2"))).isEqualTo(ProposeResult.FORWARDED);
    c.stabilize();
    c.tickAll(1); // a heartbeat carries the final commit index to followers
    for (long id = 1; id <= 3; id++) {
      assertThat(c.appliedData(id)).containsExactly("x=1", "x=2");
    }
  }

  @Test
  void writesProposedTogetherReachEachFollowerInOneAppendAndApplyInOrder() {
    TestCluster c = TestCluster.of(3);
    c.elect(1);
    c.stabilize();
    c.queue.clear();
    assertThat(c.node(1).propose(java.util.List.of(bytes("a"), bytes("b"), bytes("c"))))
        .isEqualTo(ProposeResult.ACCEPTED);
    c.settle();
    assertThat(c.queue)
        .filteredOn(m -> m.type() == dev.kubelite.store.raft.MessageType.APPEND)
        .hasSize(2)
        .allSatisfy(m -> assertThat(m.entries()).hasSize(3));
    // From a follower, the batch is forwarded to the leader as one proposal.
    assertThat(c.node(2).propose(java.util.List.of(bytes("d"), bytes("e"))))
        .isEqualTo(ProposeResult.FORWARDED);
    c.stabilize();
    c.tickAll(1);
    for (long id = 1; id <= 3; id++) {
      assertThat(c.appliedData(id)).containsExactly("a", "b", "c", "d", "e");
    }
  }

  @Test
  void aRestartTakesAppliedEntriesAsCommittedWhenTheSavedCommitIndexLags() {
    // The commit index is saved without a sync (etcd's MustSync), so after a machine crash the
    // state machine may hold entries beyond it; they were committed, or they would not be applied.
    MemoryRaftStorage disk = new MemoryRaftStorage();
    Bootstrap.initialize(disk, List.of(1L, 2L, 3L));
    long last = disk.lastIndex();
    disk.save(
        new HardState(2, 1, last),
        List.of(Entry.normal(2, last + 1, bytes("a")), Entry.normal(2, last + 2, bytes("b"))),
        null);
    RaftNode n = new RaftNode(RaftConfig.builder(1).applied(last + 2).build(), disk);
    assertThat(n.appliedIndex()).isEqualTo(last + 2);
    assertThat(n.commitIndex()).isEqualTo(last + 2);
    // Entries the log does not hold cannot have been applied from it: the log lost them.
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new RaftNode(RaftConfig.builder(1).applied(last + 3).build(), disk))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("beyond the last log index " + (last + 2));
  }

  @Test
  void singleNodeClusterCommitsOnItsOwnOnceDurable() {
    TestCluster c = TestCluster.of(1);
    c.elect(1);
    assertThat(c.node(1).role()).isEqualTo(Role.LEADER);
    c.node(1).propose(bytes("solo"));
    c.stabilize();
    assertThat(c.appliedData(1)).containsExactly("solo");
  }

  @Test
  void randomizedTimeoutElectsALeaderWithoutHelp() {
    TestCluster c = TestCluster.of(5);
    c.tickAll(40);
    long leader = c.leader();
    assertThat(leader).isNotEqualTo(RaftNode.NONE);
    for (RaftNode n : c.nodes.values()) {
      assertThat(n.leader()).isEqualTo(leader);
    }
  }

  @Test
  void preVoteKeepsARejoiningPartitionedNodeFromDisruptingTheLeader() {
    TestCluster c = TestCluster.of(3);
    c.elect(1);
    long term = c.node(1).term();
    c.isolated.add(3L);
    c.tick(3, 100); // would campaign many times over; pre-vote never gets a quorum
    assertThat(c.node(3).term()).isEqualTo(term);
    c.isolated.clear();
    c.tickAll(5);
    assertThat(c.node(1).role()).isEqualTo(Role.LEADER);
    assertThat(c.node(1).term()).isEqualTo(term);
    assertThat(c.node(3).leader()).isEqualTo(1);
  }

  @Test
  void checkQuorumMakesAnIsolatedLeaderStepDown() {
    TestCluster c = TestCluster.of(3);
    c.elect(1);
    c.isolated.add(1L);
    c.tick(1, 25);
    assertThat(c.node(1).role()).isEqualTo(Role.FOLLOWER);
  }

  @Test
  void followersInLeaseIgnoreADisruptiveCandidate() {
    TestCluster c = TestCluster.of(3);
    c.elect(1);
    long term = c.node(1).term();
    // A candidate that skipped pre-vote asks for a vote in a higher term, with a longer log. A
    // follower that hears from its leader ignores it (leader lease): no new term, no answer.
    Message.Builder vote =
        Message.builder(MessageType.VOTE).from(3).to(2).term(term + 1).index(100).logTerm(term);
    c.node(2).step(vote.build());
    c.settle();
    assertThat(c.node(2).term()).isEqualTo(term);
    assertThat(c.queue).noneMatch(m -> m.type() == MessageType.VOTE_RESPONSE);
    // Forced campaigns (leadership transfer) do get through.
    c.node(2).step(vote.context("transfer-leadership".getBytes()).build());
    c.settle();
    assertThat(c.node(2).term()).isEqualTo(term + 1);
  }

  @Test
  void leadershipTransferHandsOverToTheTarget() {
    TestCluster c = TestCluster.of(3);
    c.elect(1);
    c.node(1).propose(bytes("before"));
    c.stabilize();
    c.node(1).transferLeadership(3);
    c.stabilize();
    assertThat(c.node(3).role()).isEqualTo(Role.LEADER);
    assertThat(c.node(1).role()).isEqualTo(Role.FOLLOWER);
    c.node(3).propose(bytes("after"));
    c.stabilize();
    c.tickAll(1);
    assertThat(c.appliedData(1)).containsExactly("before", "after");
  }

  @Test
  void leaderRefusesProposalsWhileTransferringAndAbortsAfterAnElectionTimeout() {
    TestCluster c = TestCluster.of(3);
    c.elect(1);
    c.isolated.add(3L);
    c.node(1).transferLeadership(3);
    c.stabilize();
    assertThat(c.node(1).propose(bytes("x"))).isEqualTo(ProposeResult.DROPPED_LEADERSHIP_TRANSFER);
    c.tick(1, 10);
    assertThat(c.node(1).leadTransferee()).isEqualTo(RaftNode.NONE);
    assertThat(c.node(1).propose(bytes("x"))).isEqualTo(ProposeResult.ACCEPTED);
  }

  @Test
  void learnerIsAddedPromotedAndRemovedLeaderStepsDown() {
    TestCluster c = TestCluster.of(3);
    c.elect(1);
    c.add(4, new MemoryRaftStorage());
    assertThat(c.node(1).proposeConfChange(new ConfChange(ConfChange.Type.ADD_LEARNER, 4)))
        .isEqualTo(ProposeResult.ACCEPTED);
    // Only one membership change at a time.
    assertThat(c.node(1).proposeConfChange(new ConfChange(ConfChange.Type.ADD_VOTER, 4)))
        .isEqualTo(ProposeResult.DROPPED_CONF_CHANGE_PENDING);
    c.stabilize();
    c.tickAll(2);
    assertThat(c.node(4).confState().learners()).containsExactly(4L);
    assertThat(c.node(4).campaignable()).isFalse();

    c.node(1).proposeConfChange(new ConfChange(ConfChange.Type.ADD_VOTER, 4));
    c.stabilize();
    c.tickAll(2);
    assertThat(c.node(1).confState().voters()).containsExactly(1L, 2L, 3L, 4L);
    assertThat(c.node(4).confState().voters()).containsExactly(1L, 2L, 3L, 4L);

    c.node(1).proposeConfChange(new ConfChange(ConfChange.Type.REMOVE_NODE, 1));
    c.stabilize();
    assertThat(c.node(1).role()).isEqualTo(Role.FOLLOWER);
    c.tickAll(30);
    long leader = c.leader();
    assertThat(leader).isIn(2L, 3L, 4L);
    c.node(leader).propose(bytes("without-1"));
    c.stabilize();
    c.tickAll(1);
    assertThat(c.appliedData(4)).contains("without-1");
    assertThat(c.node(leader).confState().voters()).containsExactly(2L, 3L, 4L);
  }

  @Test
  void invalidMembershipChangesAreRefused() {
    TestCluster c = TestCluster.of(1);
    c.elect(1);
    c.tickAll(1);
    assertThat(c.node(1).proposeConfChange(new ConfChange(ConfChange.Type.REMOVE_NODE, 1)))
        .isEqualTo(ProposeResult.DROPPED_INVALID_CONF_CHANGE);
    assertThat(c.node(1).proposeConfChange(new ConfChange(ConfChange.Type.ADD_VOTER, 1)))
        .isEqualTo(ProposeResult.DROPPED_INVALID_CONF_CHANGE);
    assertThat(c.node(1).proposeConfChange(new ConfChange(ConfChange.Type.REMOVE_NODE, 9)))
        .isEqualTo(ProposeResult.DROPPED_INVALID_CONF_CHANGE);
  }

  @Test
  void readIndexNeedsAHeartbeatQuorumAndFollowersGetItFromTheLeader() {
    TestCluster c = TestCluster.of(3);
    c.elect(1);
    c.node(1).propose(bytes("v"));
    c.stabilize();
    long commit = c.node(1).commitIndex();

    c.node(1).readIndex(bytes("r1"));
    c.stabilize();
    assertThat(c.readStates.get(1L)).hasSize(1);
    assertThat(c.readStates.get(1L).get(0).index()).isEqualTo(commit);

    c.node(2).readIndex(bytes("r2"));
    c.stabilize();
    assertThat(c.readStates.get(2L)).hasSize(1);
    assertThat(new String(c.readStates.get(2L).get(0).context())).isEqualTo("r2");

    // A leader cut off from the others cannot confirm leadership: no answer.
    c.isolated.add(2L);
    c.isolated.add(3L);
    c.node(1).readIndex(bytes("r3"));
    c.stabilize();
    assertThat(c.readStates.get(1L)).hasSize(1);
  }

  @Test
  void laggingFollowerCatchesUpFromASnapshotWhenTheLogIsCompacted() {
    TestCluster c = TestCluster.of(3);
    c.elect(1);
    c.isolated.add(3L);
    for (int i = 0; i < 30; i++) {
      c.node(1).propose(bytes("e" + i));
      c.stabilize();
    }
    for (long id = 1; id <= 2; id++) {
      RaftNode n = c.node(id);
      long applied = n.appliedIndex();
      c.disks
          .get(id)
          .compact(
              new Snapshot(applied, n.termAt(applied), n.confState(), bytes("image")), applied);
    }
    c.isolated.clear();
    int snapshotsBefore = countSnapshots(c);
    c.tickAll(3);
    assertThat(countSnapshots(c)).isGreaterThan(snapshotsBefore);
    assertThat(c.node(3).commitIndex()).isEqualTo(c.node(1).commitIndex());
    assertThat(c.disks.get(3L).snapshot().data()).isEqualTo(bytes("image"));
    c.node(1).propose(bytes("after-snapshot"));
    c.stabilize();
    c.tickAll(1);
    assertThat(c.appliedData(3)).containsExactly("after-snapshot");
  }

  private static int countSnapshots(TestCluster c) {
    int n = 0;
    for (Ready rd : c.readies) {
      if (rd.snapshot() != null) {
        n++;
      }
    }
    return n;
  }

  @Test
  void conflictHintsSkipWholeTermsInsteadOfOneEntryPerRoundTrip() {
    TestCluster c = TestCluster.of(3);
    c.elect(1);
    // Node 1 leads alone for a while: 200 uncommitted entries only it holds.
    c.isolated.add(2L);
    c.isolated.add(3L);
    for (int i = 0; i < 200; i++) {
      c.node(1).propose(bytes("lost" + i));
    }
    c.stabilize();
    c.isolated.clear();
    c.isolated.add(1L);
    c.tick(2, 30);
    c.tick(3, 30);
    long newLeader = c.leader();
    assertThat(newLeader).isIn(2L, 3L);
    c.node(newLeader).propose(bytes("kept"));
    c.stabilize();
    c.isolated.clear();
    List<Message> rejections = new ArrayList<>();
    c.dropFilter =
        m -> {
          if (m.type() == MessageType.APPEND_RESPONSE && m.reject()) {
            rejections.add(m);
          }
          return false;
        };
    c.tickAll(3);
    assertThat(c.node(1).leader()).isEqualTo(newLeader);
    assertThat(c.appliedData(1)).containsExactly("kept");
    assertThat(rejections).hasSizeLessThanOrEqualTo(2);
  }

  @Test
  void votesAndAcknowledgementsAreInTheSameReadyAsTheStateTheyDependOn() {
    TestCluster c = TestCluster.of(3);
    c.readies.clear();
    c.elect(2);
    for (Ready rd : c.readies) {
      for (Message m : rd.messages()) {
        if (m.type() == MessageType.VOTE_RESPONSE && !m.reject()) {
          assertThat(rd.hardState()).as("vote must be persisted with the grant").isNotNull();
          assertThat(rd.hardState().vote()).isEqualTo(m.to());
        }
      }
    }
  }

  /**
   * Figure 8 of the Raft paper: node 1 led term 2 and wrote entry 5 only locally; now it leads term
   * 4 and node 2 acknowledges entry 5 (but not yet the term-4 no-op at 6). Entry 5 is on a
   * majority, yet committing it would be unsafe: a node with a term-3 entry at 5 could still be
   * elected and overwrite it. Only the injected bug counts the old-term replicas.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void leaderCountsOnlyCurrentTermReplicasTowardCommit(boolean injectBug) {
    TestCluster c = TestCluster.of(3);
    Set<RaftConfig.InjectedBug> bugs =
        injectBug ? Set.of(RaftConfig.InjectedBug.COMMIT_STALE_TERM_ENTRIES) : Set.of();
    List<Entry> termTwo = List.of(Entry.normal(2, 4, null), Entry.normal(2, 5, bytes("old")));
    c.disks.get(1L).save(new HardState(3, 0, 3), termTwo, null);
    c.disks.get(2L).save(new HardState(3, 0, 3), termTwo.subList(0, 1), null);
    c.disks.get(3L).save(new HardState(3, 0, 3), List.of(Entry.normal(3, 4, null)), null);
    for (long id = 1; id <= 3; id++) {
      c.add(id, c.disks.get(id), bugs);
    }
    c.settle();
    c.dropFilter = m -> m.type() == MessageType.APPEND; // nothing replicates on its own
    c.elect(1);
    assertThat(c.node(1).role()).isEqualTo(Role.LEADER);
    assertThat(c.node(1).term()).isEqualTo(4);
    c.node(1)
        .step(Message.builder(MessageType.APPEND_RESPONSE).from(2).to(1).term(4).index(5).build());
    c.settle();
    if (injectBug) {
      assertThat(c.node(1).commitIndex()).isEqualTo(5);
    } else {
      assertThat(c.node(1).commitIndex()).isLessThan(5);
      // Once node 2 holds the term-4 no-op, everything up to it commits.
      c.node(1)
          .step(
              Message.builder(MessageType.APPEND_RESPONSE).from(2).to(1).term(4).index(6).build());
      c.settle();
      assertThat(c.node(1).commitIndex()).isEqualTo(6);
    }
  }
}
