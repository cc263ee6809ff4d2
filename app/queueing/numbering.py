"""Ticket numbers, waiting counts and service times, per service and local day
(`daily_sequence`).

The next number comes from an upsert that increments and returns in one statement. It row-locks
the sequence until commit on PostgreSQL (SQLite has one writer anyway), and rolls back with the
ticket if issuing fails, so numbers are never skipped nor given twice.

The same row counts the service's waiting tickets: +1 when a ticket enters the queue (issue,
requeue, transfer in), -1 when it leaves it (called, cancelled). A new ticket's position is then
that count less the few tickets queued behind it (app/queueing/queries.py), whatever the length
of the queue. A day's count is no longer kept once the day has ended (expiry leaves it).

And it keeps the day's moving mean of service times in the service: each served leg moves it a
tenth of the way to its own service time (the first one sets it). The same statement returns
it, so a wait estimate costs no read of its own.
Lock order: a command takes this row before the clinic row (the event sequence), never after.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, case, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.models import DailySequence
from app.prepared import Prepared

_TABLE: Any = DailySequence.__table__  # type: ignore[attr-defined]

# How far one new service time moves the mean: about the last ten to twenty count.
MEAN_WEIGHT = 0.1


def _build_upsert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = ("service_id", "visit_date", "last_number", "waiting", "mean_service_seconds")
    statement = insert(_TABLE).values(
        {name: bindparam(name, type_=_TABLE.c[name].type) for name in columns}
    )
    excluded = statement.excluded
    mean = _TABLE.c.mean_service_seconds
    sample = excluded.mean_service_seconds
    return statement.on_conflict_do_update(
        index_elements=["service_id", "visit_date"],
        set_={
            "last_number": _TABLE.c.last_number + excluded.last_number,
            "waiting": _TABLE.c.waiting + excluded.waiting,
            "mean_service_seconds": case(
                (sample.is_(None), mean),
                else_=func.coalesce(mean + (sample - mean) * MEAN_WEIGHT, sample),
            ),
        },
    ).returning(_TABLE.c.last_number, _TABLE.c.waiting, mean)


# A new row starts at the deltas (a first ticket: number 1, one waiting).
_UPSERT = Prepared(_build_upsert)


@dataclass(frozen=True, slots=True)
class ServiceDay:
    """A service's day after a change: its last number, waiting count and mean service time."""

    last_number: int
    waiting: int
    mean_service_seconds: float | None


def _upsert(
    session: Session,
    service_id: int,
    visit_date: date,
    *,
    last_number: int = 0,
    waiting: int = 0,
    service_seconds: float | None = None,
) -> ServiceDay:
    number, count, mean = _UPSERT.one(
        session,
        {
            "service_id": service_id,
            "visit_date": visit_date,
            "last_number": last_number,
            "waiting": waiting,
            "mean_service_seconds": service_seconds,
        },
    )
    return ServiceDay(int(number), int(count), None if mean is None else float(mean))


def take_number(session: Session, *, service_id: int, visit_date: date) -> ServiceDay:
    """The next ticket number (`last_number`), with the waiting count counting that ticket."""
    return _upsert(session, service_id, visit_date, last_number=1, waiting=1)


def shift_waiting(
    session: Session,
    *,
    service_id: int,
    visit_date: date,
    by: int,
    service_seconds: float | None = None,
) -> ServiceDay:
    """A ticket entered (+1) or left (-1) the service's queue, and (`service_seconds`) a leg
    was served there in that time: the day after."""
    return _upsert(session, service_id, visit_date, waiting=by, service_seconds=service_seconds)


def ticket_code(prefix: str, number: int) -> str:
    """`A-012`: at least three digits, more when a day runs past 999."""
    return f"{prefix}-{number:03d}"
