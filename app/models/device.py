"""Kiosks and displays: browsers that authenticate with a long-lived key."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, utcnow
from app.models.types import Name


class DeviceKind(StrEnum):
    kiosk = "kiosk"
    display = "display"


class Device(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    name: str = Field(max_length=120)
    kind: DeviceKind = Field(sa_column=Column(StrEnumType(DeviceKind), nullable=False))
    # SHA-256 of the key's secret part; the key itself is shown once and never stored.
    key_digest: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class DeviceCreate(SQLModel):
    name: Name
    kind: DeviceKind


class DevicePublic(SQLModel):
    id: int
    clinic_id: int
    name: str
    kind: DeviceKind
    revoked_at: datetime | None = None


class DeviceWithKey(DevicePublic):
    key: str
