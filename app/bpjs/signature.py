"""The headers that sign a call to BPJS: HMAC-SHA256 over the consumer id and a timestamp."""

import base64
import hashlib
import hmac
import time
from collections.abc import Callable


def hmac_sha256_base64(message: str, key: str) -> str:
    """base64(HMAC-SHA256(key, message)), the form BPJS publishes its test vector in."""
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature(cons_id: str, cons_secret: str, timestamp: str) -> str:
    """x-signature: the consumer secret signs "cons_id&timestamp"; the secret never travels."""
    return hmac_sha256_base64(f"{cons_id}&{timestamp}", cons_secret)


def timestamp_now(clock: Callable[[], float] = time.time) -> str:
    """x-timestamp: whole seconds since the epoch (UTC by definition), as text."""
    return str(int(clock()))


def signed_headers(cons_id: str, cons_secret: str, user_key: str, timestamp: str) -> dict[str, str]:
    """Every header a call to BPJS carries; the same timestamp opens the answer (crypto.py)."""
    return {
        "x-cons-id": cons_id,
        "x-timestamp": timestamp,
        "x-signature": signature(cons_id, cons_secret, timestamp),
        "user_key": user_key,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


def signature_matches(cons_id: str, cons_secret: str, timestamp: str, given: str) -> bool:
    """The check on the receiving side (the fake BPJS), in constant time."""
    expected = signature(cons_id, cons_secret, timestamp)
    return hmac.compare_digest(expected.encode(), given.encode())
