"""Throughput and latency of taking tickets and calling them, through a real server.

Starts uvicorn (one process) on SQLite and on PostgreSQL in turn, builds one clinic with
`--counters` counters, then `--clients` kiosks issue `--tickets` tickets concurrently while the
counters call them. Prints requests per second and p50/p99 latency per operation and database,
and the PostgreSQL/SQLite ratio from the same run.

    .venv/bin/python -m bench.queue_api [--tickets 2000] [--clients 8] [--counters 4]
"""

import argparse
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx2 as httpx

from bench.servers import ADMIN, ScratchPostgres, Server


@dataclass
class Timings:
    samples: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, seconds: float) -> None:
        with self.lock:
            self.samples.setdefault(name, []).append(seconds)


def build_clinic(
    client: httpx.Client, counters: int
) -> tuple[dict[str, str], dict[str, str], int, list[int]]:
    token = client.post("/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
    admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
    clinic = client.post(
        "/api/v1/clinics", headers=admin, json={"code": "BENCH", "name": "Bench"}
    ).json()
    cid = clinic["id"]
    service = client.post(
        f"/api/v1/clinics/{cid}/services",
        headers=admin,
        json={"name": "Pendaftaran", "prefix": "A"},
    ).json()
    counter_ids = [
        client.post(
            f"/api/v1/clinics/{cid}/counters",
            headers=admin,
            json={"name": f"Loket {i + 1}", "service_ids": [service["id"]]},
        ).json()["id"]
        for i in range(counters)
    ]
    device = client.post(
        f"/api/v1/clinics/{cid}/devices", headers=admin, json={"name": "Kiosk", "kind": "kiosk"}
    ).json()
    kiosk = {"Authorization": f"Bearer {device['key']}"}
    return admin, kiosk, service["id"], counter_ids


def run(base: str, tickets: int, clients: int, counters: int) -> tuple[Timings, float]:
    timings = Timings()
    with httpx.Client(base_url=base, timeout=30) as setup:
        admin, kiosk, service_id, counter_ids = build_clinic(setup, counters)
        cid = setup.get("/api/v1/clinics").json()[0]["id"]
    issued_all = threading.Event()
    per_client = tickets // clients

    def issue(_: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(per_client):
                started = time.perf_counter()
                response = client.post(
                    f"/api/v1/clinics/{cid}/tickets", headers=kiosk, json={"service_id": service_id}
                )
                timings.add("issue", time.perf_counter() - started)
                assert response.status_code == 201, response.text

    def call(counter_id: int) -> int:
        called = 0
        with httpx.Client(base_url=base, timeout=30) as client:
            while True:
                started = time.perf_counter()
                response = client.post(f"/api/v1/counters/{counter_id}/call-next", headers=admin)
                timings.add("call-next", time.perf_counter() - started)
                if response.status_code == 204:
                    if issued_all.is_set():
                        return called
                    time.sleep(0.005)
                    continue
                assert response.status_code == 200, response.text
                called += 1

    began = time.perf_counter()
    with ThreadPoolExecutor(clients + counters) as pool:
        callers = [pool.submit(call, counter_id) for counter_id in counter_ids]
        list(pool.map(issue, range(clients)))
        issued_all.set()
        total_called = sum(caller.result() for caller in callers)
    elapsed = time.perf_counter() - began
    assert total_called == per_client * clients, (total_called, per_client * clients)
    return timings, elapsed


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--counters", type=int, default=4)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    results: dict[str, float] = {}
    print(
        f"{args.tickets} tickets, {args.clients} kiosks issuing, "
        f"{args.counters} counters calling, one server process"
    )
    print(f"{'database':<11}{'operation':<11}{'count':>7}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        postgres = ScratchPostgres(args.postgres, "antrean_bench")
        for label, url in (("sqlite", f"sqlite:///{tmp}/bench.db"), ("postgresql", postgres.url)):
            server = Server(url)
            try:
                timings, elapsed = run(server.base, args.tickets, args.clients, args.counters)
            finally:
                server.stop()
            results[label] = args.tickets / elapsed
            for name, samples in timings.samples.items():
                print(
                    f"{label:<11}{name:<11}{len(samples):>7}{len(samples) / elapsed:>9.0f}"
                    f"{percentile(samples, 50) * 1000:>9.1f}{percentile(samples, 99) * 1000:>9.1f}"
                )
            print(
                f"{label:<11}{'tickets':<11}{args.tickets:>7}{results[label]:>9.0f}"
                "  issued and called, per second"
            )
        postgres.drop()
    print(
        "ratio postgresql/sqlite, tickets per second: "
        f"{results['postgresql'] / results['sqlite']:.2f}"
    )


if __name__ == "__main__":
    main()
