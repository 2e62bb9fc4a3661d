"""The navigation each role sees, derived from the same permission rules as the views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kapflow.core.permissions import Action, decide

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    from kapflow.accounts.models import Membership


@dataclass(frozen=True)
class NavItem:
    label: _StrPromise
    url: str
    current: bool


NAV: list[tuple[_StrPromise, str, Action | None]] = [
    (_("Home"), "clinic_home", None),
    (_("Patients"), "patients:list", Action.PATIENT_SEARCH),
    (_("Today"), "calendar:today", Action.SCHEDULE_VIEW),
    (_("Calendar"), "calendar:day", Action.SCHEDULE_VIEW),
    (_("New patient"), "patients:create", Action.PATIENT_CREATE),
    (_("Requests"), "intake:queue", Action.INTAKE_VIEW),
    (_("Staff"), "staff:list", Action.STAFF_MANAGE),
    (_("Outcomes"), "outcomes:dashboard", Action.OUTCOMES_VIEW),
    (_("Controlled substances"), "stock:lots", Action.STOCK_VIEW),
    (_("Clinic settings"), "clinics:settings", Action.CLINIC_CONFIGURE),
    (_("Protocols"), "protocols:list", Action.CLINIC_CONFIGURE),
    (_("Access log"), "core:audit_log", Action.AUDIT_VIEW),
]


def navigation_for(request: HttpRequest, membership: Membership) -> list[NavItem]:
    from kapflow.core.access import actor_for

    actor = actor_for(membership)
    entries = [
        (label, reverse(name, kwargs={"clinic": membership.clinic.slug}))
        for label, name, action in NAV
        if action is None or decide(actor, action).allowed
    ]
    # The longest address the current page starts with is the current item ("New patient"
    # rather than "Patients" on /patients/new/); Home only on its own page.
    matching = [url for _label, url in entries[1:] if request.path.startswith(url)]
    current = max(matching, key=len) if matching else (entries[0][1] if request.path == entries[0][1] else "")
    return [NavItem(label, url, url == current) for label, url in entries]
