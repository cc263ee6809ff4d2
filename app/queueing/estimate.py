"""The wait estimator: people ahead, times the recent service time, shared by the counters.

estimated_wait = ceil(position × mean_service_minutes ÷ counters), where mean_service_minutes is
the mean service time (start, or call without a start, to done) of the service's last 20 tickets
completed today, or the service's `default_service_minutes` before any, and counters is how many
counters call from the service. Simple on purpose; the reports measure how good it is.
"""

import math
from datetime import datetime

RECENT_TICKETS = 20


def mean_service_minutes(spans: list[tuple[datetime, datetime]], default_minutes: float) -> float:
    """Mean of (finished - began) in minutes over recent completed tickets."""
    if not spans:
        return default_minutes
    total = sum((end - begin).total_seconds() for begin, end in spans)
    return max(total / len(spans) / 60, 0.0)


def estimated_wait_minutes(position: int, mean_minutes: float, counters: int) -> int:
    return math.ceil(position * mean_minutes / max(counters, 1))
