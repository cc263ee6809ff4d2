"""bench.ewt runs on a small scenario and ends with its one-line JSON scores."""

import json
from pathlib import Path

import pytest

from bench import ewt

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "small-puskesmas.json"
FIGURES = {"mae_min", "rmse_min", "bias_min", "late5_share"}


def test_two_days_end_with_the_scores_as_one_json_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert ewt.main([str(SCENARIO), "--seed", "3", "--days", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert set(result) == {"mean_wait_min", "tickets", "estimators"}
    assert result["tickets"] > 20  # two mornings of a one-loket clinic
    assert result["mean_wait_min"] > 0
    assert set(result["estimators"]) == {"antrean", "position_x_mean", "last_to_enter", "rolling"}
    for figures in result["estimators"].values():
        assert set(figures) == FIGURES
        assert all(isinstance(value, int | float) for value in figures.values())
        assert figures["mae_min"] <= figures["rmse_min"]
        assert 0 <= figures["late5_share"] <= 1
    assert lines[0].startswith(f"{result['tickets']} legs measured")


def test_a_bad_scenario_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"clinics": [{"code": "X"}]}')
    assert ewt.main([str(bad), "--days", "2"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
