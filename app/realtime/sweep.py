"""The sweeps: at each clinic's local midnight its open tickets expire, and its displays are
told (one `ticket.expired` message per ticket, through the after-commit pipeline); answers
kept for Idempotency-Key retries are dropped once they are older than the retry window."""

import asyncio
import logging

from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from app.clock import Clock
from app.db import open_session
from app.queueing.expiry import clinics_with_ended_days, expire_stale_tickets
from app.queueing.idempotency import forget_old_answers
from app.queueing.lookup import get_clinic
from app.writer import Writer

log = logging.getLogger(__name__)


def sweep_once(writer: Writer, clock: Clock) -> int:
    """Expire every clinic's ended-day tickets, one clinic per command. Returns how many
    tickets expired."""
    with open_session(writer.engine, write=False) as session:
        clinic_ids = clinics_with_ended_days(session, clock())
    expired = 0
    for clinic_id in clinic_ids:

        def expire(session: Session, clinic_id: int = clinic_id) -> int:
            clinic = get_clinic(session, clinic_id)
            return len(expire_stale_tickets(session, clinic=clinic, now=clock()))

        try:
            expired += writer.run(expire, key=clinic_id)
        except Exception:  # one clinic's trouble must not keep the others' displays stale
            log.exception("end-of-day sweep failed for clinic %s", clinic_id)
    return expired


def forget_old_answers_once(writer: Writer, clock: Clock, keep_hours: int) -> int:
    return writer.run(
        lambda session: forget_old_answers(session, now=clock(), keep_hours=keep_hours)
    )


async def sweep_forever(
    writer: Writer, clock: Clock, every_seconds: float, idempotency_hours: int
) -> None:
    while True:
        try:
            await run_in_threadpool(sweep_once, writer, clock)
            await run_in_threadpool(forget_old_answers_once, writer, clock, idempotency_hours)
        except Exception:  # a database hiccup must not end the sweeps
            log.exception("sweep failed")
        await asyncio.sleep(every_seconds)
