"""Simulate a scenario's clinic-days and print what happened.

python -m app.sim scenarios/small-puskesmas.json --seed 7 --days 14
python -m app.sim scenarios/large-puskesmas.json --days 60 --json
python -m app.sim scenarios/large-puskesmas.json --days 365 --bench   # events/s only
"""

import argparse
import json
import sys
import time
from datetime import date

from app.sim.engine import simulate
from app.sim.record import Day
from app.sim.scenario import ScenarioError, load_scenario
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
    days: list[Day] = []
    began, cpu = time.perf_counter(), time.process_time()
    for day in simulate(scenario, seed=arguments.seed, days=arguments.days,
                        start=arguments.start):  # fmt: skip
        days.append(day)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
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


def _totals(totals: dict[str, object]) -> str:
    return (
        f"{totals['clinic_days']} clinic-days, {totals['tickets']} tickets, {totals['events']} "
        f"events simulated in {totals['seconds']} s ({totals['cpu_seconds']} s of CPU): "
        f"{totals['events_per_second']} events per CPU second"
    )


if __name__ == "__main__":
    sys.exit(main())
