"""Staff pages of scheduling: booking (with every conflict named before anything is saved),
an appointment and its actions (check-in, no-show, cancel, move), a patient's appointments,
and the clinic's opening hours, staff hours, closures and appointment types."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.accounts.models import Membership
from kapflow.core import audit
from kapflow.core.access import StaffRequest, allowed, staff_view
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.courses.models import CourseStatus, TreatmentCourse
from kapflow.courses.selectors import access_course
from kapflow.patients.selectors import access_patient
from kapflow.scheduling import planning, selectors, services
from kapflow.scheduling.facts import clinic_hours
from kapflow.scheduling.forms import (
    AppointmentTypeForm,
    BookForm,
    CancelForm,
    ClosureForm,
    HoursForm,
    PlanForm,
    SlotForm,
    in_range,
)
from kapflow.scheduling.models import Appointment, Kind, Status, Unavailability, WorkingHours


def _appointment_page(request: StaffRequest, appointment: Appointment) -> HttpResponseBase:
    return redirect(
        "scheduling:appointment", clinic=request.clinic.slug, appointment_id=appointment.public_id
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _initial_for_booking(request: StaffRequest) -> dict[str, Any]:
    """Pre-filled from where booking started: a patient's chart (?patient=), a course
    (?course=, a dosing session with its care team), or the calendar (?date=, ?time=, ?room=)."""
    initial: dict[str, Any] = {"day": timezone.localdate() + timedelta(days=1)}
    query = request.GET
    for key in ("patient", "course"):
        if key in query and not _is_uuid(query[key]):
            raise Http404("No such record.")
    if "patient" in query:
        patient = access_patient(
            member=request.membership,
            public_id=query["patient"],
            action=Action.DEMOGRAPHICS_VIEW,
            log_view=False,
        )
        initial["patient"] = patient.pk
    if "course" in query:
        course = access_course(
            member=request.membership, course_id=query["course"], action=Action.SCHEDULE_MANAGE
        )
        initial["patient"] = course.patient_id
        initial["kind"] = Kind.DOSING
        initial["staff"] = [u.pk for u in course.therapists.all()[:1]] + [
            u.pk for u in course.medical_staff.all()[:1]
        ]
    for key in ("date", "time", "room", "kind"):
        if key in query:
            initial["day" if key == "date" else key] = query[key]
    return initial


@staff_view(Action.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def book(request: StaffRequest) -> HttpResponseBase:
    if request.method == "GET":
        form = BookForm(initial=_initial_for_booking(request), clinic=request.clinic)
        return render(request, "scheduling/book.html", {"form": form})
    form = BookForm(request.POST, clinic=request.clinic)
    if not form.is_valid():
        return render(request, "scheduling/book.html", {"form": form}, status=400)
    booking = services.Request(
        patient=form.cleaned_data["patient"],
        kind=form.cleaned_data["kind"],
        starts_at=form.starts_at(),
        room_id=form.cleaned_data["room"].pk if form.cleaned_data["room"] else None,
        staff_ids=tuple(form.cleaned_data["staff"]),
    )
    try:
        if request.POST.get("action") == "check":
            _proposal, found, _course = services.evaluate(request.clinic, booking)
            context = {"form": form, "conflicts": found, "checked": True}
            return render(request, "scheduling/book.html", context, status=409 if found else 200)
        appointment = services.appointment_book(member=request.membership, request=booking)
    except services.SchedulingConflict as exc:
        context = {"form": form, "conflicts": exc.conflicts, "lead": exc.message.split(":")[0]}
        return render(request, "scheduling/book.html", context, status=409)
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return render(request, "scheduling/book.html", {"form": form}, status=exc.status)
    messages.success(request, _("Booked."))
    return _appointment_page(request, appointment)


def _slot_initial(appointment: Appointment) -> dict[str, Any]:
    local = timezone.localtime(appointment.starts_at)
    return {
        "day": local.date(),
        "time": local.time().replace(second=0, microsecond=0),
        "room": appointment.room_id,
        "staff": [s.user_id for s in appointment.staff.all()],
    }


def _appointment_context(request: StaffRequest, appointment: Appointment, **extra: Any) -> dict[str, Any]:
    member = request.membership
    return {
        "appointment": appointment,
        "patient": appointment.patient,
        "attendees": list(appointment.staff.select_related("user")),
        "can_manage": allowed(member, Action.SCHEDULE_MANAGE) and appointment.status == Status.BOOKED,
        "can_open_session": appointment.kind == Kind.DOSING
        and appointment.dosing_session_id is None
        and appointment.status in (Status.BOOKED, Status.CHECKED_IN)
        and allowed(member, Action.DOSING_MEDICAL, appointment.patient),
        "can_see_session": appointment.dosing_session_id is not None
        and allowed(member, Action.CLINICAL_VIEW, appointment.patient),
        "is_today": timezone.localdate(appointment.starts_at) == timezone.localdate(),
        "is_past": appointment.starts_at <= timezone.now(),
        "move_form": extra.pop("move_form", None)
        or SlotForm(initial=_slot_initial(appointment), clinic=request.clinic),
        "cancel_form": extra.pop("cancel_form", None) or CancelForm(),
        **extra,
    }


@staff_view()
def appointment_detail(request: StaffRequest, appointment_id: str) -> HttpResponseBase:
    appointment = selectors.access_appointment(member=request.membership, appointment_id=appointment_id)
    return render(request, "scheduling/appointment.html", _appointment_context(request, appointment))


def _action(request: StaffRequest, appointment_id: str) -> Appointment | HttpResponseBase:
    appointment = selectors.access_appointment(
        member=request.membership, appointment_id=appointment_id, action=Action.SCHEDULE_MANAGE, log=False
    )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return appointment


def _refused(
    request: StaffRequest, appointment: Appointment, exc: ApplicationError, **forms: Any
) -> HttpResponseBase:
    appointment.refresh_from_db()
    context = _appointment_context(request, appointment, error=exc.message, **forms)
    return render(request, "scheduling/appointment.html", context, status=exc.status)


@staff_view()
def check_in(request: StaffRequest, appointment_id: str) -> HttpResponseBase:
    appointment = _action(request, appointment_id)
    if not isinstance(appointment, Appointment):
        return appointment
    try:
        appointment = services.appointment_check_in(member=request.membership, appointment=appointment)
    except ApplicationError as exc:
        return _refused(request, appointment, exc)
    if appointment.dosing_session is not None and allowed(
        request.membership, Action.CLINICAL_VIEW, appointment.patient
    ):
        messages.success(request, _("Checked in; the dosing session is open."))
        return redirect(
            "dosing:session", clinic=request.clinic.slug, session_id=appointment.dosing_session.public_id
        )
    messages.success(request, _("Checked in."))
    return (
        redirect(request.POST.get("next") or "calendar:today", clinic=request.clinic.slug)
        if not request.POST.get("next")
        else _appointment_page(request, appointment)
    )


def _status_action(
    request: StaffRequest, appointment_id: str, change: Callable[..., Appointment], success: str
) -> HttpResponseBase:
    appointment = _action(request, appointment_id)
    if not isinstance(appointment, Appointment):
        return appointment
    try:
        change(member=request.membership, appointment=appointment)
    except ApplicationError as exc:
        return _refused(request, appointment, exc)
    messages.success(request, success)
    return _appointment_page(request, appointment)


@staff_view()
def no_show(request: StaffRequest, appointment_id: str) -> HttpResponseBase:
    return _status_action(request, appointment_id, services.appointment_no_show, _("Marked as a no-show."))


@staff_view()
def complete(request: StaffRequest, appointment_id: str) -> HttpResponseBase:
    return _status_action(request, appointment_id, services.appointment_complete, _("Completed."))


@staff_view()
def cancel(request: StaffRequest, appointment_id: str) -> HttpResponseBase:
    appointment = _action(request, appointment_id)
    if not isinstance(appointment, Appointment):
        return appointment
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _refused(
            request,
            appointment,
            ApplicationError(_("Say why the appointment is cancelled.")),
            cancel_form=form,
        )
    try:
        services.appointment_cancel(
            member=request.membership, appointment=appointment, reason=form.cleaned_data["reason"]
        )
    except ApplicationError as exc:
        return _refused(request, appointment, exc, cancel_form=form)
    messages.success(request, _("Cancelled."))
    return _appointment_page(request, appointment)


@staff_view()
def move(request: StaffRequest, appointment_id: str) -> HttpResponseBase:
    appointment = _action(request, appointment_id)
    if not isinstance(appointment, Appointment):
        return appointment
    form = SlotForm(request.POST, clinic=request.clinic)
    if not form.is_valid():
        return _refused(request, appointment, ApplicationError(_("Check the new time.")), move_form=form)
    length = appointment.ends_at - appointment.starts_at
    starts_at = form.starts_at()
    moved = services.Request(
        patient=appointment.patient,
        kind=appointment.kind,
        starts_at=starts_at,
        room_id=form.cleaned_data["room"].pk if form.cleaned_data["room"] else None,
        staff_ids=tuple(form.cleaned_data["staff"]),
        course=appointment.course,
        ends_at=starts_at.astimezone(UTC) + length,
    )
    try:
        services.appointment_move(member=request.membership, appointment=appointment, request=moved)
    except ApplicationError as exc:
        return _refused(request, appointment, exc, move_form=form)
    messages.success(request, _("Moved."))
    return _appointment_page(request, appointment)


@staff_view()
def patient_appointments(request: StaffRequest, patient_id: str) -> HttpResponseBase:
    patient = access_patient(
        member=request.membership, public_id=patient_id, action=Action.DEMOGRAPHICS_VIEW, log_view=False
    )
    appointments = selectors.patient_appointments(member=request.membership, patient=patient)
    now = timezone.now()
    context = {
        "patient": patient,
        "upcoming": sorted((a for a in appointments if a.ends_at >= now), key=lambda a: a.starts_at),
        "past": [a for a in appointments if a.ends_at < now],
        "can_book": allowed(request.membership, Action.SCHEDULE_MANAGE),
        # Open courses, so the front desk (who cannot read the course page) can plan a series.
        "courses": list(
            TreatmentCourse.objects.filter(
                patient=patient,
                status__in=[CourseStatus.ACTIVE, CourseStatus.PLANNED],
                voided_at__isnull=True,
            )
        ),
    }
    return render(request, "scheduling/patient_appointments.html", context)


# --- The clinic's hours, closures and appointment types (clinic admin) ----------------------
def _hours_initial(rows: list[WorkingHours]) -> dict[str, Any]:
    return {
        key: value
        for r in rows
        for key, value in ((f"d{r.weekday}_from", r.starts), (f"d{r.weekday}_until", r.ends))
    }


def _save_hours(member: Membership, user_id: int | None, form: HoursForm, what: str) -> None:
    with transaction.atomic():
        rows = WorkingHours.objects.filter(clinic=member.clinic)
        (rows.filter(user__isnull=True) if user_id is None else rows.filter(user__pk=user_id)).delete()
        WorkingHours.objects.bulk_create(
            WorkingHours(clinic=member.clinic, user_id=user_id, weekday=day, starts=start, ends=end)
            for day, (start, end) in form.spans().items()
        )
        audit.record(
            user=member.user,
            clinic=member.clinic,
            action=AuditAction.UPDATE,
            category=DataCategory.CLINIC,
            detail=what,
        )


def _hours_page(
    request: StaffRequest, *, post: Any = None, closure_form: ClosureForm | None = None
) -> tuple[HoursForm, HttpResponseBase | None]:
    """The opening-hours form (bound to ``post`` if given) and, unless it is valid, the page with
    it and the closure form (a closure form with errors keeps what was typed: 400)."""
    clinic = request.clinic
    rows = list(WorkingHours.objects.filter(clinic=clinic, user__isnull=True))
    initial = (
        _hours_initial(rows)
        if rows
        else {
            key: value
            for day, spans in clinic_hours(clinic).items()
            for key, value in ((f"d{day}_from", spans[0][0]), (f"d{day}_until", spans[0][1]))
        }
    )
    form = HoursForm(post, initial=initial)
    if post is not None and form.is_valid():
        return form, None
    types = services.types_for(clinic)
    context = {
        "form": form,
        "example": not rows,
        "types": [types[k] for k in Kind.values],
        "closures": Unavailability.objects.filter(
            clinic=clinic, cancelled_at__isnull=True, ends_at__gte=timezone.now()
        ).select_related("room", "user"),
        "closure_form": closure_form or ClosureForm(clinic=clinic),
        "members": Membership.objects.filter(clinic=clinic, is_active=True).select_related("user"),
    }
    invalid = form.errors or (closure_form is not None and closure_form.errors)
    return form, render(request, "scheduling/hours.html", context, status=400 if invalid else 200)


@staff_view(Action.CLINIC_CONFIGURE)
@require_http_methods(["GET", "POST"])
def hours(request: StaffRequest) -> HttpResponseBase:
    form, page = _hours_page(request, post=request.POST if request.method == "POST" else None)
    if page is not None:
        return page
    _save_hours(request.membership, None, form, "clinic opening hours")
    messages.success(request, _("Opening hours saved."))
    return redirect("scheduling:hours", clinic=request.clinic.slug)


@staff_view(Action.CLINIC_CONFIGURE)
@require_http_methods(["GET", "POST"])
def staff_hours(request: StaffRequest, membership_id: int) -> HttpResponseBase:
    member = Membership.objects.filter(clinic=request.clinic, pk=membership_id).select_related("user").first()
    if member is None:
        from django.http import Http404

        raise Http404("No such staff member.")
    rows = list(WorkingHours.objects.filter(clinic=request.clinic, user=member.user))
    form = HoursForm(request.POST if request.method == "POST" else None, initial=_hours_initial(rows))
    if request.method == "POST" and form.is_valid():
        _save_hours(request.membership, member.user_id, form, f"working hours of {member.user.email}")
        messages.success(request, _("Working hours saved."))
        return redirect("scheduling:hours", clinic=request.clinic.slug)
    context = {"form": form, "staff_member": member, "has_own": bool(rows)}
    return render(request, "scheduling/staff_hours.html", context, status=400 if form.errors else 200)


@staff_view(Action.CLINIC_CONFIGURE)
@require_http_methods(["GET", "POST"])
def appointment_type(request: StaffRequest, kind: str) -> HttpResponseBase:
    types = services.types_for(request.clinic)
    if kind not in types:
        from django.http import Http404

        raise Http404("No such kind of appointment.")
    form = AppointmentTypeForm(request.POST if request.method == "POST" else None, instance=types[kind])
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            audit.record(
                user=request.user,
                clinic=request.clinic,
                action=AuditAction.UPDATE,
                category=DataCategory.CLINIC,
                detail=f"appointment type {kind}",
            )
        messages.success(request, _("Saved."))
        return redirect("scheduling:hours", clinic=request.clinic.slug)
    context = {"form": form, "type": types[kind], "is_dosing": kind == Kind.DOSING}
    return render(request, "scheduling/type_form.html", context, status=400 if form.errors else 200)


@staff_view(Action.CLINIC_CONFIGURE)
def closure_add(request: StaffRequest) -> HttpResponseBase:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ClosureForm(request.POST, clinic=request.clinic)
    if not form.is_valid():
        _hours, page = _hours_page(request, closure_form=form)
        assert page is not None
        return page
    data = form.cleaned_data
    user_id = data["user"]
    if (
        user_id is not None
        and not Membership.objects.filter(clinic=request.clinic, user__pk=user_id).exists()
    ):
        raise ApplicationError(_("Choose a member of this clinic's staff."))
    with transaction.atomic():
        Unavailability.objects.create(
            clinic=request.clinic,
            room=data["room"],
            user_id=user_id,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            reason=data["reason"],
            created_by=request.user,
        )
        audit.record(
            user=request.user,
            clinic=request.clinic,
            action=AuditAction.CREATE,
            category=DataCategory.CLINIC,
            detail=f"closure or absence: {data['reason'][:100]}",
        )
    messages.success(
        request, _("Saved. Appointments already booked in that time are not moved; check the calendar.")
    )
    return redirect("scheduling:hours", clinic=request.clinic.slug)


@staff_view(Action.CLINIC_CONFIGURE)
def closure_cancel(request: StaffRequest, closure_id: str) -> HttpResponseBase:
    closure = Unavailability.objects.filter(clinic=request.clinic, public_id=closure_id).first()
    if closure is None:
        from django.http import Http404

        raise Http404("No such closure.")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    with transaction.atomic():
        Unavailability.objects.filter(pk=closure.pk).update(cancelled_at=timezone.now())
        audit.record(
            user=request.user,
            clinic=request.clinic,
            action=AuditAction.UPDATE,
            category=DataCategory.CLINIC,
            detail="closure or absence removed",
        )
    messages.success(request, _("Removed."))
    return redirect("scheduling:hours", clinic=request.clinic.slug)


# --- The series planner ---------------------------------------------------------------------
def _plan_rows(post: Any) -> tuple[list[tuple[str, datetime]], list[dict[str, Any]], list[str]]:
    """The proposed rows as posted: (kind, start) of the ticked ones, every row as typed, problems."""
    items: list[tuple[str, datetime]] = []
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        count = min(int(post.get("rows", "0")), 200)
    except ValueError:
        count = 0
    for n in range(count):
        row = {
            "n": n,
            "kind": post.get(f"row-{n}-kind", ""),
            "label": post.get(f"row-{n}-label", ""),
            "day": post.get(f"row-{n}-day", ""),
            "time": post.get(f"row-{n}-time", ""),
            "include": post.get(f"row-{n}-include") == "on",
        }
        rows.append(row)
        if not row["include"]:
            continue
        if row["kind"] not in Kind.values:
            problems.append(_("Row %(n)s: unknown kind of appointment.") % {"n": n + 1})
            continue
        try:
            day = date.fromisoformat(row["day"])
            at = time.fromisoformat(row["time"])
        except ValueError:
            at = None
        if at is None or at.tzinfo is not None:  # a time with its own zone ("10:00+05:00") too
            problems.append(_("Row %(n)s: give a date and a time (HH:MM).") % {"n": n + 1})
            continue
        if not in_range(day):
            problems.append(_("Row %(n)s: choose a date between 2000 and 2999.") % {"n": n + 1})
            continue
        items.append((row["kind"], timezone.make_aware(datetime.combine(day, at))))
    return items, rows, problems


@staff_view(Action.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def plan(request: StaffRequest, course_id: str) -> HttpResponseBase:
    course = access_course(member=request.membership, course_id=course_id, action=Action.DEMOGRAPHICS_VIEW)
    audit.record(
        user=request.user,
        clinic=request.clinic,
        patient=course.patient,
        action=AuditAction.VIEW,
        category=DataCategory.SCHEDULE,
        detail=f"series planner of course {course.public_id}",
    )
    therapists, medical = list(course.therapists.all()), list(course.medical_staff.all())
    bound = request.POST if request.method == "POST" else None
    form = PlanForm(
        bound,
        clinic=request.clinic,
        therapists=therapists,
        medical=medical,
        initial={"start_day": timezone.localdate() + timedelta(days=1)},
    )
    prep, dosing = planning.remaining(course)
    context: dict[str, Any] = {
        "course": course,
        "patient": course.patient,
        "form": form,
        "prep": prep,
        "dosing": dosing,
    }
    if request.method == "GET" or not form.is_valid():
        return render(request, "scheduling/plan.html", context, status=400 if form.errors else 200)
    data = form.cleaned_data
    choice = {
        "room_id": data["room"].pk if data["room"] else None,
        "therapist_id": data["therapist"],
        "medical_id": data["medical"],
    }
    if request.POST.get("action") == "confirm":
        items, rows, problems = _plan_rows(request.POST)
        context["rows"] = rows
        if problems:
            context["problems"] = problems
            return render(request, "scheduling/plan.html", context, status=400)
        try:
            booked = planning.confirm(member=request.membership, course=course, items=items, **choice)
        except services.SchedulingConflict as exc:
            context["conflicts"] = exc.conflicts
            return render(request, "scheduling/plan.html", context, status=409)
        except ApplicationError as exc:
            context["problems"] = [exc.message]
            return render(request, "scheduling/plan.html", context, status=exc.status)
        messages.success(request, _("%(n)s appointments booked.") % {"n": len(booked)})
        return redirect("scheduling:patient", clinic=request.clinic.slug, patient_id=course.patient.public_id)
    try:
        placed = planning.propose(
            member=request.membership, course=course, start_day=data["start_day"], **choice
        )
    except ApplicationError as exc:
        context["problems"] = [exc.message]
        return render(request, "scheduling/plan.html", context, status=exc.status)
    context["rows"] = [
        {
            "n": n,
            "kind": p.kind,
            "label": f"{Kind(p.kind).label} {p.number}",
            "day": timezone.localtime(p.start).strftime("%Y-%m-%d"),
            "time": timezone.localtime(p.start).strftime("%H:%M"),
            "late": p.late,
            "include": True,
        }
        for n, p in enumerate(placed)
    ]
    return render(request, "scheduling/plan.html", context)
