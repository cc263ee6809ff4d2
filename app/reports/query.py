"""What a report asks for: the period, the clinics it may see, the grouping."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


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
