"""The clinic's live queue, readable by anyone (codes only, no personal data)."""

from fastapi import APIRouter

from app.clock import ClockDep
from app.db import SessionDep
from app.models.queue import QueueSnapshot
from app.queueing.lookup import get_clinic
from app.queueing.queries import queue_snapshot
from app.routers.params import IdPath

router = APIRouter(tags=["queue"])


@router.get("/clinics/{clinic_id}/queue", response_model=QueueSnapshot)
def read_queue(clinic_id: IdPath, session: SessionDep, clock: ClockDep) -> QueueSnapshot:
    """Per service the waiting codes in call order; per counter the ticket it holds."""
    return queue_snapshot(session, get_clinic(session, clinic_id), clock())
