"""Staff side of the portal: sending a patient the invitation (from the chart)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from kapflow.core.access import StaffRequest, staff_view
from kapflow.core.errors import ApplicationError
from kapflow.core.permissions import Action
from kapflow.patients.selectors import access_patient
from kapflow.portal.forms import PortalInvitationForm
from kapflow.portal.services import portal_invitation_send


@staff_view()
def portal_invite(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    patient = access_patient(
        member=request.membership, public_id=patient_id, action=Action.PORTAL_INVITE, log_view=False
    )
    if request.method != "POST":  # after the access check: those refused learn nothing more
        return HttpResponseNotAllowed(["POST"])
    form = PortalInvitationForm(request.POST)
    if form.is_valid():
        accept_url = request.build_absolute_uri(reverse("portal:join", args=["TOKEN"])).replace(
            "TOKEN", "{token}"
        )
        email = form.cleaned_data["email"]
        try:
            portal_invitation_send(
                member=request.membership, patient=patient, email=email, accept_url=accept_url
            )
        except ApplicationError as exc:
            form.add_error("email", exc.message)
        else:
            messages.success(
                request,
                _("Portal invitation sent to %(email)s. The link works once, for %(hours)s hours.")
                % {"email": email, "hours": settings.KAPFLOW_PORTAL_INVITATION_HOURS},
            )
            return redirect("patients:chart", clinic=request.clinic.slug, patient_id=patient.public_id)
    return render(request, "portal/staff_invite.html", {"patient": patient, "form": form}, status=400)
