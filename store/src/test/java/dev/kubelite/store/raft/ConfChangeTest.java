package dev.kubelite.store.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConfChangeTest {

  @Test
  void roundTripsWithAndWithoutContext() {
    ConfChange plain = new ConfChange(ConfChange.Type.REMOVE_NODE, 7);
    ConfChange withMember =
        new ConfChange(ConfChange.Type.ADD_LEARNER, 9, "{\"name\":\"infra3\"}".getBytes());
    assertThat(ConfChange.decode(plain.encode())).isEqualTo(plain);
    assertThat(ConfChange.decode(withMember.encode())).isEqualTo(withMember);
  }

  @Test
  void malformedEncodingsAreRefused() {
    byte[] good = new ConfChange(ConfChange.Type.ADD_VOTER, 1, new byte[] {1, 2}).encode();
    assertThatThrownBy(() -> ConfChange.decode(Arrays.copyOf(good, good.length - 1)))
        .hasMessageContaining("context");
    assertThatThrownBy(() -> ConfChange.decode(new byte[5])).hasMessageContaining("13 bytes");
    byte[] badType = good.clone();
    badType[0] = 9;
    assertThatThrownBy(() -> ConfChange.decode(badType)).hasMessageContaining("type 9");
  }

  @Test
  void appliesLikeSingleServerChanges() {
    ConfState c = new ConfState(Set.of(1L, 2L), Set.of());
    c = new ConfChange(ConfChange.Type.ADD_LEARNER, 3).applyTo(c);
    assertThat(c.learners()).containsExactly(3L);
    c = new ConfChange(ConfChange.Type.ADD_VOTER, 3).applyTo(c);
    assertThat(c.voters()).containsExactly(1L, 2L, 3L);
    assertThat(c.learners()).isEmpty();
    c = new ConfChange(ConfChange.Type.REMOVE_NODE, 1).applyTo(c);
    assertThat(c.voters()).containsExactly(2L, 3L);
  }
}
