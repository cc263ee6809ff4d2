"""The writer's commands for Mobile JKN: a booking becomes a ticket (with its link to the
card in the same transaction), a cancellation goes through the queue's own cancel, and a new
patient's card is noted."""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.bpjs.inbound import messages as m
from app.bpjs.inbound.messages import Refusal
from app.bpjs.inbound.queries import booked, last_called
from app.bpjs.inbound.validation import BookingRequest, CancelRequest
from app.clock import Clock
from app.directory.setups import ClinicSetup
from app.models import Channel, Priority, Service, TicketStatus
from app.models.bpjs import BpjsBooking, BpjsNewPatient
from app.queueing import actions, events
from app.queueing.errors import IllegalTransition, QuotaFull, ServiceClosed, TransferOnlyService
from app.queueing.issue import DayRolledOver, issue_ticket
from app.queueing.rows import TicketRow

__all__ = ["DayRolledOver", "book", "cancel", "register_new_patient"]

SERVED = (TicketStatus.called, TicketStatus.serving, TicketStatus.done)


def book(
    session: Session,
    *,
    setup: ClinicSetup,
    service: Service,
    request: BookingRequest,
    clock: Clock,
) -> dict[str, Any]:
    """Issue the ticket and link it to the card, or refuse (nothing written)."""
    assert service.id is not None
    try:
        ticket = issue_ticket(
            session,
            setup=setup,
            service_id=service.id,
            priority=Priority.none,
            channel=Channel.bpjs,
            actor=events.SYSTEM,
            clock=clock,
            booked_for=request.tanggalperiksa,
        )
    except (ServiceClosed, TransferOnlyService):
        raise Refusal(m.POLI_CLOSED) from None
    except QuotaFull:
        raise Refusal(m.QUOTA_FULL) from None
    # Checked after the number is taken: on PostgreSQL the number's row lock orders two
    # bookings of one poli and day, so the second sees the first's link once it commits.
    # Refusing here rolls back the number and the ticket with it.
    earlier = booked(
        session, setup.clinic_id, request.nomorkartu, request.kodepoli, request.tanggalperiksa
    )
    if earlier is not None and earlier.status is not TicketStatus.cancelled:
        raise Refusal(m.ONCE_ONLY)
    session.add(
        BpjsBooking(
            ticket_id=ticket["id"],
            clinic_id=setup.clinic_id,
            nomorkartu=request.nomorkartu,
            kodepoli=request.kodepoli,
            tanggalperiksa=ticket["visit_date"],
            norm=request.norm,
            from_mobile_jkn=True,
        )
    )
    session.flush()
    return {
        "nomorantrean": ticket["code"],
        "angkaantrean": ticket["number"],
        "namapoli": service.name,
        "sisaantrean": ticket["position"],
        "antreanpanggil": last_called(session, service.id, ticket["visit_date"]),
        "keterangan": m.BOOKED_NOTE,
    }


def cancel(session: Session, *, clinic_id: int, request: CancelRequest, now: datetime) -> None:
    """Cancel the card's booking through the queue's cancel, noting that BPJS asked (so the
    outbox does not report it back to BPJS)."""
    found = booked(session, clinic_id, request.nomorkartu, request.kodepoli, request.tanggalperiksa)
    if found is None:
        raise Refusal(m.NOT_FOUND)
    if found.status is TicketStatus.cancelled:
        raise Refusal(m.ALREADY_CANCELLED)
    if found.status in SERVED:
        raise Refusal(m.ALREADY_SERVED)
    link = session.get(BpjsBooking, found.booking_id)
    assert link is not None
    link.cancelled_by_bpjs = True
    session.add(link)
    session.flush()

    def by_bpjs(ticket: TicketRow) -> events.Actor:
        if ticket.clinic_id != clinic_id:  # a link always names its clinic's ticket
            raise Refusal(m.NOT_FOUND)
        return events.SYSTEM

    try:
        actions.cancel(session, ticket_id=found.ticket_id, authorize=by_bpjs, now=now)
    except IllegalTransition:
        raise Refusal(m.CANNOT_CANCEL) from None


def register_new_patient(
    session: Session, *, clinic_id: int, nomorkartu: str, now: datetime
) -> None:
    """Note the card (once); its identity is not kept."""
    if session.get(BpjsNewPatient, (clinic_id, nomorkartu)) is None:
        session.add(BpjsNewPatient(clinic_id=clinic_id, nomorkartu=nomorkartu, registered_at=now))
        session.flush()
