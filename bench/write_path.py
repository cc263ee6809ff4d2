"""Ticket issue against a bare FastAPI endpoint, in the same run, with wrk.

One Antrean process on a fresh SQLite file and one bare FastAPI app (`bench.bare`), both
served by uvicorn the same way. wrk (2 threads x 32 connections by default) posts to each in
turn; the kiosk posts `{"service_id": ...}` with its device key. Then, unless `--no-prefill`,
the service is filled until `--waiting` tickets wait and the issue run is repeated. After each
run the tickets are checked: every number of the day once, none missing.

    .venv/bin/python -m bench.write_path [--seconds 10] [--waiting 50000] [--rounds 2]

Needs wrk (`apt-get install -y wrk`).
"""

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from bench.queue_api import build_clinic
from bench.servers import ROOT, Server, cpu_seconds, free_port

LUA = """
wrk.method = "POST"
wrk.body = '{"service_id": %(service_id)d}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
"""


@dataclass
class Run:
    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_us: float = 0.0  # the server's CPU time per request (all its threads)

    def row(self) -> str:
        return (
            f"{self.name:<28} {self.requests_per_s:>9.0f} req/s  p50 {self.p50_ms:>7.2f} ms  "
            f"p99 {self.p99_ms:>7.2f} ms  errors {self.errors}  CPU {self.cpu_us:>5.0f} us/req"
        )


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([0-9.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    name: str,
    url: str,
    script: str,
    seconds: int,
    threads: int,
    connections: int,
    server_pid: int | None = None,
) -> Run:
    """One wrk run; with `server_pid`, the server's CPU time per request is measured too."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            lua.name,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(lua.name)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    run = Run(name, rate, _ms(latency["50"]), _ms(latency["99"]), errors, total)
    if server_pid:
        run.cpu_us = 1e6 * (cpu_seconds(server_pid) - cpu_before) / max(total, 1)
    return run


def check_numbers(db_path: Path) -> tuple[int, int, int]:
    """(tickets, duplicate numbers, missing numbers) per service and day."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT service_id, visit_date, count(*), count(DISTINCT number), max(number) "
            "FROM ticket GROUP BY service_id, visit_date"
        ).fetchall()
    tickets = sum(r[2] for r in rows)
    duplicates = sum(r[2] - r[3] for r in rows)
    missing = sum(r[4] - r[3] for r in rows)
    return tickets, duplicates, missing


def prefill(
    base: str, kiosk: dict[str, str], clinic_id: int, service_id: int, waiting: int
) -> None:
    """Issue tickets until `waiting` wait (through the API, 32 at a time, so they are real)."""
    import asyncio

    async def fill() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            left = waiting

            async def one() -> None:
                response = await client.post(
                    f"/api/v1/clinics/{clinic_id}/tickets",
                    headers=kiosk,
                    json={"service_id": service_id},
                )
                assert response.status_code == 201, response.text

            while left > 0:
                batch = min(64, left)
                await asyncio.gather(*(one() for _ in range(batch)))
                left -= batch

    asyncio.run(fill())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--waiting", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-prefill", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")

    scratch = Path(tempfile.mkdtemp(prefix="antrean-bench-"))
    db_path = scratch / "antrean.db"
    server = Server(f"sqlite:///{db_path}")
    bare_port = free_port()
    bare = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare:app",
            "--port",
            str(bare_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                httpx.post(f"http://127.0.0.1:{bare_port}/bare", json={"service_id": 1})
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=server.base, timeout=30) as setup:
            _, kiosk, service_id, _ = build_clinic(setup, counters=1)
            clinic_id = setup.get("/api/v1/clinics").json()[0]["id"]
        script = LUA % {"service_id": service_id, "key": kiosk["Authorization"].split()[1]}
        issue_url = f"{server.base}/api/v1/clinics/{clinic_id}/tickets"
        bare_url = f"http://127.0.0.1:{bare_port}/bare"
        shape = (args.seconds, args.threads, args.connections)
        results: dict[str, list[float]] = {}
        phases = [("empty", 0)] + ([] if args.no_prefill else [("waiting", args.waiting)])
        for phase, target in phases:
            if target:
                tickets, _, _ = check_numbers(db_path)
                if tickets < target:
                    print(f"filling the queue to {target} waiting ...", flush=True)
                    prefill(server.base, kiosk, clinic_id, service_id, target - tickets)
            for round_ in range(args.rounds):
                base_run = wrk("bare FastAPI endpoint", bare_url, script, *shape, bare.pid)
                issue_run = wrk(
                    f"ticket issue ({phase})", issue_url, script, *shape, server.process.pid
                )
                ratio = issue_run.requests_per_s / base_run.requests_per_s
                tickets, duplicates, missing = check_numbers(db_path)
                print(f"round {round_ + 1}, {phase}: {tickets} tickets in the service")
                print("  " + base_run.row())
                print("  " + issue_run.row())
                print(
                    f"  ratio {ratio:.3f}   duplicates {duplicates}   missing {missing}", flush=True
                )
                results.setdefault(f"{phase}_ratio", []).append(ratio)
                results.setdefault(f"{phase}_issue_p99_ms", []).append(issue_run.p99_ms)
                results.setdefault(f"{phase}_issue_rps", []).append(issue_run.requests_per_s)
                results.setdefault(f"{phase}_errors", []).append(issue_run.errors)
                results.setdefault(f"{phase}_duplicates", []).append(duplicates + missing)
        print(json.dumps({k: [round(v, 3) for v in vs] for k, vs in results.items()}))
    finally:
        server.stop()
        bare.terminate()
        bare.wait(10)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
