"""Counters of a clinic, and calling the next patient to one."""

from fastapi import APIRouter, Response, status
from sqlmodel import Session

from app.after_commit import note_clinic_changed
from app.auth import permissions
from app.auth.deps import PrincipalDep
from app.clock import ClockDep
from app.db import SessionDep
from app.directory import counters
from app.models.counter import CounterCreate, CounterPublic, CounterUpdate
from app.models.ticket import TicketPublic
from app.queueing import actions
from app.queueing.expiry import expire_stale_tickets, has_stale_tickets
from app.queueing.lookup import counter_service_ids, counter_setup, get_clinic, get_counter
from app.queueing.queries import clinic_counters
from app.routers.params import IdPath
from app.routers.tickets import ticket_answer
from app.writer import WriterDep

router = APIRouter(tags=["counters"])


@router.get("/clinics/{clinic_id}/counters", response_model=list[CounterPublic])
def list_counters(clinic_id: IdPath, session: SessionDep) -> list[CounterPublic]:
    """The clinic's counters with the services each calls from."""
    get_clinic(session, clinic_id)
    return [counters.counter_public(c, ids) for c, ids in clinic_counters(session, clinic_id)]


@router.post(
    "/clinics/{clinic_id}/counters",
    status_code=status.HTTP_201_CREATED,
    response_model=CounterPublic,
)
def create_counter(
    clinic_id: IdPath,
    data: CounterCreate,
    session: SessionDep,
    principal: PrincipalDep,
    writer: WriterDep,
) -> CounterPublic:
    """Add a counter (admin, clinic_admin)."""
    permissions.require_user(principal)
    get_clinic(session, clinic_id)
    permissions.require_clinic_admin(principal, clinic_id)

    def command(session: Session) -> CounterPublic:
        note_clinic_changed(session, clinic_id)
        return counters.create_counter(session, clinic_id, data)

    return writer.run(command)


@router.get("/counters/{counter_id}", response_model=CounterPublic)
def read_counter(counter_id: IdPath, session: SessionDep) -> CounterPublic:
    """One counter."""
    counter = get_counter(session, counter_id)
    return counters.counter_public(counter, counter_service_ids(session, counter_id))


@router.patch("/counters/{counter_id}", response_model=CounterPublic)
def update_counter(
    counter_id: IdPath,
    patch: CounterUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    writer: WriterDep,
) -> CounterPublic:
    """Rename a counter or change the services it calls from."""
    permissions.require_user(principal)
    clinic_id = get_counter(session, counter_id).clinic_id
    permissions.require_clinic_admin(principal, clinic_id)

    def command(session: Session) -> CounterPublic:
        note_clinic_changed(session, clinic_id)
        return counters.update_counter(session, get_counter(session, counter_id), patch)

    return writer.run(command)


@router.post(
    "/counters/{counter_id}/call-next",
    response_model=TicketPublic,
    responses={204: {"description": "Nobody is waiting; the counter keeps its ticket"}},
)
def call_next(
    counter_id: IdPath,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    writer: WriterDep,
) -> TicketPublic | Response:
    """Call the next patient to this counter, completing the ticket it holds first."""
    permissions.require_user(principal)
    setup = counter_setup(session, counter_id)
    permissions.require_staff(principal, setup.clinic_id)
    assert principal is not None
    actor, clinic_id = principal.actor, setup.clinic_id
    if has_stale_tickets(session, clinic=setup.clinic, now=clock()):
        # Yesterday's leftovers expire in a transaction of their own, so that call-next takes no
        # ticket lock after it has taken the clinic's event sequence (see queueing/events.py).
        writer.run(lambda s: expire_stale_tickets(s, clinic=get_clinic(s, clinic_id), now=clock()))

    def command(session: Session) -> TicketPublic | None:
        ticket = actions.call_next(session, counter_id=counter_id, actor=actor, now=clock())
        if ticket is None:
            return None
        return ticket_answer(session, ticket)

    called = writer.run(command)
    if called is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return called
