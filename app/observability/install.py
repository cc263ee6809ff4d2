"""Wiring the metrics into an app: its registry, the request middleware, `/metrics`."""

from fastapi import FastAPI

from app.clock import Clock
from app.observability.http import RequestMetrics
from app.observability.metrics import Metrics
from app.observability.routes import router
from app.observability.waiting import WaitingTickets


def install_metrics(app: FastAPI, clock: Clock) -> Metrics:
    """Metrics for this app; the lifespan calls `app.state.metrics.watch(engine)`."""
    metrics = Metrics()
    metrics.add_scrape_time(WaitingTickets(lambda: getattr(app.state, "engine", None), clock))
    app.state.metrics = metrics
    app.add_middleware(RequestMetrics, histogram=metrics.requests)
    app.include_router(router)
    return metrics
