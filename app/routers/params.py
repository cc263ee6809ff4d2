"""Shared request parameters, and where the API lives."""

from typing import Annotated

from fastapi import Path

from app.models.types import MAX_BIG_ID, MAX_ID

API_PREFIX = "/api/v1"

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Opaque id")]
# Tickets are counted in the billions nationally: 64-bit ids, kept exact in JavaScript.
TicketIdPath = Annotated[int, Path(ge=1, le=MAX_BIG_ID, description="Opaque id")]
