"""The ticket state machine, as one table and one pure function.

`RULES` says, for each action, the states it may start from, the state it leads to and the
event it logs. `transition(status, action)` is the only place that decides a move: a
`Transition` (the new status and the event to log) or a `Refusal` (with its error code).
The queue's commands apply what it returns; nothing else encodes a transition.
"""

from dataclasses import dataclass
from enum import StrEnum

from app.models import TicketStatus
from app.models.event import EventType
from app.models.leg import LegOutcome
from app.queueing.errors import IllegalTransition

S = TicketStatus
L = LegOutcome


class Action(StrEnum):
    issue = "issue"
    call = "call"
    recall = "recall"
    start = "start"
    complete = "complete"
    no_show = "no_show"
    requeue = "requeue"
    transfer = "transfer"
    cancel = "cancel"
    expire = "expire"


@dataclass(frozen=True)
class Rule:
    allowed_from: frozenset[TicketStatus | None]
    to: TicketStatus
    event: EventType
    # The outcome of the ticket's leg in its service when this action ends it (reports).
    ends_leg: LegOutcome | None = None


RULES: dict[Action, Rule] = {
    # A ticket begins its life by being issued (it had no state before).
    Action.issue: Rule(frozenset({None}), S.waiting, EventType.issued),
    Action.call: Rule(frozenset({S.waiting}), S.called, EventType.called),
    Action.recall: Rule(frozenset({S.called}), S.called, EventType.recalled),
    Action.start: Rule(frozenset({S.called}), S.serving, EventType.started),
    Action.complete: Rule(frozenset({S.called, S.serving}), S.done, EventType.completed, L.done),
    Action.no_show: Rule(frozenset({S.called}), S.no_show, EventType.no_show, L.no_show),
    Action.requeue: Rule(frozenset({S.no_show}), S.waiting, EventType.requeued),
    # The leg ends; the same ticket waits in the other service's queue.
    Action.transfer: Rule(
        frozenset({S.called, S.serving}), S.waiting, EventType.transferred, L.transferred
    ),
    Action.cancel: Rule(frozenset({S.waiting}), S.cancelled, EventType.cancelled, L.cancelled),
    # The contract lists waiting|called|no_show; a ticket left `serving` at midnight is expired
    # too, or it would hold its counter into the next day (docs/queue-rules.md).
    Action.expire: Rule(
        frozenset({S.waiting, S.called, S.serving, S.no_show}),
        S.expired,
        EventType.expired,
        L.expired,
    ),
}


# The same table read by event: what a logged event did (feeds, replays of the log, reports).
ACTION_OF: dict[EventType, Action] = {rule.event: action for action, rule in RULES.items()}
STATUS_AFTER: dict[EventType, TicketStatus] = {rule.event: rule.to for rule in RULES.values()}
LEG_ENDINGS: dict[EventType, LegOutcome] = {
    rule.event: rule.ends_leg for rule in RULES.values() if rule.ends_leg is not None
}


@dataclass(frozen=True)
class Transition:
    status: TicketStatus
    event: EventType


@dataclass(frozen=True)
class Refusal:
    """The action is not allowed from this state (409 `illegal_transition`)."""

    action: Action
    status: TicketStatus | None
    code: str = IllegalTransition.code

    def error(self) -> IllegalTransition:
        shown = self.status.value.replace("_", "-") if self.status else "new"
        return IllegalTransition(self.action.value.replace("_", "-"), shown)


def transition(status: TicketStatus | None, action: Action) -> Transition | Refusal:
    """What `action` does to a ticket in `status` (None: not issued yet)."""
    rule = RULES[action]
    if status not in rule.allowed_from:
        return Refusal(action, status)
    return Transition(rule.to, rule.event)


def step(status: TicketStatus | None, action: Action) -> Transition:
    """`transition`, with a refusal raised as its 409."""
    moved = transition(status, action)
    if isinstance(moved, Refusal):
        raise moved.error()
    return moved
