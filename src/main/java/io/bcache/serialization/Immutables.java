package io.bcache.serialization;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.util.Set;
import java.util.UUID;

/**
 * Types whose instances cannot change after construction. Store-by-value can keep such values
 * as they are, because nobody can alter the cached copy through a reference to it.
 */
public final class Immutables {

  private static final Set<Class<?>> TYPES = Set.of(
      String.class, Boolean.class, Character.class, Byte.class, Short.class, Integer.class,
      Long.class, Float.class, Double.class, BigInteger.class, BigDecimal.class, UUID.class,
      URI.class, Instant.class, Duration.class, LocalDate.class, LocalTime.class,
      LocalDateTime.class, OffsetDateTime.class, ZonedDateTime.class, Class.class);

  private Immutables() {
  }

  /** Whether {@code value} is of a known immutable type (exact class, or an enum). */
  public static boolean isImmutable(Object value) {
    Class<?> type = value.getClass();
    return TYPES.contains(type) || type.isEnum();
  }
}
