package io.bcache.integration.hibernate;

import jakarta.persistence.Embeddable;
import java.io.Serializable;

/** A user embeddable inside {@link Author}. */
@Embeddable
public class Address implements Serializable {

  private static final long serialVersionUID = 1L;

  private String street;
  private String city;

  protected Address() {
  }

  public Address(String street, String city) {
    this.street = street;
    this.city = city;
  }

  public String getStreet() {
    return street;
  }

  public String getCity() {
    return city;
  }
}
