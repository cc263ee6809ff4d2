"""What the outbox reads of a ticket's BPJS booking: the fields every call repeats."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.models.bpjs import BpjsBooking, BpjsSettings


@dataclass(frozen=True, slots=True)
class BookingRef:
    nomorkartu: str
    kodepoli: str
    tanggalperiksa: date
    cancelled_by_bpjs: bool

    def body(self) -> dict[str, Any]:
        """The fields panggil and batal both send."""
        return {
            "tanggalperiksa": self.tanggalperiksa.isoformat(),
            "kodepoli": self.kodepoli,
            "nomorkartu": self.nomorkartu,
        }


def booking_refs(session: Session, ticket_ids: list[int]) -> dict[int, BookingRef]:
    """The bookings of these tickets, in clinics whose bridge is on (a clinic that turned it
    off sends BPJS nothing more)."""
    rows = session.execute(
        select(
            col(BpjsBooking.ticket_id),
            col(BpjsBooking.nomorkartu),
            col(BpjsBooking.kodepoli),
            col(BpjsBooking.tanggalperiksa),
            col(BpjsBooking.cancelled_by_bpjs),
        )
        .join(BpjsSettings, col(BpjsSettings.clinic_id) == col(BpjsBooking.clinic_id))
        .where(col(BpjsBooking.ticket_id).in_(ticket_ids), col(BpjsSettings.enabled))
    )
    return {
        ticket_id: BookingRef(nomorkartu, kodepoli, tanggalperiksa, bool(cancelled))
        for ticket_id, nomorkartu, kodepoli, tanggalperiksa, cancelled in rows
    }
