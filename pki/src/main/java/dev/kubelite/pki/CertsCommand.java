package dev.kubelite.pki;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kubelite certs}: kubeadm's {@code certs check-expiration} and {@code certs renew}. */
@Command(
    name = "certs",
    mixinStandardHelpOptions = true,
    description = {
      "Makes, inspects and renews the cluster's certificates (the PKI directory that `kubelite up`"
          + " generates, laid out like kubeadm's; see docs/security.md)."
    },
    subcommands = {
      CertsCommand.Init.class,
      CertsCommand.CheckExpiration.class,
      CertsCommand.Renew.class
    })
public final class CertsCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  /** {@code --pki-dir}, which every subcommand takes. */
  static final class PkiDir {
    @Option(
        names = "--pki-dir",
        paramLabel = "DIR",
        description = "The PKI directory (default: ~/.kubelite/pki, where `kubelite up` keeps it).")
    Path pkiDir;

    Path dir() {
      return pkiDir != null ? pkiDir : Path.of(System.getProperty("user.home"), ".kubelite", "pki");
    }
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
  }

  @Command(
      name = "init",
      mixinStandardHelpOptions = true,
      description = {
        "Makes the cluster's PKI in --pki-dir, as `kubelite up` does (kubeadm's `init phase"
            + " certs all`): the cluster and store CAs, the API server's serving certificate, the"
            + " store members' server and peer certificates, the client certificates of the API"
            + " server (to the store), admin, scheduler, controller manager and simulated nodes,"
            + " and the ServiceAccount key pair. What exists is reused; run it again to add"
            + " members or names.",
        "With --kubeconfig-dir it also writes kubeadm's kubeconfigs for --server there:"
            + " admin.conf, scheduler.conf, controller-manager.conf and kubelet.conf (the"
            + " simulated nodes' identity, kubelite:simulated-kubelet in kubelite:simulated-nodes).",
        "For a cluster whose members share one PKI volume (compose.yaml): name every member"
            + " with --store-members and every host name clients use with --san; the members read"
            + " it with `kubelite member --pki-dir`."
      })
  static final class Init implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;

    @Mixin PkiDir pki;

    @Option(
        names = "--store-members",
        split = ",",
        paramLabel = "NAME",
        description =
            "The store members' names (etcd's --name); one member gets etcd/server.crt, several"
                + " etcd/<name>/server.crt each (default: default).")
    List<String> storeMembers = List.of("default");

    @Option(
        names = "--san",
        split = ",",
        paramLabel = "NAME|IP",
        description =
            "More names or addresses every serving certificate (API server, store members) must"
                + " carry, e.g. the host names members and clients reach each other at.")
    List<String> sans = List.of();

    @Option(
        names = "--host-name",
        paramLabel = "NAME",
        description = "The host name serving certificates name (default: this machine's).")
    String hostName;

    @Option(
        names = "--kubeconfig-dir",
        paramLabel = "DIR",
        description =
            "Also write admin.conf, scheduler.conf, controller-manager.conf and kubelet.conf"
                + " here (0600), each for --server.")
    Path kubeconfigDir;

    @Option(
        names = "--server",
        paramLabel = "URL",
        description = "The API server the kubeconfigs name (default: ${DEFAULT-VALUE}).",
        defaultValue = "https://127.0.0.1:6443")
    java.net.URI server;

    @Override
    public Integer call() {
      Path dir = pki.dir();
      PkiSpec s = PkiSpec.defaults().withStoreMembers(storeMembers).withExtraSans(sans);
      if (hostName != null) {
        s = s.withHostName(hostName);
      }
      if (!server.getScheme().equals("https")) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--server must be an https:// URL, got " + server);
      }
      PkiPaths p = Pki.ensure(dir, s);
      PrintWriter out = spec.commandLine().getOut();
      out.println(
          "PKI ready in " + dir + " (store members " + String.join(", ", storeMembers) + ")");
      if (kubeconfigDir != null) {
        PemFiles.ensureDir(kubeconfigDir);
        record Conf(String file, String user, PkiPaths.CertPaths cert) {}
        for (Conf c :
            List.of(
                new Conf("admin.conf", "kubernetes-admin", p.admin()),
                new Conf("scheduler.conf", "system:kube-scheduler", p.scheduler()),
                new Conf(
                    "controller-manager.conf",
                    "system:kube-controller-manager",
                    p.controllerManager()),
                new Conf("kubelet.conf", Pki.SIMULATED_NODES_USER, p.simulatedNodes()))) {
          Path f = kubeconfigDir.resolve(c.file());
          Kubeconfigs.writePrivate(
              f, Kubeconfigs.forUser(server, c.user(), p.ca().cert(), c.cert()));
          out.println("wrote " + f + " (" + c.user() + " at " + server + ")");
        }
      }
      out.flush();
      return 0;
    }
  }

  @Command(
      name = "check-expiration",
      mixinStandardHelpOptions = true,
      description = "Lists every certificate and CA with its expiry and residual time.")
  static final class CheckExpiration implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;

    @Mixin PkiDir pki;

    @Override
    public Integer call() {
      Path dir = pki.dir();
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

    @Mixin PkiDir pki;

    @Option(
        names = "--validity-days",
        paramLabel = "DAYS",
        description = "How long the renewed certificates are valid (default: 365).")
    long validityDays = PkiSpec.DEFAULT_CERT_VALIDITY.toDays();

    @Override
    public Integer call() {
      Path dir = pki.dir();
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
