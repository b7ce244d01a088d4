package dev.kubelite.store.raft.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.raft.ConfState;
import dev.kubelite.store.raft.Message;
import dev.kubelite.store.raft.MessageType;
import dev.kubelite.store.raft.Snapshot;
import dev.kubelite.store.testing.FreePorts;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PeerTransport#sendSnapshot}: a snapshot's data streamed from a file over real TCP arrives
 * as the message with that data, and the sender reports it delivered on the receiver's receipt
 * (well before the 10-s fallback for members without receipts); a peer that cannot be reached is
 * reported as a failed snapshot.
 */
class PeerTransportSnapshotTest {
  @TempDir Path dir;

  private final Vertx vertx = Vertx.vertx();
  private final List<Message> received = new CopyOnWriteArrayList<>();
  private final List<Boolean> reports = new CopyOnWriteArrayList<>();
  private final AtomicInteger done = new AtomicInteger();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private PeerTransport.Sink sink() {
    return new PeerTransport.Sink() {
      @Override
      public void receive(Message m) {
        received.add(m);
      }

      @Override
      public void reportUnreachable(long peer) {}

      @Override
      public void reportSnapshot(long peer, boolean success) {
        reports.add(success);
      }
    };
  }

  private static Message snapshotMessage(byte[] data) {
    return Message.builder(MessageType.SNAPSHOT)
        .from(1)
        .to(2)
        .term(4)
        .snapshot(new Snapshot(120, 3, new ConfState(Set.of(1L, 2L, 3L), Set.of()), data))
        .build();
  }

  @Test
  void aSnapshotStreamedFromAFileArrivesWholeAndIsReportedOnTheReceipt() throws Exception {
    PeerTransport sender = new PeerTransport(vertx, 1);
    PeerTransport receiver = new PeerTransport(vertx, 2);
    sender.sink(sink());
    receiver.sink(sink());
    int port =
        receiver
            .listen("127.0.0.1", 0)
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    sender.addPeer(2, SocketAddress.inetSocketAddress(port, "127.0.0.1"));
    byte[] image = new byte[3 << 20];
    new Random(5).nextBytes(image);
    Path file = dir.resolve("image");
    Files.write(file, image);

    // The message's own data (a metadata marker) is replaced by the file's bytes.
    sender.sendSnapshot(snapshotMessage(new byte[16]), file, image.length, done::incrementAndGet);

    await().atMost(Duration.ofSeconds(20)).until(() -> received.size() == 1);
    assertThat(received.get(0)).isEqualTo(snapshotMessage(image));
    await().atMost(Duration.ofSeconds(8)).until(() -> done.get() == 1);
    assertThat(reports).containsExactly(true);
    sender.close();
    receiver.close();
  }

  @Test
  void aPeerThatCannotBeReachedIsReportedAsAFailedSnapshot() throws Exception {
    PeerTransport sender = new PeerTransport(vertx, 1);
    sender.sink(sink());
    sender.addPeer(2, SocketAddress.inetSocketAddress(FreePorts.next(), "127.0.0.1"));
    Path file = dir.resolve("image");
    Files.write(file, new byte[1000]);

    sender.sendSnapshot(snapshotMessage(new byte[0]), file, 1000, done::incrementAndGet);

    await().atMost(Duration.ofSeconds(20)).until(() -> done.get() == 1);
    assertThat(reports).containsExactly(false);
    assertThat(received).isEmpty();
    sender.close();
  }
}
