"""The service's clock, injectable so tests can stand just before or after local midnight."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from app.models.base import utcnow

Clock = Callable[[], datetime]

system_clock: Clock = utcnow


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


ClockDep = Annotated[Clock, Depends(get_clock)]
