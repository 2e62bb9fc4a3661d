"""The monitoring timeline: which of the protocol's checks are done, due, overdue or missed.

Standard library only. Checks fall due at minutes after the first administration. A recorded
entry counts for the latest check of its kind that was open when it was taken (not more than
``EARLY`` minutes before its time), so a late entry fills its own slot and leaves the skipped
one missed rather than pretending it was on time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kapflow.dosing.protocol import CheckKind

EARLY = timedelta(minutes=5)  # an entry this much before its time still counts
GRACE = timedelta(minutes=5)  # a check is overdue this long after its time


class DueState(StrEnum):
    DONE = "done"
    DUE = "due"
    OVERDUE = "overdue"
    MISSED = "missed"
    UPCOMING = "upcoming"


@dataclass(frozen=True)
class Due:
    kind: CheckKind
    minute: int
    due_at: datetime
    state: DueState
    done_at: datetime | None = None


def timeline(
    schedule: Mapping[CheckKind, Sequence[int]],
    start: datetime,
    entries: Mapping[CheckKind, Sequence[datetime]],
    now: datetime,
) -> list[Due]:
    """Every scheduled check, in time order, with its state at ``now``."""
    result: list[Due] = []
    for kind, minutes in schedule.items():
        slots = sorted(minutes)
        filled: dict[int, datetime] = {}
        for at in sorted(entries.get(kind, ())):
            # Only checks after the last one filled are open: an earlier one left unfilled is missed,
            # and a repeat reading must not fill it afterwards.
            after = max(filled, default=-1)
            open_slots = [m for m in slots if m > after and start + timedelta(minutes=m) - EARLY <= at]
            if open_slots:
                filled[open_slots[-1]] = at
        last_filled = max(filled, default=-1)
        for minute in slots:
            due_at = start + timedelta(minutes=minute)
            if minute in filled:
                result.append(Due(kind, minute, due_at, DueState.DONE, filled[minute]))
                continue
            if minute < last_filled:
                state = DueState.MISSED
            elif now < due_at - EARLY:
                state = DueState.UPCOMING
            elif now <= due_at + GRACE:
                state = DueState.DUE
            else:
                state = DueState.OVERDUE
            result.append(Due(kind, minute, due_at, state))
    result.sort(key=lambda d: (d.due_at, str(d.kind)))
    return result
