"""Staff and admin accounts."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, utcnow
from app.models.types import Id, Password, Username


class Role(StrEnum):
    admin = "admin"
    clinic_admin = "clinic_admin"
    staff = "staff"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_column=Column(StrEnumType(Role), nullable=False))
    clinic_id: int | None = Field(default=None, foreign_key="clinic.id", index=True)
    is_active: bool = True
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class UserCreate(SQLModel):
    username: Username
    password: Password
    role: Role
    clinic_id: Id | None = None


class UserUpdate(SQLModel):
    """What an admin changes on an account: disable or re-enable it, set a new password."""

    is_active: bool | None = None
    password: Password | None = None


class UserPublic(SQLModel):
    id: int
    username: str
    role: Role
    clinic_id: int | None
    is_active: bool
