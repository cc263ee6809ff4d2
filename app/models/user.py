"""Staff and admin accounts."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
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


# An admin belongs to no clinic; staff and clinic admins to one: the schema tells which role
# needs a clinic_id, as the validator below refuses.
_ROLE_AND_CLINIC: dict[str, Any] = {
    "oneOf": [
        {
            "properties": {"role": {"const": Role.admin.value}, "clinic_id": {"type": "null"}},
        },
        {
            "properties": {
                "role": {"enum": [Role.clinic_admin.value, Role.staff.value]},
                "clinic_id": {"type": "integer"},
            },
            "required": ["clinic_id"],
        },
    ]
}


class UserCreate(SQLModel):
    # Merged with SQLModel's own config (typed as its TypedDict, hence the ignore).
    model_config = ConfigDict(json_schema_extra=_ROLE_AND_CLINIC)  # type: ignore[assignment]

    username: Username
    password: Password
    role: Role
    clinic_id: Id | None = None

    @model_validator(mode="after")
    def _role_and_clinic(self) -> "UserCreate":
        if self.role is Role.admin and self.clinic_id is not None:
            raise ValueError("An admin belongs to no clinic")
        if self.role is not Role.admin and self.clinic_id is None:
            raise ValueError("clinic_id is required for staff and clinic_admin")
        return self


class UserUpdate(SQLModel):
    """What an admin changes on an account: disable or re-enable it, set a new password.
    Only the fields sent change; neither can be null."""

    is_active: bool = Field(default=None)
    password: Password = Field(default=None)


class UserPublic(SQLModel):
    id: int
    username: str
    role: Role
    clinic_id: int | None
    is_active: bool


class LoginForm(BaseModel):
    """The login form (OAuth2's password grant). Any username or password may be tried (a wrong
    one is a 401, never a 422); an empty field is a missing one. Fields beside these (OAuth2's
    scope, client_id) are ignored."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    grant_type: Annotated[str, StringConstraints(pattern="^(password)?$")] = "password"
