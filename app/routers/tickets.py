"""Tickets: taking one, reading it, and the staff actions on it."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import Field
from pydantic_core import to_json
from sqlmodel import Session

from app.auth import permissions, secrets
from app.auth.deps import Principal, PrincipalDep
from app.clock import Clock, ClockDep
from app.db import SessionDep
from app.errors import Forbidden, Unauthorized
from app.models import Channel, Ticket
from app.models.ticket import TicketCreate, TicketCreated, TicketPublic, TransferRequest
from app.queueing import actions
from app.queueing.events import Actor
from app.queueing.idempotency import MIN_KEY_LENGTH, IdempotencyKey
from app.queueing.issue import take_ticket
from app.queueing.lookup import clinic_setup, clinic_setup_from_memory, get_ticket, service_in
from app.queueing.queries import ticket_answer, ticket_view
from app.queueing.rows import TicketRow
from app.routers.hot import BEARER, HeaderParam, caller, openapi_extra
from app.routers.params import API_PREFIX, IdPath, TicketIdPath
from app.writer import Command, Writer, WriterDep

router = APIRouter(tags=["tickets"])
# Routes matched before every other one (app/main.py), with their whole path.
busiest = APIRouter(prefix=API_PREFIX, tags=["tickets"])

TokenQuery = Annotated[str | None, Query(max_length=128, description="The ticket's own token")]
TokenHeader = Annotated[str | None, Header(max_length=128, alias="X-Ticket-Token")]
IDEMPOTENCY_KEY = HeaderParam(
    "Idempotency-Key",
    Annotated[
        str | None,
        Field(min_length=MIN_KEY_LENGTH, max_length=200, pattern=r"^[\x21-\x7e]+$"),
    ],
    "A random string (a UUID) per request; a retry sends the same",
)


def _channel_for(principal: Principal | None, clinic_id: int) -> Channel:
    """Kiosks and staff of the clinic take tickets; anyone else only as a phone patient."""
    if principal is None:
        return Channel.phone
    if permissions.is_kiosk_of(principal, clinic_id):
        return Channel.kiosk
    if principal.user is not None and permissions.is_staff_of(principal, clinic_id):
        return Channel.staff
    raise Forbidden("Only this clinic's kiosks and staff can take tickets here")


def _scope(principal: Principal | None, client_address: str) -> str:
    """Whose keys these are: a device's, a user's, or the phones' at one client address."""
    if principal is not None and principal.device is not None:
        return f"device:{principal.device.id}"
    if principal is not None and principal.user is not None:
        return f"user:{principal.user.id}"
    return f"phone:{client_address}"


@busiest.post(
    "/clinics/{clinic_id}/tickets",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketCreated,
    openapi_extra=openapi_extra(IDEMPOTENCY_KEY.openapi, BEARER),
)
async def create_ticket(clinic_id: IdPath, data: TicketCreate, request: Request) -> Response:
    """Take a ticket for a service. The response carries the ticket's token, shown only here."""
    # The busiest route: on the event loop from end to end (setup and sign-in from memory, the
    # writer awaited), and the answer, built by the command, is sent as it is. The caller,
    # the Idempotency-Key, the clock and the writer are read here rather than declared:
    # FastAPI's resolving costs more than the route's own work (app/routers/hot.py).
    principal = await caller(request)
    idempotency_key = IDEMPOTENCY_KEY.read(request)
    state = request.app.state
    clock: Clock = state.clock
    writer: Writer = state.writer
    setup = await clinic_setup_from_memory(state.setups, clinic_id)
    clinic = setup.clinic
    channel = _channel_for(principal, clinic_id)
    client_address = request.client.host if request.client else "unknown"
    if channel is Channel.phone:
        if not clinic.allow_remote_tickets:
            raise Forbidden("This clinic does not take tickets from phones")
        state.remote_rate_limit.hit(client_address)
    idempotency = None
    if idempotency_key is not None:
        idempotency = IdempotencyKey.for_ticket(
            scope=_scope(principal, client_address),
            key=idempotency_key,
            clinic_id=clinic_id,
            service_id=data.service_id,
            priority=data.priority,
        )
    created = await take_ticket(
        writer,
        setup=setup,
        service_id=data.service_id,
        priority=data.priority,
        channel=channel,
        actor=principal.actor if principal else Actor(),
        clock=clock,
        idempotency=idempotency,
    )
    return json_answer(created, status.HTTP_201_CREATED)


def _holder_or_staff(
    ticket: TicketRow | Ticket, principal: Principal | None, token: str | None
) -> Actor:
    """The ticket's own token (the patient), or staff of its clinic."""
    if token is not None:
        if not secrets.matches(token, ticket.token_digest):
            raise Unauthorized("Wrong ticket token")
        return Actor()
    if principal is None:
        raise Unauthorized("A ticket token or a staff login is required")
    permissions.require_staff(principal, ticket.clinic_id)
    return principal.actor


def _patient_or_staff(principal: Principal | None, token: str | None) -> actions.Authorize:
    return lambda ticket: _holder_or_staff(ticket, principal, token)


def _staff(principal: Principal | None) -> actions.Authorize:
    """Staff of the ticket's clinic (a signed-in user is checked at once)."""
    permissions.require_user(principal)
    assert principal is not None

    def authorize(ticket: TicketRow) -> Actor:
        permissions.require_staff(principal, ticket.clinic_id)
        return principal.actor

    return authorize


def json_answer(answer: dict[str, Any], status_code: int = status.HTTP_200_OK) -> Response:
    """An answer built by a command, sent as it is (the route's `response_model` documents
    it; validating it again would cost more than building it)."""
    return Response(to_json(answer), status_code=status_code, media_type="application/json")


def acted_answer(acted: actions.Acted) -> dict[str, Any]:
    return ticket_answer(acted.ticket, acted.setup.clinic.timezone, acted.position, acted.estimate)


@router.get("/tickets/{ticket_id}", response_model=TicketPublic)
def read_ticket(
    ticket_id: TicketIdPath,
    session: SessionDep,
    principal: PrincipalDep,
    token: TokenQuery = None,
    x_ticket_token: TokenHeader = None,
) -> TicketPublic:
    """A ticket with its position and estimated wait (ticket token, or staff of the clinic)."""
    ticket = get_ticket(session, ticket_id)
    _holder_or_staff(ticket, principal, token or x_ticket_token)
    setup = clinic_setup(session, ticket.clinic_id)
    return ticket_view(
        session,
        ticket,
        setup.clinic,
        service_in(session, setup, ticket.service_id),
        counters=setup.counters_serving(ticket.service_id),
    )


@router.post("/tickets/{ticket_id}/cancel", response_model=TicketPublic)
async def cancel_ticket(
    ticket_id: TicketIdPath,
    principal: PrincipalDep,
    writer: WriterDep,
    clock: ClockDep,
    token: TokenQuery = None,
    x_ticket_token: TokenHeader = None,
) -> Response:
    """Cancel a waiting ticket (the patient with its token, or staff)."""
    authorize = _patient_or_staff(principal, token or x_ticket_token)
    command = _acting(actions.cancel, ticket_id, authorize, clock)
    return json_answer(await writer.arun(command, key=_writer_key(principal, ticket_id)))


StaffAction = Callable[..., actions.Acted]


def _writer_key(principal: Principal | None, ticket_id: int) -> int:
    """The clinic a command acts in, as far as the caller tells (staff act in their own
    clinic), so that the writer batches it with its clinic's other commands."""
    if principal is not None and principal.user is not None and principal.user.clinic_id:
        return principal.user.clinic_id
    return ticket_id


def _acting(
    action: StaffAction, ticket_id: int, authorize: actions.Authorize, clock: Clock, **extra: int
) -> Command[dict[str, Any]]:
    """The writer's command: the action (which asks `authorize` once it has read the ticket,
    so the route holds no database connection while it waits), then the answer built from
    what it did."""

    def command(session: Session) -> dict[str, Any]:
        acted = action(session, ticket_id=ticket_id, authorize=authorize, now=clock(), **extra)
        return acted_answer(acted)

    return command


@router.post("/tickets/{ticket_id}/recall", response_model=TicketPublic)
async def recall(
    ticket_id: TicketIdPath, principal: PrincipalDep, writer: WriterDep, clock: ClockDep
) -> Response:
    """Call a called ticket again (the display repeats it)."""
    command = _acting(actions.recall, ticket_id, _staff(principal), clock)
    return json_answer(await writer.arun(command, key=_writer_key(principal, ticket_id)))


@router.post("/tickets/{ticket_id}/start", response_model=TicketPublic)
async def start(
    ticket_id: TicketIdPath, principal: PrincipalDep, writer: WriterDep, clock: ClockDep
) -> Response:
    """The patient has arrived at the counter: service begins."""
    command = _acting(actions.start, ticket_id, _staff(principal), clock)
    return json_answer(await writer.arun(command, key=_writer_key(principal, ticket_id)))


@router.post("/tickets/{ticket_id}/complete", response_model=TicketPublic)
async def complete(
    ticket_id: TicketIdPath, principal: PrincipalDep, writer: WriterDep, clock: ClockDep
) -> Response:
    """Service done."""
    command = _acting(actions.complete, ticket_id, _staff(principal), clock)
    return json_answer(await writer.arun(command, key=_writer_key(principal, ticket_id)))


@router.post("/tickets/{ticket_id}/no-show", response_model=TicketPublic)
async def no_show(
    ticket_id: TicketIdPath, principal: PrincipalDep, writer: WriterDep, clock: ClockDep
) -> Response:
    """The called patient did not come."""
    command = _acting(actions.no_show, ticket_id, _staff(principal), clock)
    return json_answer(await writer.arun(command, key=_writer_key(principal, ticket_id)))


@router.post("/tickets/{ticket_id}/requeue", response_model=TicketPublic)
async def requeue(
    ticket_id: TicketIdPath, principal: PrincipalDep, writer: WriterDep, clock: ClockDep
) -> Response:
    """A no-show patient turned up late: back into the queue."""
    command = _acting(actions.requeue, ticket_id, _staff(principal), clock)
    return json_answer(await writer.arun(command, key=_writer_key(principal, ticket_id)))


@router.post("/tickets/{ticket_id}/transfer", response_model=TicketPublic)
async def transfer(
    ticket_id: TicketIdPath,
    data: TransferRequest,
    principal: PrincipalDep,
    writer: WriterDep,
    clock: ClockDep,
) -> Response:
    """Send the ticket (same code) to another service's queue."""
    command = _acting(
        actions.transfer, ticket_id, _staff(principal), clock, service_id=data.service_id
    )
    return json_answer(await writer.arun(command, key=_writer_key(principal, ticket_id)))
