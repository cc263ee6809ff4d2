"""The benchmark's databases: made fresh or kept, checked, and readied for the measurements.

The writing itself is app/sim/load.py's (the column types' own bind processors, executemany on
SQLite, COPY on PostgreSQL); here the legs it writes are checked against the service's own
`derive_legs`, and a loaded database gets what autovacuum would have given a year of inserts.
"""

import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, make_url, text

from app.db import make_engine
from app.migrate import upgrade_to_head
from app.models import TicketEvent, TicketLeg
from app.queueing.legs import derive_legs
from app.sim.record import SimClinic
from app.sim.replay import Rows


@dataclass
class Target:
    label: str  # sqlite or postgresql
    url: str
    meta: Path  # what was generated: written last, so a kept database is a whole one


def _columns(model: Any) -> list[str]:
    return [column.name for column in model.__table__.columns]


def check_against_derive_legs(rows: Rows, clinics: list[SimClinic]) -> None:
    """The legs written equal what app.queueing.legs.derive_legs makes of the same events
    as real models (one clinic-day: building models is too slow for millions)."""
    clinic = clinics[0]
    zones = {c.id: c.timezone for c in clinics}
    targets = {sid: t for c in clinics for sid, t in c.target_by_id().items()}
    sample = [
        (TicketEvent(**{name: getattr(e, name) for name in _columns(TicketEvent)}),
         e.ticket.visit_date)
        for e in rows.events
        if e.clinic_id == clinic.id
    ]  # fmt: skip
    derived = derive_legs(sample, timezone_of=zones.__getitem__, target_of=targets.get)
    names = [name for name in _columns(TicketLeg) if name != "id"]
    ours = sorted(tuple(getattr(leg, n) for n in names) for leg in rows.legs
                  if leg.clinic_id == clinic.id)  # fmt: skip
    theirs = sorted(tuple(getattr(leg, n) for n in names) for leg in derived)
    assert ours == theirs, "legs differ from derive_legs"
    print(f"  legs checked equal to derive_legs over one clinic-day ({len(ours)} legs)")


def finish(target: Target, engine: Engine) -> None:
    """The planner's statistics (and PostgreSQL's visibility map, for index-only scans), as
    autovacuum would leave an insert-only table after a year."""
    began = time.perf_counter()
    if target.label == "sqlite":
        # Its own connection: the engine's would wrap these in a transaction.
        with closing(sqlite3.connect(cast(str, engine.url.database), isolation_level=None)) as db:
            db.execute("ANALYZE")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")
    done = "ANALYZE" if target.label == "sqlite" else "VACUUM (ANALYZE)"
    print(f"  {target.label}: {done} {time.perf_counter() - began:.0f} s", flush=True)


def recreate(target: Target, server_url: str) -> None:
    """An empty database for the target (the migrations run when it is generated)."""
    target.meta.unlink(missing_ok=True)
    if target.label == "sqlite":
        path = Path(cast(str, make_url(target.url).database))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    server = make_engine(server_url, isolation_level="AUTOCOMMIT")
    database = make_url(target.url).database
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    server.dispose()


def upgrade_kept(target: Target) -> None:
    """Data kept from an older schema: run the service's own migrations on it (the upgrade a
    deployment gets), then refresh the planner's statistics as autovacuum would."""
    engine = make_engine(target.url)
    with engine.connect() as connection:
        before = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    began = time.perf_counter()
    upgrade_to_head(engine)
    with engine.connect() as connection:
        after = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if before != after:
        print(
            f"  {target.label}: migrated {before} -> {after} in "
            f"{time.perf_counter() - began:.0f} s",
            flush=True,
        )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()
