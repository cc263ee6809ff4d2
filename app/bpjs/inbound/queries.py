"""What the inbound routes read: the clinic and its bridge, the service of a poli code, a
card's booking, and a poli's numbers for a day."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, col

from app.directory.setups import ClinicSetup
from app.models import Clinic, DailySequence, Service, Ticket, TicketStatus
from app.models.bpjs import BpjsBooking, BpjsNewPatient, BpjsSettings


@dataclass(frozen=True, slots=True)
class Bridge:
    """A clinic whose bridge is on, with the account BPJS signs in with."""

    clinic_id: int
    timezone: str
    username: str
    password_hash: str


@dataclass(frozen=True, slots=True)
class Booked:
    """A card's booking and where its ticket is now."""

    booking_id: int
    ticket_id: int
    service_id: int
    code: str
    status: TicketStatus
    queue_key: datetime
    visit_date: date


def bridge_of(session: Session, clinic_code: str) -> Bridge | None:
    """The clinic of this code if its bridge is on and has its account set."""
    row = session.execute(
        select(
            col(Clinic.id),
            col(Clinic.timezone),
            col(BpjsSettings.username),
            col(BpjsSettings.password_hash),
        )
        .join(BpjsSettings, col(BpjsSettings.clinic_id) == col(Clinic.id))
        .where(col(Clinic.code) == clinic_code.upper(), col(BpjsSettings.enabled))
    ).first()
    if row is None or row[2] is None or row[3] is None:
        return None
    return Bridge(int(row[0]), row[1], row[2], row[3])


def service_of_poli(setup: ClinicSetup, kodepoli: str) -> Service | None:
    for service in setup.services.values():
        if service.bpjs_poli_code == kodepoli:
            return service
    return None


def booked(
    session: Session, clinic_id: int, nomorkartu: str, kodepoli: str, visit: date
) -> Booked | None:
    """The card's booking for the poli and day: the one still standing if any, else the
    latest."""
    cancelled = col(Ticket.status) == TicketStatus.cancelled
    row = session.execute(
        select(
            col(BpjsBooking.id),
            col(Ticket.id),
            col(Ticket.service_id),
            col(Ticket.code),
            col(Ticket.status),
            col(Ticket.queue_key),
            col(Ticket.visit_date),
        )
        .join(Ticket, col(Ticket.id) == col(BpjsBooking.ticket_id))
        .where(
            col(BpjsBooking.clinic_id) == clinic_id,
            col(BpjsBooking.nomorkartu) == nomorkartu,
            col(BpjsBooking.kodepoli) == kodepoli,
            col(BpjsBooking.tanggalperiksa) == visit,
        )
        .order_by(cancelled, col(BpjsBooking.id).desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return Booked(int(row[0]), int(row[1]), int(row[2]), row[3], row[4], row[5], row[6])


def known_card(session: Session, clinic_id: int, nomorkartu: str) -> bool:
    """The clinic has seen this card: registered as a new patient, or booked before."""
    registered = session.get(BpjsNewPatient, (clinic_id, nomorkartu)) is not None
    if registered:
        return True
    earlier = session.execute(
        select(col(BpjsBooking.id))
        .where(col(BpjsBooking.clinic_id) == clinic_id, col(BpjsBooking.nomorkartu) == nomorkartu)
        .limit(1)
    ).first()
    return earlier is not None


def service_day(session: Session, service_id: int, visit: date) -> tuple[int, int]:
    """(numbers given, tickets waiting) of the service's day."""
    day = session.get(DailySequence, (service_id, visit))
    return (0, 0) if day is None else (day.last_number, day.waiting)


def last_called(session: Session, service_id: int, visit: date) -> str:
    """The code of the service's most recently called ticket of the day ("" before any)."""
    code = session.execute(
        select(col(Ticket.code))
        .where(
            col(Ticket.service_id) == service_id,
            col(Ticket.visit_date) == visit,
            col(Ticket.called_at).is_not(None),
        )
        .order_by(col(Ticket.called_at).desc(), col(Ticket.id).desc())
        .limit(1)
    ).scalar()
    return code or ""


def waiting_ahead(session: Session, booking: Booked) -> int:
    """Waiting tickets called before this one in its service (0 once it is no longer waiting)."""
    if booking.status is not TicketStatus.waiting:
        return 0
    key, ticket_id = booking.queue_key, booking.ticket_id
    count = session.execute(
        select(func.count())
        .select_from(Ticket)
        .where(
            col(Ticket.service_id) == booking.service_id,
            col(Ticket.visit_date) == booking.visit_date,
            col(Ticket.status) == TicketStatus.waiting,
            or_(
                col(Ticket.queue_key) < key,
                and_(col(Ticket.queue_key) == key, col(Ticket.id) < ticket_id),
            ),
        )
    ).scalar()
    return int(count or 0)
