"""Ticket numbers and waiting counts, per service and local day (`daily_sequence`).

The next number comes from an upsert that increments and returns in one statement. It row-locks
the sequence until commit on PostgreSQL (SQLite has one writer anyway), and rolls back with the
ticket if issuing fails, so numbers are never skipped nor given twice.

The same row counts the service's waiting tickets: +1 when a ticket enters the queue (issue,
requeue, transfer in), -1 when it leaves it (called, cancelled). A new ticket's position is then
that count less the few tickets queued behind it (app/queueing/queries.py), whatever the length
of the queue. A day's count is no longer kept once the day has ended (expiry leaves it).
Lock order: a command takes this row before the clinic row (the event sequence), never after.
"""

from datetime import date
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.models import DailySequence
from app.prepared import Prepared

_TABLE: Any = DailySequence.__table__  # type: ignore[attr-defined]


def _build_upsert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_TABLE).values(
        service_id=bindparam("service_id", type_=_TABLE.c.service_id.type),
        visit_date=bindparam("visit_date", type_=_TABLE.c.visit_date.type),
        last_number=bindparam("last_number", type_=_TABLE.c.last_number.type),
        waiting=bindparam("waiting", type_=_TABLE.c.waiting.type),
    )
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["service_id", "visit_date"],
        set_={
            "last_number": _TABLE.c.last_number + excluded.last_number,
            "waiting": _TABLE.c.waiting + excluded.waiting,
        },
    ).returning(_TABLE.c.last_number, _TABLE.c.waiting)


# A new row starts at the deltas (a first ticket: number 1, one waiting).
_UPSERT = Prepared(_build_upsert)


def _upsert(
    session: Session, service_id: int, visit_date: date, *, last_number: int = 0, waiting: int = 0
) -> tuple[int, int]:
    number, count = _UPSERT.one(
        session,
        {
            "service_id": service_id,
            "visit_date": visit_date,
            "last_number": last_number,
            "waiting": waiting,
        },
    )
    return int(number), int(count)


def take_number(session: Session, *, service_id: int, visit_date: date) -> tuple[int, int]:
    """The next ticket number, and how many wait in the service counting that ticket."""
    return _upsert(session, service_id, visit_date, last_number=1, waiting=1)


def shift_waiting(session: Session, *, service_id: int, visit_date: date, by: int) -> int:
    """A ticket entered (+1) or left (-1) the service's queue: the count after."""
    return _upsert(session, service_id, visit_date, waiting=by)[1]


def ticket_code(prefix: str, number: int) -> str:
    """`A-012`: at least three digits, more when a day runs past 999."""
    return f"{prefix}-{number:03d}"
