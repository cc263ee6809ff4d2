"""Tickets: taking one, reading it, and the staff actions on it."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
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
from app.queueing.queries import ticket_view
from app.routers.params import IdPath, TicketIdPath
from app.writer import Command, Writer, WriterDep

router = APIRouter(tags=["tickets"])

TokenQuery = Annotated[str | None, Query(max_length=128, description="The ticket's own token")]
TokenHeader = Annotated[str | None, Header(max_length=128, alias="X-Ticket-Token")]
IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=MIN_KEY_LENGTH,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="A random string (a UUID) per request; a retry sends the same",
    ),
]


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


@router.post(
    "/clinics/{clinic_id}/tickets",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketCreated,
)
async def create_ticket(
    clinic_id: IdPath,
    data: TicketCreate,
    request: Request,
    principal: PrincipalDep,
    clock: ClockDep,
    writer: WriterDep,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    """Take a ticket for a service. The response carries the ticket's token, shown only here."""
    # The hot route: on the event loop from end to end (setup and sign-in from memory, the
    # writer awaited), and the answer, built by the command, is sent as it is.
    setup = await clinic_setup_from_memory(request.app.state.setups, clinic_id)
    clinic = setup.clinic
    channel = _channel_for(principal, clinic_id)
    client_address = request.client.host if request.client else "unknown"
    if channel is Channel.phone:
        if not clinic.allow_remote_tickets:
            raise Forbidden("This clinic does not take tickets from phones")
        request.app.state.remote_rate_limit.hit(client_address)
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
        idempotency_hours=request.app.state.settings.idempotency_hours,
    )
    return Response(
        created.model_dump_json(),
        status_code=status.HTTP_201_CREATED,
        media_type="application/json",
    )


def _authorize_patient_or_staff(
    ticket: Ticket, principal: Principal | None, token: str | None
) -> Actor:
    if token is not None:
        if not secrets.matches(token, ticket.token_digest):
            raise Unauthorized("Wrong ticket token")
        return Actor()
    if principal is None:
        raise Unauthorized("A ticket token or a staff login is required")
    permissions.require_staff(principal, ticket.clinic_id)
    return principal.actor


def ticket_answer(session: Session, ticket: Ticket) -> TicketPublic:
    """The ticket with its position and estimate; the clinic's setup from memory, and inside a
    command that just queued the ticket, its position without counting the queue."""
    setup = clinic_setup(session, ticket.clinic_id)
    return ticket_view(
        session,
        ticket,
        setup.clinic,
        service_in(session, setup, ticket.service_id),
        waiting=actions.waiting_after(session, ticket),
        counters=setup.counters_serving(ticket.service_id),
    )


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
    _authorize_patient_or_staff(ticket, principal, token or x_ticket_token)
    return ticket_answer(session, ticket)


@router.post("/tickets/{ticket_id}/cancel", response_model=TicketPublic)
def cancel_ticket(
    ticket_id: TicketIdPath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    writer: WriterDep,
    token: TokenQuery = None,
    x_ticket_token: TokenHeader = None,
) -> TicketPublic:
    """Cancel a waiting ticket (the patient with its token, or staff)."""
    ticket = get_ticket(session, ticket_id)
    actor = _authorize_patient_or_staff(ticket, principal, token or x_ticket_token)
    return writer.run(_acting(actions.cancel, ticket_id, actor, clock))


StaffAction = Callable[..., Ticket]


def _acting(
    action: StaffAction, ticket_id: int, actor: Actor, clock: Clock, **extra: int
) -> Command[TicketPublic]:
    """The writer's command: the action, then the answer built in the same transaction."""

    def command(session: Session) -> TicketPublic:
        changed = action(session, ticket_id=ticket_id, actor=actor, now=clock(), **extra)
        return ticket_answer(session, changed)

    return command


def _staff_action(
    action: StaffAction,
    ticket_id: int,
    session: Session,
    principal: Principal | None,
    clock: ClockDep,
    writer: Writer,
    **extra: int,
) -> TicketPublic:
    permissions.require_user(principal)
    ticket = get_ticket(session, ticket_id)
    permissions.require_staff(principal, ticket.clinic_id)
    assert principal is not None
    return writer.run(_acting(action, ticket_id, principal.actor, clock, **extra))


@router.post("/tickets/{ticket_id}/recall", response_model=TicketPublic)
def recall(
    ticket_id: TicketIdPath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    writer: WriterDep,
) -> TicketPublic:
    """Call a called ticket again (the display repeats it)."""
    return _staff_action(actions.recall, ticket_id, session, principal, clock, writer)


@router.post("/tickets/{ticket_id}/start", response_model=TicketPublic)
def start(
    ticket_id: TicketIdPath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    writer: WriterDep,
) -> TicketPublic:
    """The patient has arrived at the counter: service begins."""
    return _staff_action(actions.start, ticket_id, session, principal, clock, writer)


@router.post("/tickets/{ticket_id}/complete", response_model=TicketPublic)
def complete(
    ticket_id: TicketIdPath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    writer: WriterDep,
) -> TicketPublic:
    """Service done."""
    return _staff_action(actions.complete, ticket_id, session, principal, clock, writer)


@router.post("/tickets/{ticket_id}/no-show", response_model=TicketPublic)
def no_show(
    ticket_id: TicketIdPath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    writer: WriterDep,
) -> TicketPublic:
    """The called patient did not come."""
    return _staff_action(actions.no_show, ticket_id, session, principal, clock, writer)


@router.post("/tickets/{ticket_id}/requeue", response_model=TicketPublic)
def requeue(
    ticket_id: TicketIdPath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    writer: WriterDep,
) -> TicketPublic:
    """A no-show patient turned up late: back into the queue."""
    return _staff_action(actions.requeue, ticket_id, session, principal, clock, writer)


@router.post("/tickets/{ticket_id}/transfer", response_model=TicketPublic)
def transfer(
    ticket_id: TicketIdPath,
    data: TransferRequest,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    writer: WriterDep,
) -> TicketPublic:
    """Send the ticket (same code) to another service's queue."""
    return _staff_action(
        actions.transfer, ticket_id, session, principal, clock, writer, service_id=data.service_id
    )
