"""Mobile JKN's calls under `/bpjs/fktp/{clinic_code}/` (each clinic registers its own base
URL with BPJS). Paths and headers are read by hand, so that no input reaches FastAPI's 422:
every refusal is BPJS's envelope (app/bpjs/inbound/messages.py). Not in the OpenAPI document:
this is BPJS's protocol, described in docs/bpjs.md, not the app's API."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.auth.passwords import verify_password
from app.bpjs.inbound import booking, queries, tokens, validation
from app.bpjs.inbound import context as c
from app.bpjs.inbound import messages as m
from app.bpjs.inbound.messages import Refusal, envelope, refused
from app.errors import RateLimited
from app.models import TicketStatus
from app.writer import Writer

router = APIRouter(prefix="/bpjs/fktp/{clinic_code}", include_in_schema=False)


@router.get("/auth")
async def token(clinic_code: str, request: Request) -> Response:
    """A token for x-username and x-password."""
    try:
        c.limit(request, clinic_code, auth=True)
    except RateLimited as exc:
        return c.too_many(exc)
    username, password = c.header(request, "x-username"), request.headers.get("x-password", "")
    if not username or not password:
        return refused(Refusal(m.CREDENTIALS_MISSING))
    bridge = await c.bridge_of(request, clinic_code)
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
        now=c.clock_of(request)(),
    )
    return envelope({"token": issued})


@router.get("/antrean/status/{kodepoli}/{tanggalperiksa}")
async def status(
    clinic_code: str, kodepoli: str, tanggalperiksa: str, request: Request
) -> Response:
    """The poli's day: numbers given, still waiting, and the one called last."""

    async def call() -> Response:
        bridge = await c.signed_in(request, clinic_code)
        poli = validation.poli(kodepoli)
        visit = validation.day(tanggalperiksa)
        validation.not_past(visit, c.today_of(request, bridge))
        service = c.service_of(await c.setup_of(request, bridge), poli)
        service_id = service.id or 0

        def read(session: Session) -> tuple[tuple[int, int], str]:
            return (
                queries.service_day(session, service_id, visit),
                queries.last_called(session, service_id, visit),
            )

        (given, waiting), called = await c.read(request, read)
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

    return await c.answer(request, clinic_code, call)


@router.post("/antrean")
async def take(clinic_code: str, request: Request) -> Response:
    """A booking: a ticket in the poli's service, for today or tomorrow."""

    async def call() -> Response:
        bridge = await c.signed_in(request, clinic_code)
        wanted = validation.booking(validation.json_object(await request.body()))
        validation.bookable(wanted.tanggalperiksa, c.today_of(request, bridge))
        setup = await c.setup_of(request, bridge)
        service = c.service_of(setup, wanted.kodepoli)
        known = wanted.norm is not None or await c.read(
            request, lambda s: queries.known_card(s, bridge.clinic_id, wanted.nomorkartu)
        )
        if not known:
            raise Refusal(m.NEW_PATIENT_MESSAGE, m.NEW_PATIENT)
        writer: Writer = request.app.state.writer
        clock = c.clock_of(request)

        def command(session: Session) -> dict[str, Any]:
            return booking.book(session, setup=setup, service=service, request=wanted, clock=clock)

        try:
            answer = await writer.arun(command, key=bridge.clinic_id)
        except booking.DayRolledOver:
            answer = await writer.arun(command, key=bridge.clinic_id)
        return envelope(answer)

    return await c.answer(request, clinic_code, call)


@router.get("/antrean/sisapeserta/{nomorkartu}/{kodepoli}/{tanggalperiksa}")
async def remaining(
    clinic_code: str, nomorkartu: str, kodepoli: str, tanggalperiksa: str, request: Request
) -> Response:
    """Where a card's booking stands: how many wait before it, and who was called last."""

    async def call() -> Response:
        bridge = await c.signed_in(request, clinic_code)
        card = validation.card(nomorkartu)
        poli = validation.poli(kodepoli)
        visit = validation.day(tanggalperiksa)
        validation.not_past(visit, c.today_of(request, bridge))
        setup = await c.setup_of(request, bridge)
        c.service_of(setup, poli)

        def read(session: Session) -> tuple[queries.Booked, int, str] | None:
            found = queries.booked(session, bridge.clinic_id, card, poli, visit)
            if found is None:
                return None
            ahead = queries.waiting_ahead(session, found)
            return found, ahead, queries.last_called(session, found.service_id, visit)

        read_back = await c.read(request, read)
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

    return await c.answer(request, clinic_code, call)


@router.put("/antrean/batal")
async def cancel(clinic_code: str, request: Request) -> Response:
    """Cancel a card's booking (the patient cancelled in Mobile JKN)."""

    async def call() -> Response:
        bridge = await c.signed_in(request, clinic_code)
        wanted = validation.cancellation(validation.json_object(await request.body()))
        writer: Writer = request.app.state.writer
        now = c.clock_of(request)()

        def command(session: Session) -> None:
            booking.cancel(session, clinic_id=bridge.clinic_id, request=wanted, now=now)

        await writer.arun(command, key=bridge.clinic_id)
        return envelope()

    return await c.answer(request, clinic_code, call)


@router.post("/peserta")
async def new_patient(clinic_code: str, request: Request) -> Response:
    """A new patient's identity: the card is noted so its booking goes through; the rest is
    not kept."""

    async def call() -> Response:
        bridge = await c.signed_in(request, clinic_code)
        number = validation.new_patient(validation.json_object(await request.body()))
        writer: Writer = request.app.state.writer
        now = c.clock_of(request)()

        def command(session: Session) -> None:
            booking.register_new_patient(
                session, clinic_id=bridge.clinic_id, nomorkartu=number, now=now
            )

        try:
            await writer.arun(command, key=bridge.clinic_id)
        except IntegrityError:
            pass  # the same card registered at the same moment by another process
        return envelope()

    return await c.answer(request, clinic_code, call)
