"""Create a synthetic clinic network for benchmarks (``kapflow seed``); see ``kapflow.core.seed``."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from kapflow.core.seed import SeedRefused, generate

BAR = 30


class Command(BaseCommand):
    help = (
        "Create a synthetic network of clinics with years of history (refused when KAPFLOW_ENV=production)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinics", type=int, default=25, help="how many clinics (default 25)")
        parser.add_argument("--patients", type=int, default=50_000, help="patients in all (default 50,000)")
        parser.add_argument(
            "--seed", type=int, default=1, help="the same seed on the same day gives the same network"
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seeding is refused in production: the network has published passwords.")
        started = time.monotonic()
        progress = None if options["quiet"] else Bar(started)
        try:
            summary = generate(
                clinics=options["clinics"],
                patients=options["patients"],
                seed=options["seed"],
                progress=progress,
            )
        except SeedRefused as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(f"the database refused the network ({exc}); is it migrated?") from None
        finally:
            if progress is not None:
                progress.end()
        seconds = time.monotonic() - started
        self.stdout.write(
            f"Seeded {summary.clinics} clinics, {summary.patients:,} patients, {summary.sessions:,} dosing "
            f"sessions: {summary.rows:,} rows in {seconds:.0f} s ({summary.rows / max(seconds, 0.001):,.0f} rows/s)."
        )
        for label, count in sorted(summary.by_table.items(), key=lambda item: -item[1]):
            self.stdout.write(f"  {label:36} {count:>10,}")
        self.stdout.write(
            "  Staff sign in as e.g. therapist1@network-01.kapflow.test, password kapflow-demo."
        )


class Bar:
    """One line on the terminal, redrawn in place: how far, how many rows, how long."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.tty = sys.stderr.isatty()
        self.last = -1.0

    def __call__(self, done: int, total: int, rows: int, clinics: int) -> None:
        now = time.monotonic()
        if not self.tty and now - self.last < 5 and done < total:
            return  # a log file gets a line every 5 seconds, not a flood
        self.last = now
        filled = BAR * done // max(total, 1)
        line = (
            f"[{'#' * filled}{'.' * (BAR - filled)}] {done:,}/{total:,} patients, {clinics} clinics done, "
            f"{rows:,} rows, {now - self.started:.0f} s"
        )
        sys.stderr.write(f"\r{line}" if self.tty else f"{line}\n")
        sys.stderr.flush()

    def end(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
