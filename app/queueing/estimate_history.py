"""The usual pace of a service on the same weekday and hour, from past days' leg rollups.

Per service and local hour, over the same weekday of the last `WEEKS` weeks: the mean service
time of the legs served (begun in that hour), and how many counters served them on an average
such day. The wait estimator leans on it while today has shown few intervals between calls.

Past days do not change, so a process reads a clinic's table once per local day (one query,
on the first estimate that needs it) and keeps it in memory, per database (its connection pool,
which an engine with options shares); the hot paths then read it for free.
"""

import threading
import weakref
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, Pool, select
from sqlmodel import Session, col

from app.models.rollup import NO_COUNTER, LegRollup
from app.queueing.estimate import Usual

WEEKS = 8

# (service_id, hour) -> the usual pace
Table = dict[tuple[int, int], Usual]

_lock = threading.Lock()
_tables: "weakref.WeakKeyDictionary[Pool, dict[tuple[int, date], Table]]" = (
    weakref.WeakKeyDictionary()
)


def usual_table(rows: Any) -> Table:
    """Rows of (visit_date, hour, service_id, counter_id, timed_services, service_seconds)
    summed into the usual pace per service and hour."""
    seconds: dict[tuple[int, int], float] = defaultdict(float)
    timed: dict[tuple[int, int], int] = defaultdict(int)
    counters: dict[tuple[int, int], set[tuple[date, int]]] = defaultdict(set)
    days: dict[tuple[int, int], set[date]] = defaultdict(set)
    for visit_date, hour, service_id, counter_id, n, total in rows:
        if not n:
            continue
        key = (int(service_id), int(hour))
        seconds[key] += float(total)
        timed[key] += int(n)
        days[key].add(visit_date)
        if counter_id != NO_COUNTER:
            counters[key].add((visit_date, int(counter_id)))
    return {
        key: Usual(
            service_seconds=seconds[key] / timed[key],
            counters=max(len(counters[key]) / len(days[key]), 1.0),
        )
        for key in timed
    }


def _load(session: Session, clinic_id: int, visit_date: date) -> Table:
    same_weekdays = [visit_date - timedelta(weeks=n) for n in range(1, WEEKS + 1)]
    statement = select(
        col(LegRollup.visit_date),
        col(LegRollup.hour),
        col(LegRollup.service_id),
        col(LegRollup.counter_id),
        col(LegRollup.timed_services),
        col(LegRollup.service_seconds),
    ).where(
        col(LegRollup.clinic_id) == clinic_id,
        col(LegRollup.visit_date).in_(same_weekdays),
        col(LegRollup.timed_services) > 0,
    )
    return usual_table(session.execute(statement))


def usual_pace(
    session: Session, *, clinic_id: int, visit_date: date, hour: int, service_id: int
) -> Usual | None:
    """The service's usual pace at this weekday and local hour, or None without history."""
    bind = session.get_bind()
    engine: Engine = bind if isinstance(bind, Engine) else bind.engine
    with _lock:
        per_engine = _tables.setdefault(engine.pool, {})
        table = per_engine.get((clinic_id, visit_date))
    if table is None:
        table = _load(session, clinic_id, visit_date)
        with _lock:
            # Yesterday's tables are of no more use.
            for key in [k for k in per_engine if k[0] == clinic_id and k[1] != visit_date]:
                del per_engine[key]
            per_engine[(clinic_id, visit_date)] = table
    return table.get((service_id, hour))
