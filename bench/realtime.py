"""Display sockets under load: how many one server holds, its memory, and call→frame latency.

For each setup (one process on SQLite with the in-process hub; two processes on PostgreSQL
sharing Redis) it builds `--clinics` clinics, opens `--sockets` display sockets spread over
the clinics (and over the processes), then calls `--rate` tickets a second for `--seconds`
seconds through the API (alternating processes). For every `ticket.called` frame a display
receives it takes the time from the event (its `at`, stamped inside the committing
transaction, so the figure includes the commit) to the frame's arrival. Prints sockets held,
server RSS, frames, and p50/p99, and the two-process/one-process ratio of p99.

    .venv/bin/python -m bench.realtime [--sockets 5000] [--clinics 50] [--rate 20] [--seconds 20]
"""

import argparse
import asyncio
import gc
import json
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime

import httpx2 as httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.servers import ADMIN, ScratchPostgres, Server


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    connected: int = 0
    frames: int = 0


async def build_city(
    base: str, clinics: int, tickets_each: int
) -> tuple[dict[str, str], list[int]]:
    """Clinics with one service and two counters each, and tickets waiting to be called."""
    async with httpx.AsyncClient(base_url=f"{base}/api/v1", timeout=60) as client:
        token = await client.post("/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
        admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
        counter_ids: list[int] = []
        for n in range(clinics):
            cid = (
                await client.post(
                    "/clinics", headers=admin, json={"code": f"BENCH-{n}", "name": f"Bench {n}"}
                )
            ).json()["id"]
            sid = (
                await client.post(
                    f"/clinics/{cid}/services", headers=admin, json={"name": "Umum", "prefix": "A"}
                )
            ).json()["id"]
            for name in ("Loket 1", "Loket 2"):
                counter = await client.post(
                    f"/clinics/{cid}/counters",
                    headers=admin,
                    json={"name": name, "service_ids": [sid]},
                )
                counter_ids.append(counter.json()["id"])
            for _ in range(tickets_each):
                await client.post(
                    f"/clinics/{cid}/tickets", headers=admin, json={"service_id": sid}
                )
        return admin, counter_ids


async def display(url: str, tally: Tally, ready: asyncio.Event, stop: asyncio.Event) -> None:
    try:
        async with connect(url, compression=None, open_timeout=60, max_queue=64) as ws:
            await watch(ws, tally, ready, stop)
    except OSError:
        return


async def watch(
    ws: ClientConnection, tally: Tally, ready: asyncio.Event, stop: asyncio.Event
) -> None:
    json.loads(await ws.recv())  # the snapshot
    tally.connected += 1
    await ready.wait()
    while not stop.is_set():
        try:
            raw = await asyncio.wait_for(ws.recv(), 1)
        except TimeoutError:
            continue
        arrived = time.time()
        if '"ticket.called"' not in raw:  # parse only what is measured: the client shares the CPU
            continue
        message = json.loads(raw)
        if message["type"] == "ticket.called":
            tally.frames += 1
            at = datetime.fromisoformat(message["at"]).timestamp()
            tally.latencies_ms.append((arrived - at) * 1000)


async def call_at_rate(
    bases: list[str], admin: dict[str, str], counters: list[int], rate: float, seconds: float
) -> int:
    clients = [
        httpx.AsyncClient(base_url=f"{base}/api/v1", timeout=30, headers=admin) for base in bases
    ]
    calls, started = 0, time.perf_counter()
    pending: set[asyncio.Task[httpx.Response]] = set()
    while time.perf_counter() - started < seconds:
        client = clients[calls % len(clients)]
        counter = counters[calls % len(counters)]
        pending.add(asyncio.create_task(client.post(f"/counters/{counter}/call-next")))
        calls += 1
        await asyncio.sleep(max(0.0, started + calls / rate - time.perf_counter()))
    for response in await asyncio.gather(*pending):
        assert response.status_code in (200, 204), response.text
    for client in clients:
        await client.aclose()
    return calls


async def run_setup(servers: list[Server], args: argparse.Namespace) -> dict[str, float]:
    tickets_each = int(args.rate * args.seconds / args.clinics) + 3
    admin, counters = await build_city(servers[0].base, args.clinics, tickets_each)
    clinic_ids = sorted({1 + n for n in range(args.clinics)})
    tally, ready, stop = Tally(), asyncio.Event(), asyncio.Event()
    sockets: list[asyncio.Task[None]] = []
    gate = asyncio.Semaphore(100)

    async def open_one(n: int) -> None:
        server = servers[n % len(servers)]
        url = f"ws://127.0.0.1:{server.port}/ws/clinics/{clinic_ids[n % len(clinic_ids)]}"
        async with gate:
            sockets.append(asyncio.create_task(display(url, tally, ready, stop)))
            while tally.connected <= n - 100:
                await asyncio.sleep(0.01)

    began = time.perf_counter()
    await asyncio.gather(*(open_one(n) for n in range(args.sockets)))
    while tally.connected < args.sockets and time.perf_counter() - began < 300:
        await asyncio.sleep(0.1)
    connect_seconds = time.perf_counter() - began
    # The load generator holds thousands of sockets too: keep its own garbage collector's
    # pauses out of the latencies it measures.
    gc.freeze()
    ready.set()
    rss_idle = sum(server.rss_mb() for server in servers)
    calls = await call_at_rate([s.base for s in servers], admin, counters, args.rate, args.seconds)
    await asyncio.sleep(2)
    rss_loaded = sum(server.rss_mb() for server in servers)
    stop.set()
    await asyncio.gather(*sockets)
    lat = sorted(tally.latencies_ms)
    q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) > 1 else [0.0] * 99
    return {
        "held": tally.connected,
        "connect_s": connect_seconds,
        "rss_idle": rss_idle,
        "rss": rss_loaded,
        "calls": calls,
        "frames": tally.frames,
        "expected": calls * args.sockets / args.clinics,
        "p50": q[49],
        "p99": q[98],
        "max": lat[-1] if lat else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--clinics", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20, help="calls per second")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--only", choices=["one", "two"], help="run one setup only")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    gc.set_threshold(50_000, 50, 50)

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "one"):
            server = Server(f"sqlite:///{tmp}/bench.db")
            try:
                results["1 process, SQLite"] = asyncio.run(run_setup([server], args))
            finally:
                server.stop()
        if args.only in (None, "two"):
            postgres = ScratchPostgres(args.postgres, "antrean_bench_rt")
            env = {
                "ANTREAN_REDIS_URL": args.redis,
                "ANTREAN_REDIS_CHANNEL": f"antrean-bench:{time.time()}",
            }
            servers = [Server(postgres.url, **env), Server(postgres.url, **env)]
            try:
                results["2 processes, PostgreSQL + Redis"] = asyncio.run(run_setup(servers, args))
            finally:
                for server in servers:
                    server.stop()
                postgres.drop()

    print(
        f"{args.sockets} display sockets over {args.clinics} clinics, "
        f"{args.rate:g} calls/s for {args.seconds:g} s"
    )
    header = f"{'setup':<33}{'held':>6}{'conn s':>8}{'RSS idle MB':>12}{'RSS MB':>8}"
    print(header + f"{'frames':>8}{'of':>8}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}")
    for label, r in results.items():
        print(
            f"{label:<33}{r['held']:>6.0f}{r['connect_s']:>8.1f}{r['rss_idle']:>12.0f}{r['rss']:>8.0f}"
            f"{r['frames']:>8.0f}{r['expected']:>8.0f}{r['p50']:>8.1f}{r['p99']:>8.1f}{r['max']:>8.1f}"
        )
    if len(results) == 2:
        one, two = results.values()
        print(f"ratio p99 two processes / one process: {two['p99'] / max(one['p99'], 0.001):.2f}")


if __name__ == "__main__":
    main()
