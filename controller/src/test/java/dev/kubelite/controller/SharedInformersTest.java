package dev.kubelite.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.client.cache.Informer;
import java.net.URI;
import org.junit.jupiter.api.Test;

class SharedInformersTest {
  // Never contacted: the informers here are not started.
  private final KubeClient client = new KubeClient(URI.create("http://127.0.0.1:1"));

  @Test
  void oneInformerPerResourceUntilItsLastUserCloses() {
    SharedInformers shared = new SharedInformers();
    SharedInformers.Handle a = shared.acquire(client, Resource.PODS);
    SharedInformers.Handle b = shared.acquire(client, Resource.PODS);
    SharedInformers.Handle nodes = shared.acquire(client, Resource.NODES);
    assertThat(a.informer()).isSameAs(b.informer());
    assertThat(nodes.informer()).isNotSameAs(a.informer());
    Informer first = a.informer();
    a.close();
    a.close(); // a second close by the same user does not count twice
    SharedInformers.Handle c = shared.acquire(client, Resource.PODS);
    assertThat(c.informer()).isSameAs(first);
    b.close();
    c.close();
    // All users gone: the next term gets a fresh informer (a fresh list).
    SharedInformers.Handle d = shared.acquire(client, Resource.PODS);
    assertThat(d.informer()).isNotSameAs(first);
    d.close();
    nodes.close();
  }

  @Test
  void withoutSharingEachControllerHasItsOwn() {
    SharedInformers.Handle a = SharedInformers.of(null, client, Resource.PODS);
    SharedInformers.Handle b = SharedInformers.of(null, client, Resource.PODS);
    assertThat(a.informer()).isNotSameAs(b.informer());
    a.close();
    b.close();
  }
}
