package dev.kubelite.client.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** client-go's correlation rules: similar events folded, a burst per object cut short. */
class EventCorrelatorTest {
  private static final Instant T0 = Instant.parse("2026-11-22T07:00:00Z");

  @Test
  void similarEventsAreFoldedFromTheTenthDifferentMessageOn() {
    EventCorrelator c = new EventCorrelator();
    List<EventCorrelator.Decision> ds = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      ds.add(c.correlate("rs-1", "Normal", "SuccessfulCreate", "Created pod: p" + i, T0));
    }
    for (int i = 0; i < 9; i++) {
      assertThat(ds.get(i).message()).isEqualTo("Created pod: p" + i);
    }
    assertThat(ds.stream().map(EventCorrelator.Decision::key).distinct()).hasSize(10);
    for (int i = 9; i < 12; i++) {
      assertThat(ds.get(i).message())
          .isEqualTo("(combined from similar events): Created pod: p" + i);
      assertThat(ds.get(i).key()).isEqualTo(ds.get(9).key());
    }
    // Another reason, or another object, is counted on its own.
    assertThat(c.correlate("rs-1", "Normal", "SuccessfulDelete", "Deleted pod: p0", T0).message())
        .isEqualTo("Deleted pod: p0");
    assertThat(c.correlate("rs-2", "Normal", "SuccessfulCreate", "Created pod: q", T0).message())
        .isEqualTo("Created pod: q");
    // Ten minutes later the similar messages start over.
    assertThat(
            c.correlate("rs-1", "Normal", "SuccessfulCreate", "Created pod: z", T0.plusSeconds(601))
                .message())
        .isEqualTo("Created pod: z");
  }

  @Test
  void aBurstOfTwentyFivePerObjectThenOneEveryFiveMinutes() {
    EventCorrelator c = new EventCorrelator();
    int written = 0;
    for (int i = 0; i < 40; i++) {
      if (c.correlate("pod-1", "Warning", "BackOff", "Back-off", T0) != null) {
        written++;
      }
    }
    assertThat(written).isEqualTo(EventCorrelator.BURST);
    assertThat(c.correlate("pod-2", "Warning", "BackOff", "Back-off", T0)).isNotNull();
    assertThat(c.correlate("pod-1", "Warning", "BackOff", "Back-off", T0.plusSeconds(150)))
        .isNull();
    assertThat(c.correlate("pod-1", "Warning", "BackOff", "Back-off", T0.plusSeconds(300)))
        .isNotNull();
    assertThat(c.correlate("pod-1", "Warning", "BackOff", "Back-off", T0.plusSeconds(301)))
        .isNull();
  }
}
