"""What past days tell the wait estimator: the usual pace of a service on the same weekday and
hour, from the leg rollups, and when its first call usually comes, from the day rows.

Per service and local hour, over the same weekday of the last `WEEKS` weeks: the mean service
time of the legs served (begun in that hour), and how many counters served them on an average
such day. The wait estimator leans on it while today has shown few intervals between calls.
The first call: the median local time of the service's first calls on those weekdays (any day
of those weeks when the weekday has none); tickets taken before it wait for it.

Past days do not change, so a process reads a clinic's table once per local day (one query,
on the first estimate that needs it) and keeps it in memory, per database (its connection pool,
which an engine with options shares); the hot paths then read it for free.
"""

import statistics
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, Pool, select
from sqlmodel import Session, col

from app.models import DailySequence, Service
from app.models.rollup import NO_COUNTER, LegRollup
from app.queueing.estimate import Usual
from app.queueing.localday import zone

WEEKS = 8

# (service_id, hour) -> the usual pace
Table = dict[tuple[int, int], Usual]

_lock = threading.Lock()
_tables: "weakref.WeakKeyDictionary[Pool, dict[tuple[int, date], History]]" = (
    weakref.WeakKeyDictionary()
)


def usual_table(rows: Any) -> Table:
    """Rows of (visit_date, hour, service_id, counter_id, timed_services, service_seconds)
    summed into the usual pace per service and hour. A counter that served several services in
    that hour counts for each in the share of its legs it gave it (one shared between two
    services is half a counter for each)."""
    rows = [row for row in rows if row[4]]
    per_counter: dict[tuple[date, int, int], int] = defaultdict(int)
    for visit_date, hour, _, counter_id, n, _ in rows:
        per_counter[(visit_date, int(hour), int(counter_id))] += int(n)
    seconds: dict[tuple[int, int], float] = defaultdict(float)
    timed: dict[tuple[int, int], int] = defaultdict(int)
    counters: dict[tuple[int, int], float] = defaultdict(float)
    days: dict[tuple[int, int], set[date]] = defaultdict(set)
    for visit_date, hour, service_id, counter_id, n, total in rows:
        key = (int(service_id), int(hour))
        seconds[key] += float(total)
        timed[key] += int(n)
        days[key].add(visit_date)
        if counter_id != NO_COUNTER:
            counters[key] += int(n) / per_counter[(visit_date, int(hour), int(counter_id))]
    return {
        key: Usual(
            service_seconds=seconds[key] / timed[key],
            counters=counters[key] / len(days[key]) or 1.0,
        )
        for key in timed
    }


def usual_opening(
    first_calls: Iterable[tuple[date, int, float]], visit_date: date, timezone: str
) -> dict[int, float]:
    """Per service, when its first call of `visit_date` is to be expected (epoch seconds): at
    the median local time of day of its first calls on the days given (date, service_id,
    epoch seconds)."""
    minutes: dict[int, list[float]] = defaultdict(list)
    for _, service_id, at in first_calls:
        local = datetime.fromtimestamp(at, UTC).astimezone(zone(timezone))
        minutes[service_id].append(local.hour * 60 + local.minute + local.second / 60)
    midnight = datetime.combine(visit_date, time(), zone(timezone))
    return {
        service_id: (midnight + timedelta(minutes=statistics.median(values))).timestamp()
        for service_id, values in minutes.items()
    }


@dataclass(frozen=True, slots=True)
class History:
    """A clinic's past days as the estimator uses them on one day."""

    usual: Table = field(default_factory=dict)
    opens: dict[int, float] = field(default_factory=dict)  # service_id -> expected first call


def _load(session: Session, clinic_id: int, visit_date: date, timezone: str) -> History:
    same_weekdays = [visit_date - timedelta(weeks=n) for n in range(1, WEEKS + 1)]
    rollups = select(
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
    first_calls = (
        select(
            col(DailySequence.visit_date),
            col(DailySequence.service_id),
            col(DailySequence.first_call_at),
        )
        .join(Service, col(Service.id) == col(DailySequence.service_id))
        .where(
            col(Service.clinic_id) == clinic_id,
            col(DailySequence.visit_date) >= visit_date - timedelta(weeks=WEEKS),
            col(DailySequence.visit_date) < visit_date,
            col(DailySequence.first_call_at).is_not(None),
        )
    )
    firsts = [(d, int(s), float(at)) for d, s, at in session.execute(first_calls)]
    return History(
        usual=usual_table(session.execute(rollups)),
        opens=usual_opening(same_weekday_or_any(firsts, visit_date), visit_date, timezone),
    )


def same_weekday_or_any(
    first_calls: list[tuple[date, int, float]], visit_date: date
) -> list[tuple[date, int, float]]:
    """The first calls of the same weekday, or of any day when there are none."""
    same = [row for row in first_calls if row[0].weekday() == visit_date.weekday()]
    return same or first_calls


def history(session: Session, *, clinic_id: int, visit_date: date, timezone: str) -> History:
    """The clinic's history for estimates made on `visit_date` (read once per process)."""
    bind = session.get_bind()
    engine: Engine = bind if isinstance(bind, Engine) else bind.engine
    per_engine = _tables.get(engine.pool)
    found = None if per_engine is None else per_engine.get((clinic_id, visit_date))
    if found is None:
        found = _load(session, clinic_id, visit_date, timezone)
        with _lock:
            per_engine = _tables.setdefault(engine.pool, {})
            # Yesterday's history is of no more use.
            for key in [k for k in per_engine if k[0] == clinic_id and k[1] != visit_date]:
                del per_engine[key]
            per_engine[(clinic_id, visit_date)] = found
    return found
