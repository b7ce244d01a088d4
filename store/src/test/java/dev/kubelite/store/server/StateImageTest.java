package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.store.mvcc.MvccStore;
import dev.kubelite.store.mvcc.Put;
import dev.kubelite.store.mvcc.Range;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateImageTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private byte[] image() throws Exception {
    try (MvccStore store = MvccStore.open(dir.resolve("src"))) {
      store.apply(5, new Put(b("a"), b("1"), 0, false, false, false));
      store.apply(9, new Put(b("b"), b("2"), 0, false, false, false));
      store.snapshot(dir.resolve("cp"));
    }
    MvccStore.CheckpointMeta meta = MvccStore.readCheckpointMeta(dir.resolve("cp"));
    assertThat(meta.appliedIndex()).isEqualTo(9);
    return StateImage.pack(
        new StateImage.Header(meta.appliedIndex(), meta.revision(), meta.compactRevision()),
        dir.resolve("cp"),
        b("registry"));
  }

  @Test
  void roundTripsTheCheckpointAndTheRegistry() throws Exception {
    byte[] image = image();
    assertThat(image.length % 512)
        .as("etcdctl snapshot save wants size %% 512 == 32")
        .isEqualTo(32);
    StateImage.Contents c = StateImage.read(image);
    assertThat(c.header()).isEqualTo(new StateImage.Header(9, 3, -1));
    assertThat(c.members()).isEqualTo(b("registry"));
    StateImage.extractDb(c, dir.resolve("restored"));
    try (MvccStore store = MvccStore.open(dir.resolve("restored"))) {
      assertThat(store.appliedIndex()).isEqualTo(9);
      assertThat(store.currentRevision()).isEqualTo(3);
      assertThat(store.range(Range.key(b("b"))).kvs()).hasSize(1);
    }
  }

  @Test
  void rejectsCorruptTruncatedAndForeignFiles() throws Exception {
    byte[] image = image();
    byte[] flipped = image.clone();
    flipped[flipped.length / 2] ^= 1;
    assertThatThrownBy(() -> StateImage.read(flipped))
        .isInstanceOf(StateImage.InvalidImageException.class)
        .hasMessageContaining("SHA-256");
    assertThatThrownBy(() -> StateImage.read(Arrays.copyOf(image, image.length - 100)))
        .isInstanceOf(StateImage.InvalidImageException.class);
    assertThatThrownBy(() -> StateImage.read(new byte[4096]))
        .isInstanceOf(StateImage.InvalidImageException.class)
        .hasMessageContaining("not a Kubelite state image");
  }
}
