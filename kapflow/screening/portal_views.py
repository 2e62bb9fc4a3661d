"""The patient's health questionnaire in the portal (reported by the patient, verified later)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.core import audit
from kapflow.core.models import AuditAction, DataCategory
from kapflow.portal.access import PortalRequest, portal_view
from kapflow.screening import services
from kapflow.screening.forms import HealthQuestionnaireForm
from kapflow.screening.models import HealthQuestionnaire


@portal_view
@require_http_methods(["GET", "POST"])
def health(request: PortalRequest) -> HttpResponseBase:
    patient = request.portal_account.patient
    rules = services.rules_for(patient.clinic)
    latest = HealthQuestionnaire.objects.filter(patient=patient).order_by("-created_at").first()
    form = HealthQuestionnaireForm(request.POST or None, rules=rules)
    if request.method == "POST" and form.is_valid():
        services.questionnaire_submit(user=request.user, patient=patient, data=form.cleaned_data)
        messages.success(
            request,
            _(
                "Thank you. Your answers are with the clinic; a clinician goes through them with you at screening."
            ),
        )
        return redirect("portal:home")
    if request.method == "GET":
        audit.record(
            user=request.user,
            clinic=patient.clinic,
            patient=patient,
            action=AuditAction.VIEW,
            category=DataCategory.CLINICAL,
            detail="health questionnaire form",
        )
    return render(
        request,
        "screening/portal_health.html",
        {
            "form": form,
            "latest": latest,
            "clinic": request.portal_clinic,
            "crisis_text": request.portal_clinic.crisis_line_text,
        },
        status=400 if form.errors else 200,
    )
