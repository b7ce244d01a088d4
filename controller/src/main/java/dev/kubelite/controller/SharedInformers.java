package dev.kubelite.controller;

import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.client.cache.Informer;
import java.util.HashMap;
import java.util.Map;

/**
 * Informers shared by the controllers of one controller manager, as client-go's
 * SharedInformerFactory shares them in kube-controller-manager: one watch and one cache per
 * resource, however many controllers read it (decision 0042). Each controller adds its own indexes
 * (distinct names) and handlers to the shared informer. A {@link Handle} is reference-counted: the
 * informer starts with the first user's {@link Handle#start()} and closes with the last user's
 * {@link Handle#close()}; the next user after that gets a fresh informer (a new leadership term
 * lists afresh). Thread-safe.
 */
public final class SharedInformers {
  private final Map<String, Shared> informers = new HashMap<>();

  private static final class Shared {
    final Informer informer;
    int users;
    boolean started;

    Shared(Informer informer) {
      this.informer = informer;
    }
  }

  /** One controller's use of an informer, shared or its own. */
  public interface Handle extends AutoCloseable {
    Informer informer();

    /** Starts the informer unless another user has. */
    void start();

    /** Closes the informer if this was its last user. */
    @Override
    void close();
  }

  /**
   * A handle on an informer of the caller's own (not shared): start and close are the informer's.
   */
  public static Handle own(Informer informer) {
    return new Handle() {
      @Override
      public Informer informer() {
        return informer;
      }

      @Override
      public void start() {
        informer.start();
      }

      @Override
      public void close() {
        informer.close();
      }
    };
  }

  /** The shared informer on all {@code resource} objects of every namespace. */
  public synchronized Handle acquire(KubeClient client, Resource resource) {
    String key = resource.toString();
    Shared s =
        informers.computeIfAbsent(
            key,
            k -> new Shared(new Informer(client, resource, null, Informer.Options.defaults())));
    s.users++;
    return new Handle() {
      private boolean closed;

      @Override
      public Informer informer() {
        return s.informer;
      }

      @Override
      public void start() {
        synchronized (SharedInformers.this) {
          if (!s.started) {
            s.started = true;
            s.informer.start();
          }
        }
      }

      @Override
      public void close() {
        synchronized (SharedInformers.this) {
          if (closed) {
            return;
          }
          closed = true;
          if (--s.users == 0) {
            informers.remove(key, s);
            s.informer.close();
          }
        }
      }
    };
  }

  /**
   * The handle a controller uses for {@code resource}: shared through {@code shared}, or an
   * informer of its own when {@code shared} is null (a controller built alone, as in tests).
   */
  public static Handle of(SharedInformers shared, KubeClient client, Resource resource) {
    return shared == null
        ? own(new Informer(client, resource, null, Informer.Options.defaults()))
        : shared.acquire(client, resource);
  }
}
