"""``kapflow backup PATH``: the whole database into one file, while kapflow is in use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapflow.core.backup import backup_create, backup_verify


class Command(BaseCommand):
    help = (
        "Back up the whole database into one archive file (SQLite: online backup; PostgreSQL: "
        "pg_dump), safe while kapflow is in use. --verify checks an existing backup instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the backup file to write (or, with --verify, to check)")
        parser.add_argument("--force", action="store_true", help="replace PATH if it exists")
        parser.add_argument(
            "--verify", action="store_true", help="check the backup at PATH without restoring it"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if options["verify"]:
            self._verify(path)
            return
        manifest = backup_create(path=path, force=options["force"])
        self.stdout.write(
            f"backup written to {path.absolute()}: {manifest.engine}, {len(manifest.row_counts)} tables, "
            f"{manifest.total_rows} rows ({manifest.audit_entries} access-log entries), "
            f"{manifest.database_bytes} bytes, sha256 {manifest.database_sha256[:16]}…"
        )

    def _verify(self, path: Path) -> None:
        report = backup_verify(path=path)
        m = report.manifest
        self.stdout.write(
            f"backup {path.absolute()}: {m.engine}, made {m.created_at} by kapflow {m.kapflow_version}, "
            f"{len(m.row_counts)} tables, {m.total_rows} rows"
        )
        for check in report.checks:
            self.stdout.write(str(check))
        if report.failed:
            raise CommandError(f"backup check failed: {', '.join(c.name for c in report.failed)}")
        self.stdout.write("backup intact")
