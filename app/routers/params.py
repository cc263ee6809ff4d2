"""Shared request parameters."""

from typing import Annotated

from fastapi import Path

from app.models.types import MAX_BIG_ID, MAX_ID

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Opaque id")]
# Tickets are counted in the billions nationally: 64-bit ids, kept exact in JavaScript.
TicketIdPath = Annotated[int, Path(ge=1, le=MAX_BIG_ID, description="Opaque id")]
