"""The wait estimator: a pure function of a service's pace, kept in O(1) per service and day.

A ticket at `position` p (p tickets of its service will be called before it) is called at the
(p + 1)-th call of its service from now. So the estimate is the time to the service's next call
plus p intervals between calls, stretched for a regular ticket by the priority tickets that
will join ahead of it:

- `gap`: the interval between two calls of the service while someone waited, a moving mean of
  today's intervals (each moves it `GAP_WEIGHT` of the way). It is the service's throughput as
  it really is: how many counters actually call, their breaks, their no-shows, shared counters
  calling from other services too. Early in the day it leans on the usual pace of the same
  weekday and hour (`Usual`: mean service time over counters at work, from past days' leg
  rollups), or on today's mean service time over the counters, or the service's default:
  today's intervals weigh as much as that prior once there are `PRIOR_WEIGHT` of them.
- the next call: while someone has waited since the last call (`busy_since`), about one gap
  after that call; once that is overdue the counters are evidently paused, and the next call
  is taken as `OVERDUE_SHARE` of a gap away. When nobody waited after the last call, a counter
  is (about to be) free: the last call's ticket takes a service time (gap x counters), the
  counters share the rest of it. Before the day's first call: when it usually comes
  (`opens_at`, from past days), or at once without a history.
- priority tickets joining later go ahead of a regular ticket if they join within the lead:
  each takes one call. Their rate (the moving share of priority tickets among joins over the
  moving interval between joins) times the gap is the share of calls they take; a regular
  wait W is then W / (1 - share) while it is shorter than the lead, W + share x lead beyond.

Counters: the service has no open/closed flag per counter; `counters` is how many counters call
from the service, one that also calls from other services counting as its share (1/k of a
counter for each of k services), and what they really do shows in the gap. A service no
counter calls from is estimated as if one did (the wait is then not known; the ticket still
gets a figure).

Constants were tuned on simulated days (bench/ewt.py, seeds 1-20 of the tuning seeds 1-99),
never on the held-out ones.
"""

import math
from dataclasses import dataclass, replace

# How far one new interval between calls moves today's mean interval.
GAP_WEIGHT = 0.07
# How many of today's intervals weigh as much as the usual pace.
PRIOR_WEIGHT = 4.0
# The next call, once the expected one is overdue (counters paused), in gaps from now.
OVERDUE_SHARE = 0.5
# How far one join moves the mean interval between joins and the share of priority joins, and
# that share before any join.
JOIN_WEIGHT = 0.1
PRIORITY_WEIGHT = 0.05
PRIORITY_PRIOR = 0.15
# Priority joins ahead of a regular ticket take at most this many times their share of the
# joins in calls (more only while joins outrun calls; a burst at the door is not a rate).
MAX_JUMP_FACTOR = 1.5


# Not frozen: a frozen dataclass costs 1.5 µs more to build, on the write path (never changed
# in place: `replace` makes the next one).
@dataclass(slots=True)
class Pace:
    """A service's pace today, as its day row keeps it. Times are epoch seconds."""

    gap_seconds: float | None = None  # moving mean of the intervals between calls
    gaps: int = 0  # how many intervals moved it
    busy_since: float | None = None  # the last call, when someone still waited after it
    last_call_at: float | None = None
    service_seconds: float | None = None  # moving mean of today's service times
    join_gap_seconds: float | None = None  # moving mean of the intervals between joins
    priority_share: float | None = None  # moving share of priority tickets among joins
    last_join_at: float | None = None


@dataclass(frozen=True, slots=True)
class Usual:
    """The same weekday and hour on past days: mean service time and counters at work."""

    service_seconds: float
    counters: float


def called(pace: Pace, *, at: float, waiting_after: int) -> Pace:
    """The pace after a call of the service at `at`, `waiting_after` still waiting."""
    gap, gaps = pace.gap_seconds, pace.gaps
    if pace.busy_since is not None:
        sample = at - pace.busy_since
        gap = sample if gap is None else gap + (sample - gap) * GAP_WEIGHT
        gaps += 1
    busy_since = at if waiting_after > 0 else None
    return replace(pace, gap_seconds=gap, gaps=gaps, busy_since=busy_since, last_call_at=at)


def joined(pace: Pace, *, at: float, priority: bool) -> Pace:
    """The pace after a ticket joined the service's queue at `at` (issued, transferred in,
    requeued)."""
    join_gap = pace.join_gap_seconds
    if pace.last_join_at is not None:
        sample = at - pace.last_join_at
        join_gap = sample if join_gap is None else join_gap + (sample - join_gap) * JOIN_WEIGHT
    share = PRIORITY_PRIOR if pace.priority_share is None else pace.priority_share
    share += (float(priority) - share) * PRIORITY_WEIGHT
    return replace(pace, join_gap_seconds=join_gap, priority_share=share, last_join_at=at)


def served(pace: Pace, *, seconds: float, weight: float) -> Pace:
    """The pace after a leg was served in `seconds` (its moving mean moved by `weight`)."""
    mean = pace.service_seconds
    mean = seconds if mean is None else mean + (seconds - mean) * weight
    return replace(pace, service_seconds=mean)


def emptied(pace: Pace) -> Pace:
    """Nobody waits any more (the last waiting ticket cancelled): no interval is running."""
    return replace(pace, busy_since=None)


def _at_least_some(counters: float) -> float:
    """No counter calls from the service: estimate as if one did."""
    return counters if counters > 0 else 1.0


def prior_gap(
    pace: Pace, *, counters: float, usual: Usual | None, default_service_minutes: float
) -> float:
    """The interval between calls to expect before today has shown its own."""
    if usual is not None and usual.service_seconds > 0:
        return usual.service_seconds / max(usual.counters, 1.0)
    service = pace.service_seconds
    if service is None:
        service = default_service_minutes * 60
    return service / _at_least_some(counters)


def expected_gap(
    pace: Pace, *, counters: float, usual: Usual | None, default_service_minutes: float
) -> float:
    prior = prior_gap(
        pace, counters=counters, usual=usual, default_service_minutes=default_service_minutes
    )
    if pace.gap_seconds is None or pace.gaps <= 0:
        return prior
    return (pace.gaps * pace.gap_seconds + PRIOR_WEIGHT * prior) / (pace.gaps + PRIOR_WEIGHT)


def jump_share(pace: Pace, gap: float) -> float:
    """The share of the service's calls that go to priority tickets joining later, ahead of a
    regular ticket: their rate of joining times the interval between calls."""
    if pace.join_gap_seconds is None or pace.priority_share is None:
        return 0.0
    rate = pace.priority_share / max(pace.join_gap_seconds, 1.0)
    return min(rate * gap, MAX_JUMP_FACTOR * pace.priority_share, 0.9)


def wait_seconds(
    position: int,
    *,
    now: float,
    pace: Pace,
    counters: float,
    usual: Usual | None = None,
    default_service_minutes: float = 5.0,
    priority: bool = False,
    lead_minutes: float = 60.0,
    opens_at: float | None = None,
) -> float:
    """Expected seconds until the ticket at `position` is called. `priority`: the ticket's
    (a regular one is passed by priority tickets joining within `lead_minutes`); `opens_at`:
    when the service's first call usually comes, for a day without a call yet."""
    gap = expected_gap(
        pace, counters=counters, usual=usual, default_service_minutes=default_service_minutes
    )
    if pace.busy_since is not None:
        elapsed = max(now - pace.busy_since, 0.0)
        first = gap - elapsed if elapsed < gap * (1 - OVERDUE_SHARE) else gap * OVERDUE_SHARE
    elif pace.last_call_at is not None:
        since = max(now - pace.last_call_at, 0.0)
        some = _at_least_some(counters)
        first = max(gap * some - since, 0.0) / some
    else:  # nobody called yet today: the counters start with the first in line
        first = max(opens_at - now, 0.0) if opens_at is not None else 0.0
    wait = first + max(position, 0) * gap
    if not priority:
        share = jump_share(pace, gap)
        # Passed over while waiting, by priority tickets joining within the lead only.
        wait = min(wait / (1 - share), wait + share * lead_minutes * 60)
    return wait


def estimated_wait_minutes(
    position: int,
    *,
    now: float,
    pace: Pace,
    counters: float,
    usual: Usual | None = None,
    default_service_minutes: float = 5.0,
    priority: bool = False,
    lead_minutes: float = 60.0,
    opens_at: float | None = None,
) -> int:
    """The estimate as a patient sees it: `wait_seconds` in whole minutes, rounded to the
    nearest."""
    seconds = wait_seconds(
        position,
        now=now,
        pace=pace,
        counters=counters,
        usual=usual,
        default_service_minutes=default_service_minutes,
        priority=priority,
        lead_minutes=lead_minutes,
        opens_at=opens_at,
    )
    return max(round(seconds / 60), 0)


def rolling_estimate(position: int, mean_minutes: float, counters: int) -> int:
    """The estimator before December 2026, kept as a reference for bench/ewt.py: position x
    the moving mean of today's service times / counters, rounded up."""
    return math.ceil(position * mean_minutes / max(counters, 1))
