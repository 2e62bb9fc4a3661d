"""``kapflow token create EMAIL [--read-only] [--name NAME] [--clinic SLUG]``: print a new API token."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapflow.accounts.models import Membership, User
from kapflow.api.tokens import token_create
from kapflow.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Make a personal API token for a staff member and print it (it is shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("token_command", choices=["create"])
        parser.add_argument("email")
        parser.add_argument(
            "--read-only", action="store_true", help="a token that can read but not change records"
        )
        parser.add_argument("--name", default="command line", help="what the token is for")
        parser.add_argument("--clinic", help="the clinic's slug, when the person works at more than one")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"].strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"no active user with the email {options['email']}")
        memberships = Membership.objects.select_related("clinic").filter(
            user=user, is_active=True, clinic__is_active=True
        )
        if options["clinic"]:
            memberships = memberships.filter(clinic__slug=options["clinic"])
        found = list(memberships[:2])
        if not found:
            raise CommandError(
                f"{user.email} works at no active clinic{' by that slug' if options['clinic'] else ''}"
            )
        if len(found) > 1:
            raise CommandError(f"{user.email} works at several clinics: say which with --clinic SLUG")
        try:
            token, secret = token_create(
                user=user, membership=found[0], name=options["name"], read_only=options["read_only"]
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(
            f"{token.scope} token for {user.email} at {found[0].clinic.name} (shown once; keep it secret):"
        )
        self.stdout.write(secret)
