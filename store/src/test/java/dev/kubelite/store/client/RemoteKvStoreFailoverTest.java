package dev.kubelite.store.client;

import static dev.kubelite.store.client.KvStoreContractTest.join;
import static dev.kubelite.store.client.KvStoreContractTest.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.testing.FreePorts;
import dev.kubelite.store.testing.LocalMember;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Endpoint failover and watch resumption of the remote client against our store. */
class RemoteKvStoreFailoverTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;
  private LocalMember member;
  private final List<KvStore> clients = new ArrayList<>();

  @AfterEach
  void stop() {
    clients.forEach(KvStore::close);
    if (member != null) {
      member.close();
    }
  }

  private RemoteKvStore connect(String... endpoints) {
    RemoteKvStore s = RemoteKvStore.connect(List.of(endpoints));
    clients.add(s);
    return s;
  }

  @Test
  void readsWritesAndWatchesMovePastADeadEndpoint() throws Exception {
    member = LocalMember.start(dir.resolve("m1"));
    int dead = FreePorts.next();
    RemoteKvStore s = connect("127.0.0.1:" + dead, member.endpoint());
    await().atMost(WAIT).ignoreExceptions().until(() -> join(s.currentRevision()) >= 1);

    long rev = join(s.put(utf8("/registry/a"), utf8("1"))).revision();
    assertThat(join(s.get(utf8("/registry/a"))).kv().modRevision()).isEqualTo(rev);

    RemoteKvStore s2 = connect("127.0.0.1:" + dead, member.endpoint());
    KvStoreContractTest.Recorder r = new KvStoreContractTest.Recorder();
    Watch w = s2.watch(WatchOptions.prefix(utf8("/registry/"), rev, false), r);
    try {
      await().atMost(WAIT).until(() -> r.events.size() == 1);
      assertThat(r.events.get(0).kv().valueUtf8()).isEqualTo("1");
    } finally {
      w.close();
    }
  }

  @Test
  void writesToOnlyDeadEndpointsFailAsUnavailable() {
    int dead = FreePorts.next();
    RemoteKvStore s = connect("127.0.0.1:" + dead);
    assertThatThrownBy(() -> join(s.put(utf8("/registry/a"), utf8("1"))))
        .isInstanceOfSatisfying(
            KvStoreException.class,
            e -> {
              assertThat(e.code()).isEqualTo(KvStoreException.Code.UNAVAILABLE);
              assertThat(e.getMessage()).contains("put /registry/a").contains("not sent");
            });
  }

  @Test
  void watchResumesAfterTheStoreRestartsWithoutGapsOrDuplicates() throws Exception {
    member = LocalMember.start(dir.resolve("m1"));
    RemoteKvStore s = connect(member.endpoint());
    await().atMost(WAIT).ignoreExceptions().until(() -> join(s.currentRevision()) >= 1);
    List<Long> expected = new ArrayList<>();
    expected.add(join(s.put(utf8("/registry/x"), utf8("0"))).revision());

    KvStoreContractTest.Recorder r = new KvStoreContractTest.Recorder();
    Watch w = s.watch(WatchOptions.prefix(utf8("/registry/"), expected.get(0), true), r);
    try {
      for (int i = 1; i < 5; i++) {
        expected.add(join(s.put(utf8("/registry/x"), utf8("" + i))).revision());
      }
      await().atMost(WAIT).until(() -> r.events.size() == 5);

      member.restart(); // same ports and data
      // A read first: it waits out the election without risking an ambiguous write.
      await().atMost(WAIT).ignoreExceptions().until(() -> join(s.currentRevision()) >= 1);
      for (int i = 5; i < 10; i++) {
        expected.add(join(s.put(utf8("/registry/x"), utf8("" + i))).revision());
      }
      await().atMost(WAIT).until(() -> r.events.size() >= 10);
      assertThat(r.error).isNull();
      assertThat(r.events).extracting(WatchEvent::revision).containsExactlyElementsOf(expected);
      assertThat(r.events.get(5).prevKv().valueUtf8()).isEqualTo("4");
    } finally {
      w.close();
    }
  }
}
