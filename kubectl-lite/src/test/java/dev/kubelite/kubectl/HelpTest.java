package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;

/** Every command answers {@code --help} with its usage, and the root lists every command. */
class HelpTest {
  private static String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = KubectlLite.run(args, new PrintWriter(out), new PrintWriter(err));
    return new String[] {Integer.toString(code), out.toString(), err.toString()};
  }

  @Test
  void everyCommandHasHelp() {
    for (Class<?> c : KubectlLite.COMMANDS) {
      String name = c.getAnnotation(Command.class).name();
      String[] r = run(name, "--help");
      assertThat(r[0]).as(name + ": " + r[2]).isEqualTo("0");
      assertThat(r[1]).as(name).contains("Usage: kubectl-lite " + name);
    }
  }

  @Test
  void rootHelpListsEveryCommand() {
    String[] r = run("--help");
    assertThat(r[0]).isEqualTo("0");
    for (Class<?> c : KubectlLite.COMMANDS) {
      assertThat(r[1]).contains("  " + c.getAnnotation(Command.class).name() + " ");
    }
  }
}
