"""How a call to BPJS ended, and the reading of BPJS's answer envelope into it.

Delivered: BPJS took it. Rejected: BPJS refused it (a business rule, the credentials, a wrong
address): sending the same again fails the same way, unless `retryable` says BPJS asked for
later. Transient: BPJS could not be reached or answered nonsense: send it again later.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from app.bpjs.crypto import DecryptError

T = TypeVar("T")

# The answer codes BPJS means "done" by: 200, and 1 on its reference lists' examples.
OK_CODES = frozenset({200, 1})
# A tambah antrean sent again after a lost answer: BPJS already has it.
ALREADY_REGISTERED = "sudah terdaftar"
# BPJS refuses until the patient fills in Mobile JKN's health screening: worth trying later.
SCREENING_PENDING = "skrining"


@dataclass(frozen=True)
class Delivered(Generic[T]):
    value: T
    code: int = 200
    message: str = "Ok"
    # True when BPJS answered that it already had this (a resend after a lost answer).
    duplicate: bool = False


@dataclass(frozen=True)
class Rejected:
    code: int
    message: str
    # business: BPJS's own rule (metadata code); auth: credentials, signature or clock;
    # http: an HTTP refusal or redirect without BPJS's envelope, or an address that is not
    # one (a wrong base URL, most likely).
    kind: Literal["business", "auth", "http"] = "business"
    retryable: bool = False


@dataclass(frozen=True)
class Transient:
    reason: Literal["timeout", "connect", "network", "server", "garbled"]
    detail: str


Outcome = Delivered[T] | Rejected | Transient

Opener = Callable[[str], Any]


def metadata_of(envelope: dict[str, Any]) -> tuple[int, str] | None:
    """(code, message) from `metadata`, or PCare's spelling `metaData`; None when absent."""
    meta = envelope.get("metadata", envelope.get("metaData"))
    if not isinstance(meta, dict):
        return None
    raw = meta.get("code")  # BPJS sends it as a number or as text
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        return None
    try:
        code = int(raw)
    except ValueError:
        return None
    return code, str(meta.get("message") or "")


def read_envelope(
    status: int, body: bytes, open_response: Opener, *, add: bool = False, reads: bool = False
) -> Outcome[Any]:
    """The outcome of an HTTP answer from BPJS.

    `add` marks a tambah antrean; `reads` a call whose `response` is what was asked for (a
    write is delivered on its metadata alone, whatever its `response` holds).
    """
    if status >= 500 or status in (408, 429):
        return Transient("server", f"HTTP {status}")
    envelope = _json_object(body)
    meta = metadata_of(envelope) if envelope is not None else None
    if status in (401, 403) or (meta is not None and meta[0] in (401, 403)):
        message = meta[1] if meta else f"HTTP {status}"
        return Rejected(meta[0] if meta else status, message, kind="auth")
    if status >= 300 and meta is None:
        # A redirect or a 404 without BPJS's envelope: the address is wrong (http for https,
        # a path typo); resending cannot help, fixing it does.
        return Rejected(status, f"HTTP {status}", kind="http")
    if envelope is None or meta is None:
        return Transient("garbled", f"HTTP {status}: no BPJS envelope")
    code, message = meta
    if code not in OK_CODES:
        lowered = message.lower()
        if add and ALREADY_REGISTERED in lowered:
            return Delivered(None, code, message, duplicate=True)
        return Rejected(code, message, retryable=SCREENING_PENDING in lowered)
    sealed = envelope.get("response")
    if not isinstance(sealed, str) or not sealed:
        # Plain JSON (or nothing) in `response`: the write calls answer with metadata only.
        return Delivered(sealed, code, message)
    try:
        return Delivered(open_response(sealed), code, message)
    except DecryptError as exc:
        if not reads:
            return Delivered(sealed, code, message)
        return Transient("garbled", str(exc))


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None
