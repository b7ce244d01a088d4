package dev.kubelite.pki;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kubelite certs}: kubeadm's {@code certs check-expiration} and {@code certs renew}. */
@Command(
    name = "certs",
    mixinStandardHelpOptions = true,
    description = {
      "Inspects and renews the cluster's certificates (the PKI directory that `kubelite up`"
          + " generates, laid out like kubeadm's; see docs/security.md)."
    },
    subcommands = {CertsCommand.CheckExpiration.class, CertsCommand.Renew.class})
public final class CertsCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  /** Where {@code kubelite up} keeps its PKI by default. */
  static Path defaultPkiDir() {
    return Path.of(System.getProperty("user.home"), ".kubelite", "pki");
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
  }

  @Command(
      name = "check-expiration",
      mixinStandardHelpOptions = true,
      description = "Lists every certificate and CA with its expiry and residual time.")
  static final class CheckExpiration implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--pki-dir",
        paramLabel = "DIR",
        description = "The PKI directory (default: ~/.kubelite/pki).")
    Path pkiDir;

    @Override
    public Integer call() {
      Path dir = pkiDir != null ? pkiDir : defaultPkiDir();
      PrintWriter out = spec.commandLine().getOut();
      out.print(Pki.checkExpiration(dir, Clock.systemUTC()));
      out.flush();
      return 0;
    }
  }

  @Command(
      name = "renew",
      mixinStandardHelpOptions = true,
      description = {
        "Reissues a certificate (or all) from the CA that signed it: same subject and SANs, a"
            + " new key and serial, valid for a year (or --validity-days) from now. CAs are not"
            + " renewed. Restart the components that use a renewed certificate."
      })
  static final class Renew implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;

    @Parameters(
        paramLabel = "all|NAME",
        description = "`all`, or a certificate's name as check-expiration lists it.")
    String name;

    @Option(
        names = "--pki-dir",
        paramLabel = "DIR",
        description = "The PKI directory (default: ~/.kubelite/pki).")
    Path pkiDir;

    @Option(
        names = "--validity-days",
        paramLabel = "DAYS",
        description = "How long the renewed certificates are valid (default: 365).")
    long validityDays = PkiSpec.DEFAULT_CERT_VALIDITY.toDays();

    @Override
    public Integer call() {
      Path dir = pkiDir != null ? pkiDir : defaultPkiDir();
      if (validityDays <= 0) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--validity-days must be positive, got " + validityDays);
      }
      java.time.Duration validity = java.time.Duration.ofDays(validityDays);
      PrintWriter out = spec.commandLine().getOut();
      List<Pki.CertStatus> renewed =
          name.equals("all")
              ? Pki.renewAll(dir, validity, Clock.systemUTC())
              : List.of(Pki.renew(dir, name, validity, Clock.systemUTC()));
      for (Pki.CertStatus c : renewed) {
        out.println("certificate " + c.name() + " renewed");
      }
      out.println();
      out.println("Done renewing certificates. Restart the components that use them.");
      out.flush();
      return 0;
    }
  }

  /** Runs the command; a {@link Pki.PkiException} prints its message and exits 1. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new CertsCommand());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          if (e instanceof Pki.PkiException
              || e instanceof IllegalArgumentException
              || e instanceof java.io.UncheckedIOException) {
            cmd.getErr().println("kubelite certs: " + e.getMessage());
            cmd.getErr().flush();
            return 1;
          }
          throw e;
        });
    return cl.execute(args);
  }

  public static void main(String[] args) {
    int code = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
    System.exit(code);
  }
}
