"""The wait estimator: people ahead, times the recent service time, shared by the counters.

estimated_wait = ceil(position × mean_service_minutes ÷ counters), where mean_service_minutes is
the service's moving mean of today's service times (kept with its numbers,
app/queueing/numbering.py), or the service's `default_service_minutes` before any, and counters
is how many counters call from the service. Simple on purpose; the reports measure how good it
is.
"""

import math


def estimated_wait_minutes(position: int, mean_minutes: float, counters: int) -> int:
    return math.ceil(position * mean_minutes / max(counters, 1))
