"""Mobile JKN's calls under `/bpjs/fktp/{clinic_code}/` (each clinic registers its own base
URL with BPJS). Paths and headers are read by hand, so that no input reaches FastAPI's 422:
every refusal is BPJS's envelope (app/bpjs/inbound/messages.py). Not in the OpenAPI document:
this is BPJS's protocol, described in docs/bpjs.md, not the app's API."""

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.auth.passwords import verify_password
from app.auth.ratelimit import ClientRateLimit, address_key
from app.bpjs.inbound import booking, queries, tokens, validation
from app.bpjs.inbound import messages as m
from app.bpjs.inbound.messages import Refusal, envelope, refused
from app.bpjs.inbound.queries import Bridge
from app.clock import Clock
from app.db import open_session
from app.directory.setups import ClinicSetup
from app.errors import RateLimited
from app.models import Service, TicketStatus
from app.queueing.errors import ClinicNotFound
from app.queueing.localday import local_date
from app.queueing.lookup import clinic_setup_from_memory
from app.writer import Writer

router = APIRouter(prefix="/bpjs/fktp/{clinic_code}", include_in_schema=False)
T = TypeVar("T")
MAX_CODE_LENGTH = 32


# --- what every call shares ----------------------------------------------------------------


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


def _limit(request: Request, clinic_code: str, *, auth: bool = False) -> None:
    address = request.client.host if request.client else "unknown"
    key = f"bpjs:{clinic_code.upper()[:MAX_CODE_LENGTH]}@{address_key(address)}"
    every, token = _limits(request)
    every.hit(key)
    if auth:
        token.hit(key)


def _too_many(exc: RateLimited) -> Response:
    return envelope(
        message=m.TOO_MANY_MESSAGE,
        code=m.TOO_MANY,
        status_code=429,
        headers={"Retry-After": str(max(1, exc.retry_after_seconds))},
    )


async def _read(request: Request, query: Callable[[Session], T]) -> T:
    """A read on a worker thread, in a session of its own."""

    def run() -> T:
        with open_session(request.app.state.engine, write=False) as session:
            return query(session)

    return await asyncio.to_thread(run)


async def _bridge(request: Request, clinic_code: str) -> Bridge | None:
    if len(clinic_code) > MAX_CODE_LENGTH:
        return None
    return await _read(request, lambda s: queries.bridge_of(s, clinic_code))


def _header(request: Request, name: str) -> str:
    return request.headers.get(name, "").strip()


async def _signed_in(request: Request, clinic_code: str) -> Bridge:
    """The clinic, once x-token and x-username are checked (else a refusal)."""
    token, username = _header(request, "x-token"), _header(request, "x-username")
    if not token or not username:
        raise Refusal(m.TOKEN_MISSING)
    bridge = await _bridge(request, clinic_code)
    if bridge is None:
        raise Refusal(m.TOKEN_INVALID)
    tokens.check_token(
        token,
        clinic_id=bridge.clinic_id,
        username=username.lower(),
        password_hash=bridge.password_hash,
        secret_key=request.app.state.signing_key,
        now=_clock(request)(),
    )
    return bridge


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def _today(request: Request, bridge: Bridge) -> date:
    return local_date(_clock(request)(), bridge.timezone)


async def _setup(request: Request, bridge: Bridge) -> ClinicSetup:
    try:
        return await clinic_setup_from_memory(request.app.state.setups, bridge.clinic_id)
    except ClinicNotFound:
        raise Refusal(m.TOKEN_INVALID) from None


def _service(setup: ClinicSetup, kodepoli: str) -> Service:
    service = queries.service_of_poli(setup, kodepoli)
    if service is None or service.id is None:
        raise Refusal(m.POLI_NOT_FOUND)
    return service


async def _answer(request: Request, clinic_code: str, call: Callable[[], Any]) -> Response:
    """Rate-limit, run the call, and turn its refusals into BPJS's envelope."""
    try:
        _limit(request, clinic_code)
        result = await call()
    except RateLimited as exc:
        return _too_many(exc)
    except Refusal as refusal:
        return refused(refusal)
    assert isinstance(result, Response)
    return result


# --- the calls -----------------------------------------------------------------------------


@router.get("/auth")
async def token(clinic_code: str, request: Request) -> Response:
    """A token for x-username and x-password."""
    try:
        _limit(request, clinic_code, auth=True)
    except RateLimited as exc:
        return _too_many(exc)
    username, password = _header(request, "x-username"), request.headers.get("x-password", "")
    if not username or not password:
        return refused(Refusal(m.CREDENTIALS_MISSING))
    bridge = await _bridge(request, clinic_code)
    expected = bridge.password_hash if bridge else None
    # Verified even when there is no such clinic or account, so both take the same time.
    right = await asyncio.to_thread(verify_password, password, expected)
    if bridge is None or not right or username.lower() != bridge.username:
        return refused(Refusal(m.WRONG_CREDENTIALS))
    issued = tokens.issue_token(
        clinic_id=bridge.clinic_id,
        username=bridge.username,
        password_hash=bridge.password_hash,
        secret_key=request.app.state.signing_key,
        now=_clock(request)(),
    )
    return envelope({"token": issued})


@router.get("/antrean/status/{kodepoli}/{tanggalperiksa}")
async def status(
    clinic_code: str, kodepoli: str, tanggalperiksa: str, request: Request
) -> Response:
    """The poli's day: numbers given, still waiting, and the one called last."""

    async def call() -> Response:
        bridge = await _signed_in(request, clinic_code)
        poli = validation.poli(kodepoli)
        visit = validation.day(tanggalperiksa)
        validation.not_past(visit, _today(request, bridge))
        service = _service(await _setup(request, bridge), poli)
        service_id = service.id or 0

        def read(session: Session) -> tuple[tuple[int, int], str]:
            return (
                queries.service_day(session, service_id, visit),
                queries.last_called(session, service_id, visit),
            )

        (given, waiting), called = await _read(request, read)
        entry = {
            "namapoli": service.name,
            "totalantrean": str(given),
            "sisaantrean": waiting,
            "antreanpanggil": called,
            "keterangan": "" if service.is_open else m.POLI_CLOSED,
            # Antrean queues by poli, not by doctor: one entry, no doctor.
            "kodedokter": "",
            "namadokter": "",
            "jampraktek": "",
        }
        return envelope([entry])

    return await _answer(request, clinic_code, call)


@router.post("/antrean")
async def take(clinic_code: str, request: Request) -> Response:
    """A booking: a ticket in the poli's service, for today or tomorrow."""

    async def call() -> Response:
        bridge = await _signed_in(request, clinic_code)
        wanted = validation.booking(validation.json_object(await request.body()))
        validation.bookable(wanted.tanggalperiksa, _today(request, bridge))
        setup = await _setup(request, bridge)
        service = _service(setup, wanted.kodepoli)
        known = wanted.norm is not None or await _read(
            request, lambda s: queries.known_card(s, bridge.clinic_id, wanted.nomorkartu)
        )
        if not known:
            raise Refusal(m.NEW_PATIENT_MESSAGE, m.NEW_PATIENT)
        writer: Writer = request.app.state.writer
        clock = _clock(request)

        def command(session: Session) -> dict[str, Any]:
            return booking.book(session, setup=setup, service=service, request=wanted, clock=clock)

        try:
            answer = await writer.arun(command, key=bridge.clinic_id)
        except booking.DayRolledOver:
            answer = await writer.arun(command, key=bridge.clinic_id)
        return envelope(answer)

    return await _answer(request, clinic_code, call)


@router.get("/antrean/sisapeserta/{nomorkartu}/{kodepoli}/{tanggalperiksa}")
async def remaining(
    clinic_code: str, nomorkartu: str, kodepoli: str, tanggalperiksa: str, request: Request
) -> Response:
    """Where a card's booking stands: how many wait before it, and who was called last."""

    async def call() -> Response:
        bridge = await _signed_in(request, clinic_code)
        card = validation.card(nomorkartu)
        poli = validation.poli(kodepoli)
        visit = validation.day(tanggalperiksa)
        validation.not_past(visit, _today(request, bridge))
        setup = await _setup(request, bridge)
        _service(setup, poli)

        def read(session: Session) -> tuple[queries.Booked, int, str] | None:
            found = queries.booked(session, bridge.clinic_id, card, poli, visit)
            if found is None:
                return None
            ahead = queries.waiting_ahead(session, found)
            return found, ahead, queries.last_called(session, found.service_id, visit)

        read_back = await _read(request, read)
        if read_back is None or read_back[0].status is TicketStatus.cancelled:
            raise Refusal(m.NOT_FOUND)
        found, ahead, called = read_back
        service = setup.services.get(found.service_id)
        answer = {
            "nomorantrean": found.code,
            "namapoli": service.name if service else "",
            "sisaantrean": ahead,
            "antreanpanggil": called,
            "keterangan": "",
        }
        return envelope(answer)

    return await _answer(request, clinic_code, call)


@router.put("/antrean/batal")
async def cancel(clinic_code: str, request: Request) -> Response:
    """Cancel a card's booking (the patient cancelled in Mobile JKN)."""

    async def call() -> Response:
        bridge = await _signed_in(request, clinic_code)
        wanted = validation.cancellation(validation.json_object(await request.body()))
        writer: Writer = request.app.state.writer
        now = _clock(request)()

        def command(session: Session) -> None:
            booking.cancel(session, clinic_id=bridge.clinic_id, request=wanted, now=now)

        await writer.arun(command, key=bridge.clinic_id)
        return envelope()

    return await _answer(request, clinic_code, call)


@router.post("/peserta")
async def new_patient(clinic_code: str, request: Request) -> Response:
    """A new patient's identity: the card is noted so its booking goes through; the rest is
    not kept."""

    async def call() -> Response:
        bridge = await _signed_in(request, clinic_code)
        number = validation.new_patient(validation.json_object(await request.body()))
        writer: Writer = request.app.state.writer
        now = _clock(request)()

        def command(session: Session) -> None:
            booking.register_new_patient(
                session, clinic_id=bridge.clinic_id, nomorkartu=number, now=now
            )

        try:
            await writer.arun(command, key=bridge.clinic_id)
        except IntegrityError:
            pass  # the same card registered at the same moment by another process
        return envelope()

    return await _answer(request, clinic_code, call)
