package io.bcache.jcache.event;

/**
 * Marks the calling thread while it is inside a kind of scope where it must not wait for
 * listeners' deliveries, because they may be waiting for it. Scopes nest; one depth counter per
 * thread, reused, so marking allocates nothing.
 */
public final class ThreadMark {

  /**
   * The thread holds what a listener's delivery may wait for: a key's lock (a writer, loader,
   * processor or expiry policy runs under it) or a load other threads wait for. A cache closed
   * from there does not wait for its listeners' deliveries, and an operation made there does not
   * wait for a synchronous listener's earlier deliveries of its key.
   */
  public static final ThreadMark HELD_KEYS = new ThreadMark();

  /**
   * The thread runs a listener's delivery: an operation the listener makes does not wait for a
   * synchronous listener's earlier deliveries of its key, which may wait for this one to end.
   */
  static final ThreadMark DELIVERING = new ThreadMark();

  private final ThreadLocal<Scope> scopes = ThreadLocal.withInitial(Scope::new);

  private ThreadMark() {
  }

  /** Marks the calling thread until the returned scope is closed. */
  public Scope enter() {
    Scope scope = scopes.get();
    scope.depth++;
    return scope;
  }

  /** Whether the calling thread is inside such a scope. */
  public boolean isSet() {
    return scopes.get().depth > 0;
  }

  /** One thread's depth in a mark's scopes; closing it leaves the innermost. */
  public static final class Scope implements AutoCloseable {
    private int depth;

    private Scope() {
    }

    @Override
    public void close() {
      depth--;
    }
  }
}
