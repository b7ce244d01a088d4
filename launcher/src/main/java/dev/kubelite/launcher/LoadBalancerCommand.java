package dev.kubelite.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kubelite load-balancer}: the TCP load balancer that {@code up --ha} runs in front of the
 * members' API servers, as its own process (the compose file's control-plane endpoint).
 */
@Command(
    name = "load-balancer",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a TCP load balancer in front of API servers: each new connection goes to the next"
          + " --backend in turn, skipping one that refuses it (stopped, killed). What `kubelite up"
          + " --ha` runs in its own process on --port; see docs/launcher.md."
    })
public final class LoadBalancerCommand implements Callable<Integer> {

  @Option(
      names = "--listen-address",
      defaultValue = "127.0.0.1",
      description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String listenAddress;

  @Option(
      names = "--port",
      defaultValue = "6443",
      description = "Port to listen on (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--backend",
      required = true,
      split = ",",
      description = "An API server as HOST:PORT; repeat or separate with commas.")
  List<String> backends = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    List<LoadBalancer.Backend> list = new ArrayList<>();
    for (String b : backends) {
      int colon = b.lastIndexOf(':');
      int p;
      try {
        p = colon <= 0 ? -1 : Integer.parseInt(b.substring(colon + 1));
      } catch (NumberFormatException e) {
        p = -1;
      }
      if (p <= 0 || p > 65535) {
        System.err.println(
            "kubelite load-balancer: --backend '" + b + "' is not HOST:PORT (e.g. member-0:6443)");
        return 2;
      }
      list.add(new LoadBalancer.Backend(b, b.substring(0, colon), p));
    }
    LoadBalancer lb;
    try {
      lb = LoadBalancer.start(listenAddress, port, list);
    } catch (Exception e) {
      System.err.println(
          "kubelite load-balancer: cannot listen on "
              + listenAddress
              + ":"
              + port
              + ": "
              + e
              + " (is the port free?)");
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  lb.close();
                  stopped.countDown();
                },
                "load-balancer-shutdown"));
    System.err.println(
        "kubelite load-balancer: "
            + listenAddress
            + ":"
            + lb.port()
            + " → "
            + String.join(", ", backends));
    stopped.await();
    return 0;
  }

  public static void main(String[] args) {
    int code = new CommandLine(new LoadBalancerCommand()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}
