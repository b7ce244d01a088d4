package dev.kubelite.store.server;

import dev.kubelite.store.mvcc.Event;
import dev.kubelite.store.mvcc.MvccListener;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongConsumer;

/**
 * Fans applied revisions out to every watcher that is caught up ("synced"). It runs on the apply
 * thread, so it never blocks: each watcher only queues work for its stream. A watcher starting in
 * the past first replays history elsewhere, then joins here under the same lock that delivery
 * takes, so it sees every revision exactly once.
 */
final class WatchHub implements MvccListener {
  private final Object lock = new Object();
  private final Set<WatchStream.Watcher> synced = new LinkedHashSet<>();
  private long revision;

  WatchHub(long currentRevision) {
    this.revision = currentRevision;
  }

  @Override
  public void onRevision(long rev, List<Event> events) {
    synchronized (lock) {
      revision = rev;
      for (WatchStream.Watcher w : List.copyOf(synced)) {
        if (!w.offerLive(rev, events)) {
          synced.remove(w); // too slow: it catches up from history instead
        }
      }
    }
  }

  /**
   * The store was replaced by a snapshot image at {@code rev}: every live watcher goes back to
   * catching up from history (as etcd moves synced watchers to unsynced on restore), so it sees the
   * revisions the image covers, or is cancelled as compacted if they are gone.
   */
  @Override
  public void onRestored(long rev) {
    List<WatchStream.Watcher> lagging;
    synchronized (lock) {
      revision = rev;
      lagging = List.copyOf(synced);
      synced.clear();
    }
    lagging.forEach(WatchStream.Watcher::catchUp);
  }

  long revision() {
    synchronized (lock) {
      return revision;
    }
  }

  /**
   * Makes {@code w} live if it has seen everything up to the current revision; {@code onSynced}
   * runs under the delivery lock (so nothing is delivered to {@code w} before it).
   */
  boolean trySync(WatchStream.Watcher w, LongConsumer onSynced) {
    synchronized (lock) {
      if (w.nextRevision() <= revision) {
        return false;
      }
      onSynced.accept(revision);
      synced.add(w);
      return true;
    }
  }

  /** Makes {@code w} live from the next revision on; {@code onJoined} gets the current one. */
  void joinNow(WatchStream.Watcher w, LongConsumer onJoined) {
    synchronized (lock) {
      onJoined.accept(revision);
      synced.add(w);
    }
  }

  /**
   * Runs {@code action} with the current revision, under the delivery lock, if every watcher in
   * {@code ws} is live and has asked for nothing beyond that revision (etcd sends no progress to a
   * watch whose start revision is still in the future). Whatever {@code action} queues is thus
   * ordered after every event up to that revision, and before any later one.
   */
  boolean ifAllSynced(Collection<WatchStream.Watcher> ws, LongConsumer action) {
    synchronized (lock) {
      for (WatchStream.Watcher w : ws) {
        if (!synced.contains(w) || !w.progressAllowedAt(revision)) {
          return false;
        }
      }
      action.accept(revision);
      return true;
    }
  }

  void remove(WatchStream.Watcher w) {
    synchronized (lock) {
      synced.remove(w);
    }
  }
}
