"""The series planner's Django side: the course's remaining plan, free slots found with the
same conflict check as a booking, and confirming the whole series in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership
from kapflow.core.access import require
from kapflow.core.errors import ApplicationError
from kapflow.core.permissions import Action
from kapflow.courses.models import TreatmentCourse
from kapflow.dosing.models import DosingSession, SessionStatus
from kapflow.scheduling import conflicts, planner, services
from kapflow.scheduling.facts import attendees, clinic_hours
from kapflow.scheduling.models import ACTIVE_STATUSES, Appointment, Kind

SLOT = timedelta(minutes=30)


def remaining(course: TreatmentCourse) -> tuple[int, int]:
    """(preparation visits, dosing sessions) still to book for the course."""
    from kapflow.screening.selectors import preparation_done

    booked = Appointment.objects.filter(course=course, status__in=ACTIVE_STATUSES, voided_at__isnull=True)
    upcoming = booked.filter(starts_at__gte=timezone.now())
    prep = course.clinic.preparation_visits_required - (preparation_done(course.patient) or 0)
    prep -= upcoming.filter(kind=Kind.PREPARATION).count()
    held = DosingSession.objects.filter(course=course, status=SessionStatus.DISCHARGED).count()
    dosing = course.planned_dosing_sessions - held - upcoming.filter(kind=Kind.DOSING).count()
    return max(prep, 0), max(dosing, 0)


def _staff_for(kind: str, therapist_id: int | None, medical_id: int | None) -> tuple[int, ...]:
    ids = [therapist_id] if kind in (Kind.PREPARATION, Kind.INTEGRATION) else [therapist_id, medical_id]
    return tuple(i for i in ids if i is not None)


def propose(
    *,
    member: Membership,
    course: TreatmentCourse,
    start_day: date,
    room_id: int | None,
    therapist_id: int | None,
    medical_id: int | None,
) -> list[planner.Placed]:
    """Free slots for the rest of the course, in order; nothing is written."""
    require(member, Action.SCHEDULE_MANAGE)
    from kapflow.dosing.protocols import current, parsed

    clinic = course.clinic
    zone = ZoneInfo(clinic.time_zone)
    protocol = parsed(current(clinic, course.route))
    prep, dosing = remaining(course)
    if prep == 0 and dosing == 0:
        raise ApplicationError(
            _("Every preparation visit and dosing session of this course is already booked or held.")
        )
    start = max(timezone.now() + timedelta(hours=1), datetime.combine(start_day, time(0, 0), zone))
    plan = planner.Plan(
        preparation_needed=prep,
        dosing_sessions=dosing,
        integration_due_days=clinic.integration_due_days,
        min_interval=timedelta(hours=protocol.min_interval_hours),
        max_per_week=protocol.max_per_week,
        start=start,
        zone=zone,
    )
    hours = clinic_hours(clinic)
    placed: list[conflicts.Booking] = []
    types = services.types_for(clinic)

    def length(kind: str) -> timedelta:
        if kind == Kind.DOSING:
            return timedelta(minutes=services.dosing_minutes(clinic, course.route))
        return timedelta(minutes=types[kind].duration_minutes)

    def is_free(kind: str, start: datetime, end: datetime) -> bool:
        request = services.Request(
            patient=course.patient,
            kind=kind,
            starts_at=start,
            room_id=room_id if kind == Kind.DOSING else None,
            staff_ids=_staff_for(kind, therapist_id, medical_id),
            course=course,
            ends_at=end,
        )
        _proposal, found, _course = services.evaluate(clinic, request, extra=tuple(placed))
        # The gate may open later (preparation visits still to come): only the times matter here.
        found = [c for c in found if c.problem != conflicts.Problem.GATE]
        if found:
            return False
        placed.append(
            conflicts.Booking(
                start=start,
                end=end,
                room_id=request.room_id,
                staff_ids=frozenset(request.staff_ids),
                patient_id=course.patient_id,
                is_dosing=kind == Kind.DOSING,
                kind=kind,
            )
        )
        return True

    def slot_starts(day: date) -> Iterable[datetime]:
        for opens, closes in hours.get(day.weekday(), ()):
            at = datetime.combine(day, opens, zone)
            end = datetime.combine(day, closes, zone)
            while at < end:
                yield at
                at += SLOT

    try:
        return planner.place(plan, length, is_free, slot_starts)
    except planner.PlanningError as exc:
        raise ApplicationError(str(exc)) from None


def confirm(
    *,
    member: Membership,
    course: TreatmentCourse,
    items: list[tuple[str, datetime]],
    room_id: int | None,
    therapist_id: int | None,
    medical_id: int | None,
) -> list[Appointment]:
    """Book every item or none: one conflict anywhere refuses the whole series, named."""
    require(member, Action.SCHEDULE_MANAGE)
    if not items:
        raise ApplicationError(_("Choose at least one appointment to book."))
    staff = attendees(course.clinic, [i for i in (therapist_id, medical_id) if i is not None])
    if len(staff) != len([i for i in (therapist_id, medical_id) if i is not None]):
        raise ApplicationError(_("Each attendee must be an active member of this clinic's staff."))
    booked = []
    with transaction.atomic():
        for kind, starts_at in sorted(items, key=lambda item: item[1]):
            request = services.Request(
                patient=course.patient,
                kind=kind,
                starts_at=starts_at,
                room_id=room_id if kind == Kind.DOSING else None,
                staff_ids=_staff_for(kind, therapist_id, medical_id),
                course=course,
            )
            try:
                booked.append(services.appointment_book(member=member, request=request))
            except services.SchedulingConflict as exc:
                local = timezone.localtime(starts_at).strftime("%a %d %b %H:%M")
                raise services.SchedulingConflict(
                    [conflicts.Conflict(c.problem, f"{local}: {c.message}") for c in exc.conflicts]
                ) from None
    return booked
