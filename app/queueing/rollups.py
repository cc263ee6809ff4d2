"""Leg rollups kept in step with the legs, and rebuilt from them.

Every leg adds its share to one rollup row: the row of its local day, hour, service and the
counter of its latest call. When an event changes a leg, the leg's share before and after the
event are compared and only the difference is written, in the event's own transaction. That is
one upsert for most events; a first call moves the leg from the "no counter" row to its
counter's row (two). Only a leg called again at another counter takes back a wait already
written (a read and a write of one row). These writes follow the clinic row's lock
(app/queueing/events.py), so two transactions never change one clinic's rollups at once.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import LargeBinary, Table, bindparam, cast, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import TableClause
from sqlmodel import Session, col

from app.models.leg import SERVED_OUTCOMES, LegOutcome, TicketLeg
from app.models.rollup import NO_COUNTER, LegRollup, pack_waits, unpack_waits
from app.prepared import Prepared

log = logging.getLogger("antrean")

Key = tuple[date, int, int, int, int]  # visit_date, clinic_id, hour, service_id, counter_id
KEY_COLUMNS = ("visit_date", "clinic_id", "hour", "service_id", "counter_id")
COUNT_COLUMNS = (
    "issued",
    "served",
    "no_show",
    "cancelled",
    "timed_services",
    "service_seconds",
    "targeted",
    "within_target",
)
Counts = tuple[float, ...]  # in COUNT_COLUMNS order


class LegFigures(Protocol):
    """What a share is made of: a TicketLeg, or a row selecting these columns of one."""

    visit_date: date
    clinic_id: int
    entered_hour: int
    service_id: int
    counter_id: int | None
    outcome: LegOutcome | None
    wait_seconds: float | None
    service_seconds: float | None
    target_wait_minutes: int | None


@dataclass(frozen=True)
class Share:
    """What one leg adds to its rollup row."""

    key: Key
    counts: Counts
    wait: float | None


def share_of(leg: LegFigures) -> Share:
    wait, target = leg.wait_seconds, leg.target_wait_minutes
    served = leg.outcome in SERVED_OUTCOMES
    service = leg.service_seconds if served else None
    counts = (
        1,
        int(served),
        int(leg.outcome is LegOutcome.no_show),
        int(leg.outcome is LegOutcome.cancelled),
        int(service is not None),
        service or 0.0,
        int(wait is not None and target is not None),
        int(wait is not None and target is not None and wait <= target * 60),
    )
    counter = leg.counter_id if leg.counter_id is not None else NO_COUNTER
    key = (leg.visit_date, leg.clinic_id, leg.entered_hour, leg.service_id, counter)
    return Share(key, counts, wait)


def _negated(counts: Counts) -> Counts:
    return tuple(-value for value in counts)


def shift(session: Session, before: Share | None, after: Share) -> None:
    """Write the change of one leg's share (`before` is None for a leg that just began)."""
    if before == after:
        return
    if before is None:
        _add(session, (after.key, after.counts, [] if after.wait is None else [after.wait]))
        return
    if before.key != after.key or (before.wait is not None and before.wait != after.wait):
        moved = (after.key, after.counts, [] if after.wait is None else [after.wait])
        if before.wait is None:  # a first call: nothing to take out of the packed waits
            _add(session, (before.key, _negated(before.counts), []), moved)
        else:
            _take_back(session, before)
            _add(session, moved)
        return
    difference = tuple(a - b for a, b in zip(after.counts, before.counts, strict=True))
    added = [after.wait] if before.wait is None and after.wait is not None else []
    _add(session, (after.key, difference, added))


def _values(key: Key, counts: Counts, waits: list[float]) -> dict[str, Any]:
    """A rollup row's columns."""
    return {
        **dict(zip(KEY_COLUMNS, key, strict=True)),
        **dict(zip(COUNT_COLUMNS, counts, strict=True)),
        "waits": pack_waits(waits),
    }


def _add(session: Session, *changes: tuple[Key, Counts, list[float]]) -> None:
    """One upsert statement: to each row its counts added, its waits appended (rows of
    distinct keys, so one statement never changes a row twice)."""
    rows = [_values(*change) for change in changes]
    if len(rows) == 1:
        _UPSERT.run(session, rows[0])
    else:
        _UPSERT.run_many(session, rows)


def _build_upsert(dialect: str) -> Any:
    table = LegRollup.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    names = (*KEY_COLUMNS, *COUNT_COLUMNS, "waits")
    statement = insert(table).values(
        {name: bindparam(name, type_=table.c[name].type) for name in names}
    )
    excluded = statement.excluded
    changes: dict[str, Any] = {name: table.c[name] + excluded[name] for name in COUNT_COLUMNS}
    # CAST: SQLite's || makes text of two blobs; PostgreSQL joins bytea as they are.
    changes["waits"] = cast(table.c.waits.concat(excluded.waits), LargeBinary)
    return statement.on_conflict_do_update(index_elements=list(KEY_COLUMNS), set_=changes)


_UPSERT = Prepared(_build_upsert)  # runs with every event


def _take_back(session: Session, share: Share) -> None:
    """Remove a leg's whole share from its row, its wait included (read, then write)."""
    table = LegRollup.__table__  # type: ignore[attr-defined]
    where = [table.c[name] == value for name, value in zip(KEY_COLUMNS, share.key, strict=True)]
    row = session.execute(select(table).where(*where).with_for_update(key_share=True)).first()
    waits = [] if row is None else list(unpack_waits(row.waits))
    if row is None or (share.wait is not None and share.wait not in waits):
        # Reports out of step with the legs must not stop a queue: say so, and go on.
        log.error("leg rollup %s lacks a leg's share; run rebuild_rollups", share.key)
        return
    values: dict[str, Any] = {
        name: getattr(row, name) - value
        for name, value in zip(COUNT_COLUMNS, share.counts, strict=True)
    }
    if share.wait is not None:
        waits.remove(share.wait)
        values["waits"] = pack_waits(waits)
    session.execute(update(table).where(*where).values(values))


@dataclass
class _Totals:
    counts: list[float]
    waits: list[float]


def derive_rollups(legs: Iterable[LegFigures]) -> dict[Key, tuple[Counts, list[float]]]:
    """The rollup rows that a set of legs makes (waits sorted)."""
    totals: dict[Key, _Totals] = {}
    for leg in legs:
        share = share_of(leg)
        found = totals.get(share.key)
        if found is None:
            found = totals[share.key] = _Totals([0] * len(COUNT_COLUMNS), [])
        found.counts = [a + b for a, b in zip(found.counts, share.counts, strict=True)]
        if share.wait is not None:
            found.waits.append(share.wait)
    return {key: (tuple(t.counts), sorted(t.waits)) for key, t in totals.items()}


LEG_FIGURE_COLUMNS: Sequence[Any] = (
    col(TicketLeg.visit_date),
    col(TicketLeg.clinic_id),
    col(TicketLeg.entered_hour),
    col(TicketLeg.service_id),
    col(TicketLeg.counter_id),
    col(TicketLeg.outcome),
    col(TicketLeg.wait_seconds),
    col(TicketLeg.service_seconds),
    col(TicketLeg.target_wait_minutes),
)


def rebuild_rollups(session: Session, into: Table | TableClause | None = None) -> int:
    """Replace every rollup row with what the legs give, one visit date at a time (so memory
    stays that of a day). Returns the number of rows written.

    `into` is the table as a migration knows it (its own columns, not today's model's).
    Writers must wait meanwhile: on PostgreSQL the legs are locked against changes until the
    transaction ends; SQLite runs one writer at a time anyway."""
    table = LegRollup.__table__ if into is None else into  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE ticket_leg IN SHARE MODE"))
    session.execute(delete(table))
    days = session.execute(
        select(col(TicketLeg.visit_date)).distinct().order_by(col(TicketLeg.visit_date))
    ).scalars()
    written = 0
    for day in list(days):
        legs = session.execute(
            select(*LEG_FIGURE_COLUMNS).where(col(TicketLeg.visit_date) == day)
        ).all()
        rows = [
            _values(key, counts, waits) for key, (counts, waits) in derive_rollups(legs).items()
        ]
        if rows:
            session.execute(table.insert(), rows)
        written += len(rows)
    return written
