"""Leg rollups kept in step with the legs, and rebuilt from them.

Every leg adds its share to one rollup row: the row of its local day, hour, service and the
counter of its latest call. When an event changes a leg, the leg's share before and after the
event are noted; when the transaction ends, the notes are summed per row and only the sums are
written, in the same transaction: one upsert statement for every row that gains (a batch of
tickets issued in one service and hour is one row), and a read and a write for a row that loses
a wait already written (a leg called again at another counter, rare).
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


@dataclass
class _Delta:
    """What a transaction changes in one rollup row."""

    counts: list[float]
    added: list[float]
    removed: list[float]


def sum_shifts(shifts: Iterable[tuple[Share | None, Share]]) -> dict[Key, _Delta]:
    """Per rollup row, the sum of the changes of leg shares (each leg's share before an event
    taken out, its share after put in); a wait taken out and put back in one row cancels."""
    deltas: dict[Key, _Delta] = {}

    def put(share: Share, sign: int) -> None:
        delta = deltas.get(share.key)
        if delta is None:
            delta = deltas[share.key] = _Delta([0] * len(COUNT_COLUMNS), [], [])
        delta.counts = [a + sign * b for a, b in zip(delta.counts, share.counts, strict=True)]
        if share.wait is None:
            return
        if sign > 0:
            if share.wait in delta.removed:
                delta.removed.remove(share.wait)
            else:
                delta.added.append(share.wait)
        elif share.wait in delta.added:
            delta.added.remove(share.wait)
        else:
            delta.removed.append(share.wait)

    for before, after in shifts:
        if before == after:
            continue
        if before is not None:
            put(before, -1)
        put(after, +1)
    return deltas


def write_shifts(session: Session, shifts: Sequence[tuple[Share | None, Share]]) -> None:
    """Write what a transaction's events changed in the rollups: one upsert statement adds
    to every row its counts and new waits (rows in key order, so transactions lock them in one
    order); a row that loses a wait (a leg called again at another counter) is read and
    rewritten."""
    deltas = sum_shifts(shifts)
    added = []
    taken_back = []
    for key in sorted(deltas):
        delta = deltas[key]
        if delta.removed:
            taken_back.append((key, delta))
        elif delta.added or any(delta.counts):
            added.append(_values(key, tuple(delta.counts), delta.added))
    _UPSERT.run_many(session, added)
    for key, delta in taken_back:
        _add_and_take_back(session, key, delta)


def _values(key: Key, counts: Counts, waits: list[float]) -> dict[str, Any]:
    """A rollup row's columns."""
    return {
        **dict(zip(KEY_COLUMNS, key, strict=True)),
        **dict(zip(COUNT_COLUMNS, counts, strict=True)),
        "waits": pack_waits(waits),
    }


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


_UPSERT = Prepared(_build_upsert)  # runs with every batch of events


def _add_and_take_back(session: Session, key: Key, delta: _Delta) -> None:
    """Change one row by `delta`, taking its removed waits out of the packed waits (a read
    and a write of the row)."""
    table = LegRollup.__table__  # type: ignore[attr-defined]
    where = [table.c[name] == value for name, value in zip(KEY_COLUMNS, key, strict=True)]
    row = session.execute(select(table).where(*where).with_for_update(key_share=True)).first()
    waits = [] if row is None else list(unpack_waits(row.waits))
    missing = [wait for wait in delta.removed if wait not in waits]
    if row is None or missing:
        # Reports out of step with the legs must not stop a queue: say so, and go on.
        log.error("leg rollup %s lacks a leg's share; run rebuild_rollups", key)
        return
    for wait in delta.removed:
        waits.remove(wait)
    values: dict[str, Any] = {
        name: getattr(row, name) + value
        for name, value in zip(COUNT_COLUMNS, delta.counts, strict=True)
    }
    values["waits"] = pack_waits(waits + delta.added)
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
