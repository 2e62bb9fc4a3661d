"""The triage queue: front desk and clinic admin work through appointment requests."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.accounts.models import Membership
from kapflow.core.access import StaffRequest, allowed, staff_view
from kapflow.core.errors import ApplicationError
from kapflow.core.permissions import Action
from kapflow.intake import selectors, services
from kapflow.intake.forms import (
    AssignForm,
    ContactAttemptForm,
    DuplicateForm,
    NoteForm,
    QueueFilterForm,
    StatusForm,
)
from kapflow.intake.models import AppointmentRequest
from kapflow.patients.forms import PatientForm
from kapflow.patients.services import DuplicateRecordNumber


@staff_view(Action.INTAKE_VIEW)
def queue(request: StaffRequest) -> HttpResponseBase:
    form = QueueFilterForm(request.GET or None)
    status, mine = "", False
    if form.is_valid():
        status, mine = form.cleaned_data["status"], form.cleaned_data["mine"]
    requests = list(
        selectors.request_queue(member=request.membership, status=status, mine=mine)[: selectors.QUEUE_LIMIT]
    )
    return render(
        request,
        "intake/queue.html",
        {"form": form, "requests": requests, "limit": selectors.QUEUE_LIMIT},
        status=200 if form.is_valid() or not request.GET else 400,
    )


def _assign_choices(request: StaffRequest) -> list[tuple[str, str]]:
    members = Membership.objects.filter(clinic=request.clinic, is_active=True).select_related("user")
    return [(str(m.pk), f"{m.user.full_name} ({m.get_role_display()})") for m in members]


def _detail_context(request: StaffRequest, item: AppointmentRequest) -> dict[str, object]:
    current = Membership.objects.filter(clinic=request.clinic, user=item.assigned_to).first()
    return {
        "item": item,
        "activities": item.activities.select_related("by"),
        "status_form": StatusForm(initial={"status": item.status}),
        "contact_form": ContactAttemptForm(),
        "note_form": NoteForm(),
        "assign_form": AssignForm(
            choices=_assign_choices(request), initial={"assignee": current.pk if current else ""}
        ),
        "duplicate_form": DuplicateForm(),
        "can_manage": allowed(request.membership, Action.INTAKE_MANAGE),
        "can_convert": allowed(request.membership, Action.PATIENT_CREATE),
        "answers": _answer_rows(item),
    }


def _answer_rows(item: AppointmentRequest) -> list[tuple[str, str]]:
    from kapflow.intake import prescreen
    from kapflow.intake.forms import ANSWER_CHOICES

    if not item.prescreen:
        return []
    answers = dict(item.prescreen)
    labels = dict(ANSWER_CHOICES)
    rows = [
        (_("Medicines tried"), dict(prescreen.TREATMENT_CHOICES).get(answers.get("treatments", ""), "")),
        (_("Talk therapy"), _("Yes") if answers.get("therapy") == "yes" else _("No")),
    ]
    rows += [(q.text, str(labels.get(answers.get(q.key, ""), ""))) for q in prescreen.HEALTH_QUESTIONS]
    return rows


@staff_view(Action.INTAKE_VIEW)
def detail(request: StaffRequest, request_id: str) -> HttpResponseBase:
    item = selectors.access_request(member=request.membership, public_id=request_id)
    return render(request, "intake/detail.html", _detail_context(request, item))


ACTIONS = {"status", "contact", "note", "assign", "duplicate"}


@staff_view(Action.INTAKE_MANAGE)
def act(request: StaffRequest, request_id: str, what: str) -> HttpResponseBase:
    """One POST endpoint per kind of work on a request; each posts its own small form."""
    item = selectors.access_request(member=request.membership, public_id=request_id, log_view=False)
    if what not in ACTIONS:
        raise Http404("No such action.")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    member = request.membership
    context = _detail_context(request, item)
    try:
        if what == "status":
            form = StatusForm(request.POST)
            if form.is_valid():
                services.request_set_status(member=member, request=item, status=form.cleaned_data["status"])
        elif what == "contact":
            form = ContactAttemptForm(request.POST)  # type: ignore[assignment]
            if form.is_valid():
                services.request_record_contact(member=member, request=item, **form.cleaned_data)
        elif what == "note":
            form = NoteForm(request.POST)  # type: ignore[assignment]
            if form.is_valid():
                services.request_add_note(member=member, request=item, text=form.cleaned_data["text"])
        elif what == "assign":
            form = AssignForm(request.POST, choices=_assign_choices(request))  # type: ignore[assignment]
            if form.is_valid():
                chosen = form.cleaned_data["assignee"]
                services.request_assign(
                    member=member, request=item, assignee_id=int(chosen) if chosen else None
                )
        else:
            form = DuplicateForm(request.POST)  # type: ignore[assignment]
            if form.is_valid():
                services.request_mark_duplicate(
                    member=member, request=item, of=form.cleaned_data["of"].strip()
                )
    except ApplicationError as exc:
        form.add_error(None, exc.message)
    if form.errors:
        context[f"{what}_form"] = form
        context["failed"] = what
        return render(request, "intake/detail.html", context, status=400)
    messages.success(request, _("Saved."))
    return redirect("intake:detail", clinic=request.clinic.slug, request_id=item.public_id)


def _split_name(name: str) -> tuple[str, str]:
    parts = name.strip().rsplit(" ", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "")


@staff_view(Action.INTAKE_MANAGE)
@require_http_methods(["GET", "POST"])
def convert(request: StaffRequest, request_id: str) -> HttpResponseBase:
    item = selectors.access_request(
        member=request.membership, public_id=request_id, log_view=request.method == "GET"
    )
    if item.patient_id is not None:
        messages.info(request, _("A patient record was already created from this request."))
        return redirect("patients:chart", clinic=request.clinic.slug, patient_id=item.patient.public_id)  # type: ignore[union-attr]
    given, family = _split_name(item.name)
    form = PatientForm(
        request.POST or None,
        initial={
            "legal_given_name": given,
            "legal_family_name": family,
            "email": item.email,
            "phone": item.phone,
        },
    )
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        duplicates = selectors.possible_duplicates(
            clinic=request.clinic,
            given=data["legal_given_name"],
            family=data["legal_family_name"],
            born=data["date_of_birth"],
            email=data["email"],
        )
        if duplicates and request.POST.get("confirm_new") != "1":
            return render(
                request,
                "intake/convert.html",
                {"item": item, "form": form, "duplicates": duplicates},
                status=409,
            )
        try:
            patient = services.request_convert(member=request.membership, request=item, patient_data=data)
        except DuplicateRecordNumber as exc:
            form.add_error("record_number", exc.message)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Patient record %(number)s created.") % {"number": patient.record_number}
            )
            return redirect("patients:chart", clinic=request.clinic.slug, patient_id=patient.public_id)
    status = 400 if form.errors else 200
    return render(
        request, "intake/convert.html", {"item": item, "form": form, "duplicates": duplicates}, status=status
    )
