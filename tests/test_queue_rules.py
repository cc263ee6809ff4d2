"""Unit tests of the pure queue rules: local day, state machine, priority key, estimator."""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.models import Priority, TicketStatus
from app.models.event import EventType
from app.models.leg import LegOutcome
from app.queueing.errors import IllegalTransition
from app.queueing.estimate import rolling_estimate
from app.queueing.localday import local_date
from app.queueing.numbering import ticket_code
from app.queueing.priority import queue_key
from app.queueing.states import (
    ACTION_OF,
    LEG_ENDINGS,
    STATUS_AFTER,
    Action,
    Refusal,
    Transition,
    step,
    transition,
)

S = TicketStatus


@pytest.mark.parametrize(
    ("timezone", "midnight_utc"),
    [
        ("Asia/Jakarta", datetime(2026, 11, 23, 17, 0, tzinfo=UTC)),  # WIB, UTC+7
        ("Asia/Makassar", datetime(2026, 11, 23, 16, 0, tzinfo=UTC)),  # WITA, UTC+8
        ("Asia/Jayapura", datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),  # WIT, UTC+9
    ],
)
def test_local_day_turns_at_the_clinics_own_midnight(timezone: str, midnight_utc: datetime) -> None:
    assert local_date(midnight_utc - timedelta(seconds=1), timezone) == date(2026, 11, 23)
    assert local_date(midnight_utc, timezone) == date(2026, 11, 24)


# The contract's state diagram, written out here on its own: (from, action, to, event logged).
ALLOWED = [
    (None, Action.issue, S.waiting, EventType.issued),
    (S.waiting, Action.call, S.called, EventType.called),
    (S.called, Action.recall, S.called, EventType.recalled),
    (S.called, Action.start, S.serving, EventType.started),
    (S.serving, Action.complete, S.done, EventType.completed),
    (S.called, Action.complete, S.done, EventType.completed),
    (S.waiting, Action.cancel, S.cancelled, EventType.cancelled),
    (S.called, Action.no_show, S.no_show, EventType.no_show),
    (S.no_show, Action.requeue, S.waiting, EventType.requeued),
    (S.called, Action.transfer, S.waiting, EventType.transferred),
    (S.serving, Action.transfer, S.waiting, EventType.transferred),
    (S.waiting, Action.expire, S.expired, EventType.expired),
    (S.called, Action.expire, S.expired, EventType.expired),
    (S.no_show, Action.expire, S.expired, EventType.expired),
    (S.serving, Action.expire, S.expired, EventType.expired),  # our decision (queue-rules.md)
]


def test_every_transition_of_the_contract_moves_and_logs_its_event() -> None:
    for status, action, to, event in ALLOWED:
        assert transition(status, action) == Transition(to, event), (status, action)
        assert step(status, action).status is to


def test_everything_else_is_refused_with_its_code_and_nothing_moves() -> None:
    allowed = {(status, action) for status, action, _, _ in ALLOWED}
    refused = 0
    for action in Action:
        for status in [None, *S]:
            if (status, action) in allowed:
                continue
            moved = transition(status, action)
            assert isinstance(moved, Refusal), (status, action, moved)
            assert moved.code == "illegal_transition"
            with pytest.raises(IllegalTransition) as info:
                step(status, action)
            assert info.value.status_code == 409
            refused += 1
    # Terminal states accept nothing at all.
    for terminal in (S.done, S.cancelled, S.expired):
        assert all(isinstance(transition(terminal, action), Refusal) for action in Action)
    assert refused == len(Action) * (len(S) + 1) - len(ALLOWED)


def test_the_log_is_read_back_through_the_same_table() -> None:
    """The feed's status after an event, the replay's action and a leg's outcome come from the
    rules table, and agree with the diagram and the report definitions written out here."""
    for _, action, to, event in ALLOWED:
        assert STATUS_AFTER[event] is to
        assert ACTION_OF[event] is action
    assert LEG_ENDINGS == {
        EventType.completed: LegOutcome.done,
        EventType.transferred: LegOutcome.transferred,
        EventType.no_show: LegOutcome.no_show,
        EventType.cancelled: LegOutcome.cancelled,
        EventType.expired: LegOutcome.expired,
    }


def test_priority_moves_a_ticket_ahead_by_the_lead_and_no_further() -> None:
    regular_arrival = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    regular = queue_key(regular_arrival, Priority.none, 60)
    assert regular == regular_arrival
    # A priority patient arriving within the lead goes ahead of the regular one …
    soon = queue_key(regular_arrival + timedelta(minutes=59), Priority.elderly, 60)
    assert soon < regular
    # … one arriving later than the lead does not: that is the bound on passing over.
    late = queue_key(regular_arrival + timedelta(minutes=61), Priority.pregnant, 60)
    assert late > regular
    for priority in (Priority.elderly, Priority.pregnant, Priority.disabled, Priority.child):
        assert queue_key(regular_arrival, priority, 30) == regular_arrival - timedelta(minutes=30)


def test_the_old_rolling_estimator_shares_the_wait_between_counters() -> None:
    assert rolling_estimate(0, 5, 2) == 0
    assert rolling_estimate(3, 5, 1) == 15
    assert rolling_estimate(3, 5, 2) == 8  # 7.5 rounded up
    assert rolling_estimate(3, 5, 0) == 15  # no counter yet: as if one


def test_ticket_codes_are_zero_padded() -> None:
    assert ticket_code("A", 12) == "A-012"
    assert ticket_code("KB", 1) == "KB-001"
    assert ticket_code("A", 1234) == "A-1234"
