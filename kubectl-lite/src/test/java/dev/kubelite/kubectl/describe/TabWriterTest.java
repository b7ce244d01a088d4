package dev.kubelite.kubectl.describe;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The Go tabwriter port, and the small formatting rules describe relies on. */
class TabWriterTest {
  @Test
  void columnsSpanRunsOfLinesThatHaveThem() {
    // As kubectl's pod describe: "IPs:" has no tab and ends the first block; the indented IP
    // line then lines up with "Controlled By:" below it, not with "IP:" above.
    String out =
        new TabWriter()
            .write("Status:\tRunning\n")
            .write("IP:\t10.0.1.2\n")
            .write("IPs:\n")
            .write("  IP:\t10.0.1.2\n")
            .write("Controlled By:\tReplicaSet/web\n")
            .toString();
    assertThat(out)
        .isEqualTo(
            "Status:  Running\n"
                + "IP:      10.0.1.2\n"
                + "IPs:\n"
                + "  IP:           10.0.1.2\n"
                + "Controlled By:  ReplicaSet/web\n");
  }

  @Test
  void nestedColumnsAndTheTextAfterTheLastTabIsNotPadded() {
    String out =
        new TabWriter()
            .write("Conditions:\n")
            .write("  Type\tStatus\tReason\n")
            .write("  Available \tTrue\tMinimumReplicasAvailable\n")
            .write("OldReplicaSets:\t<none>\n")
            .toString();
    assertThat(out)
        .isEqualTo(
            "Conditions:\n"
                + "  Type           Status  Reason\n"
                + "  Available      True    MinimumReplicasAvailable\n"
                + "OldReplicaSets:  <none>\n");
  }

  @Test
  void flushEndsABlockAndPaddingIsConfigurable() {
    TabWriter w = new TabWriter(3);
    w.write("a\tb\n").flush().write("longer\tc\n");
    assertThat(w.toString()).isEqualTo("a   b\nlonger   c\n");
  }

  @Test
  void humanDurationsAsKubernetesPrintsThem() {
    assertThat(Text.human(Duration.ofSeconds(-5))).isEqualTo("<invalid>");
    assertThat(Text.human(Duration.ofSeconds(59))).isEqualTo("59s");
    assertThat(Text.human(Duration.ofSeconds(119))).isEqualTo("119s");
    assertThat(Text.human(Duration.ofSeconds(200))).isEqualTo("3m20s");
    assertThat(Text.human(Duration.ofMinutes(5))).isEqualTo("5m");
    assertThat(Text.human(Duration.ofMinutes(61))).isEqualTo("61m");
    assertThat(Text.human(Duration.ofMinutes(185))).isEqualTo("3h5m");
    assertThat(Text.human(Duration.ofHours(30))).isEqualTo("30h");
    assertThat(Text.human(Duration.ofHours(75))).isEqualTo("3d3h");
    assertThat(Text.human(Duration.ofDays(400))).isEqualTo("400d");
    assertThat(Text.human(Duration.ofDays(800))).isEqualTo("2y70d");
  }

  @Test
  void quantitiesSumAndPrintCanonically() {
    assertThat(Quantity.parse("250m").plus(Quantity.parse("250m")).toString()).isEqualTo("500m");
    assertThat(Quantity.parse("500m").plus(Quantity.parse("1500m")).toString()).isEqualTo("2");
    assertThat(Quantity.parse("64Mi").plus(Quantity.parse("64Mi")).toString()).isEqualTo("128Mi");
    assertThat(Quantity.parse("1Gi").toString()).isEqualTo("1Gi");
    assertThat(Quantity.parse("1500").toString()).isEqualTo("1500");
    assertThat(Quantity.parse("2k").toString()).isEqualTo("2k");
    assertThat(Quantity.parse("250m").percentOf(Quantity.parse("8"))).isEqualTo(3);
    assertThat(Quantity.parse("128Mi").percentOf(Quantity.parse("32Gi"))).isZero();
  }

  @Test
  void fieldLabelsAsKubectlsGenericDescriber() {
    assertThat(Describer.label("apiVersion")).isEqualTo("API Version");
    assertThat(Describer.label("involvedObject")).isEqualTo("Involved Object");
    assertThat(Describer.label("uid")).isEqualTo("UID");
    assertThat(Describer.label("podIP")).isEqualTo("Pod IP");
    assertThat(Describer.label("leaseDurationSeconds")).isEqualTo("Lease Duration Seconds");
    assertThat(Describer.label("x509")).isEqualTo("x509");
  }
}
