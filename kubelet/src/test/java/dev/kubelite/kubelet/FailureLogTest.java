package dev.kubelite.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class FailureLogTest {
  @Test
  void aThousandNodesFailingLogOneLinePerPeriodWithTheCount() {
    Logger logger = (Logger) LoggerFactory.getLogger("FailureLogTest");
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    AtomicLong clock = new AtomicLong(0);
    FailureLog f = new FailureLog(logger, "renew its lease", 10_000, clock::get);
    for (int i = 1; i <= 1000; i++) {
      f.failed("node-" + i, "connection refused", "next try in 10s");
    }
    assertThat(lines.list).hasSize(1);
    assertThat(lines.list.get(0).getFormattedMessage())
        .isEqualTo("node-1: cannot renew its lease: connection refused; next try in 10s");
    clock.set(10_000);
    f.failed("node-7", "connection refused", "next try in 10s");
    assertThat(lines.list).hasSize(2);
    assertThat(lines.list.get(1).getFormattedMessage())
        .endsWith("(999 more such failures since the last report)");
    logger.detachAppender(lines);
  }
}
