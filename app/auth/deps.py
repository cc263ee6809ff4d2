"""Who is calling: a staff user (JWT), a device (device key) or nobody."""

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import HTTPConnection

from app.auth import secrets
from app.auth.tokens import user_id_from_token
from app.directory.accounts import Accounts, DeviceAccount, StaffAccount
from app.errors import InvalidCredentials
from app.models.types import MAX_ID
from app.queueing.events import Actor

DEVICE_KEY_PREFIX = "dk_"


@dataclass(frozen=True)
class Principal:
    user: StaffAccount | None = None
    device: DeviceAccount | None = None

    @property
    def actor(self) -> Actor:
        return Actor(
            user_id=self.user.id if self.user else None,
            device_id=self.device.id if self.device else None,
        )


def device_key(device_id: int, secret: str) -> str:
    return f"{DEVICE_KEY_PREFIX}{device_id}_{secret}"


_DEVICE_KEY = re.compile(rf"^{DEVICE_KEY_PREFIX}([0-9]{{1,10}})_(.+)$")


class _NotInMemory(Exception):
    """The account is not in memory: resolve again where waiting on the database is fine."""


def _device_from_key(accounts: Accounts, key: str, *, load: bool) -> DeviceAccount | None:
    match = _DEVICE_KEY.match(key)
    if match is None or int(match.group(1)) > MAX_ID:
        return None
    device_id, secret = int(match.group(1)), match.group(2)
    device = accounts.device(device_id, load=load)
    if device is None and not load:
        raise _NotInMemory()
    if device is None or device.revoked:
        secrets.matches(secret, "0" * 64)  # same work either way
        return None
    return device if secrets.matches(secret, device.key_digest) else None


def get_accounts(request: HTTPConnection) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def _resolve(request: HTTPConnection, token: str, *, load: bool) -> Principal:
    accounts = get_accounts(request)
    if token.startswith(DEVICE_KEY_PREFIX):
        device = _device_from_key(accounts, token, load=load)
        if device is None:
            raise InvalidCredentials("Invalid device key")
        return Principal(device=device)
    user_id = user_id_from_token(token, key=request.app.state.signing_key)
    user = accounts.user(user_id, load=load) if user_id is not None else None
    if user is None and user_id is not None and not load:
        raise _NotInMemory()
    if user is None or not user.is_active:
        raise InvalidCredentials("Invalid or expired token")
    return Principal(user=user)


class _BearerPrincipal(HTTPBearer):
    """Who is calling, from `Authorization: Bearer …`: None without credentials, 401 for
    credentials that are wrong or no longer valid. One dependency, which is also the OpenAPI
    security scheme: FastAPI resolves each dependency at a cost, and an HTTPBearer feeding
    another dependency cost the hot routes some 30 µs a request (measured)."""

    async def __call__(self, request: HTTPConnection) -> Principal | None:  # type: ignore[override]
        authorization = request.headers.get("Authorization")
        scheme, token = get_authorization_scheme_param(authorization)
        if not (authorization and scheme and token) or scheme.lower() != "bearer":
            return None
        # Accounts and devices come from memory (app.directory.accounts): no query, no writer,
        # on the event loop; only an account not yet in memory is read, on a worker thread.
        try:
            return _resolve(request, token, load=False)
        except _NotInMemory:
            return await run_in_threadpool(_resolve, request, token, load=True)


get_principal = _BearerPrincipal(
    auto_error=False, scheme_name="HTTPBearer", description="Staff access token or device key"
)

PrincipalDep = Annotated[Principal | None, Depends(get_principal)]
