"""Simulated days written into a database in bulk, as the service would have written them.

`load_days(engine, clinics, days)` replays the days (app/sim/replay.py), writes tickets,
events and legs in one transaction, and leaves what the service keeps beside them right:
each service-day's `daily_sequence` row (last number, waiting count, mean service time) and
each clinic's `event_seq`, so the next live ticket takes the next number and its event the
next seq; the leg rollups gain every loaded leg's share through the write path's own
`write_shifts`. Ids continue from what the database holds, so loading into a database in use
by earlier loads (or live tickets) adds to it; the same days loaded twice are there twice (a
caller that loads on every start looks first). Nobody else may write meanwhile (the demo loads
before it serves; on PostgreSQL the tables are locked against other writers for the load).

Values are bound by each column's own type for the dialect (UTCDateTime, StrEnumType, dates),
exactly as the ORM binds them, then written with `executemany` (SQLite) or `COPY`
(PostgreSQL, foreign keys not checked row by row when the role may skip them).
"""

import operator
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from app.db import WRITE_OPTION, make_engine
from app.models import Clinic, DailySequence, Service, Ticket, TicketEvent, TicketLeg
from app.queueing.rollups import share_of, write_shifts
from app.sim.record import Day, SimClinic
from app.sim.replay import Ids, Rows, ServiceDay, replay

_BULK = (Ticket, TicketEvent, TicketLeg)


@dataclass(frozen=True)
class Loaded:
    tickets: int
    events: int
    legs: int


def _columns(model: Any) -> list[str]:
    return [column.name for column in model.__table__.columns]


class Loader:
    """Bulk writes into one database, inside one write transaction (`commit` starts the
    next one)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.postgres = self.dialect.name == "postgresql"
        # A connection of its own: on SQLite foreign keys are switched off for the load (rows
        # are right by construction; checking eight references per event took about 30% of
        # the inserts' time), which can only be done outside a transaction.
        self.connection = engine.connect()
        if not self.postgres:
            self._driver().execute("PRAGMA foreign_keys=OFF")
        self.session = Session(
            bind=self.connection.execution_options(**{WRITE_OPTION: True}),
            expire_on_commit=False,
        )
        self._converters = {model: self._processors(model) for model in _BULK}
        # Values converted so far, by the kind of column (see `bound`).
        self._known: dict[Hashable, dict[Any, Any]] = {}
        self._begin()

    def _begin(self) -> None:
        self.session.connection()  # BEGIN (IMMEDIATE, on SQLite)
        self.raw = self._driver()
        if not self.postgres:
            return
        with self.raw.cursor() as cursor:
            # Ids are taken from the tables' maxima: no other writer may take one meanwhile.
            cursor.execute("LOCK TABLE ticket, ticket_event, ticket_leg IN EXCLUSIVE MODE")
            cursor.execute("SELECT current_setting('is_superuser')")
            if cursor.fetchone()[0] == "on":
                # Foreign keys are right by construction; checking each row (RI triggers)
                # would take most of the time of a large load.
                cursor.execute("SET LOCAL session_replication_role = replica")

    def _processors(self, model: Any) -> list[tuple[int, Hashable, Callable[[Any], Any]]]:
        """Each column's bind processor for this dialect, as the ORM applies it, with what
        tells the columns that convert alike (one kind of type, one enum)."""
        found: list[tuple[int, Hashable, Callable[[Any], Any]]] = []
        for index, column in enumerate(model.__table__.columns):
            kind = column.type.dialect_impl(self.dialect)
            processor = kind.bind_processor(self.dialect)
            if processor is not None:
                found.append((index, (type(kind), getattr(kind, "enum_class", None)), processor))
        return found

    def ids(self, clinic_ids: Sequence[int], dates: Iterable[date]) -> Ids:
        """Where numbering continues: the last ids, the clinics' seqs, and the rows of their
        services on these dates."""
        session = self.session
        ids = Ids()
        ids.ticket, ids.event, ids.leg = (
            session.execute(select(func.max(model.id))).scalar() or 0 for model in _BULK
        )
        clinics = session.execute(
            select(col(Clinic.id), col(Clinic.event_seq)).where(col(Clinic.id).in_(clinic_ids))
        )
        ids.seq = {row[0]: row[1] for row in clinics}
        wanted = sorted(set(dates))
        if wanted:
            rows = session.execute(
                select(DailySequence)
                .join(Service, col(Service.id) == col(DailySequence.service_id))
                .where(
                    col(Service.clinic_id).in_(clinic_ids),
                    col(DailySequence.visit_date).in_(wanted),
                )
            ).scalars()
            for row in rows:
                ids.days[(row.service_id, row.visit_date)] = ServiceDay(
                    row.last_number, row.waiting, row.mean_service_seconds, row.first_call_at
                )
        return ids

    def bound(self, model: Any, objects: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The objects' rows, each value through its column's processor. Column by column,
        and each distinct value once (an event's time is its ticket's and its leg's times
        too; an enum or a date is shared by thousands of rows): the rest is lookups in C."""
        columns: list[Iterable[Any]] = [
            map(operator.attrgetter(name), objects) for name in _columns(model)
        ]
        for index, kind, convert in self._converters[model]:
            values = list(columns[index])
            known = self._known.setdefault(kind, {})
            for value in set(values).difference(known):
                known[value] = convert(value)
            columns[index] = map(known.__getitem__, values)
        return list(zip(*columns, strict=True))

    def write(self, rows: Rows) -> None:
        """Tickets, events and legs, then the legs' shares of the rollups."""
        # Events bound first: their times are the tickets' and the legs' times.
        events = self.bound(TicketEvent, rows.events)
        tickets = self.bound(Ticket, rows.tickets)
        legs = self.bound(TicketLeg, rows.legs)
        self._known.clear()
        batches: tuple[tuple[Any, list[tuple[Any, ...]]], ...] = (
            (Ticket, tickets),
            (TicketEvent, events),
            (TicketLeg, legs),
        )
        for model, bound in batches:
            self._insert(model.__tablename__, _columns(model), bound)
        write_shifts(self.session, [(None, share_of(leg)) for leg in rows.legs])

    def _insert(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgres:
            with self.raw.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            return
        marks = ", ".join("?" for _ in columns)
        self.raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def commit(self) -> None:
        self.session.commit()
        self._begin()

    def finish(self, ids: Ids) -> None:
        """The service-days' rows and the clinics' seqs as the replay left them, the id
        sequences past the rows written (PostgreSQL); then commit."""
        session = self.session
        insert = postgresql.insert if self.postgres else sqlite.insert
        table: Any = DailySequence.__table__  # type: ignore[attr-defined]
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=["service_id", "visit_date"],
            set_={
                name: statement.excluded[name]
                for name in ("last_number", "waiting", "mean_service_seconds", "first_call_at")
            },
        )
        values = [
            {
                "service_id": service_id,
                "visit_date": visit_date,
                "last_number": day.last_number,
                "waiting": day.waiting,
                "mean_service_seconds": day.mean_service_seconds,
                "first_call_at": day.first_call_at,
            }
            for (service_id, visit_date), day in sorted(ids.days.items())
        ]
        if values:
            session.execute(statement, values)
        for clinic_id, seq in sorted(ids.seq.items()):
            session.execute(update(Clinic).where(col(Clinic.id) == clinic_id).values(event_seq=seq))
        if self.postgres:
            for model in _BULK:
                name = model.__tablename__
                with self.raw.cursor() as cursor:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id)) "
                        f"FROM {name} HAVING max(id) IS NOT NULL"
                    )
        session.commit()

    def _driver(self) -> Any:
        return self.connection.connection.dbapi_connection

    def close(self) -> None:
        try:
            self.session.close()
            if not self.postgres and not self.connection.invalidated:
                self._driver().execute("PRAGMA foreign_keys=ON")
        finally:
            self.connection.close()


def load_days(
    engine_or_url: Engine | str, clinics: Sequence[SimClinic], days: Iterable[Day]
) -> Loaded:
    """Write these simulated clinic-days of `clinics` (built with their real ids, see
    app/sim/seed.py) into the database, in one transaction."""
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    days = list(days)
    dates = {ticket.visit_date for day in days for ticket in day.tickets}
    clinic_ids = {clinic.id for clinic in clinics}
    clinic_ids.update(ticket.clinic_id for day in days for ticket in day.tickets)
    loader = Loader(engine)
    try:
        ids = loader.ids(sorted(clinic_ids), dates)
        rows = replay(days, ids)
        loader.write(rows)
        loader.finish(ids)
    finally:
        loader.close()
        if isinstance(engine_or_url, str):
            engine.dispose()
    return Loaded(len(rows.tickets), len(rows.events), len(rows.legs))
