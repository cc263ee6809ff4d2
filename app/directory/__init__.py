"""Configuration of clinics: clinics, services, counters, devices and accounts."""
