package io.bcache.jcache.event;

/**
 * Marks the calling thread while it holds what a listener's delivery may wait for: a key's lock
 * (a writer, loader, processor or expiry policy runs under it) or a load others wait for. A
 * cache closed from there does not wait for its listeners' deliveries, which may be blocked on
 * that very key. One object per thread, reused, so marking allocates nothing.
 */
public final class HeldKeys implements AutoCloseable {

  private static final ThreadLocal<HeldKeys> OF_THREAD = ThreadLocal.withInitial(HeldKeys::new);

  private int depth;

  private HeldKeys() {
  }

  /** Marks the calling thread until the returned mark is closed; marks nest. */
  public static HeldKeys hold() {
    HeldKeys held = OF_THREAD.get();
    held.depth++;
    return held;
  }

  /** Whether the calling thread holds a key's lock or a load in flight. */
  public static boolean byCurrentThread() {
    return OF_THREAD.get().depth > 0;
  }

  @Override
  public void close() {
    depth--;
  }
}
