"""Alembic environment: runs on a connection the service hands over, or on ANTREAN_DATABASE_URL."""

from alembic import context
from sqlalchemy.engine import Connection

from app.config import get_settings
from app.db import make_engine
from app.models import metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    engine = make_engine(get_settings().database_url)
    with engine.connect() as connection:
        run_on(connection)
    engine.dispose()


run()
