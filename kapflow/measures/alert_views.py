"""Safety alerts: the care team records the action taken; clinic admins add instruments."""

from __future__ import annotations

import json

from django.contrib import messages
from django.db import IntegrityError
from django.http import Http404, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.core import audit
from kapflow.core.access import StaffRequest, require, staff_view
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.measures import registry, services
from kapflow.measures.forms import AcknowledgeForm, InstrumentUploadForm
from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.definitions import to_definition
from kapflow.measures.instruments.model import DefinitionError
from kapflow.measures.models import ClinicInstrument, SafetyAlert


@staff_view()
@require_http_methods(["GET", "POST"])
def alert_detail(request: StaffRequest, alert_id: str) -> HttpResponseBase:
    alert = (
        SafetyAlert.objects.select_related("patient", "response", "acknowledged_by")
        .filter(clinic=request.clinic, public_id=alert_id)
        .first()
    )
    if alert is None:
        raise Http404("No such alert.")
    require(request.membership, Action.CLINICAL_VIEW, alert.patient)
    form = AcknowledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.alert_acknowledge(
                member=request.membership, alert=alert, action_taken=form.cleaned_data["action_taken"]
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Action recorded; the alert is closed."))
            return redirect("clinic_home", clinic=request.clinic.slug)
    elif request.method == "GET":
        audit.record(
            user=request.user,
            clinic=request.clinic,
            patient=alert.patient,
            action=AuditAction.VIEW,
            category=DataCategory.MEASURES,
            detail=f"safety alert {alert.public_id}",
        )
    status = 409 if form.non_field_errors() else 400 if form.errors else 200
    return render(request, "measures/alert.html", {"alert": alert, "form": form}, status=status)


@staff_view(Action.INSTRUMENT_MANAGE)
@require_http_methods(["GET", "POST"])
def instruments(request: StaffRequest) -> HttpResponseBase:
    form = InstrumentUploadForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            instrument = services.instrument_add(
                member=request.membership, data=form.cleaned_data["definition"]
            )
        except DefinitionError as exc:
            problems = list(exc.problems)
        except IntegrityError:
            problems = [
                _("This clinic already has that instrument at that version; raise the version number.")
            ]
        else:
            messages.success(request, _("%(name)s is added and can be assigned.") % {"name": instrument.name})
            return redirect("measures:instruments", clinic=request.clinic.slug)
    context = {
        "form": form,
        "problems": problems,
        "built_in": list(BUILT_IN.values()),
        "custom": ClinicInstrument.objects.filter(clinic=request.clinic).select_related("uploaded_by"),
        "example": json.dumps(to_definition(BUILT_IN["gad7"]), indent=2)[:1500],
        "available": registry.available(request.clinic),
    }
    return render(
        request, "measures/instruments.html", context, status=400 if (form.errors or problems) else 200
    )
