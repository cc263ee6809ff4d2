"""The ticket state machine, as data: which action is allowed from which state."""

from enum import StrEnum

from app.models import TicketStatus
from app.queueing.errors import IllegalTransition

S = TicketStatus


class Action(StrEnum):
    call = "call"
    recall = "recall"
    start = "start"
    complete = "complete"
    no_show = "no_show"
    requeue = "requeue"
    transfer = "transfer"
    cancel = "cancel"
    expire = "expire"


TRANSITIONS: dict[Action, tuple[frozenset[TicketStatus], TicketStatus]] = {
    Action.call: (frozenset({S.waiting}), S.called),
    Action.recall: (frozenset({S.called}), S.called),
    Action.start: (frozenset({S.called}), S.serving),
    Action.complete: (frozenset({S.called, S.serving}), S.done),
    Action.no_show: (frozenset({S.called}), S.no_show),
    Action.requeue: (frozenset({S.no_show}), S.waiting),
    Action.transfer: (frozenset({S.called, S.serving}), S.waiting),
    Action.cancel: (frozenset({S.waiting}), S.cancelled),
    # The contract lists waiting|called|no_show; a ticket left `serving` at midnight is expired too,
    # or it would hold its counter into the next day (docs/queue-rules.md).
    Action.expire: (frozenset({S.waiting, S.called, S.serving, S.no_show}), S.expired),
}


def next_status(status: TicketStatus, action: Action) -> TicketStatus:
    """The status after `action`, or IllegalTransition (409) when it is not allowed."""
    allowed_from, to = TRANSITIONS[action]
    if status not in allowed_from:
        raise IllegalTransition(action.value.replace("_", "-"), status.value.replace("_", "-"))
    return to
