"""Fuzzing, the full run: schemathesis over every API operation as every staff role (stateless
and stateful) and hypothesis into every HTML form, then the figures for docs/RELIABILITY.md.

It runs the fuzz tests of the suite (tests/api/test_schemathesis.py and tests/fuzz/) with
``KAPFLOW_FUZZ_EXAMPLES`` examples per operation per role and per form (default 100, the suite
uses a few) and ``KAPFLOW_FUZZ_FULL=1`` (schemathesis' boundary cases as every role), while
the tests count every case they run into a report file (tests/fuzz/tally.py). It then prints:

- a table of the cases run per API operation and role (stateless + stateful) and per form;
- ``RELIABILITY:`` lines: cases per operation per role (least, most), total cases, 5xx answers,
  schema violations, forms that changed the database while refusing the data, and the time;

and exits 1 if pytest failed, any figure of failure is not 0, or an operation or a form ran
fewer cases as any role than asked for.

Run it from the repository root with the project's virtualenv (SQLite in a temporary test
database, or the PostgreSQL server of ``--database-url``, whose ``test_`` database pytest
creates and drops):

    .venv/bin/python bench/fuzz.py
    .venv/bin/python bench/fuzz.py --database-url postgres://postgres@127.0.0.1:5432/kapflow_fuzz
    .venv/bin/python bench/fuzz.py --examples 20 --workers 2 -- -k patients
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/api/test_schemathesis.py", "tests/fuzz"]
SUITES = {
    "api": "API, stateless (schemathesis, hypothesis examples + boundary cases)",
    "api-stateful": "API, stateful (schemathesis, following the OpenAPI links)",
    "forms": "HTML forms (hypothesis, hostile values)",
}
FAILURES = ("server_errors", "violations", "half_written")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="per operation per role and per form")
    parser.add_argument("--database-url", default="", help="PostgreSQL server and database name to use")
    parser.add_argument("--workers", type=int, default=0, help="pytest-xdist workers (default: one process)")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, report: Path) -> tuple[int, float]:
    env = dict(os.environ)
    env.update(
        KAPFLOW_FUZZ_EXAMPLES=str(args.examples),
        KAPFLOW_FUZZ_FULL="1",
        KAPFLOW_FUZZ_REPORT=str(report),
        CI="true",
    )
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    workers = ["-n", str(args.workers)] if args.workers else ["-p", "no:xdist"]
    command = [sys.executable, "-m", "pytest", "-q", *workers, *TESTS, *args.pytest_args]
    print("$", " ".join(command), flush=True)
    started = time.monotonic()
    returncode = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    return returncode, time.monotonic() - started


def totals(report: Path) -> dict[str, dict[tuple[str, str], dict[str, int]]]:
    """suite -> (target, persona) -> summed counts, from the JSON lines of every test."""
    found: dict[str, dict[tuple[str, str], dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    if not report.exists():
        return found
    for line in report.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        counts = found[row["suite"]][(row["target"], row["persona"])]
        for key, value in row.items():
            if isinstance(value, int):
                counts[key] = counts.get(key, 0) + value
    return found


def table(rows: dict[tuple[str, str], dict[str, int]], title: str) -> None:
    personas = sorted({persona for _, persona in rows})
    targets = sorted({target for target, _ in rows})
    width = max(len(t) for t in targets)
    print(f"\n{title}: cases run per {'target':<{width - 10}} " + " ".join(f"{p:>10}" for p in personas))
    for target in targets:
        cells = [str(rows.get((target, p), {}).get("cases", "-")) for p in personas]
        print(f"  {target:<{width}} " + " ".join(f"{c:>10}" for c in cells))


def figures(name: str, rows: dict[tuple[str, str], dict[str, int]], seconds: float) -> str:
    cases = [counts.get("cases", 0) for counts in rows.values()]
    parts: dict[str, object] = {
        "fuzz": name,
        "targets": len({target for target, _ in rows}),
        "personas": len({persona for _, persona in rows}),
        "cases_per_target_per_persona_min": min(cases, default=0),
        "median": int(statistics.median(cases)) if cases else 0,
        "max": max(cases, default=0),
        "cases": sum(cases),
        "answers_2xx": sum(c.get("2xx", 0) for c in rows.values()),
        "answers_3xx": sum(c.get("3xx", 0) for c in rows.values()),
        "answers_4xx": sum(c.get("4xx", 0) for c in rows.values()),
        **{failure: sum(c.get(failure, 0) for c in rows.values()) for failure in FAILURES},
    }
    if seconds:
        parts["seconds"] = f"{seconds:.0f}"
    return "RELIABILITY: " + " ".join(f"{key}={value}" for key, value in parts.items())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "fuzz.jsonl"
        returncode, seconds = run(args, report)
        found = totals(report)

    for suite, title in SUITES.items():
        table(found.get(suite, {}), title)

    api = {**found.get("api", {})}
    combined: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for suite in ("api", "api-stateful"):
        for key, counts in found.get(suite, {}).items():
            for name, value in counts.items():
                combined[key][name] = combined[key].get(name, 0) + value
    short = sorted(
        f"{t} as {p}: {c.get('cases', 0)}" for (t, p), c in api.items() if c.get("cases", 0) < args.examples
    )
    short += sorted(
        f"{t} as {p}: {c.get('cases', 0)}"
        for (t, p), c in found.get("forms", {}).items()
        if c.get("cases", 0) < args.examples
    )

    print()
    database = "postgresql" if args.database_url else "sqlite"
    print(
        f"RELIABILITY: fuzz=run db={database} examples={args.examples} pytest_exit={returncode} seconds={seconds:.0f}"
    )
    for suite in SUITES:
        print(figures(suite, found.get(suite, {}), 0))
    print(figures("api-total", combined, 0))
    failed = sum(counts.get(f, 0) for rows in found.values() for counts in rows.values() for f in FAILURES)
    if short:
        print(
            f"\nFewer cases than {args.examples} (hypothesis ran out of distinct inputs, or a test stopped):"
        )
        print("  " + "\n  ".join(short))
    if returncode != 0 or failed or short or not found:
        print("\nFAILED: see above (pytest's own output names each failing case)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
