"""Simulate a scenario's clinic-days and print what happened.

python -m app.sim scenarios/small-puskesmas.json --seed 7 --days 14
python -m app.sim scenarios/large-puskesmas.json --days 60 --json
python -m app.sim scenarios/large-puskesmas.json --days 365 --bench   # events/s only
python -m app.sim scenarios/small-puskesmas.json --days 30 --database sqlite:///sim.db
"""

import argparse
import json
import sys
import time
from datetime import date

from app.sim.engine import simulate
from app.sim.record import Day, SimClinic
from app.sim.scenario import Scenario, ScenarioError, load_scenario
from app.sim.summary import DaySummary, summarize

DEFAULT_START = date(2026, 1, 5)  # a Monday: runs without --start are reproducible


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app.sim", description=__doc__.split("\n")[0])
    parser.add_argument("scenario", help="the scenario JSON file (docs/simulator.md)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--days", type=int, default=7, help="calendar days (default 7)")
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=DEFAULT_START,
        help=f"first day, YYYY-MM-DD (default {DEFAULT_START})",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument(
        "--bench", action="store_true", help="only the totals and the speed (events/s)"
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="also load the days into this database (migrated first; the scenario's clinics "
        "made there if missing), as the service would have written them",
    )
    arguments = parser.parse_args(argv)
    if arguments.days < 1:
        parser.error("--days must be at least 1")
    return arguments


def _line(summary: DaySummary) -> str:
    waits = "  ".join(
        f"{name} {_minutes(w.mean)}/{_minutes(w.p90)}"
        for name, w in summary.waits.items()
        if w.legs
    )
    return (
        f"{summary.visit_date} {summary.clinic:<12} issued {summary.issued:>4}  done "
        f"{summary.done:>4}  no-show marks {summary.no_show_marks:>3}  requeued "
        f"{summary.requeued:>3}  cancelled {summary.cancelled:>3}  expired {summary.expired:>3}"
        f"  | wait mean/p90 min: {waits}"
    )


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    try:
        scenario = load_scenario(arguments.scenario)
    except ScenarioError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    clinics = _clinics_in(arguments.database, scenario) if arguments.database else None
    days: list[Day] = []
    began, cpu = time.perf_counter(), time.process_time()
    for day in simulate(scenario, seed=arguments.seed, days=arguments.days,
                        start=arguments.start, clinics=clinics):  # fmt: skip
        days.append(day)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    if arguments.database and clinics is not None:
        print(_load(arguments.database, clinics, days), file=sys.stderr)
    events = sum(len(day.events) for day in days)
    totals: dict[str, object] = {
        "clinic_days": len(days),
        "tickets": sum(len(day.tickets) for day in days),
        "events": events,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        # Per CPU second: the machine's other work does not count against it.
        "events_per_second": round(events / cpu) if cpu else None,
    }
    if arguments.bench:
        print(json.dumps(totals) if arguments.json else _totals(totals))
        return 0
    summaries = [summarize(day) for day in days]
    if arguments.json:
        document = {"days": [s.as_json() for s in summaries], "totals": totals}
        print(json.dumps(document, indent=1))
        return 0
    for summary in summaries:
        print(_line(summary))
    print(_totals(totals))
    return 0


def _clinics_in(url: str, scenario: Scenario) -> list[SimClinic]:
    # Imported here: the simulator itself needs no database.
    from app.db import make_engine
    from app.migrate import upgrade_to_head
    from app.sim.seed import build_clinic

    engine = make_engine(url)
    try:
        upgrade_to_head(engine)
        return [build_clinic(engine, plan) for plan in scenario.clinics]
    finally:
        engine.dispose()


def _load(url: str, clinics: list[SimClinic], days: list[Day]) -> str:
    from app.sim.load import load_days

    began = time.perf_counter()
    loaded = load_days(url, clinics, days)
    return (
        f"loaded {loaded.tickets} tickets, {loaded.events} events and {loaded.legs} legs "
        f"in {time.perf_counter() - began:.1f} s"
    )


def _totals(totals: dict[str, object]) -> str:
    return (
        f"{totals['clinic_days']} clinic-days, {totals['tickets']} tickets, {totals['events']} "
        f"events simulated in {totals['seconds']} s ({totals['cpu_seconds']} s of CPU): "
        f"{totals['events_per_second']} events per CPU second"
    )


if __name__ == "__main__":
    sys.exit(main())
