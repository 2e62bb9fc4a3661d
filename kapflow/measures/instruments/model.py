"""What an instrument is, what a score is, and the two ways a measure can be refused.

Pure: standard library only. Instruments are plain frozen data, so the built-in ones
(``builtin.py``) and a clinic's uploads (``definitions.py``) are the same kind of object and
compare equal when they say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Rater(StrEnum):
    PATIENT = "patient"  # the patient answers (portal, or staff entering the patient's answers)
    OBSERVER = "observer"  # staff rate what they observe (e.g. sedation during dosing)


class Scoring(StrEnum):
    SUM = "sum"  # total = sum of the answered items' values
    CSSRS = "cssrs"  # no total: a C-SSRS screener risk level (built-in only)
    SINGLE = "single"  # one item; total = its value


class Severity(StrEnum):
    """How urgent a safety flag is. ``HIGH`` outranks ``MODERATE``."""

    MODERATE = "moderate"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return 2 if self is Severity.HIGH else 1


class Risk(StrEnum):
    """The C-SSRS screener's risk levels, as stored in ``Score.risk`` (a ``str``)."""

    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


@dataclass(frozen=True)
class Option:
    value: int
    label: str
    code: str = ""  # LOINC answer code, e.g. LA6568-5


@dataclass(frozen=True)
class ShowIf:
    """The item is asked only if the earlier item ``item`` was answered with one of ``values``."""

    item: str
    values: frozenset[int]


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    options: tuple[Option, ...]
    code: str = ""  # LOINC question code
    show_if: ShowIf | None = None

    @property
    def values(self) -> frozenset[int]:
        return frozenset(option.value for option in self.options)

    def option(self, value: int) -> Option:
        """The option with ``value``; ``KeyError`` if there is none."""
        for option in self.options:
            if option.value == value:
                return option
        raise KeyError(value)


@dataclass(frozen=True)
class Band:
    """A named range of totals, ``low`` and ``high`` included."""

    low: int
    high: int
    label: str

    def __contains__(self, total: int) -> bool:
        return self.low <= total <= self.high


@dataclass(frozen=True)
class FlagRule:
    """Raises a safety flag when the answer to ``item`` is ``min_value`` or more."""

    id: str
    item: str
    min_value: int
    severity: Severity
    message: str


@dataclass(frozen=True)
class Instrument:
    key: str
    version: str
    name: str
    short_name: str
    rater: Rater
    scoring: Scoring
    items: tuple[Item, ...]
    bands: tuple[Band, ...] = ()
    flags: tuple[FlagRule, ...] = ()
    loinc_panel: str = ""
    loinc_total: str = ""
    intro: str = ""
    source: str = ""

    @property
    def min_total(self) -> int | None:
        """The lowest possible total (``None`` for the C-SSRS, which has no total)."""
        limits = total_range(self.scoring, self.items)
        return None if limits is None else limits[0]

    @property
    def max_total(self) -> int | None:
        """The highest possible total (``None`` for the C-SSRS)."""
        limits = total_range(self.scoring, self.items)
        return None if limits is None else limits[1]

    def item(self, id: str) -> Item:
        """The item with this id; ``KeyError`` if there is none."""
        for item in self.items:
            if item.id == id:
                return item
        raise KeyError(id)


def total_range(scoring: Scoring, items: tuple[Item, ...]) -> tuple[int, int] | None:
    """The lowest and highest possible totals, or ``None`` when the scoring has no total.

    An item that skip logic may hide counts as possibly 0 (not asked adds nothing), so the range
    is never narrower than the totals that can occur. ``SINGLE`` scores its first item only."""
    if scoring is Scoring.CSSRS:
        return None
    scored = items[:1] if scoring is Scoring.SINGLE else items
    low = high = 0
    for item in scored:
        values = [option.value for option in item.options] or [0]
        if item.show_if is not None:
            values.append(0)
        low += min(values)
        high += max(values)
    return low, high


@dataclass(frozen=True)
class Flag:
    """A safety flag raised by one response."""

    rule_id: str
    item: str
    severity: Severity
    message: str


@dataclass(frozen=True)
class Score:
    total: int | None
    band: Band | None
    flags: tuple[Flag, ...]
    risk: str = ""  # C-SSRS: "none", "low", "moderate" or "high" (see Risk); "" otherwise


class InvalidAnswers(ValueError):
    """The answers cannot be scored. ``problems`` maps each item id to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{item}: {problem}" for item, problem in self.problems.items()))

    def __reduce__(self) -> tuple[type[InvalidAnswers], tuple[dict[str, str]]]:
        return (type(self), (self.problems,))


class DefinitionError(ValueError):
    """An instrument definition is refused. ``problems`` names every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))

    def __reduce__(self) -> tuple[type[DefinitionError], tuple[list[str]]]:
        return (type(self), (self.problems,))
