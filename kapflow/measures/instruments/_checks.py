"""Checks between the parts of a definition: skip logic, bands against totals, flag rules.

They run on the parts that were read without problems, so one bad item does not hide the
problems of the others. ``positions`` maps every readable item id to its position (from 0),
including items that had problems, so a reference to such an item is not called unknown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from kapflow.measures.instruments.model import Band, FlagRule, Item, Scoring

CSSRS_ITEMS = ("q1", "q2", "q3", "q4", "q5", "q6", "q6b")


def times(count: int) -> str:
    return "twice" if count == 2 else f"{count} times"


def repeated(names: Sequence[str], kind: str) -> list[str]:
    """``item "q3" appears twice`` for every name used more than once."""
    return [
        f"{kind} {_name(name)} appears {times(count)}" for name, count in Counter(names).items() if count > 1
    ]


def _name(name: str) -> str:
    return f'"{name}"' if len(name) <= 40 else f'"{name[:37]}..."'


def show_if_problems(entries: Sequence[tuple[int, Item]], positions: dict[str, int]) -> list[str]:
    """A ``show_if`` must name an earlier item and only values that item offers."""
    by_id = {item.id: item for _, item in entries}
    problems = []
    for position, item in entries:
        rule = item.show_if
        if rule is None:
            continue
        where = f'item "{item.id}"'
        if rule.item == item.id:
            problems.append(f"{where}: show_if refers to itself")
        elif rule.item not in positions:
            problems.append(f'{where}: show_if refers to unknown item "{rule.item}"')
        elif positions[rule.item] > position:
            problems.append(f'{where}: show_if refers to "{rule.item}", which comes later')
        elif rule.item in by_id:
            offered = by_id[rule.item].values
            for value in sorted(rule.values - offered):
                problems.append(f'{where}: show_if value {value} is not an answer of "{rule.item}"')
    return problems


def scoring_problems(
    scoring: Scoring, items: Sequence[Item], bands: Sequence[Band], flags: Sequence[FlagRule]
) -> list[str]:
    """What each scoring needs of the items (``SINGLE``: one; ``CSSRS``: the screener's)."""
    if scoring is Scoring.SINGLE and len(items) != 1:
        return [f'scoring "single" needs exactly one item, not {len(items)}']
    if scoring is not Scoring.CSSRS:
        return []
    problems = []
    if tuple(item.id for item in items) != CSSRS_ITEMS or any(item.values != {0, 1} for item in items):
        problems.append(
            f'scoring "cssrs" needs the items {", ".join(CSSRS_ITEMS)}, each with the answers 0 and 1'
        )
    if bands:
        problems.append('scoring "cssrs" has no total, so it takes no bands')
    if flags:
        problems.append('scoring "cssrs" raises its own flags, so it takes no flag rules')
    return problems


def _totals(low: int, high: int) -> str:
    return f"total {low}" if low == high else f"totals {low}-{high}"


def band_problems(bands: Sequence[Band], limits: tuple[int, int] | None) -> list[str]:
    """Bands, in any order, must not overlap and must cover exactly the possible totals."""
    problems = [f'band "{b.label}" has low {b.low} above high {b.high}' for b in bands if b.low > b.high]
    ordered = sorted((b for b in bands if b.low <= b.high), key=lambda b: (b.low, b.high))
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            if second.low <= first.high:
                problems.append(f"bands {first.low}-{first.high} and {second.low}-{second.high} overlap")
    if not bands or limits is None:
        return problems
    lowest, highest = limits
    for band in ordered:
        if band.low < lowest:
            problems.append(
                f'band "{band.label}" starts at {band.low}, below the lowest possible total {lowest}'
            )
        if band.high > highest:
            problems.append(
                f'band "{band.label}" ends at {band.high}, above the highest possible total {highest}'
            )
    cursor = lowest  # the lowest total not yet known to be covered
    for band in ordered:
        if band.low > cursor and cursor <= highest:
            problems.append(f"no band covers {_totals(cursor, min(band.low - 1, highest))}")
        cursor = max(cursor, band.high + 1)
    if cursor <= highest:
        problems.append(f"no band covers {_totals(cursor, highest)}")
    return problems


def flag_problems(
    flags: Sequence[FlagRule], entries: Sequence[tuple[int, Item]], positions: dict[str, int]
) -> list[str]:
    """A flag rule must name an existing item and a value that item can reach."""
    by_id = {item.id: item for _, item in entries}
    problems = repeated([flag.id for flag in flags], "flag")
    for flag in flags:
        if flag.item not in positions:
            problems.append(f'flag "{flag.id}" refers to unknown item "{flag.item}"')
        elif flag.item in by_id:
            highest = max(by_id[flag.item].values)
            if flag.min_value > highest:
                problems.append(
                    f'flag "{flag.id}" can never fire: min_value {flag.min_value} is above '
                    f'the highest answer of "{flag.item}" ({highest})'
                )
    return problems
