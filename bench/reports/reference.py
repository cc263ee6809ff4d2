"""The month report by clinic computed straight from every leg, as it ran before rollups:
the reference the rollups must equal at city scale, and the time they save."""

import itertools
import math
import operator
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, func
from sqlmodel import Session, col, select

from app.models import Clinic, LegOutcome, TicketLeg
from app.reports.figures import minutes
from app.reports.figures import share as share_pct
from app.reports.query import ReportQuery


def _ranked(ordered: Sequence[float], fraction: float) -> float | None:
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def by_clinic_from_legs(session: Session, query: ReportQuery) -> list[dict[str, Any]]:
    """The report by clinic straight from every leg of the period, as it ran before rollups:
    the reference the rollups must equal at city scale, and the time they save."""
    leg = TicketLeg
    wait, target = col(leg.wait_seconds), col(leg.target_wait_minutes)
    targeted = and_(wait.is_not(None), target.is_not(None))

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    postgres = session.get_bind().dialect.name == "postgresql"
    figures = [
        func.count(),
        count(col(leg.outcome).in_((LegOutcome.done, LegOutcome.transferred))),
        count(col(leg.outcome) == LegOutcome.no_show),
        count(col(leg.outcome) == LegOutcome.cancelled),
        func.avg(wait),
        func.max(wait),
        func.avg(col(leg.service_seconds)),
        count(and_(targeted, wait <= target * 60)),
        count(targeted),
    ]
    if postgres:
        figures += [func.percentile_cont(p).within_group(wait) for p in (0.5, 0.9)]
    period = [col(leg.visit_date) >= query.date_from, col(leg.visit_date) <= query.date_to]
    statement = (
        select(col(leg.clinic_id), col(Clinic.name), *figures)
        .join(Clinic, col(Clinic.id) == col(leg.clinic_id))
        .where(*period)
        .group_by(col(leg.clinic_id), col(Clinic.name))
        .order_by(col(leg.clinic_id))
    )
    found = session.execute(statement).all()
    ranks: dict[int, tuple[float | None, float | None]] = {}
    if not postgres:
        waits = session.execute(
            select(col(leg.clinic_id), wait)
            .where(*period, wait.is_not(None))
            .order_by(col(leg.clinic_id), wait)
        )
        for clinic_id, rows in itertools.groupby(waits, key=operator.itemgetter(0)):
            ordered = [row[1] for row in rows]
            ranks[clinic_id] = (_ranked(ordered, 0.5), _ranked(ordered, 0.9))
    report = []
    for row in found:
        clinic_id, name, issued, served, no_show, cancelled, mean, longest, service = row[:9]
        within, targeted_n = row[9:11]
        median, p90 = row[11:13] if postgres else ranks.get(clinic_id, (None, None))
        report.append(
            {
                "clinic_id": clinic_id,
                "clinic_name": name,
                "issued": issued,
                "served": served,
                "no_show": no_show,
                "cancelled": cancelled,
                "wait_mean_min": minutes(mean),
                "wait_median_min": minutes(median),
                "wait_p90_min": minutes(p90),
                "wait_max_min": minutes(longest),
                "service_mean_min": minutes(service),
                "within_target_pct": share_pct(within, targeted_n),
            }
        )
    return report
