"""Call-next with many counters racing on one queue, on PostgreSQL (or SQLite).

One Antrean process on a scratch database; `--tickets` are issued first (32 at a time), then
`--counters` counters of the same service call the next ticket as fast as they can (each call
completes the ticket the counter held) until nobody waits. Afterwards the event log is checked:
every ticket called exactly once (double calls and tickets never called must both be 0).
`--writer` picks PostgreSQL's writer (batched commands or a transaction per command), so the
two are compared on the same load.

    .venv/bin/python -m bench.call_next [--counters 20] [--tickets 4000] [--database sqlite]
        [--writer batch|direct]
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import text

from app.db import make_engine
from bench.queue_api import build_clinic
from bench.servers import ScratchPostgres, Server

POSTGRES = "postgresql://127.0.0.1:5432/test"


async def issue(
    base: str, kiosk: dict[str, str], clinic_id: int, service_id: int, n: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def one() -> None:
            started = time.perf_counter()
            response = await client.post(
                f"/api/v1/clinics/{clinic_id}/tickets",
                headers=kiosk,
                json={"service_id": service_id},
            )
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 201, response.text

        began = time.perf_counter()
        for start in range(0, n, 32):
            await asyncio.gather(*(one() for _ in range(min(32, n - start))))
        return latencies, time.perf_counter() - began


async def call_until_empty(
    base: str, staff: dict[str, str], counter_ids: list[int]
) -> tuple[list[float], float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=len(counter_ids))
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def counter(counter_id: int) -> None:
            while True:
                started = time.perf_counter()
                response = await client.post(
                    f"/api/v1/counters/{counter_id}/call-next", headers=staff
                )
                latencies.append(time.perf_counter() - started)
                if response.status_code == 204:
                    return
                assert response.status_code == 200, response.text

        began = time.perf_counter()
        await asyncio.gather(*(counter(cid) for cid in counter_ids))
        return latencies, time.perf_counter() - began


def called_once(database_url: str) -> tuple[int, int, int]:
    """(tickets, double calls, never called) from the event log."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        tickets = connection.execute(text("SELECT count(*) FROM ticket")).scalar_one()
        rows = connection.execute(
            text(
                "SELECT ticket.id, count(ticket_event.id) FROM ticket LEFT JOIN ticket_event "
                "ON ticket_event.ticket_id = ticket.id AND ticket_event.type = 'called' "
                "GROUP BY ticket.id"
            )
        ).all()
    engine.dispose()
    doubles = sum(count - 1 for _, count in rows if count > 1)
    never = sum(1 for _, count in rows if count == 0)
    return tickets, doubles, never


def _p50_p99(seconds: list[float]) -> str:
    ms = sorted(1000 * s for s in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):.1f} ms p99 {p99:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counters", type=int, default=20)
    parser.add_argument("--tickets", type=int, default=4000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres-url", default=POSTGRES)
    parser.add_argument("--writer", choices=("batch", "direct"), default="batch")
    args = parser.parse_args()

    scratch_pg = None
    if args.database == "postgresql":
        scratch_pg = ScratchPostgres(args.postgres_url, "antrean_bench_call_next")
        url = scratch_pg.url
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='antrean-bench-')) / 'antrean.db'}"
    server = Server(url, ANTREAN_POSTGRES_WRITER=args.writer)
    try:
        with httpx.Client(base_url=server.base, timeout=30) as setup:
            admin, kiosk, service_id, counter_ids = build_clinic(setup, counters=args.counters)
            clinic_id = setup.get("/api/v1/clinics").json()[0]["id"]
        issued, issue_seconds = asyncio.run(
            issue(server.base, kiosk, clinic_id, service_id, args.tickets)
        )
        latencies, seconds = asyncio.run(call_until_empty(server.base, admin, counter_ids))
        tickets, doubles, never = called_once(url)
        writer = f", {args.writer} writer" if args.database == "postgresql" else ""
        print(
            f"{args.database}{writer}: issue (32 at a time) {len(issued) / issue_seconds:.0f}/s, "
            f"{_p50_p99(issued)}; {args.counters} counters calling {tickets} tickets: "
            f"{len(latencies) / seconds:.0f} calls/s, {_p50_p99(latencies)}; "
            f"double calls {doubles}, never called {never}"
        )
    finally:
        server.stop()
        if scratch_pg is not None:
            scratch_pg.drop()


if __name__ == "__main__":
    main()
