package io.bcache.transport;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** Remembers everything a transport told its listener, for tests to wait on. */
class RecordingListener implements TransportListener {

  /** A frame this listener refuses, as a listener refuses a message it cannot decode. */
  static final byte[] REFUSED = "refuse me".getBytes(StandardCharsets.US_ASCII);

  private final List<String> events = new CopyOnWriteArrayList<>();
  private final Map<Long, List<byte[]>> frames = new ConcurrentHashMap<>();

  @Override
  public void peerConnected(long peerId) {
    events.add("connected " + peerId);
  }

  @Override
  public void frameReceived(long peerId, ByteBuffer payload) {
    byte[] copy = new byte[payload.remaining()];
    payload.get(copy);
    if (Arrays.equals(copy, REFUSED)) {
      throw new FrameRejectedException("a refused frame");
    }
    frames.computeIfAbsent(peerId, id -> Collections.synchronizedList(new ArrayList<>())).add(copy);
  }

  @Override
  public void peerDisconnected(long peerId) {
    events.add("disconnected " + peerId);
  }

  List<String> events() {
    return List.copyOf(events);
  }

  long connects(long peerId) {
    return events.stream().filter(("connected " + peerId)::equals).count();
  }

  long disconnects(long peerId) {
    return events.stream().filter(("disconnected " + peerId)::equals).count();
  }

  List<byte[]> framesFrom(long peerId) {
    List<byte[]> received = frames.get(peerId);
    if (received == null) {
      return List.of();
    }
    synchronized (received) {
      return new ArrayList<>(received);
    }
  }

  int frameCount(long peerId) {
    List<byte[]> received = frames.get(peerId);
    return received == null ? 0 : received.size();
  }
}
