package io.bcache.integration.spring;

import java.util.Properties;
import org.springframework.boot.cache.autoconfigure.JCachePropertiesCustomizer;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;

/**
 * Hands every {@code bcache.*} property of the Spring {@code Environment} (application.properties
 * or .yaml, profiles, command-line arguments, system properties) to the bcache cache manager
 * that Spring Boot creates. This is user code, shown in docs/spring-boot.md: bcache itself does
 * not depend on Spring.
 */
public class BcachePropertiesCustomizer implements JCachePropertiesCustomizer {

  private final ConfigurableEnvironment environment;

  public BcachePropertiesCustomizer(ConfigurableEnvironment environment) {
    this.environment = environment;
  }

  @Override
  public void customize(Properties properties) {
    for (PropertySource<?> source : environment.getPropertySources()) {
      if (source instanceof EnumerablePropertySource<?> enumerable) {
        for (String name : enumerable.getPropertyNames()) {
          if (name.startsWith("bcache.")) {
            // ask the Environment, not the source: the highest-precedence value, placeholders resolved
            properties.setProperty(name, environment.getProperty(name, ""));
          }
        }
      }
    }
  }
}
