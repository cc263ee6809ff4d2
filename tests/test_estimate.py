"""The wait estimator as a pure function of a service's pace (app/queueing/estimate.py)."""

from dataclasses import replace
from datetime import date
from types import SimpleNamespace
from typing import cast

import pytest

from app.directory.setups import ClinicSetup
from app.queueing.estimate import (
    GAP_WEIGHT,
    OVERDUE_SHARE,
    PRIORITY_PRIOR,
    PRIORITY_WEIGHT,
    Pace,
    Usual,
    called,
    emptied,
    estimated_wait_minutes,
    joined,
    wait_seconds,
)
from app.queueing.estimate_history import usual_table
from app.queueing.estimate_now import shared_counters

NOW = 1_800_000_000.0
MIN = 60.0


def busy(gap_minutes: float, *, since_minutes: float = 0.0, gaps: int = 10_000) -> Pace:
    """A service whose counters call every `gap_minutes` while someone waits, the last call
    `since_minutes` ago with people still waiting."""
    return Pace(
        gap_seconds=gap_minutes * MIN,
        gaps=gaps,
        busy_since=NOW - since_minutes * MIN,
        last_call_at=NOW - since_minutes * MIN,
    )


def test_an_idle_counter_calls_a_new_ticket_at_once() -> None:
    # The last call was long ago and nobody waited after it: a counter is free.
    idle = Pace(gap_seconds=4 * MIN, gaps=10_000, busy_since=None, last_call_at=NOW - 30 * MIN)
    assert estimated_wait_minutes(0, now=NOW, pace=idle, counters=1) == 0
    # Nobody has been called yet today: the first in line is the first called.
    assert estimated_wait_minutes(0, now=NOW, pace=Pace(), counters=2) == 0


def test_a_counter_still_serving_the_last_call_is_waited_for() -> None:
    # One counter, 6 minutes a ticket, it called 2 minutes ago and nobody waited after.
    serving = Pace(gap_seconds=6 * MIN, gaps=10_000, busy_since=None, last_call_at=NOW - 2 * MIN)
    assert estimated_wait_minutes(0, now=NOW, pace=serving, counters=1) == 4


def test_the_wait_grows_with_the_position_and_shrinks_with_the_counters() -> None:
    # Before any data today: the service's default time per ticket over its counters.
    fresh = Pace()
    one = [estimated_wait_minutes(p, now=NOW, pace=fresh, counters=1) for p in (1, 2, 4)]
    two = [estimated_wait_minutes(p, now=NOW, pace=fresh, counters=2) for p in (1, 2, 4)]
    assert one == [5, 10, 20]
    assert two == [2, 5, 10]  # 2.5 rounds to the even 2
    # With today's pace: one gap to the next call (just made), then one per ticket ahead.
    pace = busy(3)
    assert [estimated_wait_minutes(p, now=NOW, pace=pace, counters=2) for p in (0, 1, 9)] == [
        3,
        6,
        30,
    ]
    # Halfway to the next call, it is half a gap away.
    half = busy(3, since_minutes=1.5)
    assert wait_seconds(0, now=NOW, pace=half, counters=2) == pytest.approx(1.5 * MIN, abs=1)


def test_a_paused_service_keeps_an_estimate_instead_of_falling_to_zero() -> None:
    # The counters have not called for 20 minutes though people wait (a break): the next call
    # is taken as a share of a gap away, never as overdue.
    paused = busy(4, since_minutes=20)
    assert wait_seconds(0, now=NOW, pace=paused, counters=1) == pytest.approx(
        OVERDUE_SHARE * 4 * MIN, rel=0.05
    )
    expected = round((OVERDUE_SHARE + 5) * 4)
    assert estimated_wait_minutes(5, now=NOW, pace=paused, counters=1) == expected
    # A service no counter calls from (closed): estimated as if one counter did.
    assert estimated_wait_minutes(3, now=NOW, pace=Pace(), counters=0) == 15


def test_the_usual_pace_leads_until_today_has_its_own() -> None:
    usual = Usual(service_seconds=8 * MIN, counters=2)  # 4 minutes between calls
    first_thing = Pace()
    assert estimated_wait_minutes(5, now=NOW, pace=first_thing, counters=3, usual=usual) == 20
    # Without the usual pace, the default over three counters: 5 x 5 / 3.
    assert estimated_wait_minutes(5, now=NOW, pace=first_thing, counters=3) == 8
    # A day already well under way at 2 minutes a call: today's pace wins.
    today = Pace(gap_seconds=2 * MIN, gaps=10_000, busy_since=NOW, last_call_at=NOW)
    assert estimated_wait_minutes(5, now=NOW, pace=today, counters=3, usual=usual) == 12


def test_the_pace_counts_only_intervals_when_someone_waited() -> None:
    pace = called(Pace(), at=NOW, waiting_after=0)  # nobody left: no interval runs
    assert pace.busy_since is None
    assert pace.last_call_at == NOW
    pace = called(pace, at=NOW + 600, waiting_after=2)  # an idle stretch is no interval
    assert (pace.gaps, pace.gap_seconds, pace.busy_since) == (0, None, NOW + 600)
    pace = called(pace, at=NOW + 780, waiting_after=1)
    assert (pace.gaps, pace.gap_seconds) == (1, 180)
    pace = called(pace, at=NOW + 1080, waiting_after=1)
    assert pace.gaps == 2
    assert pace.gap_seconds == pytest.approx(180 + (300 - 180) * GAP_WEIGHT)
    assert emptied(pace).busy_since is None


def test_the_usual_table_averages_service_time_and_counters_per_hour() -> None:
    monday, earlier = date(2026, 11, 30), date(2026, 11, 23)
    rows = [
        (monday, 8, 1, 11, 10, 3000.0),
        (monday, 8, 1, 12, 10, 3000.0),
        (earlier, 8, 1, 11, 20, 6000.0),
        (earlier, 9, 1, 0, 0, 0.0),  # never served: no figure
    ]
    table = usual_table(rows)
    assert table == {(1, 8): Usual(service_seconds=300.0, counters=1.5)}


def test_a_regular_ticket_is_stretched_by_priority_tickets_joining_ahead() -> None:
    # Calls every 3 minutes; a ticket joins every 3 minutes, a fifth of them priority: a
    # fifth of the calls go to priority tickets that join later and go ahead of a regular one.
    pace = replace(busy(3), join_gap_seconds=3 * MIN, priority_share=0.2)
    plain = wait_seconds(4, now=NOW, pace=pace, counters=1, priority=True)
    assert plain == pytest.approx(15 * MIN, rel=0.01)  # a priority ticket is not passed
    regular = wait_seconds(4, now=NOW, pace=pace, counters=1)
    assert regular == pytest.approx(plain / (1 - 0.2), rel=0.01)
    # Only within the lead: a long wait gains at most the lead's share.
    long = wait_seconds(40, now=NOW, pace=pace, counters=1, lead_minutes=30)
    assert long == pytest.approx(123 * MIN + 0.2 * 30 * MIN, rel=0.01)
    # A burst of joins at the door is no rate: the stretch stays bounded.
    burst = replace(pace, join_gap_seconds=1.0)
    assert wait_seconds(4, now=NOW, pace=burst, counters=1) <= plain / (1 - 0.2 * 1.5) + 1


def test_tickets_taken_before_the_first_call_wait_for_it() -> None:
    opens = NOW + 45 * MIN  # the service usually calls first 45 minutes from now
    assert estimated_wait_minutes(0, now=NOW, pace=Pace(), counters=1, opens_at=opens) == 45
    assert estimated_wait_minutes(2, now=NOW, pace=Pace(), counters=1, opens_at=opens) == 55
    # Once it has called, the usual first call no longer matters.
    assert estimated_wait_minutes(0, now=NOW, pace=busy(5), counters=1, opens_at=opens) == 5


def test_joins_move_the_rate_and_the_priority_share() -> None:
    pace = joined(Pace(), at=NOW, priority=True)
    assert pace.join_gap_seconds is None
    assert pace.priority_share == pytest.approx(
        PRIORITY_PRIOR + (1 - PRIORITY_PRIOR) * PRIORITY_WEIGHT
    )
    pace = joined(pace, at=NOW + 120, priority=False)
    assert pace.join_gap_seconds == 120
    assert pace.last_join_at == NOW + 120


def test_a_counter_shared_between_services_counts_as_its_share() -> None:
    monday = date(2026, 11, 30)
    # Loket 1 served 30 legs of service 1 and 10 of service 2 that hour; Loket 2 only service 1.
    rows = [
        (monday, 8, 1, 11, 30, 9000.0),
        (monday, 8, 2, 11, 10, 3000.0),
        (monday, 8, 1, 12, 20, 6000.0),
    ]
    table = usual_table(rows)
    assert table[(1, 8)].counters == pytest.approx(1.75)
    assert table[(2, 8)].counters == pytest.approx(0.25)
    setup = cast(ClinicSetup, SimpleNamespace(counter_services={11: (1, 2), 12: (1,), 13: (3,)}))
    assert shared_counters(setup, 1) == 1.5
    assert shared_counters(setup, 2) == 0.5
    assert shared_counters(setup, 4) == 0
