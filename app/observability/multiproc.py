"""prometheus_client's multiprocess mode, for ANTREAN_WORKERS > 1.

With PROMETHEUS_MULTIPROC_DIR set (before the server starts: the client library picks its
storage when imported), every worker writes its metrics to files there and a scrape of any
worker sums them all. `python -m app` empties the directory when it starts.
"""

import os
import re
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

ENV = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w*?_(\d+)\.db$")


def directory() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def wipe(path: Path) -> None:
    """Start from nothing: files of a previous run would be summed into this one's."""
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_workers(path: Path) -> None:
    """A worker that died (and was replaced) no longer holds sockets open: drop its live
    gauges. Its counters stay: they count what happened."""
    for file in path.glob("gauge_live*.db"):
        match = _LIVE_GAUGE_FILE.match(file.name)
        if match and not _alive(int(match.group(1))):
            mark_process_dead(int(match.group(1)), str(path))  # type: ignore[no-untyped-call]


def registry(path: Path, scrape_time: Iterable[Collector]) -> CollectorRegistry:
    forget_dead_workers(path)
    combined = CollectorRegistry()
    MultiProcessCollector(combined, str(path))  # type: ignore[no-untyped-call]
    for collector in scrape_time:
        combined.register(collector)
    return combined
