"""Loading the rows the rules act on, with row locks where a change follows."""

import asyncio

from sqlmodel import Session, col, select

from app.directory.setups import SETUPS_INFO, ClinicSetup, Setups, read_setup
from app.models import Clinic, Counter, CounterService, Service, Ticket
from app.queueing.errors import (
    ClinicNotFound,
    CounterNotFound,
    ServiceNotFound,
    ServiceOfOtherClinic,
    TicketNotFound,
)


def clinic_setup(session: Session, clinic_id: int) -> ClinicSetup:
    """The clinic with its services and counters: from the process's memory when the session
    has it (app.directory.setups), else read through the session. Read-only."""
    setups: Setups | None = session.info.get(SETUPS_INFO)
    setup = setups.clinic(clinic_id) if setups is not None else read_setup(session, clinic_id)
    if setup is None:
        raise ClinicNotFound()
    return setup


async def clinic_setup_from_memory(setups: Setups, clinic_id: int) -> ClinicSetup:
    """`clinic_setup` for the event loop: from memory, or read on a worker thread."""
    setup = setups.clinic(clinic_id, load=False)
    if setup is None:
        setup = await asyncio.to_thread(setups.clinic, clinic_id)
    if setup is None:
        raise ClinicNotFound()
    return setup


async def counter_setup_from_memory(setups: Setups, counter_id: int) -> ClinicSetup:
    """The setup of the counter's clinic for the event loop: from memory, or read on a worker
    thread (404 for an unknown counter)."""
    setup = setups.of_counter(counter_id, load=False)
    if setup is None:
        setup = await asyncio.to_thread(setups.of_counter, counter_id)
    if setup is None:
        raise CounterNotFound()
    return setup


def counter_setup(session: Session, counter_id: int) -> ClinicSetup:
    """The setup of the counter's clinic (404 for an unknown counter)."""
    setups: Setups | None = session.info.get(SETUPS_INFO)
    if setups is not None:
        setup = setups.of_counter(counter_id)
    else:
        counter = session.get(Counter, counter_id)
        setup = read_setup(session, counter.clinic_id) if counter is not None else None
    if setup is None:
        raise CounterNotFound()
    return setup


def service_in(session: Session, setup: ClinicSetup, service_id: int) -> Service:
    """One of the clinic's services (read-only); 404 when there is none with this id, and
    ServiceOfOtherClinic when it belongs to another clinic."""
    service = setup.services.get(service_id)
    if service is None:
        if session.get(Service, service_id) is None:
            raise ServiceNotFound()
        raise ServiceOfOtherClinic()
    return service


def get_clinic(session: Session, clinic_id: int) -> Clinic:
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise ClinicNotFound()
    return clinic


def get_service(session: Session, service_id: int) -> Service:
    service = session.get(Service, service_id)
    if service is None:
        raise ServiceNotFound()
    return service


def get_counter(session: Session, counter_id: int, *, lock: bool = False) -> Counter:
    statement = select(Counter).where(col(Counter.id) == counter_id)
    if lock:
        # FOR NO KEY UPDATE: rows that reference the counter (events, tickets) take KEY SHARE
        # on it, which a plain FOR UPDATE would block, deadlocking with a ticket action.
        statement = statement.with_for_update(key_share=True)
    counter = session.exec(statement.execution_options(populate_existing=True)).first()
    if counter is None:
        raise CounterNotFound()
    return counter


def get_ticket(session: Session, ticket_id: int, *, lock: bool = False) -> Ticket:
    statement = select(Ticket).where(col(Ticket.id) == ticket_id)
    if lock:
        statement = statement.with_for_update(key_share=True)
    ticket = session.exec(statement.execution_options(populate_existing=True)).first()
    if ticket is None:
        raise TicketNotFound()
    return ticket


def counter_service_ids(session: Session, counter_id: int) -> list[int]:
    statement = (
        select(CounterService.service_id)
        .where(col(CounterService.counter_id) == counter_id)
        .order_by(col(CounterService.service_id))
    )
    return list(session.exec(statement))
