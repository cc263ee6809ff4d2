"""Start and stop Antrean server processes and scratch databases for the benchmarks."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import make_url, text

from app.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
ADMIN = ("bench-admin", "bench-password")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, all its threads (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """`python -m app` on a free port, as deployed (permessage-deflate off); `root` runs
    another checkout's code (an A/B against an earlier commit)."""

    def __init__(self, database_url: str, root: Path = ROOT, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "--port", str(self.port)],
            cwd=root,
            env={
                **os.environ,
                "ANTREAN_DATABASE_URL": database_url,
                "ANTREAN_ADMIN_USERNAME": ADMIN[0],
                "ANTREAN_ADMIN_PASSWORD": ADMIN[1],
                "ANTREAN_LOG_LEVEL": "warning",
                "ANTREAN_PUBLIC_URL": self.base,
                # Every client of a benchmark comes from 127.0.0.1: the per-address socket
                # limit, meant for one household or NAT, would refuse the displays.
                "ANTREAN_WS_CONNECTIONS_PER_ADDRESS": "1000000",
                **env,
            },
        )
        for _ in range(300):
            try:
                if httpx.get(f"{self.base}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def rss_mb(self) -> float:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


class ScratchPostgres:
    """A fresh PostgreSQL database for one run, dropped afterwards."""

    def __init__(self, server_url: str, name: str) -> None:
        self._server = make_engine(server_url, isolation_level="AUTOCOMMIT")
        self.name = f"{name}_{os.getpid()}"
        self.url = (
            make_url(server_url).set(database=self.name).render_as_string(hide_password=False)
        )
        self._run(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._run(f'CREATE DATABASE "{self.name}"')

    def _run(self, statement: str) -> None:
        with self._server.connect() as connection:
            connection.execute(text(statement))

    def drop(self) -> None:
        self._run(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._server.dispose()
