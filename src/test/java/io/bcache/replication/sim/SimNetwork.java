package io.bcache.replication.sim;

import io.bcache.replication.CodecLimits;
import io.bcache.replication.MalformedMessageException;
import io.bcache.replication.Message;
import io.bcache.replication.MessageCodec;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The simulated network between nodes: one link per ordered pair, each bounded in flight. A link
 * delivers after a random delay, in order (FIFO, like TCP) or not, and while faults are on it may
 * drop or duplicate messages. Every message is encoded and decoded through {@link MessageCodec},
 * so the codec is exercised on real traffic and no object is shared between nodes.
 */
final class SimNetwork {

  private final EventLoop loop;
  private final SplittableRandom random;
  private final MessageCodec codec = new MessageCodec(CodecLimits.DEFAULT);
  private final Map<Long, Link> links = new HashMap<>();
  final boolean fifo;
  final int linkCapacity;
  final long minDelay;
  final long maxDelay;
  double dropRate;
  double duplicateRate;
  long messagesSent;
  long bytesSent;
  long refused;

  /** Where messages arrive. */
  interface Receiver {
    /** The time until which a node is paused (its deliveries wait), or 0. */
    long pausedUntil(int node);

    void deliver(int from, int to, Message message);
  }

  private Receiver receiver;

  SimNetwork(EventLoop loop, SplittableRandom random, boolean fifo, int linkCapacity,
      long minDelay, long maxDelay) {
    this.loop = loop;
    this.random = random;
    this.fifo = fifo;
    this.linkCapacity = linkCapacity;
    this.minDelay = minDelay;
    this.maxDelay = maxDelay;
  }

  void setReceiver(Receiver receiver) {
    this.receiver = receiver;
  }

  private static final class Link {
    boolean up;
    long epoch;
    int inFlight;
    long lastDelivery;
  }

  private Link link(int from, int to) {
    return links.computeIfAbsent(((long) from << 32) | to, k -> new Link());
  }

  /** Brings the link from->to up or down; messages in flight on a link that goes down are lost. */
  void setUp(int from, int to, boolean up) {
    Link link = link(from, to);
    if (link.up != up) {
      link.up = up;
      link.epoch++;
    }
  }

  int inFlight(int from, int to) {
    return link(from, to).inFlight;
  }

  boolean send(int from, int to, Message message) {
    Link link = link(from, to);
    if (!link.up || link.inFlight >= linkCapacity) {
      refused++;
      return false;
    }
    byte[] frame = codec.encode(message);
    messagesSent++;
    bytesSent += frame.length;
    if (random.nextDouble() < dropRate) {
      return true;
    }
    int copies = random.nextDouble() < duplicateRate && link.inFlight + 1 < linkCapacity ? 2 : 1;
    for (int i = 0; i < copies; i++) {
      long delay = minDelay + random.nextLong(maxDelay - minDelay + 1);
      long at = loop.now() + delay;
      if (fifo) {
        at = Math.max(at, link.lastDelivery);
        link.lastDelivery = at;
      }
      link.inFlight++;
      loop.at(at, new Delivery(link, link.epoch, from, to, frame));
    }
    return true;
  }

  private final class Delivery implements Runnable {
    private final Link link;
    private final long epoch;
    private final int from;
    private final int to;
    private final byte[] frame;

    Delivery(Link link, long epoch, int from, int to, byte[] frame) {
      this.link = link;
      this.epoch = epoch;
      this.from = from;
      this.to = to;
      this.frame = frame;
    }

    @Override
    public void run() {
      if (link.epoch != epoch) {
        link.inFlight--;
        return;
      }
      long pausedUntil = receiver.pausedUntil(to);
      if (pausedUntil > loop.now()) {
        loop.at(pausedUntil, this); // a paused process reads nothing; its socket buffer fills
        return;
      }
      link.inFlight--;
      Message decoded;
      try {
        decoded = codec.decode(frame);
      } catch (MalformedMessageException e) {
        throw new AssertionError("codec failed on its own frame: " + e.getMessage(), e);
      }
      receiver.deliver(from, to, decoded);
    }
  }
}
