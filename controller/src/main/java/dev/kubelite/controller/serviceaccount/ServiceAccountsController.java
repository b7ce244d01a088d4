package dev.kubelite.controller.serviceaccount;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.cache.EventHandler;
import dev.kubelite.client.cache.Informer;
import dev.kubelite.client.workqueue.ReconcileLoop;
import dev.kubelite.controller.Controller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service account controller, as kube-controller-manager's {@code serviceaccount} controller:
 * every namespace that is not being deleted has a ServiceAccount named {@code default}. It is made
 * when the namespace appears and made again if someone deletes it. Pods that name no service
 * account run as this one (the API server defaults {@code spec.serviceAccountName}), and {@code
 * kubectl create token default} asks for a token of it.
 */
public final class ServiceAccountsController implements Controller {
  /** The name {@code --controllers} and the logs use. */
  public static final String NAME = "serviceaccount";

  /** The account every namespace gets. */
  public static final String DEFAULT_ACCOUNT = "default";

  static final Resource SERVICE_ACCOUNTS = new Resource("", "v1", "serviceaccounts", true);

  private static final Logger log = LoggerFactory.getLogger(ServiceAccountsController.class);

  private final KubeClient client;
  private final Informer namespaces;
  private final Informer accounts;
  private final ReconcileLoop loop;

  /**
   * @param workers namespaces handled at once (kube-controller-manager runs this one with 1)
   */
  public ServiceAccountsController(KubeClient client, int workers) {
    this.client = client;
    this.namespaces = new Informer(client, Resource.NAMESPACES, null, Informer.Options.defaults());
    // Only the accounts this controller keeps: a cluster's other accounts need no cache here.
    this.accounts =
        new Informer(
            client,
            SERVICE_ACCOUNTS,
            null,
            Informer.Options.defaults()
                .withSelectors(ListOptions.fields("metadata.name=" + DEFAULT_ACCOUNT)));
    this.loop = new ReconcileLoop(NAME, workers, this::reconcile);
    namespaces.addEventHandler(EventHandler.onAddOrUpdate(ns -> loop.enqueue(Meta.name(ns))));
    accounts.addEventHandler(
        new EventHandler() {
          @Override
          public void onDelete(ObjectNode sa) {
            loop.enqueue(Meta.namespace(sa));
          }
        });
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void start() {
    namespaces.start();
    accounts.start();
    loop.start(namespaces, accounts);
  }

  @Override
  public boolean hasSynced() {
    return namespaces.hasSynced() && accounts.hasSynced();
  }

  @Override
  public void close() {
    loop.close();
    accounts.close();
    namespaces.close();
  }

  private boolean terminatingOrGone(String namespace) {
    try {
      return Meta.isBeingDeleted(client.get(Resource.NAMESPACES, null, namespace));
    } catch (ApiException e) {
      if (e.isNotFound()) {
        return true;
      }
      throw e;
    }
  }

  void reconcile(String namespace) {
    ObjectNode ns = namespaces.indexer().get(namespace);
    if (ns == null || Meta.isBeingDeleted(ns)) {
      // Gone, or its content is being deleted: an account made now would be deleted too.
      log.info("{}: namespace {} is gone or being deleted: nothing to do", NAME, namespace);
      return;
    }
    if (accounts.indexer().get(namespace, DEFAULT_ACCOUNT) != null) {
      log.info(
          "{}: namespace {} has ServiceAccount {}: nothing to do",
          NAME,
          namespace,
          DEFAULT_ACCOUNT);
      return;
    }
    ObjectNode sa = JsonNodeFactory.instance.objectNode();
    sa.put("apiVersion", "v1");
    sa.put("kind", "ServiceAccount");
    sa.putObject("metadata").put("name", DEFAULT_ACCOUNT);
    try {
      client.create(SERVICE_ACCOUNTS, namespace, sa);
      log.info(
          "{}: namespace {} had no ServiceAccount {} → created it",
          NAME,
          namespace,
          DEFAULT_ACCOUNT);
    } catch (ApiException e) {
      if (e.code() == 409) {
        return; // made meanwhile (our cache lagged behind): nothing to do
      }
      if (e.code() == 403 && terminatingOrGone(namespace)) {
        // The namespace started terminating after our cache saw it: its content goes anyway.
        log.info("{}: namespace {} is being deleted: no ServiceAccount made", NAME, namespace);
        return;
      }
      throw e;
    }
  }
}
