"""`python -m app.sim --database URL` leaves the simulated days in the database, as served."""

import json
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.db import make_engine
from app.models import Clinic, Ticket, TicketEvent, TicketStatus
from app.sim.__main__ import main
from tests.test_sim_scenario import MINIMAL


def test_the_days_are_loaded_into_the_database(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "minimal.json"
    path.write_text(json.dumps(MINIMAL))
    assert main([str(path), "--days", "2", "--json", "--database", database_url]) == 0
    printed = json.loads(capsys.readouterr().out)
    issued = sum(day["issued"] for day in printed["days"])
    events = printed["totals"]["events"]
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            clinic = session.exec(select(Clinic).where(Clinic.code == "PKM-MINI")).one()
            tickets = session.exec(select(Ticket).where(Ticket.clinic_id == clinic.id)).all()
            logged = session.exec(
                select(func.count())
                .select_from(TicketEvent)
                .where(col(TicketEvent.clinic_id) == clinic.id)
            ).one()
        assert len(tickets) == issued
        assert logged == events
        assert {t.status for t in tickets} <= {
            TicketStatus.done, TicketStatus.cancelled, TicketStatus.expired
        }  # fmt: skip
        assert {t.code[:2] for t in tickets} == {"A-"}
    finally:
        engine.dispose()
