"""The measurements: the reports the health office runs, timed on a generated city-year.

On each database: the month report by clinic for the whole city (the domain function, the same
report from every leg as the reference it must equal, and the HTTP request through a real
`python -m app` server), the day report by hour for one clinic, the whole year by clinic for
scale; then, on a freshly started server, the ticket-log export over HTTP (one month, then the
whole year: time to first byte, total, rows/s, and the server's RSS sampled while it streams).
"""

import json
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any, cast

import httpx2 as httpx
from sqlalchemy import Engine, text
from sqlalchemy import event as sa_event
from sqlmodel import Session, col, select

from app.db import make_engine, open_session
from app.models import Clinic
from app.reports.query import GroupBy, ReportQuery
from app.reports.wait_times import wait_times
from bench.reports.load import Target
from bench.reports.reference import by_clinic_from_legs
from bench.servers import ADMIN, Server


def timed(run: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    """The first (cold) run, then `runs` more."""
    began = time.perf_counter()
    run()
    first = time.perf_counter() - began
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        samples.append(time.perf_counter() - began)
    return first, samples


def line(label: str, first: float, samples: list[float], note: str = "") -> None:
    print(
        f"  {label:<44}{first * 1000:>9.0f}{statistics.median(samples) * 1000:>9.0f}"
        f"{max(samples) * 1000:>9.0f}  {note}",
        flush=True,
    )


def capture_statements(engine: Engine, run: Callable[[], object]) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def listen(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa_event.listen(engine, "before_cursor_execute", listen)
    try:
        run()
    finally:
        sa_event.remove(engine, "before_cursor_execute", listen)
    return seen


def explain(engine: Engine, run: Callable[[], object]) -> None:
    """The plan of every statement the report runs."""
    postgres = engine.dialect.name == "postgresql"
    for statement, parameters in capture_statements(engine, run):
        if "leg_rollup" not in statement:
            continue
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
        with engine.connect() as connection:
            cursor = connection.exec_driver_sql(prefix + statement, parameters)
            print("    " + " ".join(statement.split())[:400])
            for row in cursor:
                print("      " + " | ".join(str(part) for part in row))


class RssSampler:
    """The server's VmRSS every 20 ms while something runs."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss_mb())
            time.sleep(0.02)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _hwm_mb(server: Server) -> float:
    with open(f"/proc/{server.process.pid}/status") as status:
        for entry in status:
            if entry.startswith("VmHWM:"):
                return int(entry.split()[1]) / 1024
    return 0.0


def export(client: httpx.Client, server: Server, params: dict[str, str]) -> None:
    before = server.rss_mb()
    size = rows = 0
    first_byte = 0.0
    with RssSampler(server) as sampler:
        began = time.perf_counter()
        with client.stream("GET", "/api/v1/reports/ticket-log", params=params) as response:
            assert response.status_code == 200, response.read()
            for chunk in response.iter_bytes():
                if not first_byte:
                    first_byte = time.perf_counter() - began
                size += len(chunk)
                rows += chunk.count(b"\n")
        total = time.perf_counter() - began
    rows -= 1  # the header
    print(
        f"  ticket-log {params['date_from']}..{params['date_to']}: {rows:,} rows, "
        f"{size / 2**20:,.0f} MiB; first byte {first_byte * 1000:.0f} ms, total {total:.1f} s, "
        f"{rows / total:,.0f} rows/s; server RSS {before:.0f} MB before, peak "
        f"{sampler.peak:.0f} MB while streaming (VmHWM {_hwm_mb(server):.0f} MB)",
        flush=True,
    )


def _periods(days: list[date]) -> tuple[date, date, date]:
    """The month with the most working days (a whole calendar month), and its first Monday."""
    months = {(d.year, d.month) for d in days}
    year, month = max(months, key=lambda m: (sum(1 for d in days if (d.year, d.month) == m), m))
    month_days = [d for d in days if (d.year, d.month) == (year, month)]
    month_from, month_to = date(year, month, 1), max(month_days)
    if month < 12:
        month_to = date(year, month + 1, 1) - timedelta(days=1)
    busy_day = next((d for d in month_days if d.weekday() == 0), month_days[0])
    return month_from, month_to, busy_day


def measure(target: Target, days: list[date], runs: int, show_plans: bool) -> None:
    engine = make_engine(target.url)
    month_from, month_to, busy_day = _periods(days)
    with Session(engine) as session:
        clinic_id = cast(int, session.exec(select(col(Clinic.id)).order_by(col(Clinic.id))).first())
        month_legs = session.execute(
            text("SELECT count(*) FROM ticket_leg WHERE visit_date BETWEEN :a AND :b"),
            {"a": month_from, "b": month_to},
        ).scalar_one()
    by_clinic = ReportQuery(month_from, month_to, None, None, (GroupBy.clinic,))
    by_hour = ReportQuery(busy_day, busy_day, (clinic_id,), None, (GroupBy.hour,))
    year_by_clinic = ReportQuery(days[0], days[-1], None, None, (GroupBy.clinic,))

    def domain(query: ReportQuery) -> Callable[[], object]:
        def run() -> object:
            with open_session(engine, write=False) as session:
                return wait_times(session, query)

        return run

    print(f"\n{target.label}: {json.loads(target.meta.read_text())}")
    print(
        f"  month {month_from}..{month_to}: {month_legs:,} legs; day {busy_day} clinic {clinic_id}"
    )
    print(f"  {'ms':<44}{'first':>9}{'median':>9}{'max':>9}")
    first, samples = timed(domain(by_clinic), runs)
    line("month by clinic, wait_times() (domain)", first, samples)
    rollups = statistics.median(samples)

    def from_legs() -> list[dict[str, Any]]:
        with open_session(engine, write=False) as session:
            return by_clinic_from_legs(session, by_clinic)

    first, samples = timed(from_legs, runs)
    line("month by clinic from every leg (before)", first, samples, "the reference")
    with open_session(engine, write=False) as session:
        assert wait_times(session, by_clinic) == from_legs(), "rollups differ from the legs"
    print(
        f"  the same rows from the rollups as from every leg, "
        f"{statistics.median(samples) / rollups:.1f}x faster",
        flush=True,
    )
    first, samples = timed(domain(by_hour), runs)
    line("day by hour, one clinic, wait_times()", first, samples)
    first, samples = timed(domain(year_by_clinic), min(runs, 3))
    line("the whole year by clinic, wait_times()", first, samples, "no target; for scale")
    if show_plans:
        print("  plans, month by clinic:")
        explain(engine, domain(by_clinic))
    engine.dispose()

    server = Server(target.url)
    try:
        with admin_client(server, timeout=600) as client:

            def http(params: dict[str, str], expect: int) -> Callable[[], object]:
                def run() -> object:
                    response = client.get("/api/v1/reports/wait-times", params=params)
                    assert response.status_code == 200, response.text
                    assert len(response.json()["rows"]) == expect
                    return response

                return run

            period = {"date_from": str(month_from), "date_to": str(month_to), "group_by": "clinic"}
            clinics = len(json.loads(client.get("/api/v1/clinics").text))
            first, samples = timed(http(period, clinics), runs)
            line("month by clinic, GET /reports/wait-times", first, samples, "HTTP, the target")
            day = {"date_from": str(busy_day), "date_to": str(busy_day), "group_by": "hour",
                   "clinic_id": str(clinic_id)}  # fmt: skip
            rows = len(client.get("/api/v1/reports/wait-times", params=day).json()["rows"])
            first, samples = timed(http(day, rows), runs)
            line("day by hour, one clinic, GET", first, samples, "HTTP")
    finally:
        server.stop()


@contextmanager
def admin_client(server: Server, timeout: float) -> Iterator[httpx.Client]:
    """A client of the server signed in as the bench's admin (the health office)."""
    with httpx.Client(base_url=server.base, timeout=timeout) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def measure_exports(target: Target, days: list[date]) -> None:
    """On a fresh server, so its memory reflects only the exports."""
    month_from, month_to, _ = _periods(days)
    print(f"\n{target.label}: ticket-log exports")
    server = Server(target.url)
    try:
        with admin_client(server, timeout=3600) as client:
            export(client, server, {"date_from": str(month_from), "date_to": str(month_to)})
            export(client, server, {"date_from": str(days[0]), "date_to": str(days[-1])})
    finally:
        server.stop()
