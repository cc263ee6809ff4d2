"""What the outbox reads of a ticket's BPJS booking: the fields every call repeats."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from app.models import BpjsOutbox, OutboxKind
from app.models.bpjs import BpjsBooking, BpjsSettings
from app.prepared import Prepared


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


def _booking_query(_dialect: str) -> Any:
    outbox: Any = BpjsOutbox.__table__  # type: ignore[attr-defined]
    last_panggil = (
        select(outbox.c.status)
        .where(
            outbox.c.ticket_id == col(BpjsBooking.ticket_id),
            outbox.c.kind == OutboxKind.panggil,
        )
        .order_by(outbox.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            col(BpjsBooking.nomorkartu),
            col(BpjsBooking.kodepoli),
            col(BpjsBooking.tanggalperiksa),
            col(BpjsBooking.cancelled_by_bpjs),
            last_panggil,
        )
        .join(BpjsSettings, col(BpjsSettings.clinic_id) == col(BpjsBooking.clinic_id))
        .where(col(BpjsBooking.ticket_id) == bindparam("ticket_id"), col(BpjsSettings.enabled))
    )


# Run on the driver like the rest of the write path (app/prepared.py): it runs inside the
# queue's transaction, for every event of a BPJS ticket.
_BOOKING = Prepared(_booking_query)


def booking_ref(session: Session, ticket_id: int) -> tuple[BookingRef, int | None] | None:
    """The ticket's booking, in a clinic whose bridge is on (a clinic that turned it off sends
    BPJS nothing more), with the status of the latest panggil already in the outbox."""
    row = _BOOKING.first(session, {"ticket_id": ticket_id})
    if row is None:
        return None
    nomorkartu, kodepoli, tanggalperiksa, cancelled, last_status = row
    return BookingRef(nomorkartu, kodepoli, tanggalperiksa, bool(cancelled)), last_status
