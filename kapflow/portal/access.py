"""The patient's side of access: a portal page shows the signed-in patient's own record only.

``portal_view`` resolves the portal account of ``request.user``; no portal URL carries a
patient id, so there is no other record a portal page could be pointed at.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils import timezone

from kapflow.portal.models import PortalAccount

if TYPE_CHECKING:
    from kapflow.accounts.models import User
    from kapflow.clinics.models import Clinic
    from kapflow.patients.models import Patient

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponseBase])


class PortalRequest(HttpRequest):
    """What a portal request carries (set by ``portal_view``)."""

    user: User
    portal_account: PortalAccount
    patient: Patient
    portal_clinic: Clinic


def active_portal_account(user: Any) -> PortalAccount | None:
    """The user's working portal account, if they have one."""
    if not user.is_authenticated:
        return None
    return (
        PortalAccount.objects.select_related("patient", "clinic", "user")
        .filter(
            user=user,
            is_active=True,
            user__is_active=True,
            clinic__is_active=True,
            patient__voided_at__isnull=True,
        )
        .first()
    )


def portal_view(view: ViewFunc) -> ViewFunc:
    """Decorate a portal page: sign in first; no portal account (staff included) gets 404."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        account = active_portal_account(request.user)
        if account is None:
            raise Http404("No portal account.")
        portal = cast(PortalRequest, request)
        portal.portal_account = account
        portal.patient = account.patient
        portal.portal_clinic = account.clinic
        with timezone.override(account.clinic.tzinfo):
            return view(portal, *args, **kwargs)

    return cast(ViewFunc, wrapped)
