"""Vital signs against a protocol's limits: which are crossed, and how badly.

Standard library only. A reading is a mapping of vital name to value (missing vitals are
not judged); limits come from ``protocol.Limit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from kapflow.dosing.protocol import LIMIT_LABELS, LIMITS, PHYSIOLOGICAL, Direction, Limit


class Level(StrEnum):
    OK = "ok"
    CAUTION = "caution"
    HARD_STOP = "hard_stop"


LEVEL_RANK = {Level.OK: 0, Level.CAUTION: 1, Level.HARD_STOP: 2}


@dataclass(frozen=True)
class Breach:
    limit: str
    level: Level
    value: int
    threshold: int
    message: str


def _crossed(value: int, threshold: int | None, direction: Direction) -> bool:
    if threshold is None:
        return False
    return value > threshold if direction == Direction.ABOVE else value < threshold


def breaches(reading: Mapping[str, int | None], limits: Mapping[str, Limit]) -> list[Breach]:
    """Every limit the reading crosses, at its worst level (hard stop before caution)."""
    found = []
    for name, limit in limits.items():
        vital, direction = LIMITS[name]
        value = reading.get(vital)
        if value is None:
            continue
        side = "above" if direction == Direction.ABOVE else "below"
        for level, threshold in ((Level.HARD_STOP, limit.hard_stop), (Level.CAUTION, limit.caution)):
            if threshold is not None and _crossed(value, threshold, direction):
                words = "hard stop" if level == Level.HARD_STOP else "caution level"
                message = f"{LIMIT_LABELS[name]} {value} is {side} the {words} of {threshold}."
                found.append(Breach(name, level, value, threshold, message))
                break
    return found


def worst(found: list[Breach]) -> Level:
    return max((b.level for b in found), key=LEVEL_RANK.__getitem__, default=Level.OK)


def implausible(reading: Mapping[str, int | None]) -> list[str]:
    """Values no living patient shows: typing errors, to be refused (never judged)."""
    problems = []
    for vital, value in reading.items():
        if value is None or vital not in PHYSIOLOGICAL:
            continue
        low, high = PHYSIOLOGICAL[vital]
        if not low <= value <= high:
            problems.append(f"{vital.replace('_', ' ')} {value} is outside {low}-{high}; check the reading.")
    systolic, diastolic = reading.get("systolic"), reading.get("diastolic")
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        problems.append("The diastolic pressure must be below the systolic; check the reading.")
    return problems
