"""Antrean: a queuing service for Indonesian puskesmas."""
