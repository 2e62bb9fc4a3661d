"""Staff pages of treatment courses: a patient's courses, starting one, the course timeline,
its status, visits, the note editor (autosave, version check, signing) and addenda."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.core.access import StaffRequest, allowed, staff_view
from kapflow.core.errors import ApplicationError
from kapflow.core.permissions import Action
from kapflow.courses import rules, selectors, services
from kapflow.courses.forms import (
    AddendumForm,
    CourseForm,
    StatusForm,
    VisitForm,
    autosave_attrs,
    content_of,
    note_form_class,
)
from kapflow.courses.models import ClinicalNote, CourseStatus, NoteStatus, TreatmentCourse
from kapflow.outcomes.course import course_outcomes
from kapflow.patients.selectors import access_patient


def _course_page(request: StaffRequest, course: TreatmentCourse) -> HttpResponseBase:
    return redirect("courses:course", clinic=request.clinic.slug, course_id=course.public_id)


def _note_page(request: StaffRequest, note: ClinicalNote) -> HttpResponseBase:
    return redirect("courses:note", clinic=request.clinic.slug, note_id=note.public_id)


@staff_view()
def patient_courses(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    patient = access_patient(
        member=request.membership, public_id=patient_id, action=Action.CLINICAL_VIEW, log_view=False
    )
    context = {
        "patient": patient,
        "courses": selectors.patient_courses(member=request.membership, patient=patient),
        "can_edit": allowed(request.membership, Action.CLINICAL_EDIT, patient),
    }
    return render(request, "courses/patient_courses.html", context)


@staff_view()
@require_http_methods(["GET", "POST"])
def course_create(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    patient = access_patient(
        member=request.membership, public_id=patient_id, action=Action.CLINICAL_EDIT, log_view=False
    )
    form = CourseForm(request.POST or None, clinic=request.clinic)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            course = services.course_create(
                member=request.membership,
                patient=patient,
                route=data["route"],
                planned_dosing_sessions=data["planned_dosing_sessions"],
                therapist_ids=data["therapists"],
                medical_ids=data["medical"],
                starts_on=data["starts_on"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Course planned. Start it when the first dosing session is booked."))
            return _course_page(request, course)
    return render(
        request,
        "courses/course_form.html",
        {"patient": patient, "form": form},
        status=400 if form.errors else 200,
    )


@staff_view()
def course_detail(request: StaffRequest, course_id: str) -> HttpResponseBase:
    course = selectors.access_course(member=request.membership, course_id=course_id)
    context = {
        "course": course,
        "patient": course.patient,
        "member": request.membership,
        "can_edit": allowed(request.membership, Action.CLINICAL_EDIT, course.patient),
        "status_form": StatusForm(initial={"status": course.status}),
        "dosing_sessions": list(course.dosing_sessions.filter(voided_at__isnull=True).order_by("number")),
        "can_check_in": course.status == CourseStatus.ACTIVE
        and allowed(request.membership, Action.DOSING_MEDICAL, course.patient),
        **selectors.course_timeline(member=request.membership, course=course),
        "outcomes": course_outcomes(course),
    }
    return render(request, "courses/course.html", context)


@staff_view()
def course_status(request: StaffRequest, course_id: str) -> HttpResponseBase:
    course = selectors.access_course(
        member=request.membership, course_id=course_id, action=Action.CLINICAL_EDIT
    )
    if request.method != "POST":  # after the access check: those refused learn nothing more
        return HttpResponseNotAllowed(["POST"])
    form = StatusForm(request.POST)
    if not form.is_valid():
        raise ApplicationError(_("Choose a status from the list (and a reason of at most 2,000 characters)."))
    services.course_set_status(
        member=request.membership,
        course=course,
        status=form.cleaned_data["status"],
        reason=form.cleaned_data["reason"],
    )
    messages.success(request, _("Course status changed."))
    return _course_page(request, course)


@staff_view()
@require_http_methods(["GET", "POST"])
def visit_create(request: StaffRequest, course_id: str) -> HttpResponseBase:
    course = selectors.access_course(
        member=request.membership, course_id=course_id, action=Action.CLINICAL_EDIT
    )
    form = VisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.visit_create(
                member=request.membership,
                course=course,
                kind=form.cleaned_data["kind"],
                happened_on=form.cleaned_data["happened_on"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return _note_page(request, visit.note)
    return render(
        request,
        "courses/visit_form.html",
        {"course": course, "patient": course.patient, "form": form},
        status=400 if form.errors else 200,
    )


def _note_context(
    request: StaffRequest, note: ClinicalNote, form: Any = None, **extra: Any
) -> dict[str, Any]:
    template = rules.template_for(note.template)
    is_draft = note.status == NoteStatus.DRAFT
    can_write = is_draft and note.author_id == request.user.pk
    if form is None and can_write:
        form = note_form_class(template)(initial={**note.content, "version": note.version})
    if form is not None and can_write:
        autosave_attrs(
            form,
            reverse("courses:autosave", kwargs={"clinic": request.clinic.slug, "note_id": note.public_id}),
        )
    return {
        "note": note,
        "course": note.visit.course,
        "patient": note.patient,
        "template": template,
        "rows": _rows(template, note.content),
        "form": form if can_write else None,
        "can_write": can_write,
        "can_add": not is_draft and allowed(request.membership, Action.CLINICAL_EDIT, note.patient),
        "addendum_form": AddendumForm(),
        **extra,
    }


def _rows(template: rules.NoteTemplate, content: dict[str, Any]) -> list[tuple[str, Any]]:
    """(label, shown value) of each field, for reading a note."""
    rows = []
    for spec in template.fields:
        value = content.get(spec.name)
        if spec.kind == rules.FieldKind.CHECKLIST:
            labels = {o.key: _(o.label) for o in spec.options}
            value = ", ".join(str(labels[k]) for k in value or [] if k in labels)
        elif spec.kind == rules.FieldKind.BOOL:
            value = _("yes") if value else _("no")
        rows.append((_(spec.label), value or ""))
    return rows


@staff_view()
@require_http_methods(["GET", "POST"])
def note_edit(request: StaffRequest, note_id: str) -> HttpResponseBase:
    action = Action.CLINICAL_EDIT if request.method == "POST" else Action.CLINICAL_VIEW
    note = selectors.access_note(member=request.membership, note_id=note_id, action=action)
    if request.method == "GET":
        selectors.note_view(member=request.membership, note=note)
        return render(request, "courses/note.html", _note_context(request, note))
    template = rules.template_for(note.template)
    form = note_form_class(template)(request.POST)
    if not form.is_valid():
        if note.status != NoteStatus.DRAFT or note.author_id != request.user.pk:
            raise services.NoteSigned(_("This note cannot be changed here."))
        return render(request, "courses/note.html", _note_context(request, note, form), status=400)
    try:
        services.note_save_draft(
            member=request.membership,
            note=note,
            content=content_of(form, template),
            base_version=form.cleaned_data["version"],
        )
    except services.NoteConflict as exc:
        note.refresh_from_db()
        data = request.POST.copy()
        data["version"] = str(exc.version)
        rebased = note_form_class(template)(data)
        rebased.is_valid()
        context = _note_context(
            request,
            note,
            rebased,
            conflict=exc.message,
            mine=_rows(template, exc.mine),
            theirs=_rows(template, exc.theirs),
        )
        return render(request, "courses/note.html", context, status=409)
    except ApplicationError as exc:
        if isinstance(exc, services.NoteSigned | services.NotTheAuthor):
            raise
        form.add_error(None, exc.message)
        return render(request, "courses/note.html", _note_context(request, note, form), status=400)
    messages.success(request, _("Draft saved."))
    return _note_page(request, note)


@staff_view()
def note_autosave(request: StaffRequest, note_id: str) -> HttpResponseBase:
    """The htmx autosave: a small status fragment, and the new base version out of band."""
    note = selectors.access_note(member=request.membership, note_id=note_id, action=Action.CLINICAL_EDIT)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    template = rules.template_for(note.template)
    form = note_form_class(template)(request.POST)
    if not form.is_valid():
        return render(
            request,
            "courses/_autosave.html",
            {"error": _("Not saved: check the fields marked below and press Save.")},
            status=400,
        )
    try:
        saved = services.note_save_draft(
            member=request.membership,
            note=note,
            content=content_of(form, template),
            base_version=form.cleaned_data["version"],
        )
    except ApplicationError as exc:
        return render(request, "courses/_autosave.html", {"error": exc.message}, status=exc.status)
    saved_at = timezone.localtime(saved.updated_at).strftime("%H:%M")
    return render(request, "courses/_autosave.html", {"saved_at": saved_at, "version": saved.version})


@staff_view()
def note_sign(request: StaffRequest, note_id: str) -> HttpResponseBase:
    note = selectors.access_note(member=request.membership, note_id=note_id, action=Action.CLINICAL_EDIT)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        raise ApplicationError(
            _("The page is missing the note's version; reload it and sign again.")
        ) from None
    services.note_sign(member=request.membership, note=note, base_version=version)
    messages.success(request, _("Note signed. Corrections from now on are addenda."))
    return _note_page(request, note)


@staff_view()
def addendum_add(request: StaffRequest, note_id: str) -> HttpResponseBase:
    note = selectors.access_note(member=request.membership, note_id=note_id, action=Action.CLINICAL_EDIT)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = AddendumForm(request.POST)
    if not form.is_valid():
        context = _note_context(request, note, addendum_form=form)
        return render(request, "courses/note.html", context, status=400)
    services.addendum_add(member=request.membership, note=note, text=form.cleaned_data["text"])
    messages.success(request, _("Addendum added."))
    return _note_page(request, note)
