"""The ticket log: every leg of every ticket with its times, streamed as CSV.

Rows are read with a server-side cursor (PostgreSQL) or SQLite's lazy cursor, a batch at a
time, and written out as they come: a year's log never sits in memory.
"""

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Engine, select
from sqlmodel import col

from app.db import open_session
from app.models import Clinic, Counter, Service, Ticket
from app.models.leg import TicketLeg
from app.queueing.localday import to_local
from app.reports.figures import minutes
from app.reports.query import ReportQuery, covered_by

COLUMNS = (
    "ticket_id",
    "clinic_id",
    "clinic_name",
    "visit_date",
    "code",
    "priority",
    "channel",
    "leg",
    "service_id",
    "service_name",
    "entered_at",
    "called_at",
    "started_at",
    "ended_at",
    "outcome",
    "counter_id",
    "counter_name",
    "recalls",
    "wait_min",
    "service_min",
    "estimate_at_issue_min",
    "entered_at_utc",
    "called_at_utc",
    "started_at_utc",
    "ended_at_utc",
)
BATCH = 2000


def _times(moment: datetime | None, timezone: str) -> tuple[str, str]:
    if moment is None:
        return "", ""
    local = to_local(moment, timezone)
    assert local is not None
    utc = moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    return local.isoformat(timespec="seconds"), utc


def ticket_log_csv(engine: Engine, query: ReportQuery) -> Iterator[str]:
    """The CSV text, a batch of rows at a time."""
    leg = TicketLeg
    with open_session(engine, write=False) as session:
        clinics: dict[int, tuple[str, str]] = {
            id_: (name, tz)
            for id_, name, tz in session.execute(
                select(col(Clinic.id), col(Clinic.name), col(Clinic.timezone))
            )
        }
        services: dict[int, str] = dict(
            session.execute(select(col(Service.id), col(Service.name))).all()
        )
        counters: dict[int, str] = dict(
            session.execute(select(col(Counter.id), col(Counter.name))).all()
        )
        statement = (
            select(
                col(leg.ticket_id),
                col(leg.clinic_id),
                col(leg.visit_date),
                col(Ticket.code),
                col(Ticket.priority),
                col(Ticket.channel),
                col(leg.leg),
                col(leg.service_id),
                col(leg.entered_at),
                col(leg.first_called_at),
                col(leg.started_at),
                col(leg.ended_at),
                col(leg.outcome),
                col(leg.counter_id),
                col(leg.recalls),
                col(leg.wait_seconds),
                col(leg.service_seconds),
                col(Ticket.estimate_at_issue_min),
            )
            .join(Ticket, col(Ticket.id) == col(leg.ticket_id))
            .where(*covered_by(query, leg))
            .order_by(col(leg.visit_date), col(leg.clinic_id), col(leg.ticket_id), col(leg.leg))
            .execution_options(yield_per=BATCH)
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for count, row in enumerate(session.execute(statement), start=1):
            (
                ticket_id,
                clinic_id,
                visit_date,
                code,
                priority,
                channel,
                number,
                service_id,
                entered,
                called,
                started,
                ended,
                outcome,
                counter_id,
                recalls,
                wait,
                service,
                estimate,
            ) = row
            clinic_name, tz = clinics[clinic_id]
            times = [_times(moment, tz) for moment in (entered, called, started, ended)]
            writer.writerow(
                (
                    ticket_id,
                    clinic_id,
                    clinic_name,
                    visit_date.isoformat(),
                    code,
                    priority.value,
                    channel.value,
                    number,
                    service_id,
                    services.get(service_id),
                    *(local for local, _ in times),
                    outcome.value if outcome else "",
                    counter_id if counter_id is not None else "",
                    counters.get(counter_id, "") if counter_id is not None else "",
                    recalls,
                    _blank(minutes(wait)),
                    _blank(minutes(service)),
                    _blank(estimate if number == 1 else None),
                    *(utc for _, utc in times),
                )
            )
            if count % BATCH == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()


def _blank(value: object) -> object:
    return "" if value is None else value
