package dev.kubelite.store.raft;

import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * The cluster membership at some log position: voters decide elections and commits, learners only
 * follow.
 */
public record ConfState(Set<Long> voters, Set<Long> learners) {
  public static final ConfState EMPTY = new ConfState(Set.of(), Set.of());

  public ConfState {
    voters = Collections.unmodifiableSortedSet(new TreeSet<>(voters));
    learners = Collections.unmodifiableSortedSet(new TreeSet<>(learners));
    for (Long learner : learners) {
      if (voters.contains(learner)) {
        throw new IllegalArgumentException("node " + learner + " is both voter and learner");
      }
    }
  }

  public boolean contains(long id) {
    return voters.contains(id) || learners.contains(id);
  }
}
