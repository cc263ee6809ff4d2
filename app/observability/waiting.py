"""`antrean_waiting_tickets`: who waits now, per clinic and service, read when scraped.

One grouped query for every clinic; each clinic's "today" is its own local date, so rows are
grouped by visit date and kept in Python when the date is that clinic's today. Visit dates
outside one day either side of the UTC date are no clinic's today and are not read.
"""

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, func, select
from sqlmodel import col

from app.clock import Clock
from app.db import open_session
from app.models import Clinic, Service, Ticket, TicketStatus
from app.queueing.localday import local_date

log = logging.getLogger(__name__)

NAME = "antrean_waiting_tickets"
HELP = "Tickets waiting now (today, clinic's local date), per clinic and service."


class WaitingTickets(Collector):
    def __init__(self, engine: Callable[[], Engine | None], clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def describe(self) -> Iterator[Metric]:
        # Declared without reading the database (registering must not need one).
        yield GaugeMetricFamily(NAME, HELP, labels=["clinic_id", "service_id"])

    def collect(self) -> Iterator[Metric]:
        engine = self._engine()
        if engine is None:  # not started yet
            return
        try:
            counts = waiting_now(engine, self._clock)
        except Exception:  # the other metrics still answer while the database is away
            log.exception("could not read the waiting tickets for /metrics")
            return
        family = GaugeMetricFamily(NAME, HELP, labels=["clinic_id", "service_id"])
        for (clinic_id, service_id), waiting in sorted(counts.items()):
            family.add_metric([str(clinic_id), str(service_id)], waiting)
        yield family


def waiting_now(engine: Engine, clock: Clock) -> dict[tuple[int, int], int]:
    """(clinic id, service id) -> tickets waiting today; every service, zeros included."""
    now = clock()
    utc_today = now.astimezone(UTC).date()
    statement = (
        select(
            col(Service.clinic_id),
            col(Clinic.timezone),
            col(Service.id),
            col(Ticket.visit_date),
            func.count(col(Ticket.id)),
        )
        .join(Clinic, col(Clinic.id) == col(Service.clinic_id))
        .outerjoin(
            Ticket,
            and_(
                col(Ticket.service_id) == col(Service.id),
                col(Ticket.status) == TicketStatus.waiting,
                col(Ticket.visit_date) >= utc_today - timedelta(days=1),
                col(Ticket.visit_date) <= utc_today + timedelta(days=1),
            ),
        )
        .group_by(
            col(Service.clinic_id), col(Clinic.timezone), col(Service.id), col(Ticket.visit_date)
        )
    )
    counts: dict[tuple[int, int], int] = {}
    with open_session(engine, write=False) as session:
        rows = session.execute(statement).all()
    for clinic_id, timezone, service_id, visit_date, waiting in rows:
        if service_id is None:
            continue
        key = (clinic_id, service_id)
        counts.setdefault(key, 0)
        if visit_date is not None and visit_date == local_date(now, timezone):
            counts[key] += waiting
    return counts
