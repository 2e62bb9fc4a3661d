from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from kapflow.core import audit


class Command(BaseCommand):
    help = "Check the hash chains of the access log; exits non-zero and names each broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            checked, problems = audit.verify()
        except DatabaseError as exc:
            # A database never migrated (or not kapflow's) has no access log to check.
            raise CommandError(
                f"could not read the access log ({exc}); is this kapflow's database, migrated "
                "with `kapflow manage migrate`?"
            ) from None
        if problems:
            for problem in problems:
                self.stderr.write(f"BROKEN {problem}")
            raise CommandError(
                f"access log verification failed: {len(problems)} problem(s) in {checked} entries"
            )
        self.stdout.write(f"access log intact: {checked} entries verified")
