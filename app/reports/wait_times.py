"""The wait-times report: one row per group, every figure from the leg rollups of the period.

Counts and sums are SQL aggregates over the rollup rows (app/models/rollup.py), a few rows per
clinic, service, counter and hour instead of every leg. Each group's waits come back joined into
one array (string_agg on PostgreSQL, group_concat on SQLite), and the mean, median, p90 and
maximum are computed over all of them: exact, never averages of averages.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import LargeBinary, cast, func, literal, select
from sqlmodel import Session, col

from app.models import Clinic, Counter, Service
from app.models.rollup import NO_COUNTER, LegRollup, unpack_waits
from app.queueing.rollups import COUNT_COLUMNS
from app.reports.figures import PERCENTILES, minutes, percentiles, share
from app.reports.query import GroupBy, ReportQuery, covered_by

Row = dict[str, Any]

FIGURES = (
    "issued",
    "served",
    "no_show",
    "cancelled",
    "wait_mean_min",
    "wait_median_min",
    "wait_p90_min",
    "wait_max_min",
    "service_mean_min",
    "within_target_pct",
)

_roll = LegRollup
_KEYS: dict[GroupBy, tuple[tuple[str, Any], ...]] = {
    GroupBy.day: (("date", col(_roll.visit_date)),),
    GroupBy.hour: (("hour", col(_roll.hour)),),
    GroupBy.service: (("service_id", col(_roll.service_id)), ("service_name", col(Service.name))),
    GroupBy.clinic: (("clinic_id", col(_roll.clinic_id)), ("clinic_name", col(Clinic.name))),
    GroupBy.counter: (("counter_id", col(_roll.counter_id)), ("counter_name", col(Counter.name))),
}


def key_names(group_by: Sequence[GroupBy]) -> list[str]:
    return [name for group in group_by for name, _ in _KEYS[group]]


def _joined(statement: Any, group_by: Sequence[GroupBy]) -> Any:
    if GroupBy.service in group_by:
        statement = statement.join(Service, col(Service.id) == col(_roll.service_id))
    if GroupBy.clinic in group_by:
        statement = statement.join(Clinic, col(Clinic.id) == col(_roll.clinic_id))
    if GroupBy.counter in group_by:
        statement = statement.outerjoin(Counter, col(Counter.id) == col(_roll.counter_id))
    return statement


def _all_waits(session: Session) -> Any:
    """An aggregate joining the group's packed waits into one."""
    waits = col(_roll.waits)
    if session.get_bind().dialect.name == "postgresql":
        return func.string_agg(waits, literal(b"", LargeBinary), type_=LargeBinary)
    # SQLite's group_concat makes text of blobs; the bytes are kept, so a cast gives them back.
    return cast(func.group_concat(waits, literal(b"", LargeBinary)), LargeBinary)


def wait_times(session: Session, query: ReportQuery) -> list[Row]:
    """The report's rows, ordered by their group keys."""
    keys = [column for group in query.group_by for _, column in _KEYS[group]]
    sums = [func.sum(getattr(_roll, name)) for name in COUNT_COLUMNS]
    statement = _joined(select(*keys, *sums, _all_waits(session)), query.group_by)
    statement = (
        statement.where(*covered_by(query, _roll))
        .group_by(*keys)
        .having(func.sum(col(_roll.issued)) > 0)  # rows whose legs all moved on are empty
        .order_by(*keys)
    )
    names = key_names(query.group_by)
    rows = []
    for result in session.execute(statement):
        group = dict(zip(names, result[: len(keys)], strict=True))
        if group.get("counter_id") == NO_COUNTER:
            group["counter_id"] = None
        totals = dict(
            zip(COUNT_COLUMNS, result[len(keys) : len(keys) + len(COUNT_COLUMNS)], strict=True)
        )
        waits = unpack_waits(result[-1])
        median, p90 = percentiles(waits, PERCENTILES)
        called = len(waits)
        rows.append(
            {
                **group,
                "issued": totals["issued"],
                "served": totals["served"],
                "no_show": totals["no_show"],
                "cancelled": totals["cancelled"],
                "wait_mean_min": minutes(float(waits.sum()) / called) if called else None,
                "wait_median_min": minutes(median),
                "wait_p90_min": minutes(p90),
                "wait_max_min": minutes(float(waits.max())) if called else None,
                "service_mean_min": minutes(
                    totals["service_seconds"] / totals["timed_services"]
                    if totals["timed_services"]
                    else None
                ),
                "within_target_pct": share(totals["within_target"], totals["targeted"]),
            }
        )
    return rows
