"""Staff login."""

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel
from sqlmodel import col, select

from app.auth.access import Caller
from app.auth.passwords import verify_password
from app.auth.ratelimit import LoginRateLimit
from app.auth.tokens import issue_access_token
from app.db import SessionDep
from app.errors import InvalidCredentials, Unauthorized
from app.models import DeviceKind, Role, User
from app.models.base import utcnow
from app.models.types import USERNAME_PATTERN
from app.models.user import LoginForm

router = APIRouter(prefix="/auth", tags=["auth"])


class AccountDisabled(Unauthorized):
    code = "account_disabled"
    detail = "This account is disabled"


class AccessToken(BaseModel):
    access_token: str
    token_type: str = "bearer"


class Whoami(BaseModel):
    """Who the credentials belong to, so a page can tell a kiosk from a counter PC."""

    kind: Literal["user", "device"]
    id: int
    name: str
    clinic_id: int | None
    role: Role | None = None
    device_kind: DeviceKind | None = None


@router.post("/token")
def login(
    request: Request,
    form: Annotated[LoginForm, Form()],
    session: SessionDep,
) -> AccessToken:
    """Exchange a username and password for a bearer token."""
    username = form.username.strip().lower()
    named = re.fullmatch(USERNAME_PATTERN, username) is not None  # anything else names no account
    account = username if named else None
    address = request.client.host if request.client else "unknown"
    limit: LoginRateLimit = request.app.state.login_rate_limit
    limit.check(account, address)  # before the (slow) password hash
    user = None
    if named:
        user = session.exec(select(User).where(col(User.username) == username)).first()
    if not verify_password(form.password, user.password_hash if user else None) or user is None:
        limit.failed(account, address)
        raise InvalidCredentials("Wrong username or password")
    limit.succeeded(username, address)
    if not user.is_active:
        raise AccountDisabled()
    assert user.id is not None
    token = issue_access_token(
        user_id=user.id,
        key=request.app.state.signing_key,
        now=utcnow(),  # the real time: PyJWT checks expiry against it
        minutes=request.app.state.settings.access_token_minutes,
    )
    return AccessToken(access_token=token)


@router.get("/me")
def whoami(principal: Caller) -> Whoami:
    """The account or device behind the bearer credentials (401 without any)."""
    if principal.device is not None:
        device = principal.device
        assert device.id is not None
        return Whoami(
            kind="device",
            id=device.id,
            name=device.name,
            clinic_id=device.clinic_id,
            device_kind=device.kind,
        )
    user = principal.user
    assert user is not None
    assert user.id is not None
    return Whoami(
        kind="user", id=user.id, name=user.username, clinic_id=user.clinic_id, role=user.role
    )
