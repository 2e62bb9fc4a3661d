"""Psychotherapy note pages under ``/c/<clinic>/psychotherapy/``: the only pages that show
a psychotherapy note's text.

``patients/<uuid>/`` lists the notes the member may read and ``patients/<uuid>/new/`` starts
one (therapists on the patient's care team); ``notes/<uuid>/`` shows a note and lets its
author edit the draft, ``notes/<uuid>/sign/`` signs it. A note the member may not read
answers 404, as if it did not exist, and the refusal is logged.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kapflow.core.access import StaffRequest, staff_view
from kapflow.core.errors import ApplicationError
from kapflow.core.permissions import Action
from kapflow.courses import psychotherapy_services as services
from kapflow.courses.models import NoteStatus, PsychotherapyNote
from kapflow.courses.psychotherapy_forms import PsychotherapyNoteForm, SignForm
from kapflow.patients.models import Patient
from kapflow.patients.selectors import access_patient


def _writer_patient(request: StaffRequest, patient_id: str) -> Patient:
    patient = access_patient(member=request.membership, public_id=patient_id, action=Action.CLINICAL_VIEW)
    services.require_writer(request.membership, patient)
    return patient


def _note(request: StaffRequest, note_id: str) -> PsychotherapyNote:
    note = services.access_note(member=request.membership, public_id=note_id)
    # A reader must also still be on the care team (clinical data rule); logged if not.
    access_patient(
        member=request.membership,
        public_id=note.patient.public_id,
        action=Action.CLINICAL_VIEW,
        log_view=False,
    )
    return note


@staff_view()
def patient_notes(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    patient = _writer_patient(request, patient_id)
    if request.method != "GET":  # after the check: refused people get 403/404 whatever the method
        return HttpResponseNotAllowed(["GET"])
    notes = services.notes_for_patient(member=request.membership, patient=patient)
    return render(request, "courses/psychotherapy/list.html", {"patient": patient, "notes": notes})


@staff_view()
def note_new(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    patient = _writer_patient(request, patient_id)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    form = PsychotherapyNoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            note = services.note_create(
                member=request.membership, patient=patient, text=form.cleaned_data["text"]
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Draft saved. Only you can read it."))
            return redirect("psychotherapy:note", clinic=request.clinic.slug, note_id=note.public_id)
    context = {"patient": patient, "form": form}
    return render(request, "courses/psychotherapy/new.html", context, status=400 if form.errors else 200)


def _note_page(
    request: StaffRequest,
    note: PsychotherapyNote,
    form: PsychotherapyNoteForm | None = None,
    *,
    status: int = 200,
    conflict: services.PsychotherapyConflict | None = None,
    error: str = "",
) -> HttpResponseBase:
    editable = note.status == NoteStatus.DRAFT and note.author_id == request.user.pk
    if form is None and editable:
        form = PsychotherapyNoteForm(initial={"text": note.text, "version": note.version})
    context: dict[str, Any] = {
        "note": note,
        "patient": note.patient,
        "form": form if editable else None,
        "editable": editable,
        "conflict": conflict,
        "error": "" if editable else error,
        "sign_form": SignForm(initial={"version": note.version}) if editable else None,
    }
    return render(request, "courses/psychotherapy/note.html", context, status=status)


@staff_view()
def note(request: StaffRequest, note_id: str) -> HttpResponseBase:
    found = _note(request, note_id)  # 404 for anyone who may not read it, whatever the method
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method != "POST":
        return _note_page(request, found)
    form = PsychotherapyNoteForm(request.POST)
    if not form.is_valid():
        return _note_page(request, found, form, status=400)
    base = form.cleaned_data["version"]
    try:
        services.note_save(
            member=request.membership,
            note=found,
            text=form.cleaned_data["text"],
            base_version=found.version if base is None else base,
        )
    except services.PsychotherapyConflict as exc:
        fresh = PsychotherapyNoteForm({"text": exc.yours, "version": exc.version})
        fresh.is_valid()
        fresh.add_error(None, exc.message)
        found.refresh_from_db()
        return _note_page(request, found, fresh, status=409, conflict=exc)
    except ApplicationError as exc:
        found.refresh_from_db()
        form.add_error(None, exc.message)
        return _note_page(request, found, form, status=exc.status, error=exc.message)
    messages.success(request, _("Draft saved."))
    return redirect("psychotherapy:note", clinic=request.clinic.slug, note_id=found.public_id)


@staff_view()
def note_sign(request: StaffRequest, note_id: str) -> HttpResponseBase:
    found = _note(request, note_id)  # 404 for anyone who may not read it, whatever the method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = SignForm(request.POST)
    base = form.cleaned_data["version"] if form.is_valid() else None
    services.note_sign(member=request.membership, note=found, base_version=base)
    messages.success(request, _("Note signed. It can no longer be changed."))
    return redirect("psychotherapy:note", clinic=request.clinic.slug, note_id=found.public_id)
