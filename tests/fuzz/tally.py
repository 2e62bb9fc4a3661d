"""What the fuzzers ran, counted as it runs: cases per target (an API operation or a form) per
persona, and how many of them answered 5xx or broke the schema.

Every fuzz test calls ``case()`` once for each case it really executes, and ``flush()`` when it
ends. With ``KAPFLOW_FUZZ_REPORT`` naming a file, ``flush()`` appends the test's counts to it as
JSON lines (one per target and persona); ``bench/fuzz.py`` sums them (pytest-xdist workers
append to the same file) and prints the figures.

``KAPFLOW_FUZZ_EXAMPLES`` sets the examples hypothesis draws per operation per role and per
form (each suite has a small default that keeps the test suite fast; the full run is 100), and
``KAPFLOW_FUZZ_FULL=1`` makes the full run: schemathesis' own boundary cases (its coverage
phase) as every role, not only as the prescriber.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from kapflow.env import envbool, envint

EXAMPLES_VARIABLE = "KAPFLOW_FUZZ_EXAMPLES"
FULL_VARIABLE = "KAPFLOW_FUZZ_FULL"
REPORT_VARIABLE = "KAPFLOW_FUZZ_REPORT"

# (suite, target, persona) -> counts of "cases", "2xx".."5xx", "server_errors", "violations" and
# "half_written"
_COUNTS: dict[tuple[str, str, str], Counter[str]] = {}


def examples(default: int) -> int:
    """The examples per operation per role (or per form): the setting, else the suite's default."""
    return envint(EXAMPLES_VARIABLE, default, minimum=1)


def full() -> bool:
    """The full run (``bench/fuzz.py``) rather than the suite's quick one."""
    return envbool(FULL_VARIABLE, False)


def case(suite: str, target: str, persona: str, status: int) -> None:
    counts = _COUNTS.setdefault((suite, target, persona), Counter())
    counts["cases"] += 1
    counts[f"{status // 100}xx"] += 1
    if status >= 500:
        counts["server_errors"] += 1


def failure(suite: str, target: str, persona: str, kind: str) -> None:
    """A case that broke a check: ``violations`` (the schema) or ``half_written`` (the database)."""
    _COUNTS.setdefault((suite, target, persona), Counter())[kind] += 1


def counted(suite: str, target: str, persona: str) -> int:
    return _COUNTS.get((suite, target, persona), Counter())["cases"]


def flush() -> None:
    """Append the counts so far to the report file (if one is named), and start again."""
    path = os.environ.get(REPORT_VARIABLE)
    if path and _COUNTS:
        lines = [
            json.dumps({"suite": suite, "target": target, "persona": persona, **counts})
            for (suite, target, persona), counts in _COUNTS.items()
        ]
        with open(path, "a", encoding="utf-8") as report:
            report.write("\n".join(lines) + "\n")
    _COUNTS.clear()


@contextmanager
def flushed() -> Iterator[None]:
    """Around a test: its counts reach the report even when it fails."""
    _COUNTS.clear()
    try:
        yield
    finally:
        flush()
