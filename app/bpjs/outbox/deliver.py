"""One delivery pass over the outbox: claim what is due, send it, settle how each call ended.

`deliver_due(now)` is the worker's whole job, driven by the app's clock, so a test can walk an
hour of BPJS being down in a few calls. A pass claims, sends the claimed rows side by side (at
most `concurrency` calls at once), settles them, and claims again while the last round freed
rows (a ticket's next row waits for its previous one): it ends when nothing due is left, or
only rows that just failed for a while.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from app.bpjs.outbox.claims import Claimed, Settled, claim_due, settle
from app.bpjs.outcome import Delivered, Outcome, Rejected, Transient
from app.models import OutboxKind, OutboxState

log = logging.getLogger(__name__)

# Sends one row's call to BPJS for its clinic: how the call ended.
Sender = Callable[[int, OutboxKind, dict[str, Any]], Awaitable[Outcome[Any]]]

CLAIM_BATCH = 50
CONCURRENCY = 8
# A pass that keeps finding rows (a backlog of thousands) yields after this many rounds, so
# the periodic wake-up keeps its pace and the process's shutdown is never held up long.
MAX_ROUNDS = 100


def settled(claimed: Claimed, outcome: Outcome[Any]) -> Settled:
    """What an outcome makes of the row: BPJS's refusal stays failed until someone retries it;
    a refusal BPJS itself says is for later, and any transient failure, go back to pending."""
    if isinstance(outcome, Delivered):
        return Settled(claimed, OutboxState.delivered)
    if isinstance(outcome, Rejected):
        message = f"{outcome.code}: {outcome.message}"
        state = OutboxState.pending if outcome.retryable else OutboxState.failed
        return Settled(claimed, state, message)
    assert isinstance(outcome, Transient)
    return Settled(claimed, OutboxState.pending, f"{outcome.reason}: {outcome.detail}")


class Delivery:
    """The outbox's sending side over one database (`engine`) and one way to call BPJS."""

    def __init__(
        self,
        engine: Engine,
        sender: Sender,
        *,
        batch: int = CLAIM_BATCH,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.engine = engine
        self.sender = sender
        self.batch = batch
        self.concurrency = concurrency

    async def deliver_due(self, now: datetime) -> int:
        """Send every row due at `now`, in order per ticket: how many attempts were made."""
        attempts = 0
        claimed = await asyncio.to_thread(claim_due, self.engine, now, limit=self.batch)
        for _ in range(MAX_ROUNDS):
            if not claimed:
                break
            outcomes = await self._send_all(claimed)
            attempts += len(claimed)
            # Claim again only when this round may have freed a ticket's next row (or there
            # may be more due than one batch): a round that only failed for a while frees none.
            again = len(claimed) == self.batch or any(
                outcome.state is not OutboxState.pending for outcome in outcomes
            )
            claimed = await asyncio.to_thread(
                settle, self.engine, outcomes, now, claim_next=self.batch if again else 0
            )
        return attempts

    async def _send_all(self, claimed: list[Claimed]) -> list[Settled]:
        gate = asyncio.Semaphore(self.concurrency)

        async def send(row: Claimed) -> Settled:
            async with gate:
                try:
                    outcome = await self.sender(row.clinic_id, row.kind, row.payload)
                except Exception as exc:  # a bug or a missing setup: kept as transient
                    log.exception("sending BPJS outbox row %d failed", row.id)
                    return Settled(row, OutboxState.pending, f"error: {exc}")
                return settled(row, outcome)

        return list(await asyncio.gather(*(send(row) for row in claimed)))
