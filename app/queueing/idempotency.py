"""Idempotency-Key: a retried ticket request gets the first answer, token included.

The record keeps no secret in clear. The key is stored as a SHA-256 digest; the ticket's token
is sealed with AES-GCM (`cryptography`) under a cipher key derived from the Idempotency-Key,
which only the client that sent it knows. So the database alone never yields a ticket token,
and a retry with the same key can still be answered in full.
"""

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic_core import to_json
from sqlalchemy import bindparam, delete
from sqlmodel import Session, col, select

from app.errors import Conflict
from app.models import IdempotencyRecord, Priority
from app.prepared import Prepared, RowInsert

MIN_KEY_LENGTH = 16


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
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


_BY_KEY = Prepared(
    lambda _dialect: select(
        IdempotencyRecord.request_digest, IdempotencyRecord.response, IdempotencyRecord.sealed_token
    ).where(
        col(IdempotencyRecord.scope) == bindparam("scope"),
        col(IdempotencyRecord.key_digest) == bindparam("key_digest"),
    )
)
_INSERT = RowInsert(IdempotencyRecord)


def replay(session: Session, idem: IdempotencyKey) -> dict[str, Any] | None:
    """The first answer to this key (token included), or None; 409 when the key came with
    another request."""
    found = _BY_KEY.first(session, {"scope": idem.scope, "key_digest": idem.key_digest})
    if found is None:
        return None
    request_digest, response, sealed_token = found
    if request_digest != idem.request_digest:
        raise IdempotencyKeyReused()
    answer: dict[str, Any] = json.loads(response)
    answer["token"] = idem.unseal(sealed_token)
    return answer


def remember(
    session: Session, idem: IdempotencyKey, answer: dict[str, Any], token: str, *, now: datetime
) -> None:
    """Keep the answer (without its token, which is kept sealed); the caller commits."""
    record = IdempotencyRecord(
        scope=idem.scope,
        key_digest=idem.key_digest,
        request_digest=idem.request_digest,
        ticket_id=answer["id"],
        response=to_json(answer).decode(),
        sealed_token=idem.seal(token),
        created_at=now,
    )
    _INSERT.add(session, record)


def forget_old_answers(session: Session, *, now: datetime, keep_hours: int) -> int:
    """Drop the answers kept longer than `keep_hours` (the sweep does it now and then, so
    taking a ticket never pays for it). Returns how many were dropped."""
    cutoff = now - timedelta(hours=keep_hours)
    result = session.execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
