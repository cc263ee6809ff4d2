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

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.models import DailySequence

_TABLE: Any = DailySequence.__table__  # type: ignore[attr-defined]


def _upsert(session: Session, service_id: int, visit_date: date, **deltas: int) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"last_number": 0, "waiting": 0, **deltas}
    statement = (
        insert(_TABLE)
        .values(service_id=service_id, visit_date=visit_date, **values)
        .on_conflict_do_update(
            index_elements=["service_id", "visit_date"],
            set_={name: _TABLE.c[name] + delta for name, delta in deltas.items()},
        )
        .returning(_TABLE.c.last_number, _TABLE.c.waiting)
    )
    return session.execute(statement).one()


def take_number(session: Session, *, service_id: int, visit_date: date) -> tuple[int, int]:
    """The next ticket number, and how many wait in the service counting that ticket."""
    number, waiting = _upsert(session, service_id, visit_date, last_number=1, waiting=1)
    return int(number), int(waiting)


def next_number(session: Session, *, service_id: int, visit_date: date) -> int:
    return take_number(session, service_id=service_id, visit_date=visit_date)[0]


def shift_waiting(session: Session, *, service_id: int, visit_date: date, by: int) -> int:
    """A ticket entered (+1) or left (-1) the service's queue: the count after."""
    _, waiting = _upsert(session, service_id, visit_date, waiting=by)
    return int(waiting)


def ticket_code(prefix: str, number: int) -> str:
    """`A-012`: at least three digits, more when a day runs past 999."""
    return f"{prefix}-{number:03d}"
