"""Staff pages of a dosing session: check-in, the pre-dose record and gate, administration,
the live monitoring page (refreshed by htmx), adverse events, discharge, the printed record.

Views stay thin: each resolves the session through ``selectors.access_session`` with the
action it needs (a refusal is logged), then calls a service; a refused rule comes back as the
session page with the message and the typed values kept (status 400).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.core import audit
from kapflow.core.access import StaffRequest, allowed, staff_view
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.courses.selectors import access_course
from kapflow.dosing import pdf, selectors, services
from kapflow.dosing.forms import (
    READING_FORMS,
    AddendumForm,
    AdministrationForm,
    CancelForm,
    CheckInForm,
    DischargeForm,
    EventForm,
    OverrideForm,
    PredoseForm,
    at_local,
)
from kapflow.dosing.models import DosingSession, ReadingKind, SessionStatus
from kapflow.dosing.protocol import CheckKind, DischargeItem
from kapflow.patients.selectors import access_patient

PDF_UNAVAILABLE_STATUS = 503


def _page(request: StaffRequest, session: DosingSession, anchor: str = "") -> HttpResponseBase:
    url = reverse("dosing:session", kwargs={"clinic": request.clinic.slug, "session_id": session.public_id})
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _predose_initial(session: DosingSession) -> dict[str, Any]:
    return {
        "weight_kg": session.weight_kg,
        "fasting_confirmed": session.fasting_confirmed,
        "escort_confirmed": session.escort_confirmed,
        "escort_name": session.escort_name,
        "intentions_reviewed": session.intentions_reviewed,
        "pregnancy_test": session.pregnancy_test,
        "concomitant_medications": session.concomitant_medications,
    }


def _forms(
    request: StaffRequest, session: DosingSession, bound: dict[str, forms.Form]
) -> dict[str, forms.Form]:
    made: dict[str, forms.Form] = {
        "predose_form": PredoseForm(initial=_predose_initial(session)),
        "administration_form": AdministrationForm(
            clinic=request.clinic, user_id=request.user.pk, initial={"version": session.version}
        ),
        "event_form": EventForm(),
        "discharge_form": DischargeForm(),
        "cancel_form": CancelForm(),
        "addendum_form": AddendumForm(),
        **{f"{kind}_form": form_class() for kind, form_class in READING_FORMS.items()},
    }
    made.update(bound)
    return made


def _live(session: DosingSession) -> dict[str, Any]:
    """What the polled part of the page shows: the clock, the checks and the latest breach."""
    now = timezone.now()
    timeline = selectors.session_timeline(session, now=now)
    record = selectors.session_record(session)
    elapsed = None
    if session.first_administered_at is not None:
        end = session.discharged_at or now
        elapsed = int((end - session.first_administered_at).total_seconds())
    # The banner stays until vital signs are taken again: a MOAA/S or a note entered after a
    # breach does not clear it.
    vitals = [r for r in record["readings"] if r.kind == ReadingKind.VITALS]
    latest = vitals[-1] if vitals else None
    return {
        "timeline": timeline,
        "overdue": [d for d in timeline if d.state == "overdue"],
        "elapsed_minutes": elapsed // 60 if elapsed is not None else None,
        "elapsed_seconds": elapsed,
        "latest_breach": latest if latest is not None and latest.breaches else None,
        "now": now,
    }


def _context(
    request: StaffRequest, session: DosingSession, bound: dict[str, forms.Form] | None = None, error: str = ""
) -> dict[str, Any]:
    member = request.membership
    record = selectors.session_record(session)
    open_session = session.status in (SessionStatus.CHECKED_IN, SessionStatus.IN_SESSION)
    context: dict[str, Any] = {
        "session": session,
        "patient": session.patient,
        "course": session.course,
        "error": error,
        "can_medical": open_session and allowed(member, Action.DOSING_MEDICAL, session.patient),
        "can_administer": open_session and allowed(member, Action.DOSE_ADMINISTER, session.patient),
        "can_edit": allowed(member, Action.CLINICAL_EDIT, session.patient),
        "is_therapist": member.role == "therapist",
        "gate": selectors.session_gate(session) if session.status == SessionStatus.CHECKED_IN else None,
        "weight": selectors.weight(session),
        "discharge_items": selectors.discharge_checklist(session)
        if session.status == SessionStatus.IN_SESSION
        else [],
        "guide_visits": list(
            session.guide_visits.filter(voided_at__isnull=True).select_related("note", "staff")
        ),
        "has_dissociation": bool(record["protocol"].monitoring.get(CheckKind.DISSOCIATION))
        or bool(record["protocol"].dissociation_instrument),
        **record,
        **_live(session),
        **_forms(request, session, bound or {}),
    }
    return context


def _render(
    request: StaffRequest,
    session: DosingSession,
    bound: dict[str, forms.Form] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    if request.method != "GET":
        # A refused form comes back on the whole record: a read like the page's own (whose GET
        # ``access_session`` logs), though the access check was for the write.
        audit.record(
            user=request.user,
            clinic=request.clinic,
            patient=session.patient,
            action=AuditAction.VIEW,
            category=DataCategory.CLINICAL,
            detail=f"dosing session {session.public_id}",
        )
    return render(request, "dosing/session.html", _context(request, session, bound, error), status=status)


@staff_view()
def patient_sessions(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    patient = access_patient(member=request.membership, public_id=patient_id, action=Action.CLINICAL_VIEW)
    sessions = selectors.patient_sessions(member=request.membership, patient=patient)
    return render(request, "dosing/patient_sessions.html", {"patient": patient, "sessions": sessions})


@staff_view()
@require_http_methods(["GET", "POST"])
def check_in(request: StaffRequest, course_id: str) -> HttpResponseBase:
    course = access_course(member=request.membership, course_id=course_id, action=Action.DOSING_MEDICAL)
    form = CheckInForm(request.POST if request.method == "POST" else None, clinic=request.clinic)
    if request.method == "POST" and form.is_valid():
        room = form.cleaned_data["room"]
        try:
            session = services.session_check_in(
                member=request.membership, course=course, room_id=room.pk if room else None
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Checked in. Complete the pre-dose record; the gate shows what is left.")
            )
            return _page(request, session)
    context = {"course": course, "patient": course.patient, "form": form}
    return render(request, "dosing/check_in.html", context, status=400 if form.errors else 200)


@staff_view()
def session_page(request: StaffRequest, session_id: str) -> HttpResponseBase:
    session = selectors.access_session(member=request.membership, session_id=session_id)
    return _render(request, session)


@staff_view()
def live(request: StaffRequest, session_id: str) -> HttpResponseBase:
    """The polled part of the live page (htmx, every 20 seconds)."""
    session = selectors.access_session(member=request.membership, session_id=session_id, log=False)
    audit.record(
        user=request.user,
        clinic=request.clinic,
        patient=session.patient,
        action=AuditAction.VIEW,
        category=DataCategory.CLINICAL,
        detail=f"monitoring of dosing session {session.public_id}",
    )
    return render(request, "dosing/_live.html", {"session": session, **_live(session)})


def _post_only(request: StaffRequest) -> HttpResponseBase | None:
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


def _submit(
    request: StaffRequest,
    session_id: str,
    *,
    action: Action,
    key: str,
    form_class: type[forms.Form],
    write: Callable[[DosingSession, dict[str, Any]], object],
    success: str,
    anchor: str = "",
) -> HttpResponseBase:
    """The shape of the session page's simple forms: access (logged refusal) before the method,
    then the form, then the service; a refusal comes back on the page with the typed values."""
    session = selectors.access_session(member=request.membership, session_id=session_id, action=action)
    if (refused := _post_only(request)) is not None:
        return refused
    form = form_class(request.POST)
    if not form.is_valid():
        return _render(request, session, {key: form}, status=400)
    try:
        write(session, form.cleaned_data)
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _render(request, session, {key: form}, status=exc.status)
    messages.success(request, success)
    return _page(request, session, anchor)


@staff_view()
def predose(request: StaffRequest, session_id: str) -> HttpResponseBase:
    def write(session: DosingSession, data: dict[str, Any]) -> object:
        return services.predose_update(member=request.membership, session=session, **data)

    return _submit(
        request,
        session_id,
        action=Action.DOSING_MEDICAL,
        key="predose_form",
        form_class=PredoseForm,
        write=write,
        success=_("Pre-dose record saved."),
        anchor="gate",
    )


@staff_view()
def reading(request: StaffRequest, session_id: str, kind: str) -> HttpResponseBase:
    session = selectors.access_session(
        member=request.membership, session_id=session_id, action=Action.DOSING_MEDICAL
    )
    if (refused := _post_only(request)) is not None:
        return refused
    form_class = READING_FORMS.get(kind)
    if form_class is None:
        raise ApplicationError(_("Choose what is being recorded."))
    form = form_class(request.POST)
    key = f"{kind}_form"
    if not form.is_valid():
        return _render(request, session, {key: form}, status=400)
    data = form.cleaned_data
    values = {
        name: data.get(name) for name in ("systolic", "diastolic", "heart_rate", "spo2", "respiratory_rate")
    }
    try:
        saved = services.reading_record(
            member=request.membership,
            session=session,
            kind=kind,
            taken_at=at_local(data.get("taken_at")),
            values=values if kind == "vitals" else None,
            moaas=data.get("moaas"),
            score=data.get("score"),
            note=data.get("note", ""),
        )
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _render(request, session, {key: form}, status=exc.status)
    if saved.breaches:
        messages.warning(request, " ".join(b["message"] for b in saved.breaches))
    else:
        messages.success(request, _("Recorded."))
    return _page(request, session, "monitoring")


@staff_view()
def override(request: StaffRequest, session_id: str) -> HttpResponseBase:
    session = selectors.access_session(
        member=request.membership, session_id=session_id, action=Action.DOSING_MEDICAL
    )
    if (refused := _post_only(request)) is not None:
        return refused
    form = OverrideForm(request.POST)
    if not form.is_valid():
        return _render(
            request,
            session,
            error=_("Write the reason for proceeding (at most 1,000 characters)."),
            status=400,
        )
    try:
        services.override_set(
            member=request.membership,
            session=session,
            check=form.cleaned_data["check"],
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as exc:
        return _render(request, session, error=exc.message, status=exc.status)
    messages.success(request, _("Override recorded with your reason."))
    return _page(request, session, "gate")


@staff_view()
def administer(request: StaffRequest, session_id: str) -> HttpResponseBase:
    session = selectors.access_session(
        member=request.membership, session_id=session_id, action=Action.DOSE_ADMINISTER
    )
    if (refused := _post_only(request)) is not None:
        return refused
    form = AdministrationForm(request.POST, clinic=request.clinic, user_id=request.user.pk)
    if not form.is_valid():
        return _render(request, session, {"administration_form": form}, status=400)
    data = form.cleaned_data
    started = at_local(data["started_at"])
    try:
        services.administration_record(
            member=request.membership,
            session=session,
            dose_mg=data["dose_mg"],
            lot=data["lot"],
            started_at=started,
            ended_at=at_local(data["ended_at"], near=started),
            witness_id=data["witness"],
            override_reason=data["override_reason"],
            base_version=data["version"],
        )
    except ApplicationError as exc:
        # Shown at the top of the page: the form itself may be hidden while the gate is closed.
        session.refresh_from_db()
        return _render(request, session, {"administration_form": form}, error=exc.message, status=exc.status)
    messages.success(request, _("Administration recorded."))
    return _page(request, session, "administrations")


@staff_view()
def event(request: StaffRequest, session_id: str) -> HttpResponseBase:
    def write(session: DosingSession, data: dict[str, Any]) -> object:
        path = reverse(
            "dosing:session", kwargs={"clinic": request.clinic.slug, "session_id": session.public_id}
        )
        return services.event_record(
            member=request.membership,
            session=session,
            kind=data["kind"],
            severity=data["severity"],
            serious=data["serious"],
            occurred_at=at_local(data["occurred_at"]),
            intervention=data["intervention"],
            outcome=data["outcome"],
            description=data["description"],
            link=request.build_absolute_uri(path),
        )

    return _submit(
        request,
        session_id,
        action=Action.CLINICAL_EDIT,
        key="event_form",
        form_class=EventForm,
        write=write,
        success=_("Adverse event recorded."),
        anchor="events",
    )


@staff_view()
def discharge(request: StaffRequest, session_id: str) -> HttpResponseBase:
    def write(session: DosingSession, data: dict[str, Any]) -> object:
        confirmed = frozenset(DischargeItem(item) for item in data["confirmed"])
        return services.discharge_sign(
            member=request.membership, session=session, confirmed=confirmed, note=data["note"]
        )

    return _submit(
        request,
        session_id,
        action=Action.DOSING_MEDICAL,
        key="discharge_form",
        form_class=DischargeForm,
        write=write,
        success=_("Discharge signed. The session record is locked; corrections are addenda."),
    )


@staff_view()
def cancel(request: StaffRequest, session_id: str) -> HttpResponseBase:
    def write(session: DosingSession, data: dict[str, Any]) -> object:
        return services.session_cancel(member=request.membership, session=session, reason=data["reason"])

    return _submit(
        request,
        session_id,
        action=Action.DOSING_MEDICAL,
        key="cancel_form",
        form_class=CancelForm,
        write=write,
        success=_("Session cancelled."),
    )


@staff_view()
def addendum(request: StaffRequest, session_id: str) -> HttpResponseBase:
    def write(session: DosingSession, data: dict[str, Any]) -> object:
        return services.addendum_add(member=request.membership, session=session, text=data["text"])

    return _submit(
        request,
        session_id,
        action=Action.CLINICAL_EDIT,
        key="addendum_form",
        form_class=AddendumForm,
        write=write,
        success=_("Addendum added."),
        anchor="addenda",
    )


@staff_view()
def guide_note(request: StaffRequest, session_id: str) -> HttpResponseBase:
    session = selectors.access_session(
        member=request.membership, session_id=session_id, action=Action.CLINICAL_EDIT
    )
    if (refused := _post_only(request)) is not None:
        return refused
    visit = services.guide_note(member=request.membership, session=session)
    return redirect("courses:note", clinic=request.clinic.slug, note_id=visit.note.public_id)


@staff_view()
def session_pdf(request: StaffRequest, session_id: str) -> HttpResponseBase:
    session = selectors.access_session(member=request.membership, session_id=session_id, log=False)
    data = pdf.render(session)
    audit.record(
        user=request.user,
        clinic=request.clinic,
        patient=session.patient,
        action=AuditAction.PRINT,
        category=DataCategory.CLINICAL,
        detail=f"dosing session record {session.public_id} as PDF",
    )
    if data is None:
        return render(
            request, "dosing/pdf_unavailable.html", {"session": session}, status=PDF_UNAVAILABLE_STATUS
        )
    response = HttpResponse(data, content_type="application/pdf")
    local = timezone.localtime(session.checked_in_at)
    name = f"dosing-session-{session.patient.record_number}-{session.number}-{local:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
