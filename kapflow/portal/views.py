"""The patient's pages: joining from the emailed link, and the portal home."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kapflow.accounts.forms import NewPasswordForm
from kapflow.accounts.models import User
from kapflow.clinics.models import Clinic
from kapflow.core.errors import ApplicationError
from kapflow.portal import selectors
from kapflow.portal.access import PortalRequest, portal_view
from kapflow.portal.models import PortalInvitation
from kapflow.portal.services import (
    InvitationUnusable,
    portal_invitation_accept,
    portal_invitation_for_token,
)
from kapflow.scheduling.portal_selectors import next_appointment


def default_crisis_text() -> str:
    """The crisis line text for a page that belongs to no clinic we know of."""
    return str(Clinic._meta.get_field("crisis_line_text").get_default())


def _link_gone(request: HttpRequest) -> HttpResponseBase:
    return render(request, "portal/join_invalid.html", {"crisis_text": default_crisis_text()}, status=410)


def _join_page(
    request: HttpRequest, invitation: PortalInvitation, form: NewPasswordForm, status: int = 200
) -> HttpResponseBase:
    context: dict[str, Any] = {
        "invitation": invitation,
        "form": form,
        "clinic": invitation.clinic,
        "crisis_text": invitation.clinic.crisis_line_text,
    }
    with timezone.override(invitation.clinic.tzinfo):
        return render(request, "portal/join.html", context, status=status)


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponseBase:
    """The emailed link: choose a password, and the portal account exists."""
    invitation = portal_invitation_for_token(token)
    if invitation is None:
        return _link_gone(request)
    form = NewPasswordForm(
        request.POST if request.method == "POST" else None,
        email=invitation.email,
        full_name=invitation.patient.display_name,
    )
    if request.method != "POST":
        signed_in = cast(User, request.user) if request.user.is_authenticated else None
        selectors.invitation_link_opened(invitation=invitation, user=signed_in)
        return _join_page(request, invitation, form)
    if not form.is_valid():
        return _join_page(request, invitation, form, status=400)
    try:
        account = portal_invitation_accept(invitation=invitation, password=form.cleaned_data["password1"])
    except InvitationUnusable:
        return _link_gone(request)
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _join_page(request, invitation, form, status=exc.status)
    login(request, account.user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(
        request, _("Your account is ready. Welcome to %(clinic)s.") % {"clinic": account.clinic.name}
    )
    return redirect("portal:home")


@portal_view
@require_GET
def home(request: PortalRequest) -> HttpResponseBase:
    page = selectors.portal_home(account=request.portal_account)
    context = {
        "patient": page.patient,
        "care_team": page.care_team,
        "steps": page.steps,
        "questionnaires": page.questionnaires,
        "has_open_course": page.has_open_course,
        "next_appointment": next_appointment(page.patient),
        "clinic": request.portal_clinic,
        "crisis_text": request.portal_clinic.crisis_line_text,
    }
    return render(request, "portal/home.html", context)
