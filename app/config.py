"""Settings, read from environment variables with the ANTREAN_ prefix."""

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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


@lru_cache
def get_settings() -> Settings:
    return Settings()
