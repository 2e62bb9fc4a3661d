"""Staff pages for measures: a patient's measures, assigning, entering, correcting, trends."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.core.access import StaffRequest, allowed, staff_view
from kapflow.core.errors import ApplicationError
from kapflow.core.permissions import Action
from kapflow.measures import registry, selectors, services
from kapflow.measures.charts import BandArea, Point, trajectory_svg
from kapflow.measures.forms import AssignForm, CorrectionReasonForm, answers_form_class
from kapflow.measures.instruments.model import Instrument
from kapflow.measures.models import MeasureAssignment, MeasureRequest, MeasureResponse, RequestStatus
from kapflow.patients.models import Patient
from kapflow.patients.selectors import access_patient


def _patient(request: StaffRequest, patient_id: str, action: Action = Action.CLINICAL_VIEW) -> Patient:
    return access_patient(member=request.membership, public_id=patient_id, action=action, log_view=False)


def _instrument(request: StaffRequest, key: str) -> Instrument:
    try:
        return registry.instrument_for(request.clinic, key)
    except registry.UnknownInstrument:
        raise Http404("No such instrument.") from None


@staff_view()
def overview(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    patient = _patient(request, patient_id)
    services.ensure_requests(patient)
    context = {
        "patient": patient,
        "scores": selectors.latest_scores(member=request.membership, patient=patient),
        "alerts": selectors.patient_alerts(member=request.membership, patient=patient),
        "assignments": MeasureAssignment.objects.filter(patient=patient, voided_at__isnull=True),
        "due": MeasureRequest.objects.filter(patient=patient, status=RequestStatus.DUE),
        "can_edit": allowed(request.membership, Action.CLINICAL_EDIT, patient),
    }
    return render(request, "measures/overview.html", context)


@staff_view()
@require_http_methods(["GET", "POST"])
def assign(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    patient = _patient(request, patient_id, Action.CLINICAL_EDIT)
    form = AssignForm(request.POST or None, instruments=registry.available(request.clinic))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.assignment_create(
                member=request.membership,
                patient=patient,
                instrument_key=data["instrument"],
                schedule=data["schedule"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                interval_days=data["interval_days"],
                hours_after=data["hours_after"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Questionnaire assigned."))
            return redirect("measures:overview", clinic=request.clinic.slug, patient_id=patient.public_id)
    return render(
        request,
        "measures/assign.html",
        {"patient": patient, "form": form},
        status=400 if form.errors else 200,
    )


@staff_view()
def stop(request: StaffRequest, patient_id: str, assignment_id: str) -> HttpResponseBase:
    patient = _patient(request, patient_id, Action.CLINICAL_EDIT)
    if request.method != "POST":  # after the access check: those refused learn nothing more
        return HttpResponseNotAllowed(["POST"])
    assignment = MeasureAssignment.objects.filter(patient=patient, public_id=assignment_id).first()
    if assignment is None:
        raise Http404("No such assignment.")
    services.assignment_stop(member=request.membership, assignment=assignment)
    messages.success(request, _("The assignment is stopped; nothing more falls due."))
    return redirect("measures:overview", clinic=request.clinic.slug, patient_id=patient.public_id)


def _answers_page(
    request: StaffRequest,
    patient: Patient,
    instrument: Instrument,
    save: Any,
    template_context: dict[str, Any],
) -> HttpResponseBase:
    form = answers_form_class(instrument)(request.POST or None, initial=template_context.get("initial"))
    reason = CorrectionReasonForm(request.POST or None) if template_context.get("correcting") else None
    if request.method == "POST" and form.is_valid() and (reason is None or reason.is_valid()):
        answers = {k: v for k, v in form.cleaned_data.items() if v is not None and v != ""}
        try:
            response = save(answers, reason.cleaned_data["reason"] if reason else "")
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Response saved: total %(total)s.")
                % {"total": response.total if response.total is not None else response.risk},
            )
            return redirect(
                "measures:response",
                clinic=request.clinic.slug,
                patient_id=patient.public_id,
                response_id=response.public_id,
            )
    status = (
        409
        if any("already" in str(e) for e in form.non_field_errors())
        else 400
        if form.errors or (reason and reason.errors)
        else 200
    )
    context = {
        "patient": patient,
        "instrument": instrument,
        "form": form,
        "reason_form": reason,
        **template_context,
    }
    return render(request, "measures/enter.html", context, status=status)


@staff_view()
@require_http_methods(["GET", "POST"])
def enter(request: StaffRequest, patient_id: str, request_id: str) -> HttpResponseBase:
    """Enter a due questionnaire on the patient's behalf (recorded as such)."""
    patient = _patient(request, patient_id, Action.CLINICAL_EDIT)
    measure_request = MeasureRequest.objects.filter(patient=patient, public_id=request_id).first()
    if measure_request is None:
        raise Http404("No such questionnaire.")
    instrument = _instrument(request, measure_request.instrument_key)

    def save(answers: dict[str, int], _reason: str) -> MeasureResponse:
        return services.response_submit(
            request=measure_request, answers=answers, by=request.user, member=request.membership
        )

    return _answers_page(request, patient, instrument, save, {"measure_request": measure_request})


@staff_view()
def response_detail(request: StaffRequest, patient_id: str, response_id: str) -> HttpResponseBase:
    patient = _patient(request, patient_id)
    response = selectors.access_response(member=request.membership, patient=patient, public_id=response_id)
    instrument = _instrument(request, response.instrument_key)
    rows = [(item, response.answers.get(item.id)) for item in instrument.items]
    labels = {item.id: {o.value: o.label for o in item.options} for item in instrument.items}
    context = {
        "patient": patient,
        "response": response,
        "rows": [
            (item, value, labels[item.id].get(value, "—") if value is not None else _("not asked"))
            for item, value in rows
        ],
        "replaced_by": MeasureResponse.objects.filter(replaces=response).first(),
        "can_edit": allowed(request.membership, Action.CLINICAL_EDIT, patient),
    }
    return render(request, "measures/response.html", context)


@staff_view()
@require_http_methods(["GET", "POST"])
def correct(request: StaffRequest, patient_id: str, response_id: str) -> HttpResponseBase:
    patient = _patient(request, patient_id, Action.CLINICAL_EDIT)
    # The form shows the stored answers: a read of clinical data, checked and audited.
    original = selectors.access_response(member=request.membership, patient=patient, public_id=response_id)
    instrument = _instrument(request, original.instrument_key)

    def save(answers: dict[str, int], reason: str) -> MeasureResponse:
        return services.response_correct(
            member=request.membership, original=original, answers=answers, reason=reason
        )

    initial = {k: str(v) for k, v in original.answers.items()}
    return _answers_page(
        request, patient, instrument, save, {"original": original, "correcting": True, "initial": initial}
    )


@staff_view()
def trajectory(request: StaffRequest, patient_id: str, key: str) -> HttpResponseBase:
    patient = _patient(request, patient_id)
    instrument = _instrument(request, key)
    responses = selectors.patient_responses(member=request.membership, patient=patient, instrument_key=key)
    baseline = next((r for r in responses if r.total is not None), None)
    return render(
        request,
        "measures/trajectory.html",
        {
            "patient": patient,
            "instrument": instrument,
            "responses": responses,
            "baseline": baseline,
            "rows": [
                (
                    r,
                    r.total - baseline.total
                    if baseline and baseline.total is not None and r.total is not None
                    else None,
                )
                for r in responses
            ],
        },
    )


@staff_view()
def trajectory_svg_view(request: StaffRequest, patient_id: str, key: str) -> HttpResponseBase:
    patient = _patient(request, patient_id)
    instrument = _instrument(request, key)
    responses = selectors.patient_responses(member=request.membership, patient=patient, instrument_key=key)
    points = [
        Point(r.answered_at.astimezone(request.clinic.tzinfo), r.total)
        for r in responses
        if r.total is not None
    ]
    bands = [BandArea(b.low, b.high, b.label) for b in instrument.bands]
    y_max = instrument.max_total or max([p.total for p in points] or [1])
    svg = trajectory_svg(
        title=f"{instrument.short_name}: {patient.display_name}", points=points, bands=bands, y_max=y_max
    )
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response
