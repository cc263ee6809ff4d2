"""The clinic's calls to BPJS Antrean Online FKTP, one client per clinic's credentials.

Every call answers an Outcome (outcome.py) and never raises for what BPJS or the network
does: the outbox decides from it whether to send again.
"""

import asyncio
import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx

from app.bpjs.calls import (
    AddAntrean,
    BadReference,
    Batal,
    Call,
    Panggil,
    PanggilStatus,
    RefDokter,
    RefPoli,
    parse_dokter,
    parse_poli,
)
from app.bpjs.crypto import decrypt_response
from app.bpjs.outcome import Delivered, Outcome, Rejected, Transient, read_envelope
from app.bpjs.signature import signed_headers, timestamp_now

T = TypeVar("T")

# BPJS's development service; production is https://apijkn.bpjs-kesehatan.go.id/antreanfktp.
DEFAULT_BASE_URL = "https://apijkn-dev.bpjs-kesehatan.go.id/antreanfktp_dev"
# Answers larger than this are opened in a worker thread.
OFF_LOOP_BYTES = 4096
# Short: a call waits in the outbox, never in front of a patient, and BPJS is slow when down.
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Credentials:
    """What BPJS issued the clinic (consumer id, secret, user key) and where to call."""

    cons_id: str
    cons_secret: str = field(repr=False)
    user_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL


class BpjsClient:
    """Calls BPJS with one clinic's credentials; use as `async with BpjsClient(...) as c`."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self._clock = clock
        self._http = httpx.AsyncClient(
            base_url=credentials.base_url.rstrip("/") + "/",
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(
        self,
        method: Literal["GET", "POST"],
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        reads: bool = False,
    ) -> Outcome[Any]:
        """One signed call; `response` comes back decrypted with this call's timestamp."""
        creds = self.credentials
        timestamp = timestamp_now(self._clock)
        headers = signed_headers(creds.cons_id, creds.cons_secret, creds.user_key, timestamp)
        try:
            answer = await self._http.request(method, path.lstrip("/"), headers=headers, json=body)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            # The clinic's BPJS address is not one: resending cannot help, fixing it does.
            return Rejected(0, f"not a usable BPJS address: {exc}", kind="http")
        except httpx.TimeoutException as exc:
            return Transient("timeout", f"{type(exc).__name__}: no answer in time")
        except httpx.ConnectError as exc:
            return Transient("connect", f"cannot connect: {exc}")
        except httpx.TransportError as exc:
            return Transient("network", f"{type(exc).__name__}: {exc}")

        def open_response(sealed: str) -> Any:
            return decrypt_response(
                sealed, cons_id=creds.cons_id, cons_secret=creds.cons_secret, timestamp=timestamp
            )

        read = functools.partial(
            read_envelope,
            answer.status_code,
            answer.content,
            open_response,
            add=path.strip("/") == AddAntrean.path,
            reads=reads,
        )
        if len(answer.content) > OFF_LOOP_BYTES:
            # The pure-Python LZ-string takes ~40 ms for a 200-doctor list: not on the loop.
            return await asyncio.to_thread(read)
        return read()

    async def deliver(self, call: Call) -> Outcome[Any]:
        """Send a call kept as data (the outbox's)."""
        return await self.send("POST", call.path, call.body())

    async def ref_poli(self, tanggal: date) -> Outcome[list[RefPoli]]:
        """The polis BPJS has for the clinic on a day."""
        outcome = await self.send("GET", f"ref/poli/tanggal/{tanggal.isoformat()}", reads=True)
        return _parsed(outcome, parse_poli)

    async def ref_dokter(self, kodepoli: str, tanggal: date) -> Outcome[list[RefDokter]]:
        """The doctors BPJS has for a poli on a day, with their hours and capacity."""
        path = f"ref/dokter/kodepoli/{kodepoli}/tanggal/{tanggal.isoformat()}"
        return _parsed(await self.send("GET", path, reads=True), parse_dokter)


def _parsed(outcome: Outcome[Any], parse: Callable[[Any], T]) -> Outcome[T]:
    if not isinstance(outcome, Delivered):
        return outcome
    try:
        return Delivered(parse(outcome.value), outcome.code, outcome.message)
    except BadReference as exc:
        return Transient("garbled", f"reference list: {exc}")


__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "AddAntrean",
    "Batal",
    "BpjsClient",
    "Credentials",
    "Delivered",
    "Outcome",
    "Panggil",
    "PanggilStatus",
    "RefDokter",
    "RefPoli",
    "Rejected",
    "Transient",
]
