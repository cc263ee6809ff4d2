"""Who is calling: a staff user (JWT), a device (device key) or nobody."""

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import secrets
from app.auth.tokens import user_id_from_token
from app.db import SessionDep
from app.errors import Unauthorized
from app.models import Device, User
from app.models.types import MAX_ID
from app.queueing.events import Actor

DEVICE_KEY_PREFIX = "dk_"

_bearer = HTTPBearer(auto_error=False, description="Staff access token or device key")


@dataclass(frozen=True)
class Principal:
    user: User | None = None
    device: Device | None = None

    @property
    def actor(self) -> Actor:
        return Actor(
            user_id=self.user.id if self.user else None,
            device_id=self.device.id if self.device else None,
        )


def device_key(device_id: int, secret: str) -> str:
    return f"{DEVICE_KEY_PREFIX}{device_id}_{secret}"


_DEVICE_KEY = re.compile(rf"^{DEVICE_KEY_PREFIX}([0-9]{{1,10}})_(.+)$")


def _device_from_key(session: SessionDep, key: str) -> Device | None:
    match = _DEVICE_KEY.match(key)
    if match is None or int(match.group(1)) > MAX_ID:
        return None
    device_id, secret = int(match.group(1)), match.group(2)
    device = session.get(Device, device_id)
    if device is None or device.revoked_at is not None:
        secrets.matches(secret, "0" * 64)  # same work either way
        return None
    return device if secrets.matches(secret, device.key_digest) else None


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """None without credentials; 401 for credentials that are wrong or no longer valid."""
    if credentials is None:
        return None
    token = credentials.credentials
    if token.startswith(DEVICE_KEY_PREFIX):
        device = _device_from_key(session, token)
        if device is None:
            raise Unauthorized("Invalid device key")
        return Principal(device=device)
    user_id = user_id_from_token(token, key=request.app.state.signing_key)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active:
        raise Unauthorized("Invalid or expired token")
    return Principal(user=user)


PrincipalDep = Annotated[Principal | None, Depends(get_principal)]
