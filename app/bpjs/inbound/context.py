"""What every Mobile JKN call shares: the rate limits, reads on a worker thread, the token
check, and turning refusals into BPJS's envelope."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

from fastapi import Request, Response
from sqlmodel import Session

from app.auth.ratelimit import ClientRateLimit, address_key
from app.bpjs.inbound import messages as m
from app.bpjs.inbound import queries, tokens
from app.bpjs.inbound.messages import Refusal, envelope, refused
from app.bpjs.inbound.queries import Bridge
from app.clock import Clock
from app.db import open_session
from app.directory.setups import ClinicSetup
from app.errors import RateLimited
from app.models import Service
from app.queueing.errors import ClinicNotFound
from app.queueing.localday import local_date
from app.queueing.lookup import clinic_setup_from_memory

T = TypeVar("T")
MAX_CODE_LENGTH = 32


def _limits(request: Request) -> tuple[ClientRateLimit, ClientRateLimit]:
    """(every call, token requests): counted per client address and clinic."""
    state = request.app.state
    limits: tuple[ClientRateLimit, ClientRateLimit] | None = getattr(state, "bpjs_limits", None)
    if limits is None:
        settings = state.settings
        limits = state.bpjs_limits = (
            ClientRateLimit(settings.bpjs_rate, settings.redis_url, settings.redis_channel),
            ClientRateLimit(settings.bpjs_auth_rate, settings.redis_url, settings.redis_channel),
        )
    return limits


def limit(request: Request, clinic_code: str, *, auth: bool = False) -> None:
    address = request.client.host if request.client else "unknown"
    key = f"bpjs:{clinic_code.upper()[:MAX_CODE_LENGTH]}@{address_key(address)}"
    every, token = _limits(request)
    every.hit(key)
    if auth:
        token.hit(key)


def too_many(exc: RateLimited) -> Response:
    return envelope(
        message=m.TOO_MANY_MESSAGE,
        code=m.TOO_MANY,
        status_code=429,
        headers={"Retry-After": str(max(1, exc.retry_after_seconds))},
    )


async def read(request: Request, query: Callable[[Session], T]) -> T:
    """A read on a worker thread, in a session of its own."""

    def run() -> T:
        with open_session(request.app.state.engine, write=False) as session:
            return query(session)

    return await asyncio.to_thread(run)


async def bridge_of(request: Request, clinic_code: str) -> Bridge | None:
    if len(clinic_code) > MAX_CODE_LENGTH:
        return None
    return await read(request, lambda s: queries.bridge_of(s, clinic_code))


def header(request: Request, name: str) -> str:
    return request.headers.get(name, "").strip()


async def signed_in(request: Request, clinic_code: str) -> Bridge:
    """The clinic, once x-token and x-username are checked (else a refusal)."""
    token, username = header(request, "x-token"), header(request, "x-username")
    if not token or not username:
        raise Refusal(m.TOKEN_MISSING)
    bridge = await bridge_of(request, clinic_code)
    # The account as it is now: a token given to a username since changed opens nothing.
    if bridge is None or username.lower() != bridge.username:
        raise Refusal(m.TOKEN_INVALID)
    tokens.check_token(
        token,
        clinic_id=bridge.clinic_id,
        username=bridge.username,
        password_hash=bridge.password_hash,
        secret_key=request.app.state.signing_key,
        now=clock_of(request)(),
    )
    return bridge


def clock_of(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def today_of(request: Request, bridge: Bridge) -> date:
    return local_date(clock_of(request)(), bridge.timezone)


async def setup_of(request: Request, bridge: Bridge) -> ClinicSetup:
    try:
        return await clinic_setup_from_memory(request.app.state.setups, bridge.clinic_id)
    except ClinicNotFound:
        raise Refusal(m.TOKEN_INVALID) from None


def service_of(setup: ClinicSetup, kodepoli: str) -> Service:
    service = queries.service_of_poli(setup, kodepoli)
    if service is None or service.id is None:
        raise Refusal(m.POLI_NOT_FOUND)
    return service


async def answer(
    request: Request, clinic_code: str, call: Callable[[], Awaitable[Response]]
) -> Response:
    """Rate-limit, run the call, and turn its refusals into BPJS's envelope."""
    try:
        limit(request, clinic_code)
        return await call()
    except RateLimited as exc:
        return too_many(exc)
    except Refusal as refusal:
        return refused(refusal)
