package dev.kubelite.apiserver.storage;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.encryption.ValueTransformer;
import dev.kubelite.store.client.Kv;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.RangeQuery;
import dev.kubelite.store.client.RangeResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The stored values of each resource as encryption at rest sees them: which provider prefix each is
 * stored with ({@link #status}), and rewriting every value that is not in the current write format
 * with the current write provider ({@link #rewrite}: what {@code kubectl get secrets -A -o json |
 * kubectl replace -f -} does, in one step, without changing the objects). Both page through the
 * resource's keys, {@value #PAGE} at a time.
 */
public final class EncryptionMaintenance {
  static final int PAGE = 100;

  /** How often a rewrite retries a key that changed under it. */
  static final int MAX_ATTEMPTS = 5;

  private final ObjectStorage storage;

  public EncryptionMaintenance(ObjectStorage storage) {
    this.storage = storage;
  }

  /** One resource: its name for people ({@code secrets}) and its key prefix. */
  public record Resource(String name, String keyPrefix) {}

  /** How the values under a resource's prefix are stored. */
  private static final class Report {
    final Resource resource;
    final String writePrefix;
    final Map<String, Long> storedWith = new TreeMap<>();
    long checked;
    long rewritten;
    final List<String[]> failed = new ArrayList<>();

    Report(Resource resource, String writePrefix) {
      this.resource = resource;
      this.writePrefix = writePrefix;
    }

    synchronized void count(String prefix) {
      checked++;
      storedWith.merge(prefix, 1L, Long::sum);
    }

    synchronized void rewritten() {
      rewritten++;
    }

    synchronized void failed(String key, String error) {
      failed.add(new String[] {key, error});
    }

    synchronized ObjectNode render(boolean rewrite) {
      ObjectNode o = Json.object();
      o.put("resource", resource.name());
      o.put("keyPrefix", resource.keyPrefix());
      o.put("writeProvider", name(writePrefix));
      o.put("checked", checked);
      ObjectNode with = o.putObject("storedWith");
      long stale = 0;
      for (Map.Entry<String, Long> e : storedWith.entrySet()) {
        with.put(e.getKey(), e.getValue());
        if (!e.getKey().equals(name(writePrefix))) {
          stale += e.getValue();
        }
      }
      if (rewrite) {
        o.put("rewritten", rewritten);
      } else {
        o.put("stale", stale);
      }
      ArrayNode f = o.putArray("failed");
      for (String[] kv : failed) {
        f.addObject().put("key", kv[0]).put("error", kv[1]);
      }
      return o;
    }
  }

  /** A stored prefix as reported: {@code identity} for plaintext. */
  static String name(String prefix) {
    return prefix.isEmpty() || prefix.equals("plaintext") ? "identity" : prefix;
  }

  /**
   * Per resource, how many values are stored with which provider prefix ({@code storedWith}), and
   * how many are {@code stale} (not in the current write format). Reads values, decrypts nothing.
   */
  public CompletableFuture<ObjectNode> status(List<Resource> resources) {
    return run(resources, false, "EncryptionStatus");
  }

  /**
   * Rewrites every value under the resources' prefixes that is not stored with the current write
   * provider: decrypted with the provider that wrote it, encrypted with the current one, written
   * back if the key did not change meanwhile (then re-read and retried). The objects stay the same
   * (their resourceVersion moves on, and watchers see a MODIFIED event, as with kubectl replace). A
   * value no provider can read is left as it is and listed under {@code failed}.
   */
  public CompletableFuture<ObjectNode> rewrite(List<Resource> resources) {
    return run(resources, true, "EncryptionRewrite");
  }

  private CompletableFuture<ObjectNode> run(
      List<Resource> resources, boolean rewrite, String kind) {
    List<Report> reports = new ArrayList<>();
    CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
    for (Resource r : resources) {
      ValueTransformer t = storage.transformers().forKey(r.keyPrefix());
      Report report = new Report(r, t.writePrefix());
      reports.add(report);
      chain = chain.thenCompose(v -> page(r, t, report, ObjectStorage.key(r.keyPrefix()), rewrite));
    }
    return chain.thenApply(
        v -> {
          ObjectNode out = Json.object();
          out.put("kind", kind);
          out.put("apiVersion", "kubelite/v1");
          ArrayNode list = out.putArray("resources");
          long failed = 0;
          for (Report r : reports) {
            list.add(r.render(rewrite));
            failed += r.failed.size();
          }
          out.put("failed", failed);
          return out;
        });
  }

  private CompletableFuture<Void> page(
      Resource r, ValueTransformer t, Report report, byte[] from, boolean rewrite) {
    KvStore store = storage.store();
    byte[] end = RangeQuery.prefixEnd(ObjectStorage.key(r.keyPrefix()));
    return wrap(store.range(new RangeQuery(from, end, PAGE, 0, null)))
        .thenCompose(
            (RangeResult page) -> {
              List<CompletableFuture<Void>> writes = new ArrayList<>();
              for (Kv kv : page.kvs()) {
                String stored = ValueTransformer.storedPrefix(kv.value());
                report.count(name(stored));
                if (rewrite && !name(stored).equals(name(t.writePrefix()))) {
                  writes.add(rewriteKey(kv, report, 1));
                }
              }
              CompletableFuture<Void> all =
                  CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
              if (!page.more() || page.kvs().isEmpty()) {
                return all;
              }
              byte[] last = page.kvs().get(page.kvs().size() - 1).key();
              byte[] next = Arrays.copyOf(last, last.length + 1);
              return all.thenCompose(v -> page(r, t, report, next, rewrite));
            });
  }

  private CompletableFuture<Void> rewriteKey(Kv kv, Report report, int attempt) {
    String key = kv.keyUtf8();
    byte[] plain;
    byte[] sealed;
    try {
      plain = storage.open(key, kv.value()).plain();
      sealed = storage.seal(key, plain);
    } catch (ApiException e) {
      report.failed(key, e.getMessage());
      return CompletableFuture.completedFuture(null);
    }
    KvStore store = storage.store();
    return wrap(store.update(kv.key(), sealed, kv.modRevision()))
        .thenCompose(
            w ->
                switch (w.status()) {
                  case OK -> {
                    report.rewritten();
                    yield CompletableFuture.<Void>completedFuture(null);
                  }
                  case NOT_FOUND -> CompletableFuture.<Void>completedFuture(null);
                  default -> {
                    // Changed meanwhile: whoever wrote it may have used another key; look again.
                    Kv now = w.kv();
                    String nowPrefix =
                        now == null ? null : name(ValueTransformer.storedPrefix(now.value()));
                    ValueTransformer t = storage.transformers().forKey(key);
                    if (now == null || nowPrefix.equals(name(t.writePrefix()))) {
                      yield CompletableFuture.<Void>completedFuture(null);
                    }
                    if (attempt >= MAX_ATTEMPTS) {
                      report.failed(
                          key,
                          "the key kept changing during the rewrite ("
                              + attempt
                              + " attempts); run the rewrite again");
                      yield CompletableFuture.<Void>completedFuture(null);
                    }
                    yield rewriteKey(now, report, attempt + 1);
                  }
                });
  }

  private static <T> CompletableFuture<T> wrap(CompletableFuture<T> f) {
    return f.handle(
        (v, e) -> {
          if (e != null) {
            throw ObjectStorage.translate(e);
          }
          return v;
        });
  }
}
