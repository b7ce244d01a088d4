package dev.kubelite.scheduler.framework;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class QuantityTest {
  @Test
  void cpuInMillicores() {
    assertThat(Quantity.milliValue("500m")).isEqualTo(500);
    assertThat(Quantity.milliValue("2")).isEqualTo(2000);
    assertThat(Quantity.milliValue("0.5")).isEqualTo(500);
    assertThat(Quantity.milliValue("1.25")).isEqualTo(1250);
    assertThat(Quantity.milliValue(".1")).isEqualTo(100);
    assertThat(Quantity.milliValue("100u")).isEqualTo(1); // rounded up, as Kubernetes
    assertThat(Quantity.milliValue("1500000n")).isEqualTo(2);
    assertThat(Quantity.milliValue("0")).isZero();
    assertThat(Quantity.milliValue("1k")).isEqualTo(1_000_000);
  }

  @Test
  void memoryInBytes() {
    assertThat(Quantity.value("128Mi")).isEqualTo(128L << 20);
    assertThat(Quantity.value("1Gi")).isEqualTo(1L << 30);
    assertThat(Quantity.value("1.5Gi")).isEqualTo(3L << 29);
    assertThat(Quantity.value("64Ki")).isEqualTo(65536);
    assertThat(Quantity.value("2Ti")).isEqualTo(2L << 40);
    assertThat(Quantity.value("1Ei")).isEqualTo(1L << 60);
    assertThat(Quantity.value("1k")).isEqualTo(1000);
    assertThat(Quantity.value("1M")).isEqualTo(1_000_000);
    assertThat(Quantity.value("2G")).isEqualTo(2_000_000_000L);
    assertThat(Quantity.value("1T")).isEqualTo(1_000_000_000_000L);
    assertThat(Quantity.value("1e3")).isEqualTo(1000);
    assertThat(Quantity.value("1E6")).isEqualTo(1_000_000);
    assertThat(Quantity.value("12e-1")).isEqualTo(2); // 1.2 rounded up
    assertThat(Quantity.value("123456789")).isEqualTo(123456789);
    assertThat(Quantity.value("+5")).isEqualTo(5);
    assertThat(Quantity.value("100m")).isEqualTo(1); // 0.1 byte rounds up
    assertThat(Quantity.value("110")).isEqualTo(110);
  }

  @Test
  void malformedQuantitiesAreRefusedWithTheirText() {
    for (String bad :
        new String[] {
          "", "abc", "1KB", "Mi", "1 Gi", "1.2.3", "1K", "--1", "1e", "1e+", "1e99999"
        }) {
      assertThatThrownBy(() -> Quantity.value(bad), bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("quantity \"" + bad + "\"");
    }
    assertThatThrownBy(() -> Quantity.value("100Ei")).hasMessageContaining("too large");
    assertThatThrownBy(() -> Quantity.value(null)).hasMessageContaining("missing");
  }
}
