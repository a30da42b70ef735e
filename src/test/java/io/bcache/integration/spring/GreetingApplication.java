package io.bcache.integration.spring;

import org.springframework.boot.Banner;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.cache.autoconfigure.JCachePropertiesCustomizer;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * The test's Spring Boot application: caching enabled, Boot's auto-configuration creating the
 * JCache cache manager, the greeting bean and the customizer that passes the bcache.* properties.
 * (No component scan, so the other test classes of this package stay out of it.)
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@EnableCaching
public class GreetingApplication {

  /** The application's configuration file; a real application would use its own application.properties. */
  static final String CONFIG_LOCATION = "classpath:io/bcache/integration/spring/application.properties";

  @Bean
  GreetingService greetingService() {
    return new GreetingService();
  }

  @Bean
  JCachePropertiesCustomizer bcacheProperties(ConfigurableEnvironment environment) {
    return new BcachePropertiesCustomizer(environment);
  }

  /** Starts the application as its main method would, with {@code args} as the command line. */
  static ConfigurableApplicationContext run(String... args) {
    return builder().run(args);
  }

  static SpringApplicationBuilder builder() {
    return new SpringApplicationBuilder(GreetingApplication.class)
        .web(WebApplicationType.NONE)
        .bannerMode(Banner.Mode.OFF)
        .logStartupInfo(false)
        .registerShutdownHook(false) // the tests close every context themselves
        .properties("spring.config.location=" + CONFIG_LOCATION);
  }
}
