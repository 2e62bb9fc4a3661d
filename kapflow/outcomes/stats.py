"""Outcome definitions and the arithmetic of the reports.

Standard library only. Definitions (../shared/docs/DOMAIN.md):
- response: a PHQ-9 drop of at least 50% from a baseline above 9 (NQF 1884/1885);
- remission: a PHQ-9 below 5 (CMS159);
- the baseline is the last score before the course's first dosing session; a course without
  one is left out of response, remission and change, and counted as such.
Rates carry a 95% Wilson score interval, and groups smaller than the clinic's minimum are
reported as "too few to report".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

RESPONSE_SOURCE = "NQF 1884/1885: PHQ-9 drop of at least 50% from a baseline above 9"
REMISSION_SOURCE = "CMS159: PHQ-9 below 5"
HULL = "Hull et al., J Affect Disord 2022;314:59-67 (n=1,247): 62.8% response, 32.6% remission"
Z95 = 1.959963984540054


def is_response(baseline: int | None, latest: int | None) -> bool | None:
    """None when it cannot be judged (no baseline, no later score, or a baseline of 9 or less)."""
    if baseline is None or latest is None or baseline <= 9:
        return None
    return (baseline - latest) * 2 >= baseline


def is_remission(latest: int | None) -> bool | None:
    return None if latest is None else latest < 5


def percent_change(baseline: int | None, latest: int | None) -> float | None:
    if baseline is None or latest is None or baseline == 0:
        return None
    return (latest - baseline) * 100 / baseline


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (as fractions 0..1)."""
    if n <= 0:
        return (0.0, 0.0)
    if not 0 <= successes <= n:
        raise ValueError("successes must lie between 0 and n")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # At 0 or n successes the bound is exactly 0 or 1 (floating point can miss it either way).
    low = 0.0 if successes == 0 else max(0.0, centre - margin)
    high = 1.0 if successes == n else min(1.0, centre + margin)
    return (low, high)


@dataclass(frozen=True)
class Rate:
    successes: int
    n: int
    minimum: int

    @property
    def reportable(self) -> bool:
        return self.n >= max(self.minimum, 1)

    @property
    def percent(self) -> float | None:
        return self.successes * 100 / self.n if self.reportable else None

    @property
    def interval(self) -> tuple[float, float] | None:
        if not self.reportable:
            return None
        low, high = wilson(self.successes, self.n)
        return (low * 100, high * 100)

    def text(self) -> str:
        if not self.reportable:
            return "too few to report"
        assert self.percent is not None and self.interval is not None
        low, high = self.interval
        return f"{self.percent:.1f}% (95% CI {low:.1f}-{high:.1f}; {self.successes} of {self.n})"


def per_hundred(events: int, sessions: int) -> float | None:
    return None if sessions <= 0 else events * 100 / sessions


SESSION_BANDS = ((1, 2, "1-2"), (3, 4, "3-4"), (5, 6, "5-6"), (7, 10_000, "7 or more"))
DOSE_BANDS = (
    (Decimal(0), Decimal("0.5"), "under 0.5 mg/kg"),
    (Decimal("0.5"), Decimal("1"), "0.5 to under 1 mg/kg"),
    (Decimal("1"), Decimal("2"), "1 to under 2 mg/kg"),
    (Decimal("2"), Decimal("4"), "2 to under 4 mg/kg"),
    (Decimal("4"), Decimal("1000"), "4 mg/kg or more"),
)


def session_band(count: int) -> str:
    for low, high, label in SESSION_BANDS:
        if low <= count <= high:
            return label
    return "none"


def dose_band(mg_per_kg: Decimal | None) -> str:
    if mg_per_kg is None:
        return "no weight recorded"
    for low, high, label in DOSE_BANDS:
        if low <= mg_per_kg < high:
            return label
    return DOSE_BANDS[-1][2]


def age_band(age: int) -> str:
    """Ten-year bands for the research export; 90 and over together (HIPAA Safe Harbor)."""
    if age >= 90:
        return "90+"
    low = (age // 10) * 10
    return f"{low}-{low + 9}"
