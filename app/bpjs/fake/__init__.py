"""A BPJS Antrean FKTP stand-in speaking the real protocol, for tests and for trying the
bridge without BPJS credentials: `python -m app.bpjs.fake --port 8099`.

In a test: `fake = FakeBpjs()`, then either `BpjsClient(fake.credentials("http://bpjs"),
transport=fake.transport())` (in-process) or `with FakeBpjsServer(fake) as server:` and
`fake.credentials(server.url)` (a real socket: timeouts and refused connections).
"""

from collections.abc import Iterable
from functools import cached_property
from typing import Any

import httpx
from starlette.applications import Starlette

from app.bpjs.client import Credentials
from app.bpjs.fake.app import create_fake_app
from app.bpjs.fake.server import FakeBpjsServer
from app.bpjs.fake.state import Antrean, Consumer, Failure, FakeState, ReceivedCall

DEFAULT_CONSUMER = Consumer(cons_id="fake-cons", cons_secret="fake-secret", user_key="fake-key")


class FakeBpjs(FakeState):
    """The fake's state with its app; the first consumer is the one `credentials` gives."""

    def __init__(self, consumers: Iterable[Consumer] = (DEFAULT_CONSUMER,), **options: Any):
        consumers = list(consumers)
        if not consumers:
            raise ValueError("the fake needs at least one consumer")
        super().__init__(consumers, **options)
        self.consumer = consumers[0]

    @cached_property
    def app(self) -> Starlette:
        return create_fake_app(self)

    def transport(self) -> httpx.ASGITransport:
        """In-process transport for the client (no network: timeouts do not apply)."""
        return httpx.ASGITransport(app=self.app)

    def credentials(self, base_url: str, consumer: Consumer | None = None) -> Credentials:
        """The client's credentials for this fake at `base_url`."""
        consumer = consumer or self.consumer
        return Credentials(
            cons_id=consumer.cons_id,
            cons_secret=consumer.cons_secret,
            user_key=consumer.user_key,
            base_url=base_url,
        )


__all__ = [
    "DEFAULT_CONSUMER",
    "Antrean",
    "Consumer",
    "Failure",
    "FakeBpjs",
    "FakeBpjsServer",
    "ReceivedCall",
]
