"""The wait estimator: a pure function of a service's pace, kept in O(1) per service and day.

A ticket at `position` p (p tickets of its service will be called before it) is called at the
(p + 1)-th call of its service from now. So the estimate is the time to the service's next call
plus p intervals between calls:

- `gap`: the interval between two calls of the service while someone waited, a moving mean of
  today's intervals (each moves it a fifth of the way). It is the service's throughput as it
  really is: how many counters actually call, their breaks, their no-shows, shared counters
  calling from other services too. Early in the day it leans on the usual pace of the same
  weekday and hour (`Usual`: mean service time over counters at work, from past days' leg
  rollups), or on today's mean service time over the counters, or the service's default:
  today's intervals weigh as much as that prior once there are `PRIOR_WEIGHT` of them.
- the next call: while someone has waited since the last call (`busy_since`), about one gap
  after that call; once that is overdue the counters are evidently paused, and the next call
  is taken as `OVERDUE_SHARE` of a gap away. When nobody waited after the last call, a counter
  is (about to be) free: the last call's ticket takes a service time (gap x counters), the
  counters share the rest of it.

Counters: the service has no open/closed flag per counter; `counters` is how many counters call
from the service, and what they really do shows in the gap. A service no counter calls from is
estimated as if one did (the wait is then not known; the ticket still gets a figure).

Constants were tuned on simulated days (bench/ewt.py, seeds 1-99), never on the held-out ones.
"""

import math
from dataclasses import dataclass

# How far one new interval between calls moves today's mean interval.
GAP_WEIGHT = 0.2
# How many of today's intervals weigh as much as the usual pace.
PRIOR_WEIGHT = 4.0
# The next call, once the expected one is overdue (counters paused), in gaps from now.
OVERDUE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Pace:
    """A service's pace today, as its day row keeps it. Times are epoch seconds."""

    gap_seconds: float | None = None  # moving mean of the intervals between calls
    gaps: int = 0  # how many intervals moved it
    busy_since: float | None = None  # the last call, when someone still waited after it
    last_call_at: float | None = None
    service_seconds: float | None = None  # moving mean of today's service times


@dataclass(frozen=True, slots=True)
class Usual:
    """The same weekday and hour on past days: mean service time and counters at work."""

    service_seconds: float
    counters: float


def called(pace: Pace, *, at: float, waiting_after: int) -> Pace:
    """The pace after a call of the service at `at`, `waiting_after` still waiting."""
    gap, gaps = pace.gap_seconds, pace.gaps
    if pace.busy_since is not None:
        sample = max(at - pace.busy_since, 0.0)
        gap = sample if gap is None else gap + (sample - gap) * GAP_WEIGHT
        gaps += 1
    return Pace(
        gap_seconds=gap,
        gaps=gaps,
        busy_since=at if waiting_after > 0 else None,
        last_call_at=at,
        service_seconds=pace.service_seconds,
    )


def emptied(pace: Pace) -> Pace:
    """Nobody waits any more (the last waiting ticket cancelled): no interval is running."""
    return Pace(pace.gap_seconds, pace.gaps, None, pace.last_call_at, pace.service_seconds)


def prior_gap(
    pace: Pace, *, counters: int, usual: Usual | None, default_service_minutes: float
) -> float:
    """The interval between calls to expect before today has shown its own."""
    if usual is not None and usual.service_seconds > 0:
        return usual.service_seconds / max(usual.counters, 1.0)
    service = pace.service_seconds
    if service is None:
        service = default_service_minutes * 60
    return service / max(counters, 1)


def expected_gap(
    pace: Pace, *, counters: int, usual: Usual | None, default_service_minutes: float
) -> float:
    prior = prior_gap(
        pace, counters=counters, usual=usual, default_service_minutes=default_service_minutes
    )
    if pace.gap_seconds is None or pace.gaps <= 0:
        return prior
    return (pace.gaps * pace.gap_seconds + PRIOR_WEIGHT * prior) / (pace.gaps + PRIOR_WEIGHT)


def wait_seconds(
    position: int,
    *,
    now: float,
    pace: Pace,
    counters: int,
    usual: Usual | None = None,
    default_service_minutes: float = 5.0,
) -> float:
    """Expected seconds until the ticket at `position` is called."""
    gap = expected_gap(
        pace, counters=counters, usual=usual, default_service_minutes=default_service_minutes
    )
    if pace.busy_since is not None:
        elapsed = max(now - pace.busy_since, 0.0)
        first = gap - elapsed if elapsed < gap * (1 - OVERDUE_SHARE) else gap * OVERDUE_SHARE
    elif pace.last_call_at is not None:
        since = max(now - pace.last_call_at, 0.0)
        first = max(gap * max(counters, 1) - since, 0.0) / max(counters, 1)
    else:
        first = 0.0  # nobody called yet today: the counters start with the first in line
    return first + max(position, 0) * gap


def estimated_wait_minutes(
    position: int,
    *,
    now: float,
    pace: Pace,
    counters: int,
    usual: Usual | None = None,
    default_service_minutes: float = 5.0,
) -> int:
    """The estimate as a patient sees it: whole minutes, rounded to the nearest."""
    seconds = wait_seconds(
        position,
        now=now,
        pace=pace,
        counters=counters,
        usual=usual,
        default_service_minutes=default_service_minutes,
    )
    return max(round(seconds / 60), 0)


def rolling_estimate(position: int, mean_minutes: float, counters: int) -> int:
    """The estimator before December 2026, kept as a reference for bench/ewt.py: position x
    the moving mean of today's service times / counters, rounded up."""
    return math.ceil(position * mean_minutes / max(counters, 1))
