"""The outbox as the clinic admin sees and handles it: the list (card numbers masked) and the
retry of a row BPJS refused."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from app.errors import Conflict, NotFound
from app.models import BpjsOutbox, OutboxState
from app.models.bpjs_outbox import OutboxItemPublic, OutboxPage

VISIBLE_DIGITS = 4


class OutboxRowNotFound(NotFound):
    code = "outbox_row_not_found"
    detail = "No BPJS outbox row with this id"


class OutboxRowNotFailed(Conflict):
    code = "outbox_row_not_failed"
    detail = "Only a failed row can be retried: this one is still on its way or delivered"


def mask(number: str) -> str:
    """A card number with all but its last digits hidden (enough to tell two patients apart
    at the counter, not enough to use the card)."""
    shown = number[-VISIBLE_DIGITS:] if len(number) > VISIBLE_DIGITS else ""
    return "*" * (len(number) - len(shown)) + shown


def public(row: BpjsOutbox) -> OutboxItemPublic:
    assert row.id is not None
    payload: dict[str, Any] = row.payload
    unfinished = row.state in (OutboxState.pending, OutboxState.sending)
    return OutboxItemPublic(
        id=row.id,
        ticket_id=row.ticket_id,
        ticket_code=row.ticket_code,
        kind=row.kind,
        status=row.status,
        nomorkartu=mask(str(payload.get("nomorkartu", ""))),
        tanggalperiksa=str(payload.get("tanggalperiksa", "")),
        kodepoli=str(payload.get("kodepoli", "")),
        state=row.state,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at if unfinished else None,
        delivered_at=row.delivered_at,
        last_error=row.last_error,
    )


def list_outbox(
    session: Session,
    clinic_id: int,
    *,
    state: OutboxState | None,
    before_id: int | None,
    limit: int,
) -> OutboxPage:
    """The clinic's rows, newest first (`before_id`: the next page), with counts by state."""
    query = select(BpjsOutbox).where(col(BpjsOutbox.clinic_id) == clinic_id)
    if state is not None:
        query = query.where(col(BpjsOutbox.state) == state)
    if before_id is not None:
        query = query.where(col(BpjsOutbox.id) < before_id)
    rows = session.execute(query.order_by(col(BpjsOutbox.id).desc()).limit(limit)).scalars()
    counted = session.execute(
        select(col(BpjsOutbox.state), func.count())
        .where(col(BpjsOutbox.clinic_id) == clinic_id)
        .group_by(col(BpjsOutbox.state))
    ).all()
    counts = dict.fromkeys(OutboxState, 0)
    counts.update({OutboxState(found): int(n) for found, n in counted})
    return OutboxPage(items=[public(row) for row in rows], counts=counts)


def clinic_of_row(session: Session, outbox_id: int) -> int:
    clinic_id = session.execute(
        select(col(BpjsOutbox.clinic_id)).where(col(BpjsOutbox.id) == outbox_id)
    ).scalar()
    if clinic_id is None:
        raise OutboxRowNotFound()
    return int(clinic_id)


def retry(
    session: Session,
    *,
    outbox_id: int,
    authorize: Callable[[int], None],
    now: datetime,
) -> OutboxItemPublic:
    """A failed row goes back to pending, due now (a writer command). `authorize` is given the
    row's clinic and raises when the caller may not act there."""
    authorize(clinic_of_row(session, outbox_id))
    changed = session.execute(
        update(BpjsOutbox)
        .where(col(BpjsOutbox.id) == outbox_id, col(BpjsOutbox.state) == OutboxState.failed)
        .values(state=OutboxState.pending, next_attempt_at=now, lease_until=None)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise OutboxRowNotFailed()
    row = session.get(BpjsOutbox, outbox_id, populate_existing=True)
    assert row is not None
    return public(row)
