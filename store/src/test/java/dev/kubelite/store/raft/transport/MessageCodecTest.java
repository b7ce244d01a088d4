package dev.kubelite.store.raft.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.store.raft.ConfChange;
import dev.kubelite.store.raft.ConfState;
import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.Message;
import dev.kubelite.store.raft.MessageType;
import dev.kubelite.store.raft.Snapshot;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MessageCodecTest {

  private static Message full() {
    return Message.builder(MessageType.APPEND)
        .from(1)
        .to(2)
        .term(7)
        .logTerm(6)
        .index(41)
        .commit(40)
        .reject(true)
        .rejectHint(39)
        .entries(
            List.of(
                Entry.normal(7, 42, "put a=1".getBytes()),
                new Entry(
                    7,
                    43,
                    Entry.Type.CONF_CHANGE,
                    new ConfChange(ConfChange.Type.ADD_VOTER, 4).encode()),
                Entry.normal(7, 44, null)))
        .snapshot(new Snapshot(30, 5, new ConfState(Set.of(1L, 2L), Set.of(4L)), new byte[100]))
        .context("read-1".getBytes())
        .build();
  }

  @Test
  void everyFieldRoundTrips() {
    Message m = full();
    assertThat(MessageCodec.decode(MessageCodec.encode(m))).isEqualTo(m);
    Message minimal = Message.builder(MessageType.HEARTBEAT).from(3).to(1).term(2).build();
    assertThat(MessageCodec.decode(MessageCodec.encode(minimal))).isEqualTo(minimal);
  }

  @Test
  void aSnapshotFrameBuiltAroundItsDataIsTheEncodedMessage() {
    byte[] data = new byte[5000];
    new Random(3).nextBytes(data);
    for (byte[] context : new byte[][] {null, "ctx".getBytes()}) {
      Message m =
          Message.builder(MessageType.SNAPSHOT)
              .from(1)
              .to(2)
              .term(9)
              .snapshot(new Snapshot(30, 5, new ConfState(Set.of(1L, 2L), Set.of(4L)), data))
              .context(context)
              .build();
      // The data the message itself carries is ignored: the file's bytes go in its place.
      Message metadataOnly =
          m.toBuilder()
              .snapshot(
                  new Snapshot(30, 5, new ConfState(Set.of(1L, 2L), Set.of(4L)), new byte[16]))
              .build();
      MessageCodec.Around around = MessageCodec.encodeAround(metadataOnly, data.length);
      byte[] frame = new byte[(int) around.frameLength(data.length)];
      System.arraycopy(around.prefix(), 0, frame, 0, around.prefix().length);
      System.arraycopy(data, 0, frame, around.prefix().length, data.length);
      System.arraycopy(
          around.suffix(), 0, frame, around.prefix().length + data.length, around.suffix().length);
      assertThat(frame).isEqualTo(MessageCodec.encode(m));
      assertThat(MessageCodec.decode(frame)).isEqualTo(m);
    }
    assertThatThrownBy(() -> MessageCodec.encodeAround(full(), MessageCodec.MAX_FRAME_BYTES))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not fit a raft message");
  }

  @Test
  void everyTruncationIsRejectedWithAClearError() {
    byte[] frame = MessageCodec.encode(full());
    for (int len = 0; len < frame.length; len++) {
      byte[] cut = Arrays.copyOf(frame, len);
      assertThatThrownBy(() -> MessageCodec.decode(cut))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("raft message");
    }
  }

  @Test
  void damagedFramesDecodeOrAreRefusedButNeverBreakTheDecoder() {
    Random rng = new Random(1);
    byte[] frame = MessageCodec.encode(full());
    for (int i = 0; i < 2000; i++) {
      byte[] damaged = frame.clone();
      damaged[rng.nextInt(damaged.length)] ^= (byte) (1 + rng.nextInt(255));
      try {
        MessageCodec.decode(damaged);
      } catch (IllegalArgumentException expected) {
        // a clear refusal is the only acceptable failure
      }
    }
  }

  @Test
  void anotherVersionIsRefusedByName() {
    byte[] frame = MessageCodec.encode(full());
    frame[0] = 9;
    assertThatThrownBy(() -> MessageCodec.decode(frame)).hasMessageContaining("version 9");
  }
}
