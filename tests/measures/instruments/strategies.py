"""Hypothesis strategies: valid custom instruments, and complete answers that respect skip logic.

Written without the engine's help: which items are asked is worked out here from the
``ShowIf`` rules directly, and the bands are a random partition of the totals computed here.
"""

from __future__ import annotations

import string

from hypothesis import strategies as st

from kapflow.measures.instruments.model import (
    Band,
    FlagRule,
    Instrument,
    Item,
    Option,
    Rater,
    Scoring,
    Severity,
    ShowIf,
)

texts = st.text(
    alphabet=string.ascii_letters + string.digits + " .,'?\"-/()é", min_size=1, max_size=24
).filter(lambda text: bool(text.strip()))
codes = st.sampled_from(["", "LA6568-5", "44250-9"])
item_ids = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)


def possible_totals(scoring: Scoring, items: list[Item]) -> tuple[int, int]:
    """Lowest and highest totals: an item that may be skipped can add 0."""
    scored = items[:1] if scoring is Scoring.SINGLE else items
    low = high = 0
    for item in scored:
        values = [option.value for option in item.options]
        if item.show_if is not None:
            values.append(0)
        low, high = low + min(values), high + max(values)
    return low, high


@st.composite
def _items(draw: st.DrawFn, count: int) -> list[Item]:
    items: list[Item] = []
    for item_id in draw(st.lists(item_ids, min_size=count, max_size=count, unique=True)):
        values = draw(st.lists(st.integers(-3, 12), min_size=2, max_size=6, unique=True))
        options = tuple(Option(value, draw(texts), draw(codes)) for value in values)
        show_if = None
        conditional = draw(st.booleans())
        if items and conditional:
            target = draw(st.sampled_from(items))
            target_values = sorted(option.value for option in target.options)
            show_if = ShowIf(target.id, frozenset(draw(st.sets(st.sampled_from(target_values), min_size=1))))
        items.append(Item(item_id, draw(texts), options, draw(codes), show_if))
    return items


@st.composite
def _bands(draw: st.DrawFn, low: int, high: int) -> tuple[Band, ...]:
    if draw(st.integers(0, 4)) == 0:  # bands are optional
        return ()
    cuts = sorted(draw(st.sets(st.integers(low + 1, high), max_size=5))) if high > low else []
    starts = [low, *cuts]
    ends = [cut - 1 for cut in cuts] + [high]
    bands = [Band(start, end, draw(texts)) for start, end in zip(starts, ends, strict=True)]
    return tuple(draw(st.permutations(bands)))


@st.composite
def _flags(draw: st.DrawFn, items: list[Item]) -> tuple[FlagRule, ...]:
    flags = []
    for number in range(draw(st.integers(0, 4))):
        item = draw(st.sampled_from(items))
        min_value = draw(st.sampled_from(sorted(option.value for option in item.options)))
        severity = draw(st.sampled_from(list(Severity)))
        flags.append(FlagRule(f"flag_{number}", item.id, min_value, severity, draw(texts)))
    return tuple(flags)


@st.composite
def instruments(draw: st.DrawFn, scorings: tuple[Scoring, ...] = (Scoring.SUM, Scoring.SINGLE)) -> Instrument:
    """A valid custom instrument: bands (if any) partition the possible totals, in any order."""
    scoring = draw(st.sampled_from(scorings))
    items = draw(_items(1 if scoring is Scoring.SINGLE else draw(st.integers(1, 6))))
    low, high = possible_totals(scoring, items)
    return Instrument(
        key=draw(st.from_regex(r"[a-z0-9_-]{1,20}", fullmatch=True)),
        version=draw(st.from_regex(r"[0-9][0-9a-z.]{0,6}", fullmatch=True)),
        name=draw(texts),
        short_name=draw(texts),
        rater=draw(st.sampled_from(list(Rater))),
        scoring=scoring,
        items=tuple(items),
        bands=draw(_bands(low, high)),
        flags=draw(_flags(items)),
        loinc_panel=draw(codes),
        loinc_total=draw(codes),
        intro=draw(st.sampled_from(["", "Over the last 2 weeks..."])),
        source=draw(st.sampled_from(["", "Made up for a test."])),
    )


@st.composite
def complete_answers(draw: st.DrawFn, instrument: Instrument) -> dict[str, int]:
    """An answer to every item that is asked, and to no other."""
    answers: dict[str, int] = {}
    for item in instrument.items:
        rule = item.show_if
        if rule is not None and not (rule.item in answers and answers[rule.item] in rule.values):
            continue
        answers[item.id] = draw(st.sampled_from([option.value for option in item.options]))
    return answers
