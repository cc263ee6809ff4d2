"""Shared request parameters, and where the API lives."""

from typing import Annotated

from fastapi import Path

from app.models.types import MAX_BIG_ID, MAX_ID

API_PREFIX = "/api/v1"

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Opaque id")]
# Tickets are counted in the billions nationally: 64-bit ids, kept exact in JavaScript.
TicketIdPath = Annotated[int, Path(ge=1, le=MAX_BIG_ID, description="Opaque id")]


def parse_id(raw: str | None, maximum: int = MAX_ID, minimum: int = 1) -> int | None:
    """An id from a raw string, for the pages and feeds that answer a bad one with their own
    not-found (a page, a close code) rather than a 422; None when it is not one."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 20:
        return None
    value = int(raw)
    return value if minimum <= value <= maximum else None
