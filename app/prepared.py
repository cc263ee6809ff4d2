"""Statements of the write path, compiled once per database kind and run on the driver.

SQLAlchemy builds each statement from the models (they stay the schema's one source of truth)
and compiles it once. A run then costs the driver's `execute` and little else: none of the
per-execution work of the ORM's unit of work and of Core (cache keys, execution contexts,
result objects), which the profile of ticket issue showed at about four fifths of the writer's
time, against a sixth in SQLite itself. Values go through the column types' own bind
processors, so a row stored here is the row the ORM would store. A run joins the session's
transaction (and savepoint) on its connection; the driver keeps the statement prepared
(sqlite3's statement cache, psycopg's prepared statements).

Returned columns are given as the driver returns them: use RETURNING for integers only.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlmodel import Session, SQLModel

Row = tuple[Any, ...]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]
    positional: bool
    literals: dict[str, Any]  # values written into the statement (the 1 of `seq + 1`)

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        bound = {**self.literals, **values}
        for name, process in self.processors:
            bound[name] = process(bound[name])
        if self.positional:
            return [bound[name] for name in self.names]
        return bound


class Prepared:
    """One statement, built by `build(dialect_name)` the first time it runs on a database kind
    (an upsert is written differently for SQLite and PostgreSQL)."""

    def __init__(self, build: Callable[[str], ClauseElement]) -> None:
        self._build = build
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled: Any = self._build(dialect.name).compile(dialect=dialect)
            binds = compiled.binds
            names = tuple(compiled.positiontup or ()) if dialect.positional else tuple(binds)
            processors = []
            for name in dict.fromkeys(names):
                process = binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    processors.append((name, process))
            literals = {
                name: bind.effective_value
                for name, bind in binds.items()
                if not bind.required and bind.value is not None
            }
            found = _Compiled(
                compiled.string, names, tuple(processors), dialect.positional, literals
            )
            self._compiled[dialect.name] = found
        return found

    def run(self, session: Session, values: Mapping[str, Any]) -> list[Row]:
        """Execute with one set of values; the rows it returns (RETURNING), if any.

        Like the ORM's autoflush, the session's pending changes are written first, so this
        statement sees them and the order of writes (and of row locks) stays the code's."""
        session.flush()
        connection = session.connection()
        compiled = self._for(connection.dialect)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, compiled.parameters(values))
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def one(self, session: Session, values: Mapping[str, Any]) -> Row:
        rows = self.run(session, values)
        if len(rows) != 1:
            raise RuntimeError(f"expected one row, got {len(rows)}")
        return rows[0]

    def run_many(self, session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
        session.flush()
        connection = session.connection()
        compiled = self._for(connection.dialect)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            batch: Any = [compiled.parameters(row) for row in rows]
            cursor.executemany(compiled.sql, batch)
        finally:
            cursor.close()


class RowInsert:
    """INSERT of a model's row from an instance, every column given, returning the new id.

    The instance is not added to the session: nothing in the write path reads it back
    through the ORM in the same transaction, and an ORM query still finds the row."""

    def __init__(self, model: type[SQLModel]) -> None:
        table: Table = model.__table__  # type: ignore[attr-defined]
        self._has_id = "id" in table.columns
        self._columns = [c.name for c in table.columns if c.name != "id"]

        def build(_dialect: str) -> ClauseElement:
            statement = insert(table).values(
                {name: bindparam(name, type_=table.c[name].type) for name in self._columns}
            )
            return statement.returning(table.c.id) if self._has_id else statement

        self._prepared = Prepared(build)

    def add(self, session: Session, row: SQLModel) -> int | None:
        """Insert `row`; its id is set from the database and returned."""
        values = {name: getattr(row, name) for name in self._columns}
        if not self._has_id:
            self._prepared.run(session, values)
            return None
        (new_id,) = self._prepared.one(session, values)
        row_id = int(new_id)
        row.id = row_id
        return row_id
