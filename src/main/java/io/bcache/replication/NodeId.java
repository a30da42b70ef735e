package io.bcache.replication;

import java.security.SecureRandom;

/**
 * Identifies a node for one process start. Random, never derived from the host's hardware
 * address, so two nodes on one host (or one JVM) never collide and a restarted node is a new
 * writer whose versions cannot be confused with its previous life's.
 */
public final class NodeId {

  private static final SecureRandom RANDOM = new SecureRandom();

  private NodeId() {
  }

  /** A new random positive node id. */
  public static long random() {
    long id;
    do {
      id = RANDOM.nextLong() & Long.MAX_VALUE;
    } while (id == 0);
    return id;
  }
}
