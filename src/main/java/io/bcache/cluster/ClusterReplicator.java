package io.bcache.cluster;

import io.bcache.cluster.membership.Member;
import io.bcache.cluster.membership.Membership;
import io.bcache.cluster.membership.MembershipListener;
import io.bcache.config.BCacheSettings;
import io.bcache.config.HostPort;
import io.bcache.replication.Change;
import io.bcache.replication.ClusterStatus;
import io.bcache.replication.CodecLimits;
import io.bcache.replication.HybridLogicalClock;
import io.bcache.replication.LoadResult;
import io.bcache.replication.LocalReplicas;
import io.bcache.replication.MalformedMessageException;
import io.bcache.replication.Message;
import io.bcache.replication.MessageCodec;
import io.bcache.replication.ReplicationConfig;
import io.bcache.replication.ReplicationCore;
import io.bcache.replication.ReplicationStatus;
import io.bcache.replication.Replicator;
import io.bcache.replication.Scheduler;
import io.bcache.transport.FrameRejectedException;
import io.bcache.transport.PeerTransport;
import io.bcache.transport.PeerTls;
import io.bcache.transport.TransportConfig;
import io.bcache.transport.TransportListener;
import io.bcache.transport.TransportStats;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's replication over a real network: ZooKeeper membership finds the peers, the Netty
 * transport connects to each of them, and the {@link ReplicationCore} runs on the transport's one
 * I/O thread, which every input (local changes, frames, connections, timers) is handed to.
 */
public final class ClusterReplicator implements Replicator, TransportListener, MembershipListener {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterReplicator.class);
  private static final int INTAKE_CAPACITY = 65_536;
  private static final long FORGET_GRACE_MILLIS = 15_000;
  /** Read from a peer and not applied yet, past which its connection is not read for a while. */
  private static final long MAX_UNAPPLIED_BYTES = 8L << 20;
  private static final int BATCH_CHANGES = 1_024;
  private static final int BATCH_BYTES = 256 << 10;
  private static final long CLOSE_FLUSH_MILLIS = 5_000;
  /** How long a writer waits for room in the intake before it checks whether the node left. */
  private static final long INTAKE_WAIT_MILLIS = 100;
  /** While closing, how often a peer not known to have this node's changes is asked again. */
  private static final long ACKNOWLEDGEMENT_RETRY_MILLIS = 100;
  /** How soon the intake is looked at again while a slow peer holds local changes back. */
  private static final long HELD_BACK_RETRY_MILLIS = 1;
  /** How long {@link #status()} waits for the replication thread before answering from the last snapshot. */
  private static final long STATUS_WAIT_MILLIS = 1_000;
  private static final Comparator<Change> BY_CLOCK = Comparator.comparingLong(Change::hlc);

  private final long nodeId;
  private final String nodeName;
  private final String clusterName;
  private final ScheduledExecutorService loop;
  private final ReplicationCore core;
  private final MessageCodec codec = new MessageCodec(CodecLimits.DEFAULT);
  private final PeerTransport transport;
  /** Set once started; read by membership events, which may come while it starts. */
  private volatile Membership membership;
  private final BlockingQueue<Change> intake = new ArrayBlockingQueue<>(INTAKE_CAPACITY);
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final List<Change> drained = new ArrayList<>(); // used on the loop thread only
  /**
   * Bytes of messages read from each peer and not applied yet, and the peers whose connection is
   * not read meanwhile; touched only on the replication thread, which reads and applies.
   */
  private final Map<Long, Long> unappliedBytes = new HashMap<>();
  private final Set<Long> pausedPeers = new HashSet<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  /**
   * Set once close() has flushed: writes are dropped from then on. Until then a write that
   * raced the close (its cache was still open when it began) still goes with the flush.
   */
  private volatile boolean leaving;
  /**
   * Set on the replication thread just before close() hands the core what writers offered, for
   * the last time: nothing is handed over after that. A writer that finds it set once its change
   * is in the intake takes the change back, unless that hand-over took it, and reports it unsent.
   */
  private volatile boolean lastHandOver;
  private final AtomicBoolean wroteAfterLeaving = new AtomicBoolean();
  /** Completes once the first {@link #close()} is done (each of its steps is bounded). */
  private final CompletableFuture<Void> closeDone = new CompletableFuture<>();
  private volatile Thread loopThread;
  /** Forgets scheduled for members that left; touched only on the replication thread. */
  private final Map<Long, ScheduledFuture<?>> pendingForgets = new HashMap<>();
  /** The latest replication snapshot taken on the loop, answered when the loop is too busy. */
  private volatile ReplicationStatus lastReplicationStatus;
  /** A snapshot request the loop has not run yet; at most one is queued at a time. */
  private final AtomicReference<Future<?>> pendingStatus = new AtomicReference<>();
  /** The change batch encoded last, and its bytes; touched on the loop only. */
  private List<Change> lastBatch = List.of();
  private byte[] lastBatchBytes;

  private ClusterReplicator(long nodeId, HybridLogicalClock clock, BCacheSettings settings, LocalReplicas replicas,
      ReplicationConfig config) {
    this.nodeId = nodeId;
    this.nodeName = HexFormat.of().toHexDigits(nodeId); // as ZooKeeper and the cluster MXBean show it
    this.clusterName = settings.clusterName();
    TransportConfig.Builder transportConfig = TransportConfig.builder(nodeId, settings.clusterName())
        .bind(settings.bind().host(), settings.bind().port());
    settings.secret().ifPresent(transportConfig::secret);
    settings.tls().ifPresent(tls -> transportConfig.tls(peerTls(tls)));
    this.transport = new PeerTransport(transportConfig.build(), this);
    // the core runs on the transport's I/O thread: a frame is decoded and applied, and the
    // core's answer written, on the thread that read it, with no hand-off in between
    this.loop = transport.executor();
    Scheduler scheduler = (delayMillis, task) -> {
      try {
        ScheduledFuture<?> future = loop.schedule(logFailure(task), delayMillis, TimeUnit.MILLISECONDS);
        return () -> future.cancel(false);
      } catch (RejectedExecutionException e) {
        return () -> { }; // closing (an owner's load may finish after its node closed)
      }
    };
    this.core = new ReplicationCore(nodeId, config, replicas, this::send, scheduler, System::currentTimeMillis, clock);
    this.lastReplicationStatus = core.status(); // before the loop touches the core

    InetSocketAddress bound = transport.start();
    HostPort advertised = settings.advertise().orElse(new HostPort(settings.bind().host(), bound.getPort()));
    Membership joining = null;
    try {
      Member self = new Member(nodeId, advertised.host(), advertised.port(), MessageCodec.PROTOCOL_VERSION);
      onLoop(() -> {
        loopThread = Thread.currentThread();
        core.start();
      });
      joining = new Membership(settings.zookeeperConnect().orElseThrow(), settings.clusterName(), self, this);
      joining.start();
    } catch (RuntimeException e) {
      // the manager fails to open: leave no thread, port or ZooKeeper client behind
      if (joining != null) {
        joining.close();
      }
      transport.close();
      throw e;
    }
    this.membership = joining;
    publishMembers(); // the first view; later ones follow every change
    LOG.info("node {} joined cluster '{}' as {}", nodeName, settings.clusterName(), advertised);
  }

  private static PeerTls peerTls(BCacheSettings.TlsStores stores) {
    try {
      return PeerTls.fromKeyStores(stores.keyStore(), stores.keyStorePassword(), stores.trustStore(),
          stores.trustStorePassword());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bcache.tls.* settings cannot be used: " + e.getMessage(), e);
    }
  }

  /**
   * Starts replication with the production bounds and periods, and no batching delay: a peer's
   * queue is flushed as soon as the replication thread has taken in everything writers handed
   * over meanwhile, so a lone write leaves at once and a burst still goes out in large batches
   * (up to {@value #BATCH_CHANGES} changes or {@value #BATCH_BYTES} bytes per message, which is
   * also a snapshot chunk's size).
   */
  public static ClusterReplicator start(long nodeId, HybridLogicalClock clock, BCacheSettings settings,
      LocalReplicas replicas) {
    ReplicationConfig config = ReplicationConfig.DEFAULT.withBatching(BATCH_CHANGES, BATCH_BYTES, 0);
    return new ClusterReplicator(nodeId, clock, settings, replicas, config);
  }

  @Override
  public CompletionStage<LoadResult> routeLoad(String cacheName, byte[] key) {
    CompletableFuture<LoadResult> answer = new CompletableFuture<>();
    if (closed.get()) {
      answer.complete(LoadResult.LOAD_HERE);
      return answer;
    }
    try {
      loop.execute(() -> core.routeLoad(cacheName, key, answer::complete));
    } catch (RejectedExecutionException e) {
      answer.complete(LoadResult.LOAD_HERE);
    }
    return answer;
  }

  @Override
  public boolean publish(Change change) {
    if (leaving) {
      return leftBehind();
    }
    if (Thread.currentThread() == loopThread) {
      // application code this thread runs (a value's readObject) writes: the intake is drained
      // by this very thread, so waiting for room in it could wait forever
      drainIntake();
      core.publishLocal(change);
      return true;
    }
    boolean interrupted = false;
    try {
      // bounded: a writer waits while the replication thread catches up, or until the node
      // leaves (the thread that drains the intake may have stopped)
      for (;;) {
        try {
          if (intake.offer(change, INTAKE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
            break;
          }
        } catch (InterruptedException e) {
          interrupted = true; // the write is made here already: it goes on to the peers
        }
        if (leaving) {
          return leftBehind();
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    // close() may have begun its last hand-over since the check above: a change it did not take
    // never goes, and must not be reported sent. Not set yet, that hand-over begins after the
    // change went in, and takes it (lock and volatile actions are totally ordered)
    if (lastHandOver && intake.removeIf(queued -> queued == change)) {
      return leftBehind();
    }
    if (drainScheduled.compareAndSet(false, true)) {
      onLoop(this::drainIntake);
    }
    return true;
  }

  /** A write made once the node is leaving: said once, and reported to the caller. */
  private boolean leftBehind() {
    if (wroteAfterLeaving.compareAndSet(false, true)) {
      LOG.warn("node {} is closing or has left the cluster: writes made on it from now on are not "
          + "replicated", nodeName);
    }
    return false;
  }

  /**
   * Hands the writers' changes to the core, as many as it takes now: while a slow peer holds local
   * changes back, the rest wait in the intake, and once it is full the writers wait too.
   */
  private void drainIntake() {
    drainScheduled.set(false);
    if (lastHandOver) {
      return;
    }
    int allowance = core.localChangeAllowance();
    if (allowance > 0) {
      handOver(allowance);
    }
    if (!intake.isEmpty() && drainScheduled.compareAndSet(false, true)) {
      if (allowance > 0) {
        onLoop(this::drainIntake); // more arrived meanwhile
      } else {
        scheduleOnLoop(HELD_BACK_RETRY_MILLIS, this::drainIntake); // a slow peer: look again shortly
      }
    }
  }

  /** Hands up to {@code max} of the writers' changes to the core. */
  private void handOver(int max) {
    intake.drainTo(drained, Math.min(max, INTAKE_CAPACITY));
    // writers tick the clock under their key's lock and hand over after it, so neighbours can
    // arrive swapped; the core wants a node's own changes in clock order
    drained.sort(BY_CLOCK);
    for (Change change : drained) {
      core.publishLocal(change);
    }
    drained.clear();
  }

  @Override
  public CodecLimits limits() {
    return codec.limits();
  }

  /**
   * Tells the core, and returns once it knows: the application gets the cache only then. The
   * core counts this node's writes handed to it before as made to an earlier copy of the cache
   * (one closed here, whose writes the new copy must get back), and those after as made to the
   * new one. So every write still in the intake goes first, slow peer or not: left there, the
   * last writes to a closed copy counted as the new copy's, and it never got them.
   */
  @Override
  public void cacheCreated(String cacheName) {
    if (closed.get()) {
      return;
    }
    runOnLoopAndWait(() -> {
      if (!lastHandOver) {
        handOver(INTAKE_CAPACITY);
      }
      core.localCacheCreated(cacheName);
    }, "replication thread did not take in cache " + cacheName + " in time");
  }

  /**
   * Runs a task on the replication thread (at once if this is it) and waits for it, up to
   * {@value #CLOSE_FLUSH_MILLIS} ms; logs {@code failure} and why if it did not complete.
   */
  private void runOnLoopAndWait(Runnable task, String failure) {
    if (Thread.currentThread() == loopThread) {
      task.run();
      return;
    }
    try {
      loop.submit(task).get(CLOSE_FLUSH_MILLIS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
      LOG.warn("node {}: {}", nodeName, failure, e);
    }
  }

  // ------------------------------------------------------------ transport events (the I/O thread)

  @Override
  public void peerConnected(long peerId) {
    onLoop(() -> core.peerUp(peerId));
  }

  @Override
  public void frameReceived(long peerId, ByteBuffer payload) {
    int bytes = payload.remaining();
    Message message;
    try {
      message = codec.decode(payload);
    } catch (MalformedMessageException e) {
      // a peer that sends what this node cannot read is broken: its connection goes, and what
      // it carried is caught up as after any drop once the peer has redialed
      throw new FrameRejectedException("malformed message: " + e.getMessage());
    }
    // queued even though this is the core's thread: in order with the connection events, and
    // never run inside the core should one of its writes make the transport call back. Bounded:
    // past a few MiB read from a peer and not applied yet, its connection stops being read
    long pending = unappliedBytes.merge(peerId, (long) bytes, Long::sum);
    if (pending > MAX_UNAPPLIED_BYTES) {
      pausedPeers.add(peerId);
      transport.readFrom(peerId, false); // again on a new connection, should the peer have redialed
    }
    onLoop(() -> {
      try {
        core.onMessage(peerId, message);
      } finally {
        applied(peerId, bytes);
      }
    });
  }

  private void applied(long peerId, int bytes) {
    long left = unappliedBytes.merge(peerId, (long) -bytes, Long::sum);
    if (left == 0) {
      unappliedBytes.remove(peerId);
    }
    if (left <= MAX_UNAPPLIED_BYTES / 4 && pausedPeers.remove(peerId)) {
      transport.readFrom(peerId, true);
    }
  }

  @Override
  public void peerDisconnected(long peerId) {
    onLoop(() -> core.peerDown(peerId));
  }

  // ------------------------------------------------------------ membership events (Curator thread)

  @Override
  public void memberJoined(Member member) {
    // on the replication thread, like the forget it may cancel: a forget already running there
    // would otherwise drop the redial this join starts
    onLoop(() -> {
      ScheduledFuture<?> pending = pendingForgets.remove(member.nodeId());
      if (pending != null) {
        pending.cancel(false);
      }
      if (member.protocolVersion() != MessageCodec.PROTOCOL_VERSION) {
        LOG.warn("ignoring member {}: it speaks protocol {}, this node {}", member, member.protocolVersion(),
            MessageCodec.PROTOCOL_VERSION);
        return;
      }
      transport.connectTo(member.nodeId(), member.host(), member.port());
    });
    publishMembers();
  }

  /**
   * A member's registration disappeared. That is not proof it is gone: after a ZooKeeper outage
   * sessions expire and registrations are re-created moments later. So the connection is kept
   * for a grace period (the transport's heartbeats detect a peer that is really dead) and only
   * then forgotten, unless the member came back meanwhile.
   */
  @Override
  public void memberLeft(Member member) {
    long peerId = member.nodeId();
    onLoop(() -> {
      ScheduledFuture<?> forget = loop.schedule(() -> {
        pendingForgets.remove(peerId);
        transport.forget(peerId);
      }, FORGET_GRACE_MILLIS, TimeUnit.MILLISECONDS);
      ScheduledFuture<?> previous = pendingForgets.put(peerId, forget);
      if (previous != null) {
        previous.cancel(false);
      }
    });
    publishMembers();
  }

  @Override
  public void disconnected() {
    publishMembers();
  }

  @Override
  public void reconnected() {
    publishMembers();
  }

  /**
   * Tells the core who the members are, so that it can tell an origin gone for good (absent for
   * the tombstone grace) from one merely cut off; or that it cannot know while ZooKeeper is away.
   * The view is read on the loop, when the task runs: events arrive on two Curator threads, and
   * a view read when each arrived could reach the core out of order, leaving it a stale one.
   */
  private void publishMembers() {
    onLoop(() -> {
      Membership current = membership;
      if (current == null) {
        return; // still starting: the constructor publishes the first view
      }
      if (!current.isConnected()) {
        core.membersUnknown();
        return;
      }
      // a member that speaks another protocol can never send what it holds: not waited for
      Set<Long> members = new HashSet<>();
      for (Member member : current.members()) {
        if (member.protocolVersion() == MessageCodec.PROTOCOL_VERSION) {
          members.add(member.nodeId());
        }
      }
      core.membersAre(members);
    });
  }

  private boolean send(long peerId, Message message) {
    return transport.send(peerId, encode(message));
  }

  /**
   * Encodes a message on the loop. The stream hands every peer a batch of the very same changes,
   * so a batch equal element for element to the one just encoded reuses its bytes (the transport
   * copies them into each connection's buffer) instead of being encoded once per peer.
   */
  private byte[] encode(Message message) {
    if (!(message instanceof Message.ChangeBatch)) {
      return codec.encode(message);
    }
    List<Change> changes = ((Message.ChangeBatch) message).changes();
    if (lastBatchBytes != null && sameChanges(changes, lastBatch)) {
      return lastBatchBytes;
    }
    byte[] bytes = codec.encode(message);
    lastBatch = changes;
    lastBatchBytes = bytes;
    return bytes;
  }

  private static boolean sameChanges(List<Change> a, List<Change> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (a.get(i) != b.get(i)) {
        return false;
      }
    }
    return true;
  }

  private void scheduleOnLoop(long delayMillis, Runnable task) {
    try {
      loop.schedule(logFailure(task), delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // closing
    }
  }

  private void onLoop(Runnable task) {
    try {
      loop.execute(logFailure(task));
    } catch (RejectedExecutionException e) {
      // closing: late events from the network are dropped
    }
  }

  /** The task, with a failure logged rather than left to the executor, which would hide it. */
  private Runnable logFailure(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.error("replication task failed on node {}", nodeName, e);
      }
    };
  }

  /**
   * Asks the loop for a fresh snapshot of the core rather than having the loop publish one
   * periodically: it costs nothing while nobody monitors, and a reader sees the core as of now,
   * not as of the last period. A loop too busy to answer within {@value #STATUS_WAIT_MILLIS} ms
   * keeps the request; until it has run it, readers get the last snapshot at once instead of
   * waiting again (a monitoring tool reads many attributes in a row). Membership and transport
   * counters are thread-safe and read here.
   */
  @Override
  public ClusterStatus status() {
    if (Thread.currentThread() == loopThread) {
      lastReplicationStatus = core.status();
    } else if (!closed.get()) {
      awaitFreshReplicationStatus();
    }
    ReplicationStatus replication = lastReplicationStatus;
    SortedSet<Long> members = new TreeSet<>();
    members.add(nodeId);
    for (Member member : membership.members()) {
      members.add(member.nodeId());
    }
    TransportStats traffic = transport.stats();
    return new ClusterStatus(nodeId, clusterName, members, membership.isConnected(), replication,
        traffic.rejectedConnections(), traffic.bytesSent(), traffic.bytesReceived());
  }

  private void awaitFreshReplicationStatus() {
    Future<?> earlier = pendingStatus.get();
    if (earlier != null && !earlier.isDone()) {
      return; // the loop has not got to the previous request yet: the last snapshot
    }
    try {
      Future<?> request = loop.submit(() -> {
        lastReplicationStatus = core.status();
      });
      pendingStatus.set(request);
      request.get(STATUS_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (TimeoutException e) {
      LOG.debug("replication thread of node {} busy: status from its last snapshot", nodeName);
    } catch (ExecutionException | RejectedExecutionException e) {
      // closing: the last snapshot
    }
  }

  /**
   * Waits until every connected peer has acknowledged every change made here (asking each for its
   * digest every {@value #ACKNOWLEDGEMENT_RETRY_MILLIS} ms), or until the deadline passes.
   */
  private void flushPending() {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_FLUSH_MILLIS);
    long nextAsk = System.nanoTime();
    while (System.nanoTime() < deadline) {
      boolean ask = System.nanoTime() - nextAsk >= 0;
      if (ask) {
        nextAsk = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ACKNOWLEDGEMENT_RETRY_MILLIS);
      }
      boolean delivered;
      try {
        delivered = loop.submit(() -> {
          drainIntake();
          core.flush();
          boolean done = intake.isEmpty() && core.ownChangesDelivered();
          if (!done && ask) {
            core.requestAcknowledgements();
          }
          return done;
        }).get(CLOSE_FLUSH_MILLIS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
        LOG.warn("could not flush pending changes on close", e);
        return;
      }
      if (delivered) {
        return;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // a slow peer is still taking changes
    }
    LOG.warn("closing with changes not yet delivered to every peer");
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      // another thread is closing (the application, and the JVM's shutdown hook): return when
      // it is done, so that neither caller goes on as if the node had left while it has not
      closeDone.join();
      return;
    }
    try {
      flushPending();
      leaving = true;
      // a write that began before its cache closed and published after the flush ended
      runOnLoopAndWait(() -> {
        lastHandOver = true;
        int allowance = core.localChangeAllowance();
        if (allowance > 0) {
          handOver(allowance);
        }
        core.flush();
      }, "replication thread did not flush the last writes");
      lastHandOver = true; // also when that task did not run in time: writers see their change was not taken
      membership.close();
      runOnLoopAndWait(core::close, "replication core did not close cleanly");
      transport.close(); // flushes what was written, within its close timeout, and stops the loop
      LOG.info("node {} left the cluster", nodeName);
    } finally {
      closeDone.complete(null);
    }
  }
}
