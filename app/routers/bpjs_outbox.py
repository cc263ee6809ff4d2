"""The BPJS outbox of a clinic: what was sent to BPJS, what waits, what BPJS refused."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.auth.access import ClinicAdminOf, Manager, require_clinic_admin_of
from app.bpjs.outbox import admin
from app.clock import ClockDep
from app.db import SessionDep
from app.models import OutboxState
from app.models.bpjs_outbox import OutboxItemPublic, OutboxPage
from app.models.types import MAX_BIG_ID
from app.queueing.lookup import get_clinic
from app.routers.params import IdPath, TicketIdPath
from app.writer import WriterDep

router = APIRouter(tags=["bpjs"])

PAGE_LIMIT = 200


@router.get("/clinics/{clinic_id}/bpjs/outbox", response_model=OutboxPage)
def list_outbox(
    clinic_id: IdPath,
    session: SessionDep,
    _by: ClinicAdminOf,
    state: OutboxState | None = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_BIG_ID, description="Rows older than this one")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT)] = 50,
) -> OutboxPage:
    """The clinic's calls to BPJS, newest first, with counts by state; card numbers masked
    (admin, the clinic's clinic_admin)."""
    get_clinic(session, clinic_id)
    return admin.list_outbox(session, clinic_id, state=state, before_id=before_id, limit=limit)


@router.post("/bpjs/outbox/{outbox_id}/retry", response_model=OutboxItemPublic)
async def retry_outbox_row(
    outbox_id: TicketIdPath,
    user: Manager,
    writer: WriterDep,
    clock: ClockDep,
    request: Request,
) -> OutboxItemPublic:
    """Send a row that BPJS refused once more, now (admin, the row's clinic's clinic_admin)."""
    now = clock()
    retried = await writer.arun(
        lambda s: admin.retry(
            s,
            outbox_id=outbox_id,
            authorize=lambda clinic_id: require_clinic_admin_of(user, clinic_id),
            now=now,
        )
    )
    request.app.state.bpjs_outbox.wake()
    return retried
