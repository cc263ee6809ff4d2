"""Observability: Prometheus metrics at `/metrics` and one-line JSON logs.

See docs/observability.md for the metrics, their labels and the log format.
"""
