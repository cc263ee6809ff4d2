"""Run Alembic migrations to head, as the service does on every start."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Any constant: several server processes starting at once take turns migrating.
_POSTGRES_LOCK_KEY = 0x616E7472


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_to_head(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _POSTGRES_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
