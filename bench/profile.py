"""A py-spy profile of one server process under load: ticket issue (wrk) or call-next.

    .venv/bin/python -m bench.profile issue --out docs/profiles/issue.svg
    .venv/bin/python -m bench.profile call-next --database postgresql --out cn.svg

py-spy is not one of the project's dependencies (it profiles, it is not needed to run):
install it anywhere (`python3 -m venv /tmp/spy && /tmp/spy/bin/pip install py-spy`) and pass
`--py-spy /tmp/spy/bin/py-spy`. `--format raw` writes collapsed stacks instead of an SVG.
"""

import argparse
import asyncio
import subprocess
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

from bench.call_next import POSTGRES, call_until_empty, issue
from bench.queue_api import build_clinic
from bench.servers import ScratchPostgres, Server
from bench.write_path import LUA, wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("operation", choices=("issue", "call-next"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--format", choices=("flamegraph", "raw"), default="flamegraph")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--py-spy", default="py-spy")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--counters", type=int, default=20)
    args = parser.parse_args()

    scratch_pg = None
    if args.database == "postgresql":
        scratch_pg = ScratchPostgres(POSTGRES, "antrean_bench_profile")
        url = scratch_pg.url
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='antrean-bench-')) / 'antrean.db'}"
    server = Server(url)
    try:
        with httpx.Client(base_url=server.base, timeout=30) as setup:
            admin, kiosk, service_id, counter_ids = build_clinic(setup, counters=args.counters)
            clinic_id = setup.get("/api/v1/clinics").json()[0]["id"]
        script = LUA % {"service_id": service_id, "key": kiosk["Authorization"].split()[1]}
        issue_url = f"{server.base}/api/v1/clinics/{clinic_id}/tickets"
        if args.operation == "call-next":  # enough waiting for the whole profile
            asyncio.run(issue(server.base, kiosk, clinic_id, service_id, 300 * args.seconds))
        else:
            wrk("warm-up", issue_url, script, 3, 2, 32)
        spy = subprocess.Popen(
            [args.py_spy, "record", "--pid", str(server.process.pid), "--duration",
             str(args.seconds), "--rate", "200", "--threads", "--nonblocking",
             "--format", args.format, "--output", args.out]
        )  # fmt: skip
        time.sleep(1)  # py-spy attaches
        if args.operation == "issue":
            print(wrk("ticket issue", issue_url, script, args.seconds - 2, 2, 32).row())
        else:
            latencies, seconds = asyncio.run(call_until_empty(server.base, admin, counter_ids))
            print(f"call-next: {len(latencies) / seconds:.0f} calls/s over {seconds:.0f} s")
        spy.wait()
    finally:
        server.stop()
        if scratch_pg is not None:
            scratch_pg.drop()


if __name__ == "__main__":
    main()
