"""Skip logic, validation and scoring of one set of answers. Pure: standard library only.

``score`` refuses answers it cannot score with ``InvalidAnswers`` naming every problem, item
by item. It never guesses: a missing answer is not counted as 0.

Flags: when several rules on the same item fire (PHQ-9 item 9 has one from 1 and one from 2),
only the most severe is reported for that item, so one answer raises one alert. Among rules of
equal severity the one with the highest ``min_value`` wins, then the first defined. Flags come
in the order of the instrument's items.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeGuard

from kapflow.measures.instruments.model import (
    Band,
    Flag,
    FlagRule,
    Instrument,
    InvalidAnswers,
    Item,
    Risk,
    Score,
    Scoring,
    Severity,
)

__all__ = ["InvalidAnswers", "answer_problems", "score", "visible_items"]


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def visible_items(instrument: Instrument, answers: Mapping[str, object]) -> tuple[Item, ...]:
    """The items asked given the answers so far (partial answers are fine).

    An item with a ``ShowIf`` is asked when the item it names was itself asked and answered
    with one of the ``ShowIf`` values."""
    shown: list[Item] = []
    shown_ids: set[str] = set()
    for item in instrument.items:
        rule = item.show_if
        if rule is not None:
            answer = answers.get(rule.item)
            if rule.item not in shown_ids or not _is_int(answer) or answer not in rule.values:
                continue
        shown.append(item)
        shown_ids.add(item.id)
    return tuple(shown)


def _answers_text(item: Item) -> str:
    return ", ".join(str(value) for value in sorted(item.values))


def _state(instrument: Instrument, item_id: str, answers: Mapping[str, object], shown: set[str]) -> str:
    """How the item a skipped question depends on was answered, in words."""
    if item_id not in shown:
        return "not asked"
    if item_id not in answers:
        return "not answered"
    value = answers[item_id]
    item = instrument.item(item_id)
    if _is_int(value) and value in item.values:
        return f'"{item.option(value).label}"'
    return repr(value)


def answer_problems(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, str]:
    """Every problem with the answers, by item id (empty when they can be scored)."""
    shown = {item.id for item in visible_items(instrument, answers)}
    problems: dict[str, str] = {}
    for item in instrument.items:
        if item.id in shown:
            value = answers.get(item.id)
            if item.id not in answers:
                problems[item.id] = "missing"
            elif not _is_int(value) or value not in item.values:
                problems[item.id] = f"{value!r} is not one of the answers {_answers_text(item)}"
        elif item.id in answers:
            assert item.show_if is not None
            state = _state(instrument, item.show_if.item, answers, shown)
            problems[item.id] = f"not asked: answered although {item.show_if.item} was {state}"
    known = {item.id for item in instrument.items}
    for item_id in answers:
        if item_id not in known:
            problems[item_id] = f"not a question of {instrument.short_name}"
    return problems


def score(instrument: Instrument, answers: Mapping[str, int]) -> Score:
    """Validate then score the answers; ``InvalidAnswers`` names every problem."""
    problems = answer_problems(instrument, answers)
    if problems:
        raise InvalidAnswers(problems)
    if instrument.scoring is Scoring.CSSRS:
        return _score_cssrs(answers)
    shown = visible_items(instrument, answers)
    if instrument.scoring is Scoring.SINGLE:
        total = answers[instrument.items[0].id]
    else:
        total = sum(answers[item.id] for item in shown)
    return Score(total=total, band=_band(instrument.bands, total), flags=_flags(instrument, answers))


def _band(bands: tuple[Band, ...], total: int) -> Band | None:
    return next((band for band in bands if total in band), None)


def _flags(instrument: Instrument, answers: Mapping[str, int]) -> tuple[Flag, ...]:
    strongest: dict[str, FlagRule] = {}
    for rule in instrument.flags:
        if rule.item not in answers or answers[rule.item] < rule.min_value:
            continue
        current = strongest.get(rule.item)
        if current is None or (rule.severity.rank, rule.min_value) > (
            current.severity.rank,
            current.min_value,
        ):
            strongest[rule.item] = rule
    fired = [strongest[item.id] for item in instrument.items if item.id in strongest]
    return tuple(Flag(rule_id=r.id, item=r.item, severity=r.severity, message=r.message) for r in fired)


# C-SSRS screener (screen version). The order within each level decides which item is named.
_CSSRS_HIGH = (
    ("q4", "some intention of acting on thoughts of killing themself"),
    ("q5", "working out the details of how to kill themself, with intent to carry out the plan"),
    ("q6b", "suicidal behaviour in the past 3 months"),
)
_CSSRS_MODERATE = (
    ("q3", "thinking about how they might kill themself"),
    ("q6", "suicidal behaviour in their lifetime (not in the past 3 months)"),
)


def _score_cssrs(answers: Mapping[str, int]) -> Score:
    def yes(item_id: str) -> bool:
        return answers.get(item_id) == 1

    for item_id, meaning in _CSSRS_HIGH:
        if yes(item_id):
            message = (
                f"High suicide risk on the C-SSRS screener: yes to {item_id} ({meaning}). "
                "Follow the clinic's suicide-risk protocol now."
            )
            flag = Flag(rule_id="cssrs_high", item=item_id, severity=Severity.HIGH, message=message)
            return Score(total=None, band=None, flags=(flag,), risk=Risk.HIGH.value)
    for item_id, meaning in _CSSRS_MODERATE:
        if yes(item_id):
            message = (
                f"Moderate suicide risk on the C-SSRS screener: yes to {item_id} ({meaning}). "
                "A clinician needs to complete a suicide-risk assessment."
            )
            flag = Flag(rule_id="cssrs_moderate", item=item_id, severity=Severity.MODERATE, message=message)
            return Score(total=None, band=None, flags=(flag,), risk=Risk.MODERATE.value)
    risk = Risk.LOW if yes("q1") or yes("q2") else Risk.NONE
    return Score(total=None, band=None, flags=(), risk=risk.value)
