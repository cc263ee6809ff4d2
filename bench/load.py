"""The national morning: N server processes on PostgreSQL and Redis, ten thousand clinics,
kiosks issuing and counters calling at fixed rates, displays connected for a sample of clinics.

    .venv/bin/python -m bench.load [--processes 2] [--clinics 10000] [--tickets 300] \\
        [--transitions 1500] [--minutes 10] [--displays 200]

The directory is written straight into a scratch database (bench/morning/seed.py); the traffic
comes from one process with aiohttp, which costs a quarter of httpx's CPU per request on this
machine (measured: 235 against 1,022 µs), so that the load generator leaves the cores to the
servers (bench/morning/traffic.py). Prints the rates sustained, p50/p99 per endpoint, errors,
call→frame p99 at the displays, and the CPU the servers, PostgreSQL and Redis spent per
request; the last line is the same as JSON.
"""

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

from app.db import make_engine
from app.migrate import upgrade_to_head
from bench.morning.displays import Displays
from bench.morning.seed import SeededClinic, seed
from bench.morning.traffic import Morning
from bench.servers import ROOT, ScratchPostgres, cpu_seconds, free_port

POSTGRES = "postgresql://127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"


def processes_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def total_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
    return total


def start_servers(
    url: str, processes: int, secret_key: str, writer: str, writers: int
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    metrics = tempfile.mkdtemp(prefix="antrean-bench-metrics-")
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "--port", str(port), "--workers", str(processes)],
        cwd=ROOT,
        env={
            **os.environ,
            "ANTREAN_DATABASE_URL": url,
            "ANTREAN_REDIS_URL": REDIS,
            "ANTREAN_REDIS_CHANNEL": f"antrean-bench-{os.getpid()}",
            "ANTREAN_SECRET_KEY": secret_key,
            "ANTREAN_LOG_LEVEL": "warning",
            "ANTREAN_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "ANTREAN_RUN_MIGRATIONS": "false",
            # Every display comes from 127.0.0.1 (the per-address limit is for real clients).
            "ANTREAN_WS_CONNECTIONS_PER_ADDRESS": "1000000",
            "PROMETHEUS_MULTIPROC_DIR": metrics,
            "ANTREAN_POSTGRES_WRITER": writer,
            "ANTREAN_POSTGRES_WRITERS": str(writers),
        },
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return server, base
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("servers did not start")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


async def morning(
    args: argparse.Namespace, base: str, clinics: list[SeededClinic], watchers: Displays
) -> Morning:
    await watchers.start()
    traffic = Morning(base, clinics, args.seed)
    await traffic.run(args.tickets, args.transitions, args.minutes * 60)
    await asyncio.sleep(2)  # the last frames
    await watchers.stop()
    return traffic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--clinics", type=int, default=10_000)
    parser.add_argument("--tickets", type=float, default=300, help="offered per second")
    parser.add_argument("--transitions", type=float, default=1500, help="offered per second")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--displays", type=int, default=200, help="clinics with a display")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres-url", default=POSTGRES)
    parser.add_argument("--writer", choices=("batch", "direct"), default="batch")
    parser.add_argument("--writers", type=int, default=1, help="batching writers a process")
    args = parser.parse_args()

    scratch = ScratchPostgres(args.postgres_url, "antrean_bench_morning")
    secret_key = secrets.token_urlsafe(32)
    server = None
    try:
        engine = make_engine(scratch.url)
        upgrade_to_head(engine)
        began = time.monotonic()
        clinics = seed(engine, args.clinics, secret_key)
        engine.dispose()
        print(f"seeded {len(clinics)} clinics in {time.monotonic() - began:.0f} s", flush=True)
        server, base = start_servers(
            scratch.url, args.processes, secret_key, args.writer, args.writers
        )
        workers = children(server.pid)
        step = max(1, len(clinics) // max(args.displays, 1))
        watchers = Displays(
            base.replace("http", "ws"), [c.id for c in clinics[::step]][: args.displays]
        )
        cpu_before = {
            "servers": total_cpu(workers),
            "postgres": total_cpu(processes_named("postgres")),
            "redis": total_cpu(processes_named("redis-server")),
        }
        started = time.monotonic()
        traffic = asyncio.run(morning(args, base, clinics, watchers))
        seconds = time.monotonic() - started
        cpu = {
            "servers": total_cpu(workers) - cpu_before["servers"],
            "postgres": total_cpu(processes_named("postgres")) - cpu_before["postgres"],
            "redis": total_cpu(processes_named("redis-server")) - cpu_before["redis"],
        }
        report(args, traffic, watchers, seconds, cpu)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        scratch.drop()


def report(
    args: argparse.Namespace,
    traffic: Morning,
    watchers: Displays,
    seconds: float,
    cpu: dict[str, float],
) -> None:
    tally = traffic.tally
    done = sum(len(v) for v in tally.latencies.values())
    ok = done - sum(tally.errors.values())
    print(
        f"{args.processes} server processes ({args.writer} writer, {args.writers} a process), "
        f"{args.clinics} clinics, "
        f"{seconds:.0f} s; offered "
        f"{args.tickets:.0f} tickets/s and {args.transitions:.0f} transitions/s"
    )
    print(f"{'endpoint':<12} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  statuses")
    rows = {}
    for name in sorted(tally.latencies):
        ms = [1000 * s for s in tally.latencies[name]]
        statuses = {str(st): n for (nm, st), n in tally.statuses.items() if nm == name}
        rows[name] = {
            "per_s": round(len(ms) / seconds, 1),
            "p50_ms": round(percentile(ms, 0.5), 1),
            "p99_ms": round(percentile(ms, 0.99), 1),
            "errors": tally.errors.get(name, 0),
            "statuses": statuses,
        }
        row = rows[name]
        print(
            f"{name:<12} {row['per_s']:>8} {row['p50_ms']:>8} {row['p99_ms']:>8} "
            f"{row['errors']:>7}  {statuses}"
        )
    frame_ms = [1000 * s for s in watchers.call_to_frame]
    per_op = {k: round(1e6 * v / max(done, 1)) for k, v in cpu.items()}
    print(
        f"displays {watchers.connected}/{len(watchers.clinic_ids)}, frames {watchers.frames}, "
        f"seq gaps {watchers.gaps}, call->frame p50 {percentile(frame_ms, 0.5):.0f} ms "
        f"p99 {percentile(frame_ms, 0.99):.0f} ms"
    )
    print(
        f"requests {done} ({done / seconds:.0f}/s), answered without error {ok}; not sent "
        f"(generator behind) {tally.behind}; CPU per request: servers {per_op['servers']} us, "
        f"PostgreSQL {per_op['postgres']} us, Redis {per_op['redis']} us"
    )
    print(
        json.dumps(
            {
                "seconds": round(seconds),
                "requests_per_s": round(done / seconds, 1),
                "errors": sum(tally.errors.values()),
                "not_sent": tally.behind,
                "endpoints": rows,
                "call_to_frame_p99_ms": round(percentile(frame_ms, 0.99), 1),
                "seq_gaps": watchers.gaps,
                "cpu_us_per_request": per_op,
            }
        )
    )


if __name__ == "__main__":
    main()
