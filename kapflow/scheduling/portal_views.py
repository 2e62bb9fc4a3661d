"""The patient's appointments in the portal, ``/portal/appointments/``: the list, cancelling,
asking for another time, and a calendar file of one appointment.

Only the signed-in patient's own appointments: an id of another patient's appointment is not
found (404). Within the clinic's notice period the patient is asked to call instead, and a
posted cancellation or request is refused with that message (400).
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction
from kapflow.portal.access import PortalRequest, portal_view
from kapflow.scheduling import ics as ics_builder
from kapflow.scheduling import portal_selectors as selectors
from kapflow.scheduling import services
from kapflow.scheduling.models import Status
from kapflow.scheduling.portal_selectors import PortalAppointment


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (optional)"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("You do not have to say why. The clinic will see what you write here."),
    )


class ChangeForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Which days and times suit you?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "For example: any weekday morning next week. The clinic will contact you to agree a new "
            "time; until then your appointment stays as it is."
        ),
        error_messages={
            "required": gettext_lazy("Say which times suit you."),
            "max_length": gettext_lazy(
                "At most %(limit_value)d characters, please (you wrote %(show_value)d)."
            ),
        },
    )


def _base_context(request: PortalRequest) -> dict[str, object]:
    clinic = request.portal_clinic
    return {"clinic": clinic, "crisis_text": clinic.crisis_line_text}


@portal_view
@require_GET
def appointment_list(request: PortalRequest) -> HttpResponseBase:
    page = selectors.appointments_page(account=request.portal_account)
    context = {
        **_base_context(request),
        "upcoming": page.upcoming,
        "earlier": page.earlier,
        "notice_hours": page.notice_hours,
    }
    return render(request, "scheduling/portal/list.html", context)


def _action_page(
    request: PortalRequest,
    template: str,
    item: PortalAppointment,
    form: forms.Form,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponseBase:
    context = {
        **_base_context(request),
        "item": item,
        "form": form,
        "error": error,
        "notice_hours": request.portal_clinic.appointment_notice_hours,
    }
    return render(request, template, context, status=status)


@portal_view
@require_http_methods(["GET", "POST"])
def cancel(request: PortalRequest, appointment_id: uuid.UUID) -> HttpResponseBase:
    template = "scheduling/portal/cancel.html"
    detail = "appointment cancel page" if request.method == "GET" else "appointment cancel posted"
    item = selectors.own_appointment(
        account=request.portal_account, appointment_id=appointment_id, detail=detail
    )
    if request.method != "POST":
        return _action_page(request, template, item, CancelForm())
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _action_page(request, template, item, form, status=400)
    try:
        services.portal_cancel(
            user=request.user,
            patient=request.patient,
            appointment=item.appointment,
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as exc:
        return _action_page(request, template, item, form, error=exc.message, status=exc.status)
    messages.success(
        request,
        _("Your appointment on %(when)s is cancelled. The clinic has been told.") % {"when": _when(item)},
    )
    return redirect("portal_appointments:list")


@portal_view
@require_http_methods(["GET", "POST"])
def change(request: PortalRequest, appointment_id: uuid.UUID) -> HttpResponseBase:
    template = "scheduling/portal/change.html"
    detail = "appointment change page" if request.method == "GET" else "appointment change posted"
    item = selectors.own_appointment(
        account=request.portal_account, appointment_id=appointment_id, detail=detail
    )
    if request.method != "POST":
        return _action_page(request, template, item, ChangeForm())
    form = ChangeForm(request.POST)
    if not form.is_valid():
        return _action_page(request, template, item, form, status=400)
    try:
        services.portal_request_change(
            user=request.user,
            patient=request.patient,
            appointment=item.appointment,
            text=form.cleaned_data["text"],
        )
    except ApplicationError as exc:
        return _action_page(request, template, item, form, error=exc.message, status=exc.status)
    messages.success(
        request,
        _(
            "Your request is sent. The clinic will contact you to agree a new time; until then your "
            "appointment on %(when)s stays as it is."
        )
        % {"when": _when(item)},
    )
    return redirect("portal_appointments:list")


def _when(item: PortalAppointment) -> str:
    from django.utils.formats import date_format

    return date_format(item.starts, "l j F Y, H:i")


# --- The calendar file ---------------------------------------------------------------------
# The summary is neutral ("Appointment at <clinic>"): calendars show it on lock screens and
# share it with other devices; the kind and the instructions are in the description.
def _calendar_event(request: PortalRequest, item: PortalAppointment) -> ics_builder.Event:
    appointment, clinic = item.appointment, request.portal_clinic
    place = ", ".join(p for p in (item.room, item.location, item.address.replace("\n", ", ")) if p)
    lines = [item.kind + (f" ({item.route})" if item.route else "")]
    if item.instructions:
        lines += ["", _("Before you come:"), item.instructions]
    if item.dosing_rules:
        lines += ["", *item.dosing_rules]
    if clinic.phone:
        lines += [
            "",
            _("To cancel or change, use the patient portal or call %(phone)s.") % {"phone": clinic.phone},
        ]
    portal_url = request.build_absolute_uri(reverse("portal_appointments:list"))
    return ics_builder.Event(
        uid=f"{appointment.public_id}@kapflow",
        summary=_("Appointment at %(clinic)s") % {"clinic": clinic.name},
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        location=place,
        description="\n".join([*lines, "", portal_url]),
        # A cancelled appointment's file cancels it in the calendar rather than adding it again.
        status="CANCELLED" if appointment.status == Status.CANCELLED else "CONFIRMED",
        sequence=appointment.version,
        updated_at=appointment.updated_at,
        url=portal_url,
    )


@portal_view
@require_GET
def ics(request: PortalRequest, appointment_id: uuid.UUID) -> HttpResponseBase:
    item = selectors.own_appointment(
        account=request.portal_account,
        appointment_id=appointment_id,
        detail="appointment calendar file",
        action=AuditAction.EXPORT,
    )
    content = ics_builder.event_ics(_calendar_event(request, item), name=request.portal_clinic.name)
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    filename = f"appointment-{item.starts:%Y-%m-%d}.ics"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
