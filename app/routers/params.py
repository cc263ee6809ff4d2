"""Shared request parameters."""

from typing import Annotated

from fastapi import Path

from app.models.types import MAX_ID

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Opaque id")]
