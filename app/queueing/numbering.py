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
tenth of the way to its own service time (the first one sets it); and the wait estimator's pace
(app/queueing/estimate.py): at each call, the interval since the previous call when someone
waited all along moves the mean interval between calls, and the call is remembered (epoch
seconds, so both databases do the arithmetic alike). The same statement returns it all, so a
wait estimate costs no read of its own.
Lock order: a command takes this row before the clinic row (the event sequence), never after.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Float, and_, bindparam, case, func, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.models import DailySequence
from app.prepared import Prepared
from app.queueing.estimate import (
    GAP_WEIGHT,
    JOIN_WEIGHT,
    PRIORITY_PRIOR,
    PRIORITY_WEIGHT,
    Pace,
)

_TABLE: Any = DailySequence.__table__  # type: ignore[attr-defined]

# How far one new service time moves the mean: about the last ten to twenty count.
MEAN_WEIGHT = 0.1


# Columns a change writes as given when it creates the day's row.
_INSERTED = (
    "service_id",
    "visit_date",
    "last_number",
    "waiting",
    "mean_service_seconds",
    "last_call_at",
    "first_call_at",
    "last_join_at",
    "priority_share",
)
_PACE = (
    "gap_seconds",
    "gaps",
    "busy_since",
    "last_call_at",
    "join_gap_seconds",
    "priority_share",
    "last_join_at",
)


def _moved(mean: Any, sample: Any, weight: float) -> Any:
    """A moving mean moved by a sample (set by it when there was none)."""
    return func.coalesce(mean + (sample - mean) * weight, sample)


def _build_upsert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values: dict[str, Any] = {
        name: bindparam(name, type_=_TABLE.c[name].type) for name in _INSERTED
    }
    values["gaps"] = literal_column("0")  # a new row has seen no interval yet
    statement = insert(_TABLE).values(values)
    new, t = statement.excluded, _TABLE.c
    mean, sample = t.mean_service_seconds, new.mean_service_seconds
    call = new.last_call_at  # this change is a call of the service, at that moment
    join = new.last_join_at  # this change is a ticket joining the queue, at that moment
    # Someone waited from the previous call to this one: the interval is the service's pace.
    timed = and_(call.is_not(None), t.busy_since.is_not(None))
    joins = and_(join.is_not(None), t.last_join_at.is_not(None))
    share = func.coalesce(t.priority_share, PRIORITY_PRIOR)
    priority = bindparam("priority_join", type_=Float())
    return statement.on_conflict_do_update(
        index_elements=["service_id", "visit_date"],
        set_={
            "last_number": t.last_number + new.last_number,
            "waiting": t.waiting + new.waiting,
            "mean_service_seconds": case(
                (sample.is_(None), mean), else_=_moved(mean, sample, MEAN_WEIGHT)
            ),
            "gap_seconds": case(
                (timed, _moved(t.gap_seconds, call - t.busy_since, GAP_WEIGHT)),
                else_=t.gap_seconds,
            ),
            "gaps": t.gaps + case((timed, 1), else_=0),
            "busy_since": case(
                (t.waiting + new.waiting <= 0, None),
                (call.is_not(None), call),
                else_=t.busy_since,
            ),
            "last_call_at": func.coalesce(call, t.last_call_at),
            "first_call_at": func.coalesce(t.first_call_at, call),
            "join_gap_seconds": case(
                (joins, _moved(t.join_gap_seconds, join - t.last_join_at, JOIN_WEIGHT)),
                else_=t.join_gap_seconds,
            ),
            "priority_share": case(
                (join.is_not(None), share + (priority - share) * PRIORITY_WEIGHT),
                else_=t.priority_share,
            ),
            "last_join_at": func.coalesce(join, t.last_join_at),
        },
    ).returning(t.last_number, t.waiting, mean, *(t[name] for name in _PACE))


# A new row starts at the deltas (a first ticket: number 1, one waiting).
_UPSERT = Prepared(_build_upsert)


@dataclass(slots=True)  # not frozen: cheaper to build on the write path; never changed
class ServiceDay:
    """A service's day after a change: its last number, waiting count, mean service time and
    the estimator's pace (app/queueing/estimate.py)."""

    last_number: int
    waiting: int
    mean_service_seconds: float | None
    gap_seconds: float | None = None
    gaps: int = 0
    busy_since: float | None = None
    last_call_at: float | None = None
    join_gap_seconds: float | None = None
    priority_share: float | None = None
    last_join_at: float | None = None

    @property
    def pace(self) -> Pace:
        return Pace(
            gap_seconds=self.gap_seconds,
            gaps=self.gaps,
            busy_since=self.busy_since,
            last_call_at=self.last_call_at,
            service_seconds=self.mean_service_seconds,
            join_gap_seconds=self.join_gap_seconds,
            priority_share=self.priority_share,
            last_join_at=self.last_join_at,
        )


@dataclass(frozen=True, slots=True)
class Join:
    """A ticket joining the service's queue: when (epoch seconds), and whether a priority one."""

    at: float
    priority: bool


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _upsert(
    session: Session,
    service_id: int,
    visit_date: date,
    *,
    last_number: int = 0,
    waiting: int = 0,
    service_seconds: float | None = None,
    call_at: float | None = None,
    join: Join | None = None,
) -> ServiceDay:
    first_share = None
    if join is not None:  # a new row's share: the prior moved by this join (`joined`)
        first_share = PRIORITY_PRIOR + (join.priority - PRIORITY_PRIOR) * PRIORITY_WEIGHT
    number, count, mean, gap, gaps, busy, last_call, join_gap, share, last_join = _UPSERT.one(
        session,
        {
            "service_id": service_id,
            "visit_date": visit_date,
            "last_number": last_number,
            "waiting": waiting,
            "mean_service_seconds": service_seconds,
            "last_call_at": call_at,
            "first_call_at": call_at,
            "last_join_at": None if join is None else join.at,
            "priority_share": first_share,
            "priority_join": float(join is not None and join.priority),
        },
    )
    return ServiceDay(
        int(number),
        int(count),
        _float(mean),
        _float(gap),
        int(gaps or 0),
        _float(busy),
        _float(last_call),
        _float(join_gap),
        _float(share),
        _float(last_join),
    )


def take_number(
    session: Session, *, service_id: int, visit_date: date, join: Join | None = None
) -> ServiceDay:
    """The next ticket number (`last_number`), with the waiting count counting that ticket
    (and the estimator's pace, that ticket's `join`)."""
    return _upsert(session, service_id, visit_date, last_number=1, waiting=1, join=join)


def shift_waiting(
    session: Session,
    *,
    service_id: int,
    visit_date: date,
    by: int,
    service_seconds: float | None = None,
    call_at: float | None = None,
    join: Join | None = None,
) -> ServiceDay:
    """A ticket entered (+1, `join`) or left (-1) the service's queue, (`service_seconds`) a
    leg was served there in that time, (`call_at`, epoch seconds) the service called: the day
    after."""
    return _upsert(
        session,
        service_id,
        visit_date,
        waiting=by,
        service_seconds=service_seconds,
        call_at=call_at,
        join=join,
    )


def ticket_code(prefix: str, number: int) -> str:
    """`A-012`: at least three digits, more when a day runs past 999."""
    return f"{prefix}-{number:03d}"
