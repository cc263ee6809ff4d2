"""Each service's mean recent service time, kept in memory between completions.

The estimate of a wait needs the mean service time of the service's last tickets completed
today (app/queueing/estimate.py). Reading it costs a query per ticket issued; it changes only
when a ticket of the service completes. So it is read once, then kept until this process
commits a completion in the service (an inline after-commit consumer forgets it before the
writer answers), or until it is MAX_AGE_SECONDS old: completions committed by another server
process reach an estimate here within that age, a bounded lag on a figure that is an estimate
anyway. A new local day starts afresh.
"""

import threading
import time
from collections.abc import Callable
from datetime import date

from app.after_commit import Commit, Consumer
from app.models import EventType

MAX_AGE_SECONDS = 10.0

# Where a session finds the process's service times (the writer's and the requests' sessions).
SERVICE_TIMES_INFO = "antrean_service_times"


class ServiceTimes:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._means: dict[int, tuple[date, float, float]] = {}  # day, read at, mean minutes
        self._generation = 0

    def mean(self, service_id: int, visit_date: date, read: Callable[[], float]) -> float:
        """The kept mean of the service on that day, or `read()` it and keep it (unless a
        completion in the service was committed while it was read)."""
        found = self._means.get(service_id)
        now = self._clock()
        if found is not None and found[0] == visit_date and now - found[1] < MAX_AGE_SECONDS:
            return found[2]
        generation = self._generation
        value = read()
        with self._lock:
            if generation == self._generation:
                self._means[service_id] = (visit_date, now, value)
        return value

    def forget(self, service_ids: set[int]) -> None:
        with self._lock:
            self._generation += 1
            for service_id in service_ids:
                self._means.pop(service_id, None)

    def consumer(self) -> Consumer:
        """For the after-commit pipeline, inline: a completion changes its service's mean."""

        def consume(commit: Commit) -> None:
            done = {e.service_id for e in commit.events if e.type is EventType.completed}
            if done:
                self.forget(done)

        return consume
