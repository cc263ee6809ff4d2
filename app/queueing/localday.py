"""A clinic's local day: tickets are numbered, and expire, by the clinic's own midnight."""

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date(now: datetime, timezone: str) -> date:
    """The calendar date at the clinic at instant `now` (an aware datetime)."""
    return now.astimezone(zone(timezone)).date()


def to_local(moment: datetime | None, timezone: str) -> datetime | None:
    return None if moment is None else moment.astimezone(zone(timezone))
