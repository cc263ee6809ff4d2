"""Statements of the write path, compiled once per database kind and run on the driver.

SQLAlchemy builds each statement from the models (they stay the schema's one source of truth)
and compiles it once. A run then costs the driver's `execute` and little else: none of the
per-execution work of the ORM's unit of work and of Core (cache keys, execution contexts,
result objects), which the profile of ticket issue showed at about four fifths of the writer's
time, against a sixth in SQLite itself. Values go through the column types' own bind
processors, and the columns a statement returns (SELECT, RETURNING) through their result
processors, so a row stored or read here is the row the ORM would store or read. A run joins
the session's transaction (and savepoint) on its connection; the driver keeps the statement
prepared (sqlite3's statement cache, psycopg's prepared statements).

The writer lends its sessions their driver connection (`lend_connection`), so a run costs no
lookup through the session; any other session is asked for its connection, pending ORM
changes flushed first, like the ORM's autoflush.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql import ClauseElement
from sqlmodel import Session, SQLModel

Row = tuple[Any, ...]

# Where a writer's session keeps its driver connection and dialect (see `lend_connection`).
DRIVER_CONNECTION = "antrean_driver_connection"


def lend_connection(session: Session) -> tuple[Any, Dialect]:
    """Keep the session's driver connection at hand for the statements run on it (the writer
    does this once per transaction; the session must not change connection meanwhile)."""
    connection = session.connection()
    lent = (connection.connection.dbapi_connection, connection.dialect)
    session.info[DRIVER_CONNECTION] = lent
    return lent


def driver_connection(session: Session) -> tuple[Any, Dialect]:
    """The driver connection and dialect of the session's transaction, pending ORM changes
    written first (so order and row locks stay the code's)."""
    if not session._is_clean():  # what `flush` asks itself first, without building sets
        session.flush()
    lent: tuple[Any, Dialect] | None = session.info.get(DRIVER_CONNECTION)
    if lent is not None:
        return lent
    connection = session.connection()
    return connection.connection.dbapi_connection, connection.dialect


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    # Per bound name, in `names` order (positional) or once each (named): its bind processor.
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool
    literals: dict[str, Any]  # values written into the statement (the 1 of `seq + 1`)
    # Per returned column, its result processor (None: the driver's value as it is).
    results: tuple[Callable[[Any], Any] | None, ...]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        bound = {**self.literals, **values} if self.literals else values
        converted = [
            bound[name] if process is None else process(bound[name])
            for name, process in zip(self.names, self.processors)  # noqa: B905 (built equal)
        ]
        if self.positional:
            return converted
        return dict(zip(self.names, converted))  # noqa: B905

    def parameters_of(self, row: Any) -> Sequence[Any] | dict[str, Any]:
        """`parameters` of an object with the bound names as attributes (a row to insert),
        read straight from it."""
        converted = [
            getattr(row, name) if process is None else process(getattr(row, name))
            for name, process in zip(self.names, self.processors)  # noqa: B905
        ]
        if self.positional:
            return converted
        return dict(zip(self.names, converted))  # noqa: B905

    def row(self, raw: Row) -> Row:
        if not any(self.results):
            return tuple(raw)
        return tuple(
            value if process is None or value is None else process(value)
            for process, value in zip(self.results, raw, strict=True)
        )


def _compile(statement: Any, dialect: Dialect) -> _Compiled:
    compiled: Any = statement.compile(dialect=dialect)
    binds = compiled.binds
    names = tuple(compiled.positiontup or ()) if dialect.positional else tuple(binds)
    processors = tuple(
        binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    literals = {
        name: bind.effective_value
        for name, bind in binds.items()
        if not bind.required and bind.value is not None
    }
    returned = getattr(statement, "exported_columns", ())
    results = tuple(_result_processor(column.type, dialect) for column in returned)
    return _Compiled(compiled.string, names, processors, dialect.positional, literals, results)


def _wrapped(exc: Exception, sql: str, parameters: Any, dialect: Dialect) -> StatementError:
    """The driver's error as SQLAlchemy raises it (IntegrityError, OperationalError, …), so
    the rest of the service handles it as it handles the ORM's."""
    return DBAPIError.instance(sql, parameters, exc, dialect.loaded_dbapi.Error)


def _result_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's result processor. Some ask for the driver's own type code, which is
    known only from a result: those (numbers on psycopg) take the driver's value as it is,
    which is what they would choose for the types the models use."""
    try:
        processor: Callable[[Any], Any] | None = type_.dialect_impl(dialect).result_processor(
            dialect, None
        )
    except (TypeError, KeyError):
        return None
    return processor


class Prepared:
    """One statement, built by `build(dialect_name)` the first time it runs on a database kind
    (an upsert is written differently for SQLite and PostgreSQL)."""

    def __init__(self, build: Callable[[str], ClauseElement]) -> None:
        self._build = build
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _compile(self._build(dialect.name), dialect)
        return found

    def run(self, session: Session, values: Mapping[str, Any]) -> list[Row]:
        """Execute with one set of values; the rows it returns (SELECT, RETURNING), if any."""
        driver, dialect = driver_connection(session)
        compiled = self._for(dialect)
        return self.execute(driver, dialect, compiled, compiled.parameters(values))

    def one(self, session: Session, values: Mapping[str, Any]) -> Row:
        rows = self.run(session, values)
        if len(rows) != 1:
            raise RuntimeError(f"expected one row, got {len(rows)}")
        return rows[0]

    def first(self, session: Session, values: Mapping[str, Any]) -> Row | None:
        rows = self.run(session, values)
        return rows[0] if rows else None

    def run_many(self, session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
        """Execute once per set of values, in one driver call (no rows returned)."""
        driver, dialect = driver_connection(session)
        compiled = self._for(dialect)
        self.execute_many(driver, dialect, compiled, [compiled.parameters(row) for row in rows])

    @staticmethod
    def execute(driver: Any, dialect: Dialect, compiled: _Compiled, parameters: Any) -> list[Row]:
        cursor = driver.cursor()
        try:
            cursor.execute(compiled.sql, parameters)
            if cursor.description is None:
                return []
            return [compiled.row(raw) for raw in cursor.fetchall()]
        except dialect.loaded_dbapi.Error as exc:
            raise _wrapped(exc, compiled.sql, parameters, dialect) from exc
        finally:
            cursor.close()

    @staticmethod
    def execute_many(driver: Any, dialect: Dialect, compiled: _Compiled, batch: list[Any]) -> None:
        if not batch:
            return
        cursor = driver.cursor()
        try:
            if len(batch) == 1:
                cursor.execute(compiled.sql, batch[0])
            else:
                cursor.executemany(compiled.sql, batch)
        except dialect.loaded_dbapi.Error as exc:
            raise _wrapped(exc, compiled.sql, batch, dialect) from exc
        finally:
            cursor.close()


class RowInsert:
    """INSERT of a model's row from an object with its columns as attributes (a model instance,
    or one of the write path's own row classes), every column given."""

    def __init__(self, model: type[SQLModel]) -> None:
        table: Table = model.__table__  # type: ignore[attr-defined]
        self._has_id = "id" in table.columns
        self.columns = tuple(c.name for c in table.columns if c.name != "id")

        def build(returning: bool) -> Callable[[str], ClauseElement]:
            def build_for(_dialect: str) -> ClauseElement:
                statement = insert(table).values(
                    {name: bindparam(name, type_=table.c[name].type) for name in self.columns}
                )
                return statement.returning(table.c.id) if returning else statement

            return build_for

        self._returning_id = Prepared(build(self._has_id))
        self._plain = Prepared(build(False))

    def add(self, session: Session, row: Any) -> int | None:
        """Insert `row`; its id is set from the database and returned."""
        prepared = self._returning_id if self._has_id else self._plain
        driver, dialect = driver_connection(session)
        compiled = prepared._for(dialect)
        rows = prepared.execute(driver, dialect, compiled, compiled.parameters_of(row))
        if not self._has_id:
            return None
        row_id = int(rows[0][0])
        row.id = row_id
        return row_id

    def add_many(self, session: Session, rows: Iterable[Any]) -> None:
        """Insert rows whose ids nobody needs back (the event log), in one driver call."""
        driver, dialect = driver_connection(session)
        compiled = self._plain._for(dialect)
        self._plain.execute_many(
            driver, dialect, compiled, [compiled.parameters_of(r) for r in rows]
        )
