package dev.kubelite.bench;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** Runs a benchmark command in this JVM with its standard output captured, for smoke tests. */
record BenchRun(int exit, String output) {
  static BenchRun of(Object command, String... args) {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      exit = new CommandLine(command).execute(args);
    } finally {
      System.setOut(stdout);
    }
    return new BenchRun(exit, captured.toString(StandardCharsets.UTF_8));
  }
}
