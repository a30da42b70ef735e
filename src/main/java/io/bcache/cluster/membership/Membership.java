package io.bcache.cluster.membership;

import io.bcache.config.BCacheSettings;
import java.io.IOException;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.utils.PathUtils;
import org.apache.curator.utils.ZKPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's membership of a cluster, found through ZooKeeper: it registers the node and
 * watches the other members. ZooKeeper only finds peers; no cache data goes through it.
 *
 * <p>The node is an ephemeral znode {@code [<chroot>]<basePath>/<clusterName>/members/<nodeId as
 * 16 hex digits>} whose data is UTF-8 text of {@code key=value} lines: {@code format=1}, {@code nodeId},
 * {@code host}, {@code port}, {@code protocol}. Znodes there that do not parse strictly are logged
 * and ignored. While ZooKeeper is unreachable
 * (Curator's SUSPENDED and LOST) the view is frozen: nobody is reported to leave, so the
 * transport keeps replicating with the peers it already has. When the connection comes back, or
 * a new session replaces an expired one, the node registers again and the view is re-read,
 * reporting only the joins and leaves that really happened meanwhile. ZooKeeper operations are
 * retried with a bounded backoff for as long as the membership is open.
 *
 * <p>Lifecycle: construct, {@link #start()}, {@link #close()}; an instance is not restartable.
 */
public final class Membership implements AutoCloseable {

  private static final Logger logger = LoggerFactory.getLogger(Membership.class);

  private enum State { NEW, STARTED, CLOSED }

  private final String zookeeperConnect;
  private final Member self;
  private final MembershipSettings settings;
  private final String membersPath;
  private final MemberView view;
  private final MembershipListener listener;
  private final CuratorFramework client;
  private final Registration registration;
  private final CuratorCache cache;
  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
  private final AtomicBoolean retriesStopped = new AtomicBoolean();

  /** A membership with {@link MembershipSettings#defaults()}. */
  public Membership(String zookeeperConnect, String clusterName, Member self,
      MembershipListener listener) {
    this(zookeeperConnect, clusterName, self, listener, MembershipSettings.defaults());
  }

  /**
   * @param zookeeperConnect the ZooKeeper connect string ({@code bcache.zookeeper.connect}); a
   *     chroot at its end ({@code host:port/apps/orders}) is put in front of the base path, and
   *     created when missing
   * @param clusterName the cluster to join ({@code bcache.cluster.name}): letters, digits,
   *     {@code . _ -}, at most 128 characters
   * @param self this node, as peers should reach it
   * @param listener told of other members joining and leaving, on one thread, in order
   * @throws IllegalArgumentException if the cluster name cannot be a znode name
   */
  public Membership(String zookeeperConnect, String clusterName, Member self,
      MembershipListener listener, MembershipSettings settings) {
    this.zookeeperConnect = Objects.requireNonNull(zookeeperConnect, "zookeeperConnect");
    this.self = Objects.requireNonNull(self, "self");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.listener = Objects.requireNonNull(listener, "listener");
    if (!BCacheSettings.isValidClusterName(clusterName)) {
      throw new IllegalArgumentException("cluster name must be " + BCacheSettings.CLUSTER_NAME_RULE + ", was '"
          + clusterName + "'");
    }
    // A chroot ("host:port/apps/orders") is put in front of the base path. Left to ZooKeeper, it
    // would have to exist already (registering fails without it); as Curator's namespace, the
    // first operation creates it on the calling thread, retrying for as long as ZooKeeper is
    // away, so start() would hang. As part of the path, the registration creates it in the
    // background like the folders below it.
    int slash = zookeeperConnect.indexOf('/');
    String chroot = chrootOf(zookeeperConnect, slash);
    this.membersPath = ZKPaths.makePath(chroot + settings.basePath(), clusterName, "members");
    this.view = new MemberView(membersPath, self.nodeId(), listener);
    this.client = CuratorFrameworkFactory.builder()
        .connectString(slash < 0 ? zookeeperConnect : zookeeperConnect.substring(0, slash))
        // the ensemble tracker would rewrite the connect string from the servers' own config,
        // losing a chroot and sometimes producing unreachable addresses (CURATOR-593, -384)
        .ensembleTracker(false)
        .sessionTimeoutMs((int) settings.sessionTimeout().toMillis())
        .connectionTimeoutMs((int) settings.connectionTimeout().toMillis())
        .retryPolicy(new ForeverRetry(settings.baseRetrySleep().toMillis(),
            settings.maxRetrySleep().toMillis(), retriesStopped::get))
        .build();
    this.registration = new Registration(client,
        ZKPaths.makePath(membersPath, MemberCodec.nodeName(self.nodeId())), MemberCodec.encode(self),
        () -> retriesStopped.set(true));
    this.cache = CuratorCache.build(client, membersPath);
  }

  /**
   * Connects to ZooKeeper, registers this node and starts watching the members; every member
   * already registered is reported to the listener as joining. Waits up to the connection timeout
   * for the registration and the first read of the members; if ZooKeeper is not reachable by
   * then, logs a warning and keeps trying in the background.
   *
   * @throws IllegalStateException if already started or closed
   */
  public void start() {
    if (!state.compareAndSet(State.NEW, State.STARTED)) {
      throw new IllegalStateException("Membership already " + state.get().name().toLowerCase(Locale.ROOT));
    }
    client.getConnectionStateListenable().addListener((c, newState) -> connectionStateChanged(newState));
    client.start();
    registration.start();
    cache.listenable().addListener(view);
    cache.start();
    awaitFirstView();
  }

  /** The other members currently known (this node excluded); empty before start and after close. */
  public Set<Member> members() {
    return view.members();
  }

  /** This node, as registered. */
  public Member self() {
    return self;
  }

  /** The ZooKeeper folder holding this cluster's members, from the root (a chroot included). */
  public String membersPath() {
    return membersPath;
  }

  /** Whether ZooKeeper is reachable now; membership changes are seen only while it is. */
  public boolean isConnected() {
    return state.get() == State.STARTED && client.getZookeeperClient().isConnected();
  }

  /**
   * Leaves the cluster: removes the registration at once when ZooKeeper is reachable, so peers
   * see the leave immediately (otherwise they see it when the session expires), and closes the
   * ZooKeeper client. No leave is reported to this node's own listener. Idempotent.
   */
  @Override
  public void close() {
    State previous = state.getAndSet(State.CLOSED);
    if (previous != State.STARTED) {
      return;
    }
    cache.close();
    view.close();
    try {
      registration.close();
    } catch (IOException e) {
      logger.warn("Could not remove {} from {}: peers will see it leave when its session ends",
          self, membersPath, e);
    }
    retriesStopped.set(true);
    client.close();
    logger.info("Left cluster {} as {}", membersPath, self);
  }

  /**
   * The chroot at the end of a connect string, from {@code slash} on: empty if there is none (or
   * it is just "/").
   */
  private static String chrootOf(String zookeeperConnect, int slash) {
    if (slash < 0 || slash == zookeeperConnect.length() - 1) {
      return "";
    }
    String chroot = zookeeperConnect.substring(slash);
    try {
      return PathUtils.validatePath(chroot);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid chroot '" + chroot + "' in the ZooKeeper connect string: "
          + e.getMessage(), e);
    }
  }

  /** The Curator client, for tests that break its connection or session. */
  CuratorFramework client() {
    return client;
  }

  private void awaitFirstView() {
    long timeoutNanos = settings.connectionTimeout().toNanos();
    long deadline = System.nanoTime() + timeoutNanos;
    try {
      boolean ready = registration.waitForInitialCreate(timeoutNanos, TimeUnit.NANOSECONDS)
          && view.awaitInitialized(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (ready) {
        logger.info("Joined cluster {} as {}, {} other members", membersPath, self, view.members().size());
      } else {
        logger.warn("ZooKeeper at {} not reached within {}: registering {} in the background",
            zookeeperConnect, settings.connectionTimeout(), self);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void connectionStateChanged(ConnectionState newState) {
    try {
      // the first CONNECTED counts too: a node that started while ZooKeeper was away must learn
      // that it can see the members now, even if nobody joins or leaves
      if (newState.isConnected()) {
        listener.reconnected();
      } else {
        listener.disconnected();
      }
    } catch (RuntimeException e) {
      logger.error("Membership listener failed on the connection state {}", newState, e);
    }
    switch (newState) {
      case CONNECTED -> logger.info("Connected to ZooKeeper at {}: registering {} and reading the members",
          zookeeperConnect, self);
      case SUSPENDED -> logger.warn("Lost the connection to ZooKeeper at {}: keeping the {} known "
          + "members until it is back", zookeeperConnect, view.members().size());
      case LOST -> logger.warn("ZooKeeper session of {} is lost: keeping the known members, and "
          + "registering again once a new session is made", self);
      case RECONNECTED -> logger.info("Reconnected to ZooKeeper at {}: registering {} again and "
          + "re-reading the members", zookeeperConnect, self);
      default -> logger.debug("ZooKeeper connection of {}: {}", self, newState);
    }
  }
}
