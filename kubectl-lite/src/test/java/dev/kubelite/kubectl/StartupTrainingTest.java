package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The CDS training run completes against its loopback stand-in server (it throws if either {@code
 * get} fails, e.g. the TLS handshake) and leaves no files behind.
 */
class StartupTrainingTest {
  @Test
  void runsAndCleansUp() throws IOException {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    long before = trainingDirs(tmp);
    StartupTraining.main(new String[0]);
    assertThat(trainingDirs(tmp)).isEqualTo(before);
  }

  private static long trainingDirs(Path tmp) throws IOException {
    try (Stream<Path> s = Files.list(tmp)) {
      return s.filter(p -> p.getFileName().toString().startsWith("kubectl-lite-training")).count();
    }
  }
}
