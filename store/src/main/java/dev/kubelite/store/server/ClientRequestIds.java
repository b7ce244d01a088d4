package dev.kubelite.store.server;

import com.google.protobuf.MessageLite;
import dev.kubelite.store.api.kubelitepb.ClientRequestId;
import io.vertx.core.MultiMap;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client request ids as our clients send them (decision 0012): the gRPC header {@value #HEADER}
 * ({@code <16 hex digits>-<decimal counter>}, the same for every attempt of one call) and {@value
 * #DONE_BELOW_HEADER} (the client's lowest counter still in progress). A header that does not parse
 * is ignored: the request is then applied like etcd applies it, without deduplication.
 */
final class ClientRequestIds {
  private static final Logger log = LoggerFactory.getLogger(ClientRequestIds.class);

  /** The request id header (also {@code RemoteKvStore.REQUEST_ID_HEADER}). */
  static final String HEADER = "kubelite-request-id";

  /** Every call of the client below this counter has finished. */
  static final String DONE_BELOW_HEADER = "kubelite-request-done-below";

  /**
   * Sent on every response of our gRPC server: the store deduplicates writes by request id, so
   * clients may re-send an unguarded write whose answer was lost. etcd does not send it.
   */
  static final String DEDUPE_HEADER = "kubelite-request-dedupe";

  private ClientRequestIds() {}

  /** The id in {@code headers}, or empty if there is none or it does not parse. */
  static Optional<ClientRequestId> fromHeaders(MultiMap headers) {
    String id = headers.get(HEADER);
    if (id == null) {
      return Optional.empty();
    }
    Optional<ClientRequestId.Builder> parsed = parse(id);
    if (parsed.isEmpty()) {
      log.debug("ignoring unparseable {} header '{}'", HEADER, id);
      return Optional.empty();
    }
    String done = headers.get(DONE_BELOW_HEADER);
    if (done != null) {
      try {
        long d = Long.parseLong(done.trim());
        if (d > 0) {
          parsed.get().setDoneBelow(d);
        }
      } catch (NumberFormatException e) {
        log.debug("ignoring unparseable {} header '{}'", DONE_BELOW_HEADER, done);
      }
    }
    return Optional.of(parsed.get().build());
  }

  /** Parses {@code <1-16 hex digits>-<decimal counter > 0>}. */
  static Optional<ClientRequestId.Builder> parse(String id) {
    int dash = id.indexOf('-');
    if (dash < 1 || dash > 16 || dash == id.length() - 1) {
      return Optional.empty();
    }
    try {
      long client = Long.parseUnsignedLong(id.substring(0, dash), 16);
      long seq = Long.parseLong(id.substring(dash + 1));
      if (seq <= 0) {
        return Optional.empty();
      }
      return Optional.of(ClientRequestId.newBuilder().setClient(client).setSeq(seq));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** A 64-bit hash of a request as the client sent it. */
  static long fingerprint(MessageLite.Builder request) {
    return fingerprint(request.build());
  }

  static long fingerprint(MessageLite request) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(request.toByteArray());
      return ByteBuffer.wrap(d, 0, 8).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256, which Java requires", e);
    }
  }
}
