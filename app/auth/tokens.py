"""Staff access tokens (JWT, HS256) and the signing key they rest on."""

from datetime import datetime, timedelta

import jwt
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.auth.secrets import new_secret
from app.models import ServerSecret

_ALGORITHM = "HS256"
_KEY_NAME = "jwt_signing_key"


def load_signing_key(engine: Engine, configured: str | None) -> str:
    """The configured key, or the one kept in the database (made on first start)."""
    if configured:
        return configured
    with Session(engine) as session:
        stored = session.get(ServerSecret, _KEY_NAME)
        if stored is not None:
            return stored.value
        session.add(ServerSecret(name=_KEY_NAME, value=new_secret()))
        try:
            session.commit()
        except IntegrityError:  # another process made it first
            session.rollback()
        stored = session.get(ServerSecret, _KEY_NAME)
        assert stored is not None
        return stored.value


def issue_access_token(*, user_id: int, key: str, now: datetime, minutes: int) -> str:
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, key, algorithm=_ALGORITHM)


def user_id_from_token(token: str, *, key: str) -> int | None:
    try:
        claims = jwt.decode(
            token, key, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]}
        )
        return int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError):
        return None
