"""Service (layanan / poli): one queue of a clinic, with its own ticket prefix."""

from typing import Annotated

from pydantic import StringConstraints
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.types import Minutes, Name, Prefix, Quota

DEFAULT_PRIORITY_LEAD_MINUTES = 60
DEFAULT_SERVICE_MINUTES = 5

# A BPJS poli code: PCare's three digits (001 Umum, 002 Gigi) or a subspecialty's letters.
BpjsPoliCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9]{1,16}$")
]


class ServiceBase(SQLModel):
    name: Name = Field(max_length=120)
    prefix: Prefix = Field(max_length=2)
    entry: bool = True
    daily_quota: Quota | None = None
    target_wait_minutes: Minutes | None = None
    is_open: bool = True
    # Priority rule: a priority ticket queues as if it had arrived this many minutes earlier.
    priority_lead_minutes: Minutes = DEFAULT_PRIORITY_LEAD_MINUTES
    # Wait estimator's starting point, until the day has completed tickets to learn from.
    default_service_minutes: Minutes = DEFAULT_SERVICE_MINUTES
    # The poli this service is at BPJS (PCare code, e.g. 001 Umum): Mobile JKN books it by
    # this code. None: the service takes no BPJS bookings.
    bpjs_poli_code: BpjsPoliCode | None = Field(default=None, max_length=16)


class Service(ServiceBase, table=True):
    __table_args__ = (
        UniqueConstraint("clinic_id", "prefix"),
        # An index rather than a constraint: SQLite adds one without rebuilding the table.
        Index("uq_service_clinic_id_bpjs_poli_code", "clinic_id", "bpjs_poli_code", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)


class ServiceCreate(ServiceBase):
    pass


class ServiceUpdate(SQLModel):
    """Only the fields sent change; only `daily_quota`, `target_wait_minutes` and
    `bpjs_poli_code` can be cleared (null)."""

    name: Name = Field(default=None)
    prefix: Prefix = Field(default=None)
    entry: bool = Field(default=None)
    daily_quota: Quota | None = None
    target_wait_minutes: Minutes | None = None
    is_open: bool = Field(default=None)
    priority_lead_minutes: Minutes = Field(default=None)
    default_service_minutes: Minutes = Field(default=None)
    bpjs_poli_code: BpjsPoliCode | None = None


class ServicePublic(ServiceBase):
    id: int
    clinic_id: int
    waiting: int
    estimated_wait_minutes: int
    # Numbers given today; with daily_quota it tells a kiosk the quota is full before a tap.
    issued_today: int
