"""Tickets: taking one, reading it, and the staff actions on it."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, status
from pydantic import Field
from pydantic_core import to_json
from sqlmodel import Session

from app.auth.access import TicketAccess, TicketHolderOrStaff, TicketStaff, TicketTaker
from app.clock import Clock, ClockDep
from app.db import SessionDep
from app.models.ticket import TicketCreate, TicketCreated, TicketPublic, TransferRequest
from app.queueing import actions
from app.queueing.estimate_now import shared_counters
from app.queueing.idempotency import MIN_KEY_LENGTH, IdempotencyKey
from app.queueing.issue import take_ticket
from app.queueing.lookup import clinic_setup, get_ticket, service_in
from app.queueing.queries import ticket_answer, ticket_view
from app.routers.hot import BEARER_OR_NONE, HeaderParam, openapi_extra
from app.routers.params import API_PREFIX, IdPath, TicketIdPath
from app.writer import Command, Writer, WriterDep

router = APIRouter(tags=["tickets"])
# Routes matched before every other one (app/main.py), with their whole path.
busiest = APIRouter(prefix=API_PREFIX, tags=["tickets"])

# The patient's ticket token (a parameter) stands instead of a login: OpenAPI's empty
# requirement, added to the login's that the caller's dependency declares.
TOKEN_INSTEAD: dict[str, Any] = {"security": [{}]}
IDEMPOTENCY_KEY = HeaderParam(
    "Idempotency-Key",
    Annotated[
        str | None,
        Field(min_length=MIN_KEY_LENGTH, max_length=200, pattern=r"^[\x21-\x7e]+$"),
    ],
    "A random string (a UUID) per request; a retry sends the same",
)


@busiest.post(
    "/clinics/{clinic_id}/tickets",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketCreated,
    openapi_extra=openapi_extra(IDEMPOTENCY_KEY.openapi, BEARER_OR_NONE),
)
async def create_ticket(
    clinic_id: IdPath, data: TicketCreate, taker: TicketTaker, request: Request
) -> Response:
    """Take a ticket for a service: a kiosk or staff of the clinic, or anyone from a phone
    where the clinic allows it (rate-limited). The response carries the ticket's token, shown
    only here."""
    # The busiest route: on the event loop from end to end (setup and sign-in from memory, the
    # writer awaited), and the answer, built by the command, is sent as it is. The
    # Idempotency-Key, the clock and the writer are read here rather than declared: FastAPI's
    # resolving costs more than the route's own work (app/routers/hot.py).
    idempotency_key = IDEMPOTENCY_KEY.read(request)
    state = request.app.state
    clock: Clock = state.clock
    writer: Writer = state.writer
    idempotency = None
    if idempotency_key is not None:
        idempotency = IdempotencyKey.for_ticket(
            scope=taker.scope,
            key=idempotency_key,
            clinic_id=clinic_id,
            service_id=data.service_id,
            priority=data.priority,
        )
    created = await take_ticket(
        writer,
        setup=taker.setup,
        service_id=data.service_id,
        priority=data.priority,
        channel=taker.channel,
        actor=taker.actor,
        clock=clock,
        idempotency=idempotency,
    )
    return json_answer(created, status.HTTP_201_CREATED)


def json_answer(answer: dict[str, Any], status_code: int = status.HTTP_200_OK) -> Response:
    """An answer built by a command, sent as it is (the route's `response_model` documents
    it; validating it again would cost more than building it)."""
    return Response(to_json(answer), status_code=status_code, media_type="application/json")


def acted_answer(acted: actions.Acted) -> dict[str, Any]:
    return ticket_answer(acted.ticket, acted.setup.clinic.timezone, acted.position, acted.estimate)


@router.get("/tickets/{ticket_id}", response_model=TicketPublic, openapi_extra=TOKEN_INSTEAD)
def read_ticket(
    ticket_id: TicketIdPath, session: SessionDep, authorize: TicketHolderOrStaff, clock: ClockDep
) -> TicketPublic:
    """A ticket with its position and estimated wait (ticket token, or staff of the clinic)."""
    ticket = get_ticket(session, ticket_id)
    authorize(ticket)
    setup = clinic_setup(session, ticket.clinic_id)
    return ticket_view(
        session,
        ticket,
        setup.clinic,
        service_in(session, setup, ticket.service_id),
        counters=shared_counters(setup, ticket.service_id),
        now=clock(),
    )


@router.post(
    "/tickets/{ticket_id}/cancel", response_model=TicketPublic, openapi_extra=TOKEN_INSTEAD
)
async def cancel_ticket(
    ticket_id: TicketIdPath, authorize: TicketHolderOrStaff, writer: WriterDep, clock: ClockDep
) -> Response:
    """Cancel a waiting ticket (the patient with its token, or staff)."""
    command = _acting(actions.cancel, ticket_id, authorize, clock)
    return json_answer(await writer.arun(command, key=authorize.writer_key(ticket_id)))


StaffAction = Callable[..., actions.Acted]


def _acting(
    action: StaffAction, ticket_id: int, authorize: TicketAccess, clock: Clock, **extra: int
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
    ticket_id: TicketIdPath, authorize: TicketStaff, writer: WriterDep, clock: ClockDep
) -> Response:
    """Call a called ticket again (the display repeats it)."""
    command = _acting(actions.recall, ticket_id, authorize, clock)
    return json_answer(await writer.arun(command, key=authorize.writer_key(ticket_id)))


@router.post("/tickets/{ticket_id}/start", response_model=TicketPublic)
async def start(
    ticket_id: TicketIdPath, authorize: TicketStaff, writer: WriterDep, clock: ClockDep
) -> Response:
    """The patient has arrived at the counter: service begins."""
    command = _acting(actions.start, ticket_id, authorize, clock)
    return json_answer(await writer.arun(command, key=authorize.writer_key(ticket_id)))


@router.post("/tickets/{ticket_id}/complete", response_model=TicketPublic)
async def complete(
    ticket_id: TicketIdPath, authorize: TicketStaff, writer: WriterDep, clock: ClockDep
) -> Response:
    """Service done."""
    command = _acting(actions.complete, ticket_id, authorize, clock)
    return json_answer(await writer.arun(command, key=authorize.writer_key(ticket_id)))


@router.post("/tickets/{ticket_id}/no-show", response_model=TicketPublic)
async def no_show(
    ticket_id: TicketIdPath, authorize: TicketStaff, writer: WriterDep, clock: ClockDep
) -> Response:
    """The called patient did not come."""
    command = _acting(actions.no_show, ticket_id, authorize, clock)
    return json_answer(await writer.arun(command, key=authorize.writer_key(ticket_id)))


@router.post("/tickets/{ticket_id}/requeue", response_model=TicketPublic)
async def requeue(
    ticket_id: TicketIdPath, authorize: TicketStaff, writer: WriterDep, clock: ClockDep
) -> Response:
    """A no-show patient turned up late: back into the queue."""
    command = _acting(actions.requeue, ticket_id, authorize, clock)
    return json_answer(await writer.arun(command, key=authorize.writer_key(ticket_id)))


@router.post("/tickets/{ticket_id}/transfer", response_model=TicketPublic)
async def transfer(
    ticket_id: TicketIdPath,
    data: TransferRequest,
    authorize: TicketStaff,
    writer: WriterDep,
    clock: ClockDep,
) -> Response:
    """Send the ticket (same code) to another service's queue."""
    command = _acting(actions.transfer, ticket_id, authorize, clock, service_id=data.service_id)
    return json_answer(await writer.arun(command, key=authorize.writer_key(ticket_id)))
