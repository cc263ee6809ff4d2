"""Counters of a clinic, and calling the next patient to one."""

from typing import Any

from fastapi import APIRouter, Request, Response, status
from sqlmodel import Session

from app.auth.access import ClinicAdminOf, ClinicAdminOfCounter, StaffAtCounter
from app.clock import Clock
from app.db import SessionDep
from app.directory import counters
from app.models.counter import CounterCreate, CounterPublic, CounterUpdate
from app.models.ticket import TicketPublic
from app.queueing import actions
from app.queueing.lookup import (
    counter_service_ids,
    get_clinic,
    get_counter,
)
from app.queueing.queries import clinic_counters
from app.routers.hot import BEARER
from app.routers.params import API_PREFIX, IdPath
from app.routers.tickets import acted_answer, json_answer
from app.writer import Writer, WriterDep

router = APIRouter(tags=["counters"])
# Routes matched before every other one (app/main.py), with their whole path.
busiest = APIRouter(prefix=API_PREFIX, tags=["counters"])


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
    _by: ClinicAdminOf,
    writer: WriterDep,
) -> CounterPublic:
    """Add a counter (admin, clinic_admin)."""
    get_clinic(session, clinic_id)

    def command(session: Session) -> CounterPublic:
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
    _by: ClinicAdminOfCounter,
    writer: WriterDep,
) -> CounterPublic:
    """Rename a counter or change the services it calls from (admin, clinic_admin)."""

    def command(session: Session) -> CounterPublic:
        return counters.update_counter(session, get_counter(session, counter_id), patch)

    return writer.run(command)


@busiest.post(
    "/counters/{counter_id}/call-next",
    response_model=TicketPublic,
    responses={204: {"description": "Nobody is waiting; the counter keeps its ticket"}},
    openapi_extra=BEARER,
)
async def call_next(counter_id: IdPath, staff: StaffAtCounter, request: Request) -> Response:
    """Call the next patient to this counter, completing the ticket it holds first (staff of
    the counter's clinic)."""
    # A busy route: on the event loop from end to end (sign-in and the counter's clinic from
    # memory, the writer awaited), the answer built by the command; the clock and writer read
    # here, as for taking a ticket (app/routers/hot.py).
    state = request.app.state
    clock: Clock = state.clock
    writer: Writer = state.writer
    actor = staff.actor

    def command(session: Session) -> dict[str, Any] | None:
        acted = actions.call_next(session, counter_id=counter_id, actor=actor, now=clock())
        return None if acted is None else acted_answer(acted)

    called = await writer.arun(command, key=staff.setup.clinic_id)
    if called is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return json_answer(called)
