package dev.kubelite.store.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

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
    // Node 3 forces a real election (as if its pre-vote were off); peers that hear from the leader
    // ignore it, so the leader keeps its term.
    c.node(3).step(
        Message.builder(MessageType.TIMEOUT_NOW).from(2).to(3).term(term).build());
    c.queue.removeIf(m -> m.type() == MessageType.VOTE && m.to() == 1);
    c.stabilize();
    assertThat(c.node(2).term()).isEqualTo(term);
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
          .compact(new Snapshot(applied, n.termAt(applied), n.confState(), bytes("image")), applied);
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

  @Test
  void leaderDoesNotCommitEntriesOfEarlierTermsByCountingReplicas() {
    // Figure 8 of the Raft paper: an old-term entry on a majority is not committed until an entry
    // of the current term is.
    TestCluster c = TestCluster.of(3);
    c.elect(1);
    c.isolated.add(2L);
    c.isolated.add(3L);
    c.node(1).propose(bytes("old-term"));
    c.stabilize();
    long oldIndex = c.node(1).lastIndex();
    c.isolated.clear();
    // Node 1 loses leadership before replicating; it comes back as leader of a later term and
    // replicates the old entry, but blocks the no-op of its new term.
    c.node(1).step(
        Message.builder(MessageType.HEARTBEAT).from(2).to(1).term(c.node(1).term() + 1).build());
    c.queue.clear();
    c.elect(1);
    assertThat(c.node(1).role()).isEqualTo(Role.LEADER);
    long newTerm = c.node(1).term();
    c.dropFilter = m -> m.type() == MessageType.APPEND_RESPONSE && m.index() > oldIndex;
    c.stabilize();
    assertThat(c.node(2).termAt(oldIndex)).isLessThan(newTerm);
    assertThat(c.node(1).commitIndex()).isLessThan(oldIndex);
    c.dropFilter = m -> false;
    c.tickAll(1);
    assertThat(c.node(1).commitIndex()).isGreaterThan(oldIndex);
  }
}
