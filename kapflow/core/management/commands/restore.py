"""``kapflow restore PATH``: a backup into an empty database, then verified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapflow.core.backup import backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `kapflow backup` into the configured database, which must be "
        "empty, then verify it: row counts, the access log's hash chains, migrations current."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the backup file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        report = backup_restore(path=path)
        m = report.manifest
        self.stdout.write(
            f"restored {path.absolute()} ({m.engine}, made {m.created_at} by kapflow {m.kapflow_version})"
        )
        for check in report.checks:
            self.stdout.write(str(check))
        if report.failed:
            raise CommandError(
                "restored, but verification failed: "
                + "; ".join(f"{c.name}: {c.detail}" for c in report.failed)
            )
        self.stdout.write("restore verified")
