"""The clinic's dosing protocols: the current version per route (the shipped example until the
clinic admin saves one) and saving a new version. Sessions keep the version they ran under."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.errors import ApplicationError, Conflict
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.dosing import protocol as rules
from kapflow.dosing.models import ProtocolVersion
from kapflow.screening.models import Route


class ProtocolInvalid(ApplicationError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(_("The protocol was not saved: ") + " ".join(problems))
        self.problems = problems


def current(clinic: Clinic, route: str) -> ProtocolVersion:
    """The route's newest version; the shipped example becomes version 1 when none exists."""
    found = ProtocolVersion.objects.filter(clinic=clinic, route=route).order_by("-version").first()
    if found is not None:
        return found
    if route not in rules.EXAMPLES:
        raise ApplicationError(_("There is no protocol for that route."))
    try:
        with transaction.atomic():
            return ProtocolVersion.objects.create(
                clinic=clinic,
                route=route,
                version=1,
                values=rules.EXAMPLES[route],
                is_example=True,
                change_note=rules.EXAMPLE_LABEL,
            )
    except IntegrityError:  # created by a concurrent request
        return ProtocolVersion.objects.get(clinic=clinic, route=route, version=1)


def parsed(version: ProtocolVersion) -> rules.Protocol:
    protocol, problems = rules.parse(version.values)
    if protocol is None:
        raise ApplicationError(_("The stored protocol is not valid: ") + " ".join(problems))
    return protocol


def protocol_save(
    *, member: Membership, route: str, values: dict[str, Any], base_version: int, change_note: str
) -> ProtocolVersion:
    """Save a new version after checking every value; a stale page (someone saved in between) is refused."""
    require(member, Action.CLINIC_CONFIGURE)
    if route not in Route.values:
        raise ApplicationError(_("Choose a route from the list."))
    values = {**values, "route": route}
    protocol, problems = rules.parse(values)
    if protocol is None:
        raise ProtocolInvalid(problems)
    with transaction.atomic():
        latest = current(member.clinic, route)
        if latest.version != base_version:
            raise Conflict(
                _(
                    "Someone saved version %(v)s of this protocol after you opened it. Reload and apply your changes again."
                )
                % {"v": latest.version}
            )
        try:
            saved = ProtocolVersion.objects.create(
                clinic=member.clinic,
                route=route,
                version=latest.version + 1,
                values=rules.to_json(protocol),
                change_note=change_note[:300],
                created_by=member.user,
            )
        except IntegrityError:
            raise Conflict(
                _("Someone saved this protocol at the same moment. Reload and try again.")
            ) from None
        audit.record(
            user=member.user,
            clinic=member.clinic,
            action=AuditAction.UPDATE,
            category=DataCategory.CLINIC,
            detail=f"{route} protocol version {saved.version}",
        )
    return saved
