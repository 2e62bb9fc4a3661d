"""The clinic admin's staff pages: who works here, invitations, roles, deactivation."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import user_has_device

from kapflow.accounts.forms import InvitationForm, MembershipForm
from kapflow.accounts.models import Invitation, Membership
from kapflow.accounts.services import (
    invitation_create,
    invitation_revoke,
    membership_change_role,
    membership_deactivate,
    membership_reactivate,
    two_factor_reset,
)
from kapflow.core import audit
from kapflow.core.access import StaffRequest, staff_view
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action


@staff_view(Action.STAFF_MANAGE)
def staff_list(request: StaffRequest) -> HttpResponseBase:
    memberships = (
        Membership.objects.filter(clinic=request.clinic)
        .select_related("user")
        .order_by("-is_active", "user__full_name")
    )
    invitations = Invitation.objects.filter(
        clinic=request.clinic,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    audit.record(
        user=request.user,
        clinic=request.clinic,
        action=AuditAction.VIEW,
        category=DataCategory.STAFF,
    )
    return render(
        request,
        "accounts/staff_list.html",
        {"memberships": memberships, "invitations": invitations},
    )


@staff_view(Action.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def staff_invite(request: StaffRequest) -> HttpResponseBase:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accept_url = request.build_absolute_uri(reverse("accounts:invitation", args=["TOKEN"])).replace(
            "TOKEN", "{token}"
        )
        try:
            invitation_create(
                actor=request.user,
                clinic=request.clinic,
                accept_url=accept_url,
                **form.cleaned_data,
            )
        except ApplicationError as exc:
            form.add_error("email", exc.message)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("staff:list", clinic=request.clinic.slug)
    return render(request, "accounts/staff_invite.html", {"form": form}, status=400 if form.errors else 200)


@staff_view(Action.STAFF_MANAGE)
@require_POST
def invitation_revoke_view(request: StaffRequest, invitation_id: int) -> HttpResponseBase:
    invitation = get_object_or_404(
        Invitation, pk=invitation_id, clinic=request.clinic, accepted_at__isnull=True
    )
    invitation_revoke(actor=request.user, invitation=invitation)
    messages.success(request, _("Invitation to %(email)s withdrawn.") % {"email": invitation.email})
    return redirect("staff:list", clinic=request.clinic.slug)


def _membership(request: StaffRequest, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_related("user", "clinic")
        .filter(pk=membership_id, clinic=request.clinic)
        .first()
    )
    if membership is None:
        raise Http404(_("No such staff member in this clinic."))
    return membership


@staff_view(Action.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def staff_detail(request: StaffRequest, membership_id: int) -> HttpResponseBase:
    membership = _membership(request, membership_id)
    form = MembershipForm(request.POST or None, initial={"role": membership.role})
    if request.method == "POST" and form.is_valid():
        try:
            membership_change_role(actor=request.user, membership=membership, role=form.cleaned_data["role"])
        except ApplicationError as exc:
            form.add_error("role", exc.message)
        else:
            messages.success(request, _("Role saved."))
            return redirect("staff:list", clinic=request.clinic.slug)
    return render(
        request,
        "accounts/staff_detail.html",
        {"member": membership, "form": form, "has_device": user_has_device(membership.user)},
        status=400 if form.errors else 200,
    )


@staff_view(Action.STAFF_MANAGE)
@require_POST
def staff_set_active(request: StaffRequest, membership_id: int) -> HttpResponseBase:
    membership = _membership(request, membership_id)
    try:
        if request.POST.get("active") == "1":
            membership_reactivate(actor=request.user, membership=membership)
            messages.success(request, _("%(name)s can sign in again.") % {"name": membership.user})
        else:
            ended = membership_deactivate(actor=request.user, membership=membership)
            messages.success(
                request,
                _("%(name)s is deactivated; %(count)s open session(s) ended.")
                % {"name": membership.user, "count": ended},
            )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("staff:detail", clinic=request.clinic.slug, membership_id=membership.pk)


@staff_view(Action.STAFF_MANAGE)
@require_POST
def staff_reset_two_factor(request: StaffRequest, membership_id: int) -> HttpResponseBase:
    membership = _membership(request, membership_id)
    try:
        two_factor_reset(actor=request.user, membership=membership)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Two-factor authentication of %(name)s was reset; they set it up again at their next sign-in.")
            % {"name": membership.user},
        )
    return redirect("staff:detail", clinic=request.clinic.slug, membership_id=membership.pk)
