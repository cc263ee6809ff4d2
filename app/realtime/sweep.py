"""The end-of-day sweep: at each clinic's local midnight its open tickets expire, and its
displays are told (one `ticket.expired` message per ticket)."""

import asyncio
import logging
from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from app.clock import Clock
from app.db import open_session
from app.queueing.expiry import clinics_with_ended_days, expire_stale_tickets
from app.queueing.lookup import get_clinic
from app.realtime.hub import Hub, Message
from app.realtime.publish import committed_messages

log = logging.getLogger(__name__)

Publish = Callable[[list[Message]], None]


def sweep_once(engine: Engine, clock: Clock, publish: Publish) -> int:
    """Expire every clinic's ended-day tickets, one clinic per transaction, publishing each
    clinic's expiries as soon as they commit. Returns how many tickets expired."""
    with open_session(engine, write=False) as session:
        clinic_ids = clinics_with_ended_days(session, clock())
    expired = 0
    for clinic_id in clinic_ids:
        try:
            with open_session(engine, write=True) as session:
                now = clock()
                expired += len(
                    expire_stale_tickets(session, clinic=get_clinic(session, clinic_id), now=now)
                )
                session.commit()
                publish(committed_messages(session, engine, now))
        except Exception:  # one clinic's trouble must not keep the others' displays stale
            log.exception("end-of-day sweep failed for clinic %s", clinic_id)
    return expired


async def sweep_forever(engine: Engine, clock: Clock, hub: Hub, every_seconds: float) -> None:
    while True:
        try:
            await run_in_threadpool(sweep_once, engine, clock, hub.publish_threadsafe)
        except Exception:  # a database hiccup must not end the sweeps
            log.exception("end-of-day sweep failed")
        await asyncio.sleep(every_seconds)
