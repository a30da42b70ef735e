package io.bcache.jcache.event;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.event.CacheEntryListenerException;

/**
 * Holds a cache's listener registrations and delivers entry events to them: synchronous
 * listeners before the operation returns, asynchronous ones in order on a shared executor.
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
   * Delivers {@code events}, in order, to every listener that wants them.
   *
   * @throws CacheEntryListenerException if a synchronous listener or filter failed; every
   *     other listener has still been given the events
   */
  public void dispatch(List<BCacheEntryEvent<K, V>> events) {
    if (events == null || events.isEmpty()) {
      return;
    }
    CacheEntryListenerException failure = null;
    for (ListenerRegistration<K, V> registration : registrations) {
      try {
        registration.deliver(events);
      } catch (CacheEntryListenerException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * Delivers the events of a change made on another node, in order, to every listener that
   * wants them, synchronous ones included, on each listener's queue: never on the calling
   * thread, and never throwing.
   */
  public void dispatchRemote(List<BCacheEntryEvent<K, V>> events) {
    for (ListenerRegistration<K, V> registration : registrations) {
      registration.deliverRemote(events);
    }
  }

  /** Waits for pending asynchronous deliveries, then closes every listener and filter. */
  public synchronized void close() {
    for (ListenerRegistration<K, V> registration : registrations) {
      registration.awaitQuiescence();
      registration.close();
    }
    registrations.clear();
    hasListeners = false;
  }
}
