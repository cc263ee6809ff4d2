"""Settings, read from environment variables with the ANTREAN_ prefix."""

import json
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# A list setting from the environment: a JSON list or comma-separated values.
StrList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANTREAN_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./antrean.db"
    redis_url: str | None = None
    # The address patients' phones reach the service at, for the QR code on printed tickets
    # (e.g. https://antrean.example.go.id). Unset: the address the kiosk itself used.
    public_url: str | None = None
    # Signs staff access tokens. Unset: a random key is made once and kept in the database,
    # so a restart never logs anyone out and every process of a deployment agrees on it.
    secret_key: str | None = None
    access_token_minutes: int = Field(default=12 * 60, ge=1)
    admin_username: str | None = None
    admin_password: str | None = None
    # Anonymous (phone) ticket creation, per client address; syntax of the `limits` library.
    remote_ticket_rate: str = "5/minute;20/hour"
    # BPJS's calls to a clinic's bridge (docs/bpjs.md), per client address and clinic: every
    # call, and token requests (each verifies a password).
    bpjs_rate: str = "600/minute"
    bpjs_auth_rate: str = "60/minute;600/hour"
    # Failed staff logins (docs/security.md): per account and client address, per address,
    # and per account from all addresses together (loose: against guessing from many).
    login_rate_account_address: str = "10/15minutes"
    login_rate_address: str = "30/15minutes"
    login_rate_account: str = "100/hour"
    # Request bodies larger than this are refused with 413 before they are read.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Origins allowed to call the API from their own pages (CORS); empty: none.
    cors_origins: StrList = []
    # Origins allowed to show the display page (/display/...) in a frame; empty: none.
    display_frame_ancestors: StrList = []
    # How long a retried request with the same Idempotency-Key gets the same answer.
    idempotency_hours: int = Field(default=24, ge=1)
    run_migrations: bool = True
    # PostgreSQL: "batch" commits the commands that queued together in one transaction (group
    # commit, as on SQLite); "direct" runs each in a transaction of its own, concurrently.
    postgres_writer: Literal["batch", "direct"] = "batch"
    # "batch": how many batching writers (and connections) a process runs side by side.
    postgres_writers: int = Field(default=1, ge=1, le=64)

    # Realtime feeds (app/realtime/).
    redis_channel: str = "antrean:events"
    # Messages a socket may fall behind by before it is closed and must resync.
    ws_queue_size: int = Field(default=200, ge=1)
    # A `{"type": "ping"}` after this long without a message, so pages can tell a live feed.
    ws_ping_seconds: float = Field(default=20, gt=0)
    # How often each process checks the database for events it has not seen (lost or late).
    realtime_poll_seconds: float = Field(default=2, gt=0)
    # How far back a reconnecting display is replayed; further behind, it gets a snapshot.
    replay_limit: int = Field(default=500, ge=0)
    # How often the end-of-day sweep looks for tickets of an ended local day.
    sweep_seconds: float = Field(default=30, gt=0)
    # How often the BPJS outbox looks for calls due again (after a failure) or written by
    # another server process; its own process's new rows wake it at once.
    bpjs_outbox_poll_seconds: float = Field(default=5, gt=0)
    # Open feeds per client address in one process (clinic Wi-Fi and carrier NAT put many
    # phones behind one address); more are closed at once with 1013 (try again later).
    ws_connections_per_address: int = Field(default=100, ge=1)
    # What one socket may send (pages send nothing); over it, closed with 1008.
    ws_message_rate: str = "10/10seconds"

    @field_validator("cors_origins", "display_frame_ancestors", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("display_frame_ancestors")
    @classmethod
    def _source_expressions(cls, value: list[str]) -> list[str]:
        # Each lands in a Content-Security-Policy header: one source expression apiece.
        for origin in value:
            if not origin or any(c in origin for c in ";,'\"\r\n\t ") or not origin.isascii():
                raise ValueError(f"not a frame origin: {origin!r}")
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
