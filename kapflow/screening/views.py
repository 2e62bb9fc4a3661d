"""Staff pages for screening: the overview, a new medical screening, the decision, the rules."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.core.access import StaffRequest, allowed, staff_view
from kapflow.core.errors import ApplicationError
from kapflow.core.permissions import Action
from kapflow.measures.selectors import effective_responses
from kapflow.patients.models import Patient
from kapflow.patients.selectors import access_patient
from kapflow.screening import selectors, services
from kapflow.screening.forms import DecisionForm, RulesForm, ScreeningForm
from kapflow.screening.models import HealthQuestionnaire
from kapflow.screening.rules import RulesError, rules_to_data


def _patient(request: StaffRequest, patient_id: str, action: Action) -> Patient:
    return access_patient(member=request.membership, public_id=patient_id, action=action, log_view=False)


@staff_view()
def overview(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    patient = _patient(request, patient_id, Action.CLINICAL_VIEW)
    context = {
        "patient": patient,
        **selectors.screening_overview(member=request.membership, patient=patient),
        "can_screen": allowed(request.membership, Action.SCREENING_RECORD, patient),
        "can_decide": allowed(request.membership, Action.ELIGIBILITY_DECIDE, patient),
    }
    return render(request, "screening/overview.html", context)


def _initial_from_report(patient: Patient) -> dict[str, object]:
    report = HealthQuestionnaire.objects.filter(patient=patient).order_by("-created_at").first()
    if report is None:
        return {}
    return {
        "conditions": report.conditions,
        "medications": report.medications,
        "substance_use_notes": report.substance_use,
        "pregnant_or_breastfeeding": report.pregnant_or_breastfeeding == "yes",
        "psychosis_history": report.psychosis == "yes",
        "bipolar": report.bipolar == "yes",
        "adequate_trials": report.antidepressant_trials,
        "psychotherapy_tried": report.psychotherapy,
        "ect": report.ect,
        "tms": report.tms,
        "prior_ketamine": report.prior_ketamine,
    }


@staff_view()
@require_http_methods(["GET", "POST"])
def new_screening(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    patient = _patient(request, patient_id, Action.SCREENING_RECORD)
    rules = services.rules_for(request.clinic)
    form = ScreeningForm(
        request.POST or None,
        rules=rules,
        responses=effective_responses(patient),
        initial=_initial_from_report(patient),
    )
    if request.method == "POST" and form.is_valid():
        screening = services.screening_record(
            member=request.membership, patient=patient, data=form.cleaned_data
        )
        messages.success(
            request, _("Screening saved with %(n)s finding(s).") % {"n": len(screening.findings)}
        )
        return redirect("screening:overview", clinic=request.clinic.slug, patient_id=patient.public_id)
    report = HealthQuestionnaire.objects.filter(patient=patient).order_by("-created_at").first()
    return render(
        request,
        "screening/new.html",
        {"patient": patient, "form": form, "report": report, "rules": rules},
        status=400 if form.errors else 200,
    )


@staff_view()
@require_http_methods(["GET", "POST"])
def decide(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    patient = _patient(request, patient_id, Action.ELIGIBILITY_DECIDE)
    screening = services.current_screening(patient)
    if screening is None:
        messages.error(request, _("Record a medical screening before deciding eligibility."))
        return redirect("screening:overview", clinic=request.clinic.slug, patient_id=patient.public_id)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        posted = request.POST.get("screening")
        try:
            if posted and posted != str(screening.public_id):
                raise ApplicationError(services.SUPERSEDED)
            services.decision_record(member=request.membership, screening=screening, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect("screening:overview", clinic=request.clinic.slug, patient_id=patient.public_id)
    return render(
        request,
        "screening/decide.html",
        {"patient": patient, "form": form, "screening": screening},
        status=400 if form.errors else 200,
    )


@staff_view(Action.CLINIC_CONFIGURE)
@require_http_methods(["GET", "POST"])
def rules(request: StaffRequest) -> HttpResponseBase:
    current = services.rules_for(request.clinic)
    form = RulesForm(request.POST or None, initial={"rules": json.dumps(rules_to_data(current), indent=2)})
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            data = json.loads(form.cleaned_data["rules"])
            services.rules_save(member=request.membership, data=data)
        except json.JSONDecodeError as exc:
            problems = [
                _("Not valid JSON: %(error)s (line %(line)s).") % {"error": exc.msg, "line": exc.lineno}
            ]
        except RulesError as exc:
            problems = list(exc.problems)
        except ApplicationError as exc:
            problems = [exc.message]
        else:
            messages.success(request, _("The new rules apply to screenings from now on."))
            return redirect("screening:rules", clinic=request.clinic.slug)
    return render(
        request,
        "screening/rules.html",
        {"form": form, "rules": current, "problems": problems},
        status=400 if (problems or form.errors) else 200,
    )
