"""Idempotency-Key: a retried ticket request gets the first answer, token included.

The record keeps no secret in clear. The key is stored as a SHA-256 digest; the ticket's token
is sealed with AES-GCM (`cryptography`) under a cipher key derived from the Idempotency-Key,
which only the client that sent it knows. So the database alone never yields a ticket token,
and a retry with the same key can still be answered in full.
"""

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.errors import Conflict
from app.models import IdempotencyRecord, Priority
from app.models.ticket import TicketCreated, TicketPublic

MIN_KEY_LENGTH = 16


class IdempotencyKeyReused(Conflict):
    detail = "This Idempotency-Key was already used for a different request"


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's retry key, scoped to who sent it, with a digest of what they asked for."""

    scope: str
    key: str
    request_digest: str

    @classmethod
    def for_ticket(
        cls, *, scope: str, key: str, clinic_id: int, service_id: int, priority: Priority
    ) -> "IdempotencyKey":
        body = f"{clinic_id}|{service_id}|{priority.value}".encode()
        return cls(scope=scope, key=key, request_digest=hashlib.sha256(body).hexdigest())

    @property
    def key_digest(self) -> str:
        return hashlib.sha256(f"lookup\0{self.scope}\0{self.key}".encode()).hexdigest()

    def _cipher(self) -> AESGCM:
        return AESGCM(hashlib.sha256(f"seal\0{self.scope}\0{self.key}".encode()).digest())

    def seal(self, token: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(
            nonce + self._cipher().encrypt(nonce, token.encode(), None)
        ).decode()

    def unseal(self, sealed: str) -> str:
        raw = base64.b64decode(sealed)
        return self._cipher().decrypt(raw[:12], raw[12:], None).decode()


def replay(session: Session, idem: IdempotencyKey) -> TicketCreated | None:
    """The first answer to this key, or None; 409 when the key came with another request."""
    record = session.exec(
        select(IdempotencyRecord).where(
            col(IdempotencyRecord.scope) == idem.scope,
            col(IdempotencyRecord.key_digest) == idem.key_digest,
        )
    ).first()
    if record is None:
        return None
    if record.request_digest != idem.request_digest:
        raise IdempotencyKeyReused()
    answer = TicketPublic.model_validate_json(record.response)
    return TicketCreated.model_validate(
        {**answer.model_dump(), "token": idem.unseal(record.sealed_token)}
    )


def remember(
    session: Session,
    idem: IdempotencyKey,
    created: TicketCreated,
    *,
    now: datetime,
    keep_hours: int,
) -> None:
    """Keep the answer (and forget answers older than `keep_hours`); the caller commits."""
    cutoff = now - timedelta(hours=keep_hours)
    session.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff))
    session.add(
        IdempotencyRecord(
            scope=idem.scope,
            key_digest=idem.key_digest,
            request_digest=idem.request_digest,
            ticket_id=created.id,
            response=TicketPublic.model_validate(created.model_dump()).model_dump_json(),
            sealed_token=idem.seal(created.token),
            created_at=now,
        )
    )
