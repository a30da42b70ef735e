package io.bcache.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The property tables users read list exactly the properties the code knows, with its defaults. */
class ConfigurationReferenceTest {

  @ParameterizedTest
  @ValueSource(strings = {"docs/configuration.md", "README.md"})
  void tableListsEveryPropertyWithTheDefaultOfTheCode(String document) throws IOException {
    Map<String, String> documented = propertyTable(Path.of(document));

    assertThat(documented.keySet()).as("properties in %s", document)
        .containsExactlyInAnyOrderElementsOf(
            Arrays.stream(BCacheProperty.values()).map(BCacheProperty::key).collect(Collectors.toList()));
    for (BCacheProperty property : BCacheProperty.values()) {
      String cell = documented.get(property.key());
      if (property.defaultValue().isPresent()) {
        assertThat(cell).as("default of %s in %s", property.key(), document)
            .isEqualTo("`" + property.defaultValue().get() + "`");
      } else {
        assertThat(cell).as("default of %s in %s (the code has none)", property.key(), document)
            .doesNotStartWith("`");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"bcache.maxEntries", "bcache.cache.orders.maxEntries",
      "bcache.cache.org.example.Order.maxEntries", "bcache.secret"})
  void everyDocumentedPropertyIsKnownToTheCode(String name) {
    assertThat(BCacheProperty.of(name)).isPresent();
  }

  @ParameterizedTest
  @ValueSource(strings = {"bcache.maxentries", "bcache.cache..maxEntries", "bcache.cache.orders.max", "bcache.tls"})
  void otherNamesAreNotProperties(String name) {
    assertThat(BCacheProperty.of(name)).isEmpty();
  }

  /** Property name to its default cell, from the rows of a markdown table whose first cell is a property. */
  private static Map<String, String> propertyTable(Path document) throws IOException {
    Map<String, String> table = new LinkedHashMap<>();
    int defaultColumn = -1;
    for (String line : Files.readAllLines(document)) {
      if (!line.startsWith("|")) {
        defaultColumn = -1;
        continue;
      }
      String[] cells = Arrays.stream(line.split("\\|", -1)).map(String::trim).toArray(String[]::new);
      int header = Arrays.asList(cells).indexOf("default");
      if (cells.length > 1 && cells[1].equals("property") && header > 0) {
        defaultColumn = header;
      } else if (defaultColumn > 0 && cells[1].startsWith("`bcache.")) {
        table.put(cells[1].substring(1, cells[1].indexOf('`', 1)), cells[defaultColumn]);
      }
    }
    assertThat(table).as("property table in %s", document).isNotEmpty();
    return table;
  }
}
