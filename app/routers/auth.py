"""Staff login."""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlmodel import col, select

from app.auth.passwords import verify_password
from app.auth.tokens import issue_access_token
from app.db import ReadSessionDep
from app.errors import Unauthorized
from app.models import User
from app.models.base import utcnow
from app.models.types import USERNAME_PATTERN

router = APIRouter(prefix="/auth", tags=["auth"])


class AccessToken(BaseModel):
    access_token: str
    token_type: str = "bearer"


@router.post("/token")
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: ReadSessionDep,
) -> AccessToken:
    """Exchange a username and password for a bearer token."""
    username = form.username.strip().lower()
    user = None
    if re.fullmatch(USERNAME_PATTERN, username):  # anything else names no account
        user = session.exec(select(User).where(col(User.username) == username)).first()
    if not verify_password(form.password, user.password_hash if user else None) or user is None:
        raise Unauthorized("Wrong username or password")
    if not user.is_active:
        raise Unauthorized("This account is disabled")
    assert user.id is not None
    token = issue_access_token(
        user_id=user.id,
        key=request.app.state.signing_key,
        now=utcnow(),  # the real time: PyJWT checks expiry against it
        minutes=request.app.state.settings.access_token_minutes,
    )
    return AccessToken(access_token=token)
