"""Settings, read from environment variables with the ANTREAN_ prefix."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANTREAN_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./antrean.db"
    redis_url: str | None = None
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


@lru_cache
def get_settings() -> Settings:
    return Settings()
