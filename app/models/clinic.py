"""Clinic (puskesmas): the unit every queue, device and staff account belongs to."""

from datetime import datetime
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator
from pydantic import Field as PydanticField
from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow
from app.models.types import Code, Name, Text

DEFAULT_TIMEZONE = "Asia/Makassar"


@cache
def _zone_names() -> frozenset[str]:
    # IANA Area/Location names and UTC; not aliases like "localtime" or "Factory".
    return frozenset(name for name in available_timezones() if "/" in name or name == "UTC")


def _known_timezone(value: str) -> str:
    if value not in _zone_names():
        raise ValueError("unknown IANA timezone (use e.g. Asia/Makassar)")
    ZoneInfo(value)
    return value


TimezoneName = Annotated[
    str,
    AfterValidator(_known_timezone),
    # The schema names the zones (an unknown name is refused like any value out of an enum).
    PydanticField(json_schema_extra={"enum": sorted(_zone_names())}),
]


class ClinicBase(SQLModel):
    code: Code = Field(max_length=32, unique=True)
    name: Name = Field(max_length=120)
    timezone: TimezoneName = Field(default=DEFAULT_TIMEZONE, max_length=64)
    address: Text | None = Field(default=None, max_length=500)
    opening_hours: Text | None = Field(default=None, max_length=500)
    allow_remote_tickets: bool = True


class Clinic(ClinicBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Last realtime sequence number given to an event of this clinic (see app/queueing/events.py).
    event_seq: int = Field(default=0)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class ClinicCreate(ClinicBase):
    pass


class ClinicUpdate(SQLModel):
    """Only the fields sent change; only `address` and `opening_hours` can be cleared (null)."""

    code: Code = Field(default=None)
    name: Name = Field(default=None)
    timezone: TimezoneName = Field(default=None)
    address: Text | None = None
    opening_hours: Text | None = None
    allow_remote_tickets: bool = Field(default=None)


class ClinicPublic(ClinicBase):
    id: int
