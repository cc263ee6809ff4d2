"""Tickets and their current legs as the write path reads and writes them: plain rows through
statements prepared once (app/prepared.py), not ORM instances.

A ticket is read together with its current leg (one statement), changed in Python by the
rules, and written back with one UPDATE of its changing columns (and one of its leg's). The
models in app/models stay the schema: every statement here is built from their tables.
Locking clauses render only on PostgreSQL; SQLite runs one writing transaction at a time.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select, union_all, update
from sqlmodel import Session

from app.models import Channel, Priority, Ticket, TicketStatus
from app.models.leg import LegOutcome, TicketLeg
from app.models.ticket import OPEN_STATUSES
from app.prepared import Prepared, RowInsert

_TICKET: Any = Ticket.__table__  # type: ignore[attr-defined]
_LEG: Any = TicketLeg.__table__  # type: ignore[attr-defined]


@dataclass(slots=True)
class LegRow:
    """A ticket's stay in one service (the columns of `ticket_leg`)."""

    ticket_id: int
    leg: int
    clinic_id: int
    service_id: int
    visit_date: date
    entered_hour: int
    entered_at: datetime
    target_wait_minutes: int | None
    first_called_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: LegOutcome | None = None
    counter_id: int | None = None
    recalls: int = 0
    wait_seconds: float | None = None
    service_seconds: float | None = None
    id: int | None = None


@dataclass(slots=True)
class TicketRow:
    """One ticket (the columns of `ticket`), with its current leg when read."""

    clinic_id: int
    service_id: int
    origin_service_id: int
    visit_date: date
    number: int
    code: str
    status: TicketStatus
    priority: Priority
    channel: Channel
    issued_at: datetime
    entered_at: datetime
    queue_key: datetime
    token_digest: str
    counter_id: int | None = None
    leg: int = 1
    recall_count: int = 0
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    estimate_at_issue_min: int | None = None
    id: int | None = None
    current_leg: LegRow | None = field(default=None, compare=False)

    @property
    def ticket_id(self) -> int:
        assert self.id is not None
        return self.id


_TICKET_NAMES = tuple(column.name for column in _TICKET.columns)
_LEG_NAMES = tuple(column.name for column in _LEG.columns)


def _ticket_from(row: Sequence[Any]) -> TicketRow:
    ticket = TicketRow(**dict(zip(_TICKET_NAMES, row[: len(_TICKET_NAMES)], strict=True)))
    leg_values = row[len(_TICKET_NAMES) :]
    if leg_values[0] is not None:
        ticket.current_leg = LegRow(**dict(zip(_LEG_NAMES, leg_values, strict=True)))
    return ticket


def _with_leg() -> Select[Any]:
    joined = _TICKET.outerjoin(
        _LEG, and_(_LEG.c.ticket_id == _TICKET.c.id, _LEG.c.leg == _TICKET.c.leg)
    )
    return select(_TICKET, _LEG).select_from(joined)


def _locked(statement: Select[Any], *, skip_locked: bool = False) -> Select[Any]:
    # FOR NO KEY UPDATE: rows referencing the ticket (events, legs) take KEY SHARE on it, which
    # a plain FOR UPDATE would block. Only the ticket is locked; its leg is written after.
    return statement.with_for_update(key_share=True, skip_locked=skip_locked, of=_TICKET)


_BY_ID = Prepared(lambda _d: _locked(_with_leg().where(_TICKET.c.id == bindparam("id"))))
_BY_ID_UNLOCKED = Prepared(lambda _d: _with_leg().where(_TICKET.c.id == bindparam("id")))
_HELD_BY_COUNTER = Prepared(
    lambda _d: _locked(
        _with_leg().where(
            _TICKET.c.counter_id == bindparam("counter_id"),
            or_(_TICKET.c.status == TicketStatus.called, _TICKET.c.status == TicketStatus.serving),
        )
    )
)
_STALE = Prepared(
    lambda _d: _locked(
        _with_leg()
        .where(
            _TICKET.c.clinic_id == bindparam("clinic_id"),
            or_(*(_TICKET.c.status == status for status in OPEN_STATUSES)),
            _TICKET.c.visit_date < bindparam("today"),
        )
        .order_by(_TICKET.c.id)
    )
)


def _waiting_in(service_param: str) -> Any:
    return and_(
        _TICKET.c.service_id == bindparam(service_param),
        _TICKET.c.visit_date == bindparam("visit_date"),
        _TICKET.c.status == TicketStatus.waiting,
    )


# The first waiting ticket of one service in call order that no other transaction holds.
_FIRST_FREE = Prepared(
    lambda _d: _locked(
        _with_leg()
        .where(_waiting_in("service_id"))
        .order_by(_TICKET.c.queue_key, _TICKET.c.id)
        .limit(1),
        skip_locked=True,
    )
)


def _heads(count: int) -> Prepared:
    """Each of `count` services' first waiting ticket (id, queue_key, service_id): one ordered
    index probe per service, whatever the length of the queues."""

    def build(_dialect: str) -> Any:
        arms = [
            select(
                select(_TICKET.c.id, _TICKET.c.queue_key, _TICKET.c.service_id)
                .where(_waiting_in(f"s{index}"))
                .order_by(_TICKET.c.queue_key, _TICKET.c.id)
                .limit(1)
                .subquery()
            )
            for index in range(count)
        ]
        return arms[0] if count == 1 else union_all(*arms)

    return Prepared(build)


_HEADS: dict[int, Prepared] = {}

_TICKET_CHANGES = (
    "status",
    "counter_id",
    "service_id",
    "leg",
    "recall_count",
    "entered_at",
    "queue_key",
    "called_at",
    "started_at",
    "finished_at",
)
_LEG_CHANGES = (
    "counter_id",
    "recalls",
    "first_called_at",
    "wait_seconds",
    "started_at",
    "ended_at",
    "outcome",
    "service_seconds",
)


def _update(table: Any, names: tuple[str, ...]) -> Prepared:
    return Prepared(
        lambda _d: (
            update(table)
            .where(table.c.id == bindparam("row_id", type_=table.c.id.type))
            .values({name: bindparam(name, type_=table.c[name].type) for name in names})
        )
    )


_TICKET_UPDATE = _update(_TICKET, _TICKET_CHANGES)
_LEG_UPDATE = _update(_LEG, _LEG_CHANGES)
TICKET_INSERT = RowInsert(Ticket)
LEG_INSERT = RowInsert(TicketLeg)


def ticket_by_id(session: Session, ticket_id: int, *, lock: bool) -> TicketRow | None:
    """The ticket with its current leg; `lock` holds it until commit (PostgreSQL)."""
    found = (_BY_ID if lock else _BY_ID_UNLOCKED).first(session, {"id": ticket_id})
    return None if found is None else _ticket_from(found)


def held_by_counter(session: Session, counter_id: int) -> TicketRow | None:
    """The ticket the counter holds (called or serving), locked."""
    found = _HELD_BY_COUNTER.first(session, {"counter_id": counter_id})
    return None if found is None else _ticket_from(found)


def first_free_waiting(session: Session, service_id: int, visit_date: date) -> TicketRow | None:
    """The service's first waiting ticket in call order that no other transaction holds
    (SKIP LOCKED), locked."""
    found = _FIRST_FREE.first(session, {"service_id": service_id, "visit_date": visit_date})
    return None if found is None else _ticket_from(found)


def open_before(session: Session, clinic_id: int, today: date) -> list[TicketRow]:
    """The clinic's tickets still open from a day before `today`, locked, in id order."""
    rows = _STALE.run(session, {"clinic_id": clinic_id, "today": today})
    return [_ticket_from(row) for row in rows]


def queue_heads(
    session: Session, service_ids: Sequence[int], visit_date: date
) -> list[tuple[int, datetime, int]]:
    """(ticket id, queue key, service id) of each service's first waiting ticket, in call
    order, locks ignored."""
    prepared = _HEADS.get(len(service_ids))
    if prepared is None:
        prepared = _HEADS[len(service_ids)] = _heads(len(service_ids))
    values: dict[str, Any] = {f"s{index}": sid for index, sid in enumerate(service_ids)}
    values["visit_date"] = visit_date
    rows = prepared.run(session, values)
    return sorted(((int(r[0]), r[1], int(r[2])) for r in rows), key=lambda r: (r[1], r[0]))


def save_tickets(session: Session, *tickets: TicketRow) -> None:
    """Write the tickets' changing columns (one statement for all of them)."""
    _TICKET_UPDATE.run_many(
        session,
        [{"row_id": t.id, **{name: getattr(t, name) for name in _TICKET_CHANGES}} for t in tickets],
    )


def save_legs(session: Session, legs: Sequence[LegRow]) -> None:
    """Write the legs' changing columns (one statement for all of them)."""
    _LEG_UPDATE.run_many(
        session,
        [{"row_id": leg.id, **{name: getattr(leg, name) for name in _LEG_CHANGES}} for leg in legs],
    )
