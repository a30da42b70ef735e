package io.bcache.cluster.membership;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.zookeeper.CreateMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's ephemeral znode. {@link PersistentNode} creates it again after a reconnection, after
 * a new session replaces an expired one, and after anyone deletes it; closing deletes it at once
 * so that peers see a clean leave without waiting for the session to expire.
 */
final class Registration extends PersistentNode {

  private static final Logger logger = LoggerFactory.getLogger(Registration.class);

  private final CuratorFramework client;
  private final String path;
  private final Runnable stopRetrying;

  /** @param stopRetrying ends the client's retries; run once the node is closed */
  Registration(CuratorFramework client, String path, byte[] data, Runnable stopRetrying) {
    super(client, CreateMode.EPHEMERAL, false, path, data);
    this.client = client;
    this.path = path;
    this.stopRetrying = stopRetrying;
  }

  @Override
  protected void deleteNode() throws Exception {
    // Only now, with the node inactive, may retries stop: a create aborted earlier would make
    // the still active node try again at once, in a loop.
    stopRetrying.run();
    if (!client.getZookeeperClient().isConnected()) {
      // deleting would wait for a connection; the end of the session removes the znode anyway
      logger.warn("ZooKeeper is unreachable: peers will see {} leave when its session expires", path);
      return;
    }
    super.deleteNode();
  }
}
