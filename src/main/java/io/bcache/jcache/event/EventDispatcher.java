package io.bcache.jcache.event;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.event.CacheEntryListenerException;

/**
 * Holds a cache's listener registrations and delivers entry events to them: synchronous
 * listeners before the operation returns, asynchronous ones later on a shared executor, each
 * listener the events of one key in the order their operations took effect.
 */
public final class EventDispatcher<K, V> {

  private final CopyOnWriteArrayList<ListenerRegistration<K, V>> registrations = new CopyOnWriteArrayList<>();
  private final Executor asyncExecutor;
  private volatile boolean hasListeners;

  public EventDispatcher(Executor asyncExecutor) {
    this.asyncExecutor = asyncExecutor;
  }

  /** Whether any listener is registered; operations skip building events when none is. */
  public boolean hasListeners() {
    return hasListeners;
  }

  /**
   * Registers a listener.
   *
   * @throws IllegalArgumentException if an equal configuration is already registered
   */
  public synchronized void register(CacheEntryListenerConfiguration<K, V> configuration) {
    for (ListenerRegistration<K, V> registration : registrations) {
      if (registration.configuration().equals(configuration)) {
        throw new IllegalArgumentException("listener configuration already registered: " + configuration);
      }
    }
    registrations.add(new ListenerRegistration<>(configuration, asyncExecutor));
    hasListeners = true;
  }

  /** Removes a listener; returns whether it was registered. */
  public synchronized boolean deregister(CacheEntryListenerConfiguration<K, V> configuration) {
    for (ListenerRegistration<K, V> registration : registrations) {
      if (registration.configuration().equals(configuration)) {
        registrations.remove(registration);
        registration.close();
        hasListeners = !registrations.isEmpty();
        return true;
      }
    }
    return false;
  }

  /**
   * Takes an operation's place in every listener's queue for its key ({@code storedKey}, the
   * store's form of it). Called while the operation holds the key's lock, so that the events of one key reach each listener in the order the operations
   * took effect; the places must then be given to {@link #dispatch} or {@link #dispatchRemote},
   * even with no events, or every later delivery waits for them.
   *
   * @return the places, or {@code null} if no listener is registered
   */
  public Places reserve(Object storedKey) {
    if (!hasListeners) {
      return null;
    }
    Object[] listeners = registrations.toArray();
    KeyQueue.Place[] places = new KeyQueue.Place[listeners.length];
    for (int i = 0; i < listeners.length; i++) {
      places[i] = ((ListenerRegistration<?, ?>) listeners[i]).take(storedKey);
    }
    return new Places(listeners, places);
  }

  /**
   * Delivers the events of an operation made on this node ({@code null} or empty: none) to the
   * places it took ({@code null}: none): synchronous listeners before this returns.
   *
   * @throws CacheEntryListenerException if a synchronous listener or filter failed; every
   *     other listener has still been given the events
   */
  public void dispatch(Places reserved, List<BCacheEntryEvent<K, V>> events) {
    if (reserved == null) {
      return;
    }
    // every place is filled before a synchronous listener runs: one that closes the cache waits
    // for the other listeners' queues, where an unfilled place of this operation would stall it
    int count = reserved.places.length;
    boolean[] awaited = new boolean[count];
    for (int i = 0; i < count; i++) {
      awaited[i] = registration(reserved.listeners, i).fill(reserved.places[i], events);
    }
    Throwable failure = null;
    for (int i = 0; i < count; i++) {
      if (!awaited[i]) {
        continue;
      }
      try {
        registration(reserved.listeners, i).await(reserved.places[i]);
      } catch (RuntimeException | Error e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure instanceof Error error) {
      throw error;
    }
    if (failure != null) {
      throw (RuntimeException) failure;
    }
  }

  /**
   * Delivers the events of a change made on another node to the places it took, synchronous
   * listeners included, on each listener's queue: never on the calling thread, and never
   * throwing.
   */
  public void dispatchRemote(Places reserved, List<BCacheEntryEvent<K, V>> events) {
    if (reserved == null) {
      return;
    }
    for (int i = 0; i < reserved.places.length; i++) {
      registration(reserved.listeners, i).deliverRemote(reserved.places[i], events);
    }
  }

  @SuppressWarnings("unchecked")
  private ListenerRegistration<K, V> registration(Object[] listeners, int i) {
    return (ListenerRegistration<K, V>) listeners[i];
  }

  /** The places one operation took in the listeners' queues, for its events. */
  public static final class Places {
    private final Object[] listeners;
    private final KeyQueue.Place[] places;

    private Places(Object[] listeners, KeyQueue.Place[] places) {
      this.listeners = listeners;
      this.places = places;
    }
  }

  /** Waits for pending asynchronous deliveries, then closes every listener and filter. */
  public void close() {
    List<ListenerRegistration<K, V>> closing;
    synchronized (this) {
      closing = List.copyOf(registrations);
      registrations.clear();
      hasListeners = false;
    }
    // not under this monitor: a listener that deregisters itself meanwhile would wait for it
    for (ListenerRegistration<K, V> registration : closing) {
      registration.awaitQuiescence();
      registration.close();
    }
  }
}
