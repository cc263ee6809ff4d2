"""What a report asks for: the period, the clinics it may see, the grouping."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import ColumnElement
from sqlmodel import col

from app.models import LegRollup, TicketLeg


class GroupBy(StrEnum):
    day = "day"
    hour = "hour"
    service = "service"
    clinic = "clinic"
    counter = "counter"


class ReportFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


@dataclass(frozen=True)
class ReportQuery:
    date_from: date
    date_to: date
    # None: every clinic (an admin); otherwise the clinics this caller may see.
    clinic_ids: tuple[int, ...] | None = None
    service_id: int | None = None
    group_by: tuple[GroupBy, ...] = (GroupBy.day,)


def covered_by(
    query: ReportQuery, rows: type[TicketLeg] | type[LegRollup]
) -> list[ColumnElement[bool]]:
    """The legs, or their rollups, that a report covers: its period, its clinics, its service."""
    filters = [col(rows.visit_date) >= query.date_from, col(rows.visit_date) <= query.date_to]
    if query.clinic_ids is not None:
        filters.append(col(rows.clinic_id).in_(query.clinic_ids))
    if query.service_id is not None:
        filters.append(col(rows.service_id) == query.service_id)
    return filters
