"""The wait-times report: one row per group, every figure from the legs of the period.

Counts and means are SQL aggregates. Percentiles are exact: PostgreSQL's percentile_cont in
the same query; on SQLite (which has none) the waits are read in order, per group, and
interpolated the same way (figures.percentile).
"""

from collections.abc import Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlmodel import Session, col

from app.models import Clinic, Counter, Service
from app.models.leg import SERVED_OUTCOMES, LegOutcome, TicketLeg
from app.reports.figures import minutes, percentile, share
from app.reports.query import GroupBy, ReportQuery

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

_leg = TicketLeg
_KEYS: dict[GroupBy, tuple[tuple[str, Any], ...]] = {
    GroupBy.day: (("date", col(_leg.visit_date)),),
    GroupBy.hour: (("hour", col(_leg.entered_hour)),),
    GroupBy.service: (("service_id", col(_leg.service_id)), ("service_name", col(Service.name))),
    GroupBy.clinic: (("clinic_id", col(_leg.clinic_id)), ("clinic_name", col(Clinic.name))),
    GroupBy.counter: (("counter_id", col(_leg.counter_id)), ("counter_name", col(Counter.name))),
}


def key_names(group_by: Sequence[GroupBy]) -> list[str]:
    return [name for group in group_by for name, _ in _KEYS[group]]


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def leg_filters(query: ReportQuery) -> list[ColumnElement[bool]]:
    """The legs a report covers: its period, its clinics, its service."""
    filters = [col(_leg.visit_date) >= query.date_from, col(_leg.visit_date) <= query.date_to]
    if query.clinic_ids is not None:
        filters.append(col(_leg.clinic_id).in_(query.clinic_ids))
    if query.service_id is not None:
        filters.append(col(_leg.service_id) == query.service_id)
    return filters


def _joined(statement: Any, group_by: Sequence[GroupBy]) -> Any:
    if GroupBy.service in group_by:
        statement = statement.join(Service, col(Service.id) == col(_leg.service_id))
    if GroupBy.clinic in group_by:
        statement = statement.join(Clinic, col(Clinic.id) == col(_leg.clinic_id))
    if GroupBy.counter in group_by:
        statement = statement.outerjoin(Counter, col(Counter.id) == col(_leg.counter_id))
    return statement


def wait_times(session: Session, query: ReportQuery) -> list[Row]:
    """The report's rows, ordered by their group keys."""
    keys = [column for group in query.group_by for _, column in _KEYS[group]]
    wait = col(_leg.wait_seconds)
    called = wait.is_not(None)
    targeted = and_(called, col(_leg.target_wait_minutes).is_not(None))
    aggregates = [
        func.count(),
        _count(col(_leg.outcome).in_(SERVED_OUTCOMES)),
        _count(col(_leg.outcome) == LegOutcome.no_show),
        _count(col(_leg.outcome) == LegOutcome.cancelled),
        func.avg(wait),
        func.max(wait),
        func.avg(col(_leg.service_seconds)),
        _count(and_(targeted, wait <= col(_leg.target_wait_minutes) * 60)),
        _count(targeted),
    ]
    on_postgres = session.get_bind().dialect.name == "postgresql"
    if on_postgres:
        aggregates += [func.percentile_cont(p).within_group(wait) for p in (0.5, 0.9)]
    statement = _joined(select(*keys, *aggregates), query.group_by)
    statement = statement.where(*leg_filters(query)).group_by(*keys).order_by(*keys)
    results = session.execute(statement).all()
    percentiles = {} if on_postgres else _percentiles_in_python(session, query)
    names = key_names(query.group_by)
    id_positions = _id_positions(query.group_by)
    rows = []
    for result in results:
        group = tuple(result[: len(keys)])
        issued, served, no_show, cancelled, mean, longest, service, within, targeted_n = result[
            len(keys) : len(keys) + 9
        ]
        if on_postgres:
            median, p90 = result[len(keys) + 9 :]
        else:
            ids = tuple(group[position] for position in id_positions)
            median, p90 = percentiles.get(ids, (None, None))
        rows.append(
            {
                **dict(zip(names, group, strict=True)),
                "issued": issued,
                "served": served,
                "no_show": no_show,
                "cancelled": cancelled,
                "wait_mean_min": minutes(mean),
                "wait_median_min": minutes(median),
                "wait_p90_min": minutes(p90),
                "wait_max_min": minutes(longest),
                "service_mean_min": minutes(service),
                "within_target_pct": share(within, targeted_n),
            }
        )
    return rows


def _id_positions(group_by: Sequence[GroupBy]) -> list[int]:
    """Where each group's id sits among the key columns (its name, if any, follows it)."""
    positions, offset = [], 0
    for part in group_by:
        positions.append(offset)
        offset += len(_KEYS[part])
    return positions


def _percentiles_in_python(
    session: Session, query: ReportQuery
) -> dict[tuple[Any, ...], tuple[float | None, float | None]]:
    ids = [_KEYS[part][0][1] for part in query.group_by]
    wait = col(_leg.wait_seconds)
    statement = (
        select(*ids, wait).where(*leg_filters(query), wait.is_not(None)).order_by(*ids, wait)
    )
    found = {}
    width = len(ids)
    for group, rows in groupby(session.execute(statement), key=lambda row: tuple(row[:width])):
        waits = [row[width] for row in rows]
        found[group] = (percentile(waits, 0.5), percentile(waits, 0.9))
    return found
