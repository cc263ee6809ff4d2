"""The metrics one app exposes, in a registry of its own (tests build many apps in a process)."""

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.registry import Collector

from app.after_commit import Consumer
from app.models import EventType
from app.observability import events, multiproc

FEEDS = ("display", "ticket")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._scrape_time: list[Collector] = []
        self.requests = Histogram(
            "antrean_http_request_duration_seconds",
            "HTTP requests: time from the request's start to its last response byte.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.issued = Counter(
            "antrean_tickets_issued",
            "Tickets issued (committed), by the channel they were taken through.",
            ["clinic_id", "channel"],
            registry=self.registry,
        )
        self.called = Counter(
            "antrean_tickets_called",
            "Tickets called to a counter (committed; recalls not included).",
            ["clinic_id"],
            registry=self.registry,
        )
        self.completed = Counter(
            "antrean_tickets_completed",
            "Tickets completed (committed).",
            ["clinic_id"],
            registry=self.registry,
        )
        self.after_commit_failures = Counter(
            "antrean_after_commit_failures",
            "Times an after-commit consumer (feeds, metrics) failed; the write stayed committed.",
            ["consumer"],
            registry=self.registry,
        )
        self.websockets = Gauge(
            "antrean_websockets_connected",
            "Open WebSocket feeds: display (TVs, staff consoles) and ticket (phones).",
            ["feed"],
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        for feed in FEEDS:
            self.websockets.labels(feed=feed)

    def add_scrape_time(self, collector: Collector) -> None:
        """A collector that reads its values when scraped (from the database, not this
        process), so it is the same in every process and also in multiprocess mode."""
        self.registry.register(collector)
        self._scrape_time.append(collector)

    def exposition(self) -> CollectorRegistry:
        """What `/metrics` shows: this registry, or with PROMETHEUS_MULTIPROC_DIR set, every
        worker's files summed plus the scrape-time collectors."""
        directory = multiproc.directory()
        if directory is None:
            return self.registry
        return multiproc.registry(directory, self._scrape_time)

    def consumer(self) -> Consumer:
        """The after-commit consumer that counts this app's committed ticket events."""
        return events.counting_consumer(self.count)

    def count(self, tally: Iterable[events.Tally]) -> None:
        for event_type, clinic_id, channel in tally:
            clinic = str(clinic_id)
            if event_type is EventType.issued:
                self.issued.labels(clinic_id=clinic, channel=channel or "unknown").inc()
            elif event_type is EventType.called:
                self.called.labels(clinic_id=clinic).inc()
            elif event_type is EventType.completed:
                self.completed.labels(clinic_id=clinic).inc()
