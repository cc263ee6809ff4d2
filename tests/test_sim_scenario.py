"""Scenario files: the least a file needs runs, and a wrong one is refused naming its field."""

import copy
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.sim.__main__ import main
from app.sim.engine import simulate
from app.sim.scenario import ScenarioError, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
MINIMAL: dict[str, Any] = {
    "clinics": [
        {
            "code": "PKM-MINI",
            "timezone": "Asia/Jayapura",
            "arrivals_per_hour": {"08": 20, "09": 10},
            "shares": {"priority": 0.1, "no_show": 0.05, "phone": 0.2},
            "journeys": [{"share": 1, "path": ["Loket", "Poli"]}],
            "services": [
                {
                    "name": "Loket",
                    "prefix": "A",
                    "service_minutes": {"mean": 2, "sd": 1},
                    "counters": [{"open": "07:30", "close": "12:00"}],
                },
                {
                    "name": "Poli",
                    "prefix": "B",
                    "service_minutes": {"mean": 4, "sd": 2},
                    "counters": [{"open": "08:00", "close": "13:00"}],
                },
            ],
        }
    ]
}


def test_a_file_with_only_the_required_fields_runs(tmp_path: Path) -> None:
    path = tmp_path / "minimal.json"
    path.write_text(json.dumps(MINIMAL))
    scenario = load_scenario(path)
    plan = scenario.clinics[0]
    assert plan.days == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert plan.services[0].priority_lead_minutes == 60
    days = list(simulate(scenario, seed=1, days=7, start=date(2026, 1, 5)))
    assert len(days) == 6
    assert all(day.tickets for day in days)


def test_the_shipped_scenarios_load_and_the_docs_show_one_as_it_is() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.json")):
        load_scenario(path)
    docs = (ROOT / "docs" / "simulator.md").read_text()
    shown = re.search(r"scenarios/small-puskesmas\.json`:\n\n```json\n(.*?)\n```", docs, re.S)
    assert shown is not None
    on_disk = json.loads((ROOT / "scenarios" / "small-puskesmas.json").read_text())
    assert json.loads(shown.group(1)) == on_disk


def _broken(change: str) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    clinic = data["clinics"][0]
    loket = clinic["services"][0]
    if change == "unknown service":
        clinic["journeys"][0]["path"] = ["Loket", "Poli Mata"]
    elif change == "close before open":
        loket["counters"][0] = {"open": "12:00", "close": "07:30"}
    elif change == "negative sd":
        loket["service_minutes"]["sd"] = -1
    elif change == "share above 1":
        clinic["shares"]["no_show"] = 1.5
    elif change == "share below 0":
        clinic["shares"]["phone"] = -0.1
    elif change == "prefix twice":
        clinic["services"][1]["prefix"] = "a"
    elif change == "journeys short of 1":
        clinic["journeys"][0]["share"] = 0.8
    elif change == "hour 25":
        clinic["arrivals_per_hour"]["25"] = 3
    elif change == "pause outside hours":
        loket["counters"][0]["pauses"] = [["06:00", "06:30"]]
    elif change == "bad time":
        loket["counters"][0]["open"] = "7.30"
    elif change == "one counter, two hours":
        loket["counters"][0]["name"] = "Loket 1"
        clinic["services"][1]["counters"][0]["name"] = "Loket 1"
    elif change == "unknown timezone":
        clinic["timezone"] = "Asia/Balikpapan"
    elif change == "misspelt field":
        clinic["shares"]["no_shows"] = 0.1
    elif change == "missing field":
        del clinic["arrivals_per_hour"]
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown service", "clinics[0]: journeys[0].path: unknown service 'Poli Mata'"),
        ("close before open", "clinics[0].services[0].counters[0]: close 07:30 is not after open"),
        ("negative sd", "clinics[0].services[0].service_minutes.sd: Input should be greater"),
        ("share above 1", "clinics[0].shares.no_show: Input should be less than or equal to 1"),
        ("share below 0", "clinics[0].shares.phone: Input should be greater than or equal to 0"),
        ("prefix twice", "clinics[0]: prefix 'A' appears twice"),
        ("journeys short of 1", "clinics[0]: journeys: the shares add up to 0.8, not 1"),
        ("hour 25", "clinics[0].arrivals_per_hour: hour '25' is not a local hour"),
        ("pause outside hours", "clinics[0].services[0].counters[0]: pause 06:00-06:30 must lie"),
        ("bad time", "clinics[0].services[0].counters[0].open: '7.30' is not a local time"),
        ("one counter, two hours", "counter 'Loket 1' has other hours under 'Poli'"),
        ("unknown timezone", "clinics[0].timezone: unknown timezone 'Asia/Balikpapan'"),
        ("misspelt field", "clinics[0].shares.no_shows: Extra inputs are not permitted"),
        ("missing field", "clinics[0].arrivals_per_hour: Field required"),
    ],
)
def test_a_wrong_file_is_refused_naming_the_field(change: str, message: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        parse_scenario(_broken(change))
    assert message in str(refused.value)


def test_the_command_line_says_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_broken("unknown service")))
    assert main([str(path)]) == 2
    assert "unknown service 'Poli Mata'" in capsys.readouterr().err
    path.write_text("{not json")
    assert main([str(path)]) == 2
    assert "not JSON" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_the_command_line_prints_each_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "minimal.json"
    path.write_text(json.dumps(MINIMAL))
    assert main([str(path), "--seed", "3", "--days", "2", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [day["date"] for day in document["days"]] == ["2026-01-05", "2026-01-06"]
    first = document["days"][0]
    assert first["issued"] == first["done"] + first["cancelled"] + first["expired"]
    assert set(first["waits"]) == {"Loket", "Poli"}
    assert document["totals"]["events"] == sum(day["events"] for day in document["days"])
