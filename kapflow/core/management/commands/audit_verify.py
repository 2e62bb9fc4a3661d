from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kapflow.core import audit


class Command(BaseCommand):
    help = "Check the hash chains of the access log; exits non-zero and names each broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, problems = audit.verify()
        if problems:
            for problem in problems:
                self.stderr.write(f"BROKEN {problem}")
            raise CommandError(
                f"access log verification failed: {len(problems)} problem(s) in {checked} entries"
            )
        self.stdout.write(f"access log intact: {checked} entries verified")
