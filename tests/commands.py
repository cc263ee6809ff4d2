"""Writer commands built from a test's world, and running several in one transaction."""

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Channel, Priority
from app.queueing.events import Actor
from app.queueing.issue import issue_ticket
from tests.world import World

Command = Callable[[Session], Any]


def issue_command(world: World, client: TestClient, prefix: str = "A") -> Command:
    """A kiosk's ticket in the world's service `prefix`, as the route hands it to the writer."""
    state = client.app.state  # type: ignore[attr-defined]
    setup = state.setups.clinic(world.clinic_id)

    def issue(session: Session) -> Any:
        return issue_ticket(
            session,
            setup=setup,
            service_id=world.services[prefix]["id"],
            priority=Priority.none,
            channel=Channel.kiosk,
            actor=Actor(),
            clock=state.clock,
        )

    return issue


def run_together(client: TestClient, commands: list[Command]) -> list[Any]:
    """Queue the commands at once, as requests arriving together, so the writer runs them in
    one transaction; their answers (or exceptions), in order."""
    writer = client.app.state.writer  # type: ignore[attr-defined]

    async def together() -> list[Any]:
        runs = (writer.arun(command) for command in commands)
        return list(await asyncio.gather(*runs, return_exceptions=True))

    return client.portal.call(together)  # type: ignore[union-attr]
