"""Patient pages: search, create, chart, edits. Parse, call a selector or service, render."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import messages
from django.forms import BaseForm
from django.http import HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.consent.selectors import chart_consent
from kapflow.core import audit
from kapflow.core.access import StaffRequest, allowed, staff_view
from kapflow.core.errors import ApplicationError, Conflict
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.courses.psychotherapy_services import can_write as psychotherapy_can_write
from kapflow.courses.selectors import patient_courses
from kapflow.measures.selectors import latest_scores, patient_alerts
from kapflow.patients import selectors, services
from kapflow.patients.forms import (
    CareTeamAddForm,
    ClinicalBackgroundForm,
    PatientForm,
    PatientSearchForm,
)
from kapflow.patients.models import ClinicalBackground, Patient
from kapflow.portal.forms import PortalInvitationForm
from kapflow.portal.selectors import portal_status
from kapflow.screening.selectors import current_decision, readiness


@staff_view(Action.PATIENT_SEARCH)
def patient_list(request: StaffRequest) -> HttpResponseBase:
    form = PatientSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    results = selectors.patient_search(member=request.membership, query=query) if query else []
    context = {
        "form": form,
        "query": query,
        "results": results,
        "limit": selectors.SEARCH_LIMIT,
        "can_create": allowed(request.membership, Action.PATIENT_CREATE),
    }
    template = "patients/_results.html" if request.htmx else "patients/list.html"
    return render(request, template, context, status=200 if form.is_valid() or not request.GET else 400)


@staff_view(Action.PATIENT_CREATE)
@require_http_methods(["GET", "POST"])
def patient_create(request: StaffRequest) -> HttpResponseBase:
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(member=request.membership, data=form.cleaned_data)
        except services.DuplicateRecordNumber as exc:
            form.add_error("record_number", exc.message)
        else:
            messages.success(request, _("Patient %(name)s created.") % {"name": patient.display_name})
            return redirect("patients:chart", clinic=request.clinic.slug, patient_id=patient.public_id)
    return render(
        request,
        "patients/form.html",
        {"form": form, "creating": True},
        status=400 if form.errors else 200,
    )


@staff_view()
def patient_chart(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    member = request.membership
    patient = selectors.access_patient(member=member, public_id=patient_id, action=Action.DEMOGRAPHICS_VIEW)
    can_clinical = allowed(member, Action.CLINICAL_VIEW, patient)
    background = selectors.clinical_background(member=member, patient=patient) if can_clinical else None
    if can_clinical:
        audit.record(
            user=request.user,
            clinic=request.clinic,
            patient=patient,
            action=AuditAction.VIEW,
            category=DataCategory.CLINICAL,
            detail="chart clinical summary",
        )
    context = {
        "patient": patient,
        "age": patient.age_on(timezone.localdate()),
        "care_team": selectors.care_team(patient),
        "can_edit": allowed(member, Action.DEMOGRAPHICS_EDIT, patient),
        "can_manage_team": allowed(member, Action.CARE_TEAM_MANAGE, patient),
        "can_clinical": can_clinical,
        "can_edit_clinical": allowed(member, Action.CLINICAL_EDIT, patient),
        "can_write_psychotherapy": psychotherapy_can_write(member, patient),
        "background": background,
        "scores": latest_scores(member=member, patient=patient) if can_clinical else [],
        "readiness": readiness(patient) if can_clinical else None,
        "decision": current_decision(patient) if can_clinical else None,
        "open_alerts": [a for a in patient_alerts(member=member, patient=patient) if a.status == "open"]
        if can_clinical
        else [],
        "team_form": CareTeamAddForm(choices=_team_choices(request, patient)),
        "portal": None,
        "consent": chart_consent(member=member, patient=patient),
        "courses": patient_courses(member=member, patient=patient) if can_clinical else [],
    }
    if allowed(member, Action.PORTAL_INVITE, patient):
        context["portal"] = portal_status(patient)
        context["portal_form"] = PortalInvitationForm(initial={"email": patient.email})
    return render(request, "patients/chart.html", context)


def _team_choices(request: StaffRequest, patient: Patient) -> list[tuple[str, str]]:
    on_team = {row.user_id for row in selectors.care_team(patient)}
    return [
        (str(m.pk), f"{m.user.full_name} ({m.get_role_display()})")
        for m in services.eligible_team_members(request.clinic)
        if m.user_id not in on_team
    ]


FormT = TypeVar("FormT", bound=BaseForm)


def _rebased(form_class: type[FormT], request: StaffRequest, version: int, **kwargs: Any) -> FormT:
    """The user's typed values on top of the current version, so a second save can succeed."""
    data = request.POST.copy()
    data["version"] = str(version)
    form = form_class(data, **kwargs)
    form.is_valid()
    return form


@staff_view()
@require_http_methods(["GET", "POST"])
def patient_edit(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    member = request.membership
    patient = selectors.access_patient(
        member=member,
        public_id=patient_id,
        action=Action.DEMOGRAPHICS_EDIT,
        log_view=request.method == "GET",
    )
    form = PatientForm(request.POST or None, instance=patient)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(
                member=member,
                patient=patient,
                data=form.cleaned_data,
                base_version=form.cleaned_data.get("version"),
            )
        except Conflict as exc:
            conflict = exc.message
            patient.refresh_from_db()
            form = _rebased(
                PatientForm, request, patient.version, instance=Patient.objects.get(pk=patient.pk)
            )
        except services.DuplicateRecordNumber as exc:
            form.add_error("record_number", exc.message)
        else:
            messages.success(request, _("Record saved."))
            return redirect("patients:chart", clinic=request.clinic.slug, patient_id=patient.public_id)
    status = 409 if conflict else 400 if form.errors else 200
    return render(
        request,
        "patients/form.html",
        {"form": form, "patient": patient, "creating": False, "conflict": conflict},
        status=status,
    )


@staff_view()
@require_http_methods(["GET", "POST"])
def clinical_edit(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    member = request.membership
    patient = selectors.access_patient(
        member=member, public_id=patient_id, action=Action.CLINICAL_EDIT, log_view=False
    )
    background = ClinicalBackground.objects.filter(patient=patient).first()
    form = ClinicalBackgroundForm(request.POST or None, instance=background)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.clinical_background_save(
                member=member,
                patient=patient,
                data=form.cleaned_data,
                base_version=form.cleaned_data.get("version"),
            )
        except Conflict as exc:
            conflict = exc.message
            background = ClinicalBackground.objects.get(patient=patient)
            form = _rebased(
                ClinicalBackgroundForm,
                request,
                background.version,
                instance=ClinicalBackground.objects.get(pk=background.pk),
            )
        else:
            messages.success(request, _("Clinical summary saved."))
            return redirect("patients:chart", clinic=request.clinic.slug, patient_id=patient.public_id)
    elif request.method == "GET":
        audit.record(
            user=request.user,
            clinic=request.clinic,
            patient=patient,
            action=AuditAction.VIEW,
            category=DataCategory.CLINICAL,
            detail="clinical summary form",
        )
    status = 409 if conflict else 400 if form.errors else 200
    return render(
        request,
        "patients/clinical_form.html",
        {"form": form, "patient": patient, "conflict": conflict, "background": background},
        status=status,
    )


@staff_view()
def care_team_add(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    patient = selectors.access_patient(
        member=request.membership,
        public_id=patient_id,
        action=Action.CARE_TEAM_MANAGE,
        log_view=False,
    )
    if request.method != "POST":  # after the access check: those refused learn nothing more
        return HttpResponseNotAllowed(["POST"])
    form = CareTeamAddForm(request.POST, choices=_team_choices(request, patient))
    if not form.is_valid():
        messages.error(request, _("Choose a clinician to add to the care team."))
    else:
        try:
            row = services.care_team_add(
                member=request.membership,
                patient=patient,
                membership_id=int(form.cleaned_data["member"]),
            )
            messages.success(request, _("%(name)s added to the care team.") % {"name": row.user})
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return redirect("patients:chart", clinic=request.clinic.slug, patient_id=patient.public_id)


@staff_view()
def care_team_remove(request: StaffRequest, patient_id: str, row_id: int) -> HttpResponseBase:
    patient = selectors.access_patient(
        member=request.membership,
        public_id=patient_id,
        action=Action.CARE_TEAM_MANAGE,
        log_view=False,
    )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.care_team_remove(member=request.membership, patient=patient, row_id=row_id)
        messages.success(request, _("Removed from the care team."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("patients:chart", clinic=request.clinic.slug, patient_id=patient.public_id)


@staff_view()
def patient_print(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    """The chart as a printable page; the print is logged as such."""
    member = request.membership
    patient = selectors.access_patient(
        member=member, public_id=patient_id, action=Action.DEMOGRAPHICS_VIEW, log_view=False
    )
    can_clinical = allowed(member, Action.CLINICAL_VIEW, patient)
    audit.record(
        user=request.user,
        clinic=request.clinic,
        patient=patient,
        action=AuditAction.PRINT,
        category=DataCategory.CLINICAL if can_clinical else DataCategory.DEMOGRAPHICS,
    )
    context = {
        "patient": patient,
        "care_team": selectors.care_team(patient),
        "can_clinical": can_clinical,
        "background": selectors.clinical_background(member=member, patient=patient) if can_clinical else None,
    }
    return render(request, "patients/print.html", context)
