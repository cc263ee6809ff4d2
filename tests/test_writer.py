"""The writer: commands that queued together commit together; a refused one changes nothing."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.after_commit import AfterCommit, Commit, note_clinic_changed
from app.db import open_session
from app.directory.clinics import ClinicCodeTaken, create_clinic
from app.models import Clinic
from app.models.clinic import ClinicCreate
from app.writer import BatchingWriter, Command, DirectWriter, Writer, make_writer


class Refused(Exception):
    pass


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


def serving(writer: Writer, scenario: Callable[[], Awaitable[None]]) -> None:
    """Run `scenario` on an event loop that the writer serves, as the app's lifespan does."""

    async def main() -> None:
        writer.start()
        try:
            await scenario()
        finally:
            await writer.stop()

    asyncio.run(main())


def test_commands_that_queue_together_commit_together_and_a_refused_one_changes_nothing(
    engine: Engine,
) -> None:
    delivered: list[Commit] = []
    after_commit = AfterCommit()
    after_commit.register("record", delivered.append)
    writer = make_writer(engine, after_commit, postgres_writers=1)
    assert isinstance(writer, BatchingWriter)
    results: list[object] = []

    async def scenario() -> None:
        # Queued in one go, as requests arriving while a commit runs: one transaction.
        results.extend(
            await asyncio.gather(
                writer.arun(add_clinic("KIRI")),
                writer.arun(add_clinic("TENGAH", then_refuse=True)),
                writer.arun(add_clinic("KIRI")),  # refused by the rules: the code is taken
                writer.arun(add_clinic("KANAN")),
                return_exceptions=True,
            )
        )
        await after_commit.settled()

    serving(writer, scenario)
    kiri, tengah, kiri_again, kanan = results
    assert isinstance(tengah, Refused)
    assert isinstance(kiri_again, ClinicCodeTaken)
    assert codes(engine) == ["KANAN", "KIRI"]
    assert writer.commits == 1
    assert writer.commands == 2
    changed = [clinic for commit in delivered for clinic in commit.changed_clinics]
    assert changed == [kiri, kanan], "what a refused command recorded must not be delivered"


def test_a_worker_thread_waits_for_its_command_and_the_loop_may_not(engine: Engine) -> None:
    writer = make_writer(engine, AfterCommit())
    found: list[int] = []

    async def scenario() -> None:
        found.append(await asyncio.to_thread(writer.run, add_clinic("BATAKAN")))
        with pytest.raises(RuntimeError, match="await arun"):
            writer.run(add_clinic("BARU"))

    serving(writer, scenario)
    assert found
    assert codes(engine) == ["BATAKAN"]


def test_a_failed_consumer_is_counted_and_the_write_stays(engine: Engine) -> None:
    failures: list[str] = []
    delivered: list[Commit] = []
    after_commit = AfterCommit(on_failure=failures.append)

    def broken(_commit: Commit) -> None:
        raise RuntimeError("display hub down")

    after_commit.register("broken", broken)
    after_commit.register("record", delivered.append)
    writer = make_writer(engine, after_commit)
    clinic_ids: list[int] = []

    async def scenario() -> None:
        clinic_ids.append(await writer.arun(add_clinic("BATAKAN")))
        await after_commit.settled()

    serving(writer, scenario)
    assert codes(engine) == ["BATAKAN"]
    assert failures == ["broken"]
    assert [commit.changed_clinics for commit in delivered] == [clinic_ids]


def test_the_direct_writer_commits_each_command_alone(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the direct writer is PostgreSQL's (ANTREAN_POSTGRES_WRITER=direct)")
    writer = make_writer(engine, AfterCommit(), postgres_writer="direct")
    assert isinstance(writer, DirectWriter)

    async def scenario() -> None:
        await writer.arun(add_clinic("KIRI"))
        with pytest.raises(Refused):
            await writer.arun(add_clinic("TENGAH", then_refuse=True))
        with pytest.raises(ClinicCodeTaken):
            await writer.arun(add_clinic("KIRI"))

    serving(writer, scenario)
    assert codes(engine) == ["KIRI"]
