"""The national morning (`python -m bench.load`): a country's directory seeded straight into
PostgreSQL, kiosks and counters at fixed rates, displays for a sample of clinics."""
