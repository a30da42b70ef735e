package io.bcache.cluster.membership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.KillSession;
import org.apache.curator.test.TestingServer;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Memberships against a real, in-process ZooKeeper on 127.0.0.1. */
@Timeout(60)
class MembershipTest {

  static {
    // ZooKeeper and Curator narrate every connection at INFO, and every refused one with a trace
    System.setProperty("org.slf4j.simpleLogger.log.org.apache.zookeeper", "error");
    System.setProperty("org.slf4j.simpleLogger.log.org.apache.curator", "warn");
  }

  /** Short timeouts so that expiry and outages fit in a few seconds. */
  private static final MembershipSettings FAST = MembershipSettings.defaults()
      .withSessionTimeout(Duration.ofSeconds(3))
      .withConnectionTimeout(Duration.ofSeconds(2))
      .withRetrySleep(Duration.ofMillis(50), Duration.ofMillis(500));

  private static final Duration WAIT = Duration.ofSeconds(20);

  private final AtomicLong nextId = new AtomicLong(0x7a11_0000_0000_0000L);
  private final AtomicInteger nextPort = new AtomicInteger(17_000);
  private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>(); // joins run on other threads too
  private TestingServer server;

  @BeforeEach
  void startZooKeeper() throws Exception {
    // a short tick lets the server accept the tests' short sessions
    InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, -1, 250, -1,
        Map.of("clientPortAddress", "127.0.0.1"), "127.0.0.1");
    server = new TestingServer(spec, true);
  }

  @AfterEach
  void stopEverything() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    server.close();
  }

  @Test
  void twoMembersSeeEachOther() {
    Node a = join("orders");
    Node b = join("orders");

    await().atMost(WAIT).until(() -> a.members().equals(Set.of(b.self())) && b.members().equals(Set.of(a.self())));
    assertThat(a.events).containsExactly("+" + b.self());
    assertThat(b.events).containsExactly("+" + a.self());
  }

  @Test
  void threeMembersSeeEachOtherAndACloseIsSeenAtOnce() {
    MembershipSettings longSession = FAST.withSessionTimeout(Duration.ofSeconds(10));
    Node a = join("orders", longSession);
    Node b = join("orders", longSession);
    Node c = join("orders", longSession);
    await().atMost(WAIT).until(() -> a.members().equals(Set.of(b.self(), c.self()))
        && b.members().equals(Set.of(a.self(), c.self())) && c.members().equals(Set.of(a.self(), b.self())));

    c.membership.close();

    // well inside the session timeout: the registration was deleted, not left to expire
    await().atMost(Duration.ofSeconds(3)).until(() -> a.members().equals(Set.of(b.self()))
        && b.members().equals(Set.of(a.self())));
    assertThat(a.events).containsExactlyInAnyOrder("+" + b.self(), "+" + c.self(), "-" + c.self());
    assertThat(c.membership.members()).isEmpty();
    assertThat(c.events).doesNotContain("-" + a.self(), "-" + b.self());
  }

  @Test
  void clustersSharingZooKeeperAreIsolated() {
    Node beta = join("beta");
    Node a = join("alpha");
    Node b = join("alpha");

    await().atMost(WAIT).until(() -> a.members().equals(Set.of(b.self())) && b.members().equals(Set.of(a.self())));
    assertThat(beta.members()).isEmpty();
    assertThat(beta.events).isEmpty();
    assertThat(beta.membership.membersPath()).isEqualTo("/bcache/beta/members");
    assertThat(a.membership.membersPath()).isEqualTo("/bcache/alpha/members");
  }

  @Test
  void memberDataRoundTrips() throws Exception {
    Node a = join("orders");
    Member published = new Member(0xfedc_ba98_7654_3210L, "node-b.example", 65_000, 7);
    Node b = join("orders", published, FAST, new Recorder());

    await().atMost(WAIT).until(() -> a.members().equals(Set.of(published)));
    Member seen = a.members().iterator().next();
    assertThat(seen).usingRecursiveComparison().isEqualTo(published);

    try (CuratorFramework foreign = foreignClient()) {
      String path = ZKPaths.makePath(b.membership.membersPath(), "fedcba9876543210");
      String text = new String(foreign.getData().forPath(path), StandardCharsets.UTF_8);
      assertThat(text).contains("nodeId=fedcba9876543210", "host=node-b.example", "port=65000", "protocol=7");
      Stat stat = foreign.checkExists().forPath(path);
      assertThat(stat.getEphemeralOwner()).isNotZero();
    }
  }

  @Test
  void malformedZnodesAreIgnored() throws Exception {
    Node a = join("orders");
    try (CuratorFramework foreign = foreignClient()) {
      String folder = a.membership.membersPath();
      foreign.create().forPath(folder + "/not-a-node-id", bytes("hello"));
      foreign.create().forPath(folder + "/00000000000000ff", new byte[] {(byte) 0xff, 0, 1, 2});
      foreign.create().forPath(folder + "/0000000000000100",
          MemberCodec.encode(new Member(0x101, "127.0.0.1", 1, 1))); // claims another id
      foreign.create().forPath(folder + "/0000000000000102", bytes("format=1\nport=banana\n"));
      foreign.create().forPath(folder + "/0000000000000103");
      foreign.create().creatingParentsIfNeeded().forPath(folder + "/not-a-node-id/0000000000000104",
          MemberCodec.encode(new Member(0x104, "127.0.0.1", 1, 1))); // not directly in the folder

      Node b = join("orders");

      // the watcher survived the garbage: the real member arriving after it is seen
      await().atMost(WAIT).until(() -> a.members().equals(Set.of(b.self())));
      assertThat(a.events).containsExactly("+" + b.self());
      assertThat(b.members()).containsExactly(a.self());
    }
  }

  @Test
  void aFailingListenerDoesNotStopTheWatcher() {
    Recorder failing = new Recorder() {
      @Override
      public void memberJoined(Member member) {
        super.memberJoined(member);
        throw new IllegalStateException("listener bug");
      }
    };
    Node a = join("orders", member(), FAST, failing);
    Node b = join("orders");
    Node c = join("orders");

    await().atMost(WAIT).until(() -> a.events.size() == 2);
    assertThat(a.events).containsExactlyInAnyOrder("+" + b.self(), "+" + c.self());
    assertThat(a.members()).containsExactlyInAnyOrder(b.self(), c.self());
  }

  @Test
  void zookeeperOutageFreezesTheViewThenResynchronises() throws Exception {
    Node a = join("orders");
    Node b = join("orders");
    Node c = join("orders");
    await().atMost(WAIT).until(() -> a.members().size() == 2 && b.members().size() == 2 && c.members().size() == 2);
    List<ConnectionState> aStates = connectionStates(a);
    List<ConnectionState> bStates = connectionStates(b);

    server.stop();
    await().atMost(WAIT).until(() -> !a.membership.isConnected() && !b.membership.isConnected());

    // leaving while ZooKeeper is away must not hang; the leave is seen once the session expires
    long closing = System.nanoTime();
    c.membership.close();
    assertThat(Duration.ofNanos(System.nanoTime() - closing)).isLessThan(Duration.ofSeconds(3));

    // past the session timeout Curator declares the session LOST: still nobody is reported gone
    await().atMost(WAIT).until(() -> aStates.contains(ConnectionState.LOST) && bStates.contains(ConnectionState.LOST));
    assertThat(a.members()).containsExactlyInAnyOrder(b.self(), c.self());
    assertThat(b.members()).containsExactlyInAnyOrder(a.self(), c.self());
    assertThat(a.events).noneMatch(event -> event.startsWith("-"));
    assertThat(b.events).noneMatch(event -> event.startsWith("-"));

    server.restart();
    Node d = join("orders");

    // a and b register again; c's registration expires; d is seen by everyone
    await().atMost(WAIT).until(() -> a.members().equals(Set.of(b.self(), d.self()))
        && b.members().equals(Set.of(a.self(), d.self()))
        && d.members().equals(Set.of(a.self(), b.self()))
        && registered(a) && registered(b));
    // b may be seen to leave and come back: its session ended during the outage
    assertThat(a.events).containsOnlyOnce("-" + c.self(), "+" + d.self()).last().isNotEqualTo("-" + b.self());
    assertThat(aStates).contains(ConnectionState.RECONNECTED);
    // the listener knew the view could not change meanwhile (so no absence counts), and when it
    // could again; the first "reconnected" is its first connection, when it started
    await().atMost(WAIT).untilAsserted(() -> assertThat(a.connection)
        .containsSubsequence("reconnected", "disconnected", "reconnected").last().isEqualTo("reconnected"));
    assertThat(d.connection).doesNotContain("disconnected");
  }

  @Test
  void aShortOutageChangesNothing() throws Exception {
    MembershipSettings longest = FAST.withSessionTimeout(Duration.ofSeconds(5)); // the server's cap
    Node a = join("orders", longest);
    Node b = join("orders", longest);
    await().atMost(WAIT).until(() -> a.members().size() == 1 && b.members().size() == 1);
    long aSession = sessionId(a);
    long bSession = sessionId(b);

    server.stop();
    await().atMost(WAIT).until(() -> !a.membership.isConnected() && !b.membership.isConnected());
    server.restart();
    Node c = join("orders", longest);

    // same sessions, same znodes: the only change anyone reports is the real one, c joining
    await().atMost(WAIT).until(() -> a.members().equals(Set.of(b.self(), c.self()))
        && b.members().equals(Set.of(a.self(), c.self())));
    assertThat(sessionId(a)).isEqualTo(aSession);
    assertThat(sessionId(b)).isEqualTo(bSession);
    assertThat(a.events).containsExactly("+" + b.self(), "+" + c.self());
    assertThat(b.events).containsExactly("+" + a.self(), "+" + c.self());
  }

  @Test
  void anExpiredSessionRegistersAgain() throws Exception {
    Node a = join("orders");
    Node b = join("orders");
    await().atMost(WAIT).until(() -> a.members().size() == 1 && b.members().size() == 1);
    List<ConnectionState> bStates = connectionStates(b);
    long oldSession = sessionId(b);

    KillSession.kill(b.membership.client().getZookeeperClient().getZooKeeper());

    await().atMost(WAIT).until(() -> bStates.contains(ConnectionState.LOST)
        && bStates.contains(ConnectionState.RECONNECTED));
    // the old session's znode goes when the server expires it; the new session creates it again
    await().atMost(WAIT).until(() -> sessionId(b) != oldSession && registered(b)
        && a.members().equals(Set.of(b.self())) && b.members().equals(Set.of(a.self())));
    assertThat(b.events).containsExactly("+" + a.self());
    assertThat(a.events).first().isEqualTo("+" + b.self());
    assertThat(a.events).last().isEqualTo("+" + b.self());
  }

  @Test
  void startsWhileZookeeperIsDownAndRegistersOnceItIsBack() throws Exception {
    Node a = join("orders");
    server.stop();

    long starting = System.nanoTime();
    Node b = join("orders");

    // start() gives up waiting after the connection timeout and keeps trying in the background
    assertThat(Duration.ofNanos(System.nanoTime() - starting)).isLessThan(Duration.ofSeconds(5));
    assertThat(b.membership.isConnected()).isFalse();
    assertThat(b.members()).isEmpty();

    server.restart();

    await().atMost(WAIT).until(() -> a.members().equals(Set.of(b.self()))
        && b.members().equals(Set.of(a.self())) && registered(b));
  }

  @Test
  void aFirstConnectionAfterStartingWhileZookeeperIsDownIsReported() throws Exception {
    server.stop();
    Node a = join("orders");
    assertThat(a.membership.isConnected()).isFalse();

    server.restart();

    // alone in its cluster, it sees no join or leave: only this callback says the members are known now
    await().atMost(WAIT).until(() -> a.membership.isConnected() && registered(a)
        && a.connection.contains("reconnected"));
    assertThat(a.connection).last().isEqualTo("reconnected");
    assertThat(a.events).isEmpty();
  }

  @Test
  void aChrootInTheConnectStringSeparatesMembers() throws Exception {
    Node plain = join("orders");
    Node a = join("orders", "/apps/orders");
    Node b = join("orders", "/apps/orders");
    Node other = join("orders", "/apps/other");

    await().atMost(WAIT).until(() -> a.members().equals(Set.of(b.self())) && b.members().equals(Set.of(a.self())));
    assertThat(a.membership.membersPath()).isEqualTo("/apps/orders/bcache/orders/members");
    assertThat(plain.members()).isEmpty();
    assertThat(plain.events).isEmpty();
    assertThat(other.members()).isEmpty();
    assertThat(other.events).isEmpty();
    try (CuratorFramework foreign = foreignClient()) {
      assertThat(foreign.getChildren().forPath("/apps/orders/bcache/orders/members"))
          .containsExactlyInAnyOrder(MemberCodec.nodeName(a.self().nodeId()), MemberCodec.nodeName(b.self().nodeId()));
      assertThat(foreign.getChildren().forPath("/apps/other/bcache/orders/members"))
          .containsExactly(MemberCodec.nodeName(other.self().nodeId()));
      assertThat(foreign.getChildren().forPath("/bcache/orders/members"))
          .containsExactly(MemberCodec.nodeName(plain.self().nodeId()));
    }
  }

  @Test
  void startsWithAChrootWhileZookeeperIsDownAndRegistersOnceItIsBack() throws Exception {
    server.stop();

    // the chroot does not exist yet, and cannot be made until ZooKeeper is back: start must not
    // wait for it (it once retried creating it on the calling thread for as long as ZooKeeper was away)
    CompletableFuture<Node> starting = CompletableFuture.supplyAsync(() -> join("orders", "/apps/orders"));
    await().atMost(Duration.ofSeconds(30)).until(starting::isDone);
    Node b = starting.join();
    assertThat(b.membership.isConnected()).isFalse();
    assertThat(b.members()).isEmpty();

    server.restart();
    Node a = join("orders", "/apps/orders");

    await().atMost(WAIT).until(() -> a.members().equals(Set.of(b.self()))
        && b.members().equals(Set.of(a.self())) && registered(b));
    try (CuratorFramework foreign = foreignClient()) {
      assertThat(foreign.checkExists().forPath("/bcache")).isNull();
    }
  }

  // ---- helpers

  private Node join(String cluster) {
    return join(cluster, FAST);
  }

  private Node join(String cluster, MembershipSettings settings) {
    return join(cluster, member(), settings, new Recorder());
  }

  /** A member whose connect string ends in {@code chroot}. */
  private Node join(String cluster, String chroot) {
    return join(cluster, server.getConnectString() + chroot, member(), FAST, new Recorder());
  }

  private Node join(String cluster, Member self, MembershipSettings settings, Recorder recorder) {
    return join(cluster, server.getConnectString(), self, settings, recorder);
  }

  private Node join(String cluster, String connect, Member self, MembershipSettings settings, Recorder recorder) {
    Membership membership = new Membership(connect, cluster, self, recorder, settings);
    toClose.add(membership);
    membership.start();
    return new Node(membership, recorder.events, recorder.connection);
  }

  private Member member() {
    return new Member(nextId.incrementAndGet(), "127.0.0.1", nextPort.incrementAndGet(), 1);
  }

  private CuratorFramework foreignClient() {
    CuratorFramework client = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
    client.start();
    return client;
  }

  private static List<ConnectionState> connectionStates(Node node) {
    List<ConnectionState> states = new CopyOnWriteArrayList<>();
    node.membership.client().getConnectionStateListenable().addListener((client, state) -> states.add(state));
    return states;
  }

  private static long sessionId(Node node) throws Exception {
    return node.membership.client().getZookeeperClient().getZooKeeper().getSessionId();
  }

  /** Whether the node's znode exists and belongs to its current session. */
  private static boolean registered(Node node) throws Exception {
    CuratorFramework client = node.membership.client();
    String path = ZKPaths.makePath(node.membership.membersPath(), MemberCodec.nodeName(node.self().nodeId()));
    Stat stat = client.checkExists().forPath(path);
    return stat != null && stat.getEphemeralOwner() == sessionId(node);
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private record Node(Membership membership, List<String> events, List<String> connection) {
    Member self() {
      return membership.self();
    }

    Set<Member> members() {
      return membership.members();
    }
  }

  /**
   * Records joins as "+member" and leaves as "-member", in delivery order; and, apart, when
   * ZooKeeper is lost and back.
   */
  private static class Recorder implements MembershipListener {
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<String> connection = new CopyOnWriteArrayList<>();

    @Override
    public void disconnected() {
      connection.add("disconnected");
    }

    @Override
    public void reconnected() {
      connection.add("reconnected");
    }

    @Override
    public void memberJoined(Member member) {
      events.add("+" + member);
    }

    @Override
    public void memberLeft(Member member) {
      events.add("-" + member);
    }
  }
}
