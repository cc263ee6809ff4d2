"""Sends an outbox row to BPJS with its clinic's credentials, through the bridge's client."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from app.bpjs.calls import Batal, Panggil
from app.bpjs.client import DEFAULT_TIMEOUT, BpjsClient, Credentials
from app.bpjs.credentials import ClearCredentials, CredentialsUnreadable, clear_credentials
from app.bpjs.outcome import Outcome, Rejected
from app.models import OutboxKind
from app.models.bpjs import BpjsSettings

PATHS = {OutboxKind.panggil: Panggil.path, OutboxKind.batal: Batal.path}

NOT_SET_UP = "The clinic's BPJS bridge is off or its credentials are not all set"
# A clinic's credentials are read again after this long: an admin's change (or the bridge
# turned off) applies within it, and a busy outbox does not decrypt them for every call.
CREDENTIALS_SECONDS = 30.0
UNREADABLE = "The clinic's BPJS credentials cannot be read (the secret key changed)"


class ClientSender:
    """A `Sender` (app/bpjs/outbox/deliver.py): each clinic's credentials read when its rows
    are sent (again after `CREDENTIALS_SECONDS`), one client kept per set of them.
    `transport`: where the calls go instead of the network (the fake BPJS, in tests);
    `clock`: the signatures' time (epoch seconds)."""

    def __init__(
        self,
        engine: Engine,
        secret_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.secret_key = secret_key
        self.timeout = timeout
        self.transport = transport
        self._clients: dict[Credentials, BpjsClient] = {}
        # Each clinic's credentials as last read, and when (monotonic seconds).
        self._credentials: dict[int, tuple[float, ClearCredentials | None]] = {}

    async def __call__(
        self, clinic_id: int, kind: OutboxKind, payload: dict[str, Any]
    ) -> Outcome[Any]:
        kept = self._credentials.get(clinic_id)
        if kept is not None and time.monotonic() - kept[0] < CREDENTIALS_SECONDS:
            clear = kept[1]
        else:
            try:
                clear = await asyncio.to_thread(self._read, clinic_id)
            except CredentialsUnreadable:
                return Rejected(0, UNREADABLE, kind="auth")
            self._credentials[clinic_id] = (time.monotonic(), clear)
        if clear is None:
            return Rejected(0, NOT_SET_UP, kind="auth")
        try:
            client = self.client(clear)
        except httpx.InvalidURL as exc:
            return Rejected(0, f"not a usable BPJS address: {exc}", kind="http")
        return await client.send("POST", PATHS[kind], payload)

    def client(self, clear: ClearCredentials) -> BpjsClient:
        """The client kept for these credentials, made on first use (the outbox's, and the
        admin's reference lists'). Raises httpx.InvalidURL for a base URL that is not one."""
        credentials = Credentials(clear.cons_id, clear.cons_secret, clear.user_key, clear.base_url)
        client = self._clients.get(credentials)
        if client is None:
            client = BpjsClient(
                credentials, timeout=self.timeout, transport=self.transport, clock=self.clock
            )
            self._clients[credentials] = client
        return client

    def _read(self, clinic_id: int) -> ClearCredentials | None:
        with Session(self.engine) as session:
            settings = session.get(BpjsSettings, clinic_id)
            if settings is None or not settings.enabled:
                return None
            return clear_credentials(settings, self.secret_key)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
