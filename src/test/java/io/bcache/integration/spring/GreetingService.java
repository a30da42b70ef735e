package io.bcache.integration.spring;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.cache.annotation.CacheEvict;
import org.springframework.cache.annotation.CachePut;
import org.springframework.cache.annotation.Cacheable;

/**
 * A bean with Spring's caching annotations that counts how often its methods really run: a
 * call served from the cache leaves the count unchanged.
 */
public class GreetingService {

  private static final Map<String, String> NICKNAMES = Map.of("ada", "Countess");

  private final AtomicInteger calls = new AtomicInteger();

  /** One parameter: Spring uses the name itself as the key. */
  @Cacheable("greetings")
  public Greeting greet(String name) {
    calls.incrementAndGet();
    return new Greeting(name, "Hello, " + name);
  }

  /** Two parameters: Spring's key is a {@code SimpleKey(name, language)}. */
  @Cacheable("greetings")
  public Greeting greetIn(String name, String language) {
    calls.incrementAndGet();
    return new Greeting(name, language + ": hello, " + name);
  }

  /**
   * Always runs and replaces the cached greeting of {@code name}. The key names the parameter by
   * position: {@code #name} would need the {@code -parameters} compiler flag, which this build
   * does not set (spring-boot-starter-parent does).
   */
  @CachePut(cacheNames = "greetings", key = "#p0")
  public Greeting change(String name, String text) {
    calls.incrementAndGet();
    return new Greeting(name, text);
  }

  @CacheEvict("greetings")
  public void forget(String name) {
  }

  @CacheEvict(cacheNames = "greetings", allEntries = true)
  public void forgetEveryone() {
  }

  /** {@code null} for an unknown name; Spring caches that as its {@code NullValue}. */
  @Cacheable("nicknames")
  public String nickname(String name) {
    calls.incrementAndGet();
    return NICKNAMES.get(name);
  }

  /** How many times a method of this bean really ran. */
  public int calls() {
    return calls.get();
  }
}
