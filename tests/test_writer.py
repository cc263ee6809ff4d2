"""The writer: commands that queued together commit together; a refused one changes nothing."""

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.after_commit import AfterCommit, Commit, note_clinic_changed
from app.db import open_session
from app.directory.clinics import ClinicCodeTaken, create_clinic
from app.models import Clinic
from app.models.clinic import ClinicCreate
from app.writer import BatchingWriter, Command, make_writer


class Refused(Exception):
    pass


@pytest.fixture
def delivered() -> list[Commit]:
    return []


@pytest.fixture
def writer(engine: Engine, delivered: list[Commit]) -> Iterator[BatchingWriter]:
    if engine.dialect.name != "sqlite":
        pytest.skip("group commit is the SQLite writer's; PostgreSQL commits per command")
    after_commit = AfterCommit()
    after_commit.register("record", delivered.append)
    writer = make_writer(engine, after_commit)
    assert isinstance(writer, BatchingWriter)
    writer.start()
    yield writer
    writer.stop()


def add_clinic(code: str, *, then_refuse: bool = False) -> Command[int]:
    def command(session: Session) -> int:
        clinic = create_clinic(session, ClinicCreate(code=code, name=code))
        assert clinic.id is not None
        note_clinic_changed(session, clinic.id)
        if then_refuse:
            raise Refused()  # after writing: the savepoint must take it back
        return clinic.id

    return command


def codes(engine: Engine) -> list[str]:
    with open_session(engine, write=False) as session:
        return list(session.exec(select(Clinic.code).order_by(col(Clinic.code))))


def test_commands_that_queue_together_commit_together_and_a_refused_one_changes_nothing(
    writer: BatchingWriter, engine: Engine, delivered: list[Commit]
) -> None:
    release = threading.Event()

    def hold_the_writer(_session: Session) -> None:
        release.wait(10)

    first = writer.submit(hold_the_writer)
    queued = [
        writer.submit(add_clinic("KIRI")),
        writer.submit(add_clinic("TENGAH", then_refuse=True)),
        writer.submit(add_clinic("KIRI")),  # refused by the rules: the code is taken
        writer.submit(add_clinic("KANAN")),
    ]
    commits_before = writer.commits
    release.set()
    first.result(10)
    kiri = queued[0].result(10)
    with pytest.raises(Refused):
        queued[1].result(10)
    with pytest.raises(ClinicCodeTaken):
        queued[2].result(10)
    kanan = queued[3].result(10)

    assert codes(engine) == ["KANAN", "KIRI"]
    # The four queued while the first ran: one transaction for them (0 or 1 more than before,
    # depending on whether the first was alone in its batch).
    assert writer.commits - commits_before <= 1
    writer.after_commit.drain()
    changed = [clinic for commit in delivered for clinic in commit.changed_clinics]
    assert changed == [kiri, kanan], "what a refused command recorded must not be delivered"


def test_a_failed_consumer_is_counted_and_the_write_stays(
    engine: Engine, delivered: list[Commit]
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("runs once")
    failures: list[str] = []
    after_commit = AfterCommit(on_failure=failures.append)

    def broken(_commit: Commit) -> None:
        raise RuntimeError("display hub down")

    after_commit.register("broken", broken)
    after_commit.register("record", delivered.append)
    writer = make_writer(engine, after_commit)
    writer.start()
    try:
        clinic_id = writer.run(add_clinic("BATAKAN"))
        after_commit.drain()
    finally:
        writer.stop()
    assert codes(engine) == ["BATAKAN"]
    assert failures == ["broken"]
    assert [commit.changed_clinics for commit in delivered] == [[clinic_id]]


def test_on_postgresql_each_command_is_its_own_transaction(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the PostgreSQL writer")
    writer = make_writer(engine, AfterCommit())
    writer.start()
    try:
        writer.run(add_clinic("KIRI"))
        with pytest.raises(Refused):
            writer.run(add_clinic("TENGAH", then_refuse=True))
        with pytest.raises(ClinicCodeTaken):
            writer.run(add_clinic("KIRI"))
    finally:
        writer.stop()
    assert codes(engine) == ["KIRI"]
