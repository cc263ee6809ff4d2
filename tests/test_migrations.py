"""Alembic takes an empty database to head, and the schema then matches the models."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.migrate import alembic_config, upgrade_to_head
from app.models import metadata
from tests.world import ADMIN_PASSWORD, ADMIN_USERNAME, World


def test_empty_database_upgrades_to_head_and_matches_the_models(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    upgrade_to_head(engine)
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        assert {table.name for table in metadata.sorted_tables} <= tables
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    # Running it again is a no-op (every start runs it).
    upgrade_to_head(engine)
    # And the migration is reversible.
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    with engine.connect() as connection:
        assert "ticket" not in inspect(connection).get_table_names()
    engine.dispose()


def test_the_service_starts_on_an_empty_database_by_itself(empty_database_url: str) -> None:
    settings = Settings(
        database_url=empty_database_url,
        admin_username=ADMIN_USERNAME,
        admin_password=ADMIN_PASSWORD,
    )
    with TestClient(create_app(settings)) as client:
        world = World.build(client)
        assert world.take("A")["code"] == "A-001"


def test_the_event_log_refuses_updates_and_deletes(empty_database_url: str) -> None:
    settings = Settings(
        database_url=empty_database_url,
        admin_username=ADMIN_USERNAME,
        admin_password=ADMIN_PASSWORD,
    )
    with TestClient(create_app(settings)) as client:
        World.build(client).take("A")
    engine = make_engine(empty_database_url)
    for statement in ("UPDATE ticket_event SET leg = 9", "DELETE FROM ticket_event"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM ticket_event")).scalar_one() == 1
    engine.dispose()


def test_the_waiting_counts_migration_counts_the_queues_already_waiting(
    empty_database_url: str,
) -> None:
    """A database from before the kept counts (tickets waiting, one of them transferred to a
    service that issues none) upgrades with counts equal to its queues."""
    settings = Settings(
        database_url=empty_database_url,
        admin_username=ADMIN_USERNAME,
        admin_password=ADMIN_PASSWORD,
    )
    with TestClient(create_app(settings)) as client:
        world = World.build(client)
        for _ in range(3):
            world.take("A")
        world.take("C")
        called = world.call("Loket 1").json()
        world.act(called, "transfer", service_id=world.services["D"]["id"])
        expected = {
            world.services["A"]["id"]: 2,
            world.services["C"]["id"]: 1,
            world.services["D"]["id"]: 1,
        }
    engine = make_engine(empty_database_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "5b7c1d2e9f40")
        connection.execute(text("DELETE FROM daily_sequence WHERE last_number = 0"))
    upgrade_to_head(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT service_id, waiting FROM daily_sequence")).all()
    engine.dispose()
    assert {service_id: waiting for service_id, waiting in rows if waiting} == expected
