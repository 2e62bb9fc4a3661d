"""Writes of scheduling: booking (conflict-checked under row locks), moving, cancelling,
no-shows, check-in (a dosing appointment opens its dosing session), the patient's own
cancellations and change requests, and the appointment types' defaults.

Booking locks the room, the attendees and the patient before it checks for conflicts, so two
people booking the last slot at the same moment cannot both succeed: the second is told the
slot was just taken.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership, User
from kapflow.clinics.models import Clinic, Room
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.errors import ApplicationError, Conflict
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.courses.models import CourseStatus, TreatmentCourse
from kapflow.patients.models import Patient
from kapflow.scheduling import conflicts, facts
from kapflow.scheduling.models import (
    Appointment,
    AppointmentStaff,
    AppointmentType,
    Kind,
    Status,
)

# Example lengths and attendance, labelled for the clinic admin to change.
EXAMPLE_TYPES: dict[str, dict[str, object]] = {
    Kind.SCREENING: {"duration_minutes": 60, "needs_medical": True, "needs_therapist": False},
    Kind.PREPARATION: {"duration_minutes": 60, "needs_therapist": True, "needs_medical": False},
    Kind.DOSING: {"duration_minutes": 150, "needs_therapist": True, "needs_medical": True},
    Kind.INTEGRATION: {"duration_minutes": 60, "needs_therapist": True, "needs_medical": False},
    Kind.FOLLOW_UP: {"duration_minutes": 30, "needs_therapist": False, "needs_medical": False},
}
EXAMPLE_INSTRUCTIONS: dict[str, str] = {
    Kind.DOSING: (
        "Do not eat for 4 hours or drink for 1 hour before your session (your clinic's protocol may "
        "differ; follow what they told you). Arrange for someone to take you home: you must not drive "
        "until the next day. Wear comfortable clothes."
    ),
    Kind.SCREENING: "Bring a list of your medicines and any recent test results.",
}


class SchedulingConflict(Conflict):
    """The appointment clashes: carries every conflict, each in plain words."""

    def __init__(self, found: list[conflicts.Conflict], *, just_taken: bool = False) -> None:
        lead = (
            _("The slot was just taken by another booking. ")
            if just_taken
            else _("The appointment cannot be booked: ")
        )
        super().__init__(lead + " ".join(c.message for c in found))
        self.conflicts = found


def types_for(clinic: Clinic) -> dict[str, AppointmentType]:
    """The clinic's appointment types, created from the examples the first time."""
    existing = {t.kind: t for t in AppointmentType.objects.filter(clinic=clinic)}
    for kind, values in EXAMPLE_TYPES.items():
        if kind not in existing:
            existing[kind], _created = AppointmentType.objects.get_or_create(
                clinic=clinic,
                kind=kind,
                defaults={**values, "instructions": EXAMPLE_INSTRUCTIONS.get(kind, "")},
            )
    return existing


def dosing_minutes(clinic: Clinic, route: str) -> int:
    """Set-up before the dose + the protocol's minimum observation + room turnover."""
    from kapflow.dosing.protocols import current, parsed

    protocol = parsed(current(clinic, route))
    return clinic.dosing_setup_minutes + protocol.min_observation_minutes + clinic.turnover_minutes


@dataclass(frozen=True)
class Request:
    """What the booking form (or the series planner) asks for."""

    patient: Patient
    kind: str
    starts_at: datetime
    room_id: int | None
    staff_ids: tuple[int, ...]
    course: TreatmentCourse | None = None
    ends_at: datetime | None = None  # default: the type's length


def _course_for(request: Request) -> TreatmentCourse | None:
    if request.course is not None:
        return request.course
    if request.kind in (Kind.DOSING, Kind.PREPARATION, Kind.INTEGRATION):
        return (
            TreatmentCourse.objects.filter(patient=request.patient, voided_at__isnull=True)
            .filter(status__in=[CourseStatus.ACTIVE, CourseStatus.PLANNED])
            .order_by("-status", "-starts_on")
            .first()
        )
    return None


def _preparation_booked(patient: Patient, *, before: datetime, extra: tuple[conflicts.Booking, ...]) -> int:
    """Preparation appointments booked from now until ``before`` (and those being planned)."""
    booked = Appointment.objects.filter(
        patient=patient,
        kind=Kind.PREPARATION,
        status__in=[Status.BOOKED, Status.CHECKED_IN],
        starts_at__gte=timezone.now(),
        starts_at__lt=before,
        voided_at__isnull=True,
    ).count()
    return booked + sum(1 for b in extra if b.kind == Kind.PREPARATION and b.start < before)


def _room(clinic: Clinic, room_id: int | None) -> Room | None:
    if room_id is None:
        return None
    room = Room.objects.filter(clinic=clinic, pk=room_id, is_active=True).first()
    if room is None:
        raise ApplicationError(_("Choose one of this clinic's rooms in use."))
    return room


def evaluate(
    clinic: Clinic,
    request: Request,
    *,
    exclude_ids: tuple[int, ...] = (),
    extra: tuple[conflicts.Booking, ...] = (),
) -> tuple[conflicts.Proposal, list[conflicts.Conflict], TreatmentCourse | None]:
    """The proposal built from the request and every conflict it has (nothing is written)."""
    if request.kind not in Kind.values:
        raise ApplicationError(_("Choose the kind of appointment."))
    if request.patient.clinic_id != clinic.pk:
        raise ApplicationError(_("That patient belongs to another clinic."))
    room = _room(clinic, request.room_id)
    staff = facts.attendees(clinic, list(request.staff_ids))
    if len(staff) != len(set(request.staff_ids)):
        raise ApplicationError(_("Each attendee must be an active member of this clinic's staff."))
    kind_type = types_for(clinic)[request.kind]
    course = _course_for(request)
    gate_blockers: tuple[str, ...] = ()
    min_interval, max_per_week = timedelta(0), None
    if request.kind == Kind.DOSING:
        if course is None:
            raise ApplicationError(
                _("A dosing session is booked in the patient's treatment course; plan one first.")
            )
        from kapflow.dosing.protocols import current, parsed
        from kapflow.screening.gate import check
        from kapflow.screening.selectors import gate_facts

        protocol = parsed(current(clinic, course.route))
        minutes = dosing_minutes(clinic, course.route)
        # The gate as it will stand on the day: an eligibility decision may expire before then, and
        # preparation visits booked before the session count as they will have been held.
        day = timezone.localdate(request.starts_at, clinic.tzinfo)  # the clinic's day, whoever asks
        gate = gate_facts(request.patient, on=day, route=course.route)
        if gate.preparation_done is not None:
            planned = _preparation_booked(request.patient, before=request.starts_at, extra=extra)
            gate = replace(gate, preparation_done=gate.preparation_done + planned)
        result = check(gate)
        gate_blockers = tuple(b.message for b in result.blockers)
        min_interval = timedelta(hours=protocol.min_interval_hours)
        max_per_week = protocol.max_per_week
    else:
        minutes = kind_type.duration_minutes
    # Elapsed minutes, not wall-clock ones: right through a daylight-saving change.
    ends_at = request.ends_at or request.starts_at.astimezone(UTC) + timedelta(minutes=minutes)
    proposal = conflicts.Proposal(
        start=request.starts_at,
        end=ends_at,
        patient_id=request.patient.pk,
        room_id=room.pk if room else None,
        staff=staff,
        needs_therapist=kind_type.needs_therapist,
        needs_medical=kind_type.needs_medical,
        is_dosing=request.kind == Kind.DOSING,
        room_name=room.name if room else "",
    )
    gathered = facts.gather(
        clinic=clinic,
        patient=request.patient,
        start=request.starts_at,
        end=ends_at,
        room_id=proposal.room_id,
        staff_ids=[a.user_id for a in staff],
        exclude_ids=exclude_ids,
        gate_blockers=gate_blockers,
        min_interval=min_interval,
        max_per_week=max_per_week,
        extra=extra,
    )
    return proposal, conflicts.check(proposal, gathered), course


def _lock(clinic: Clinic, request: Request) -> None:
    """Lock what the booking depends on, always in the same order (room, people, patient)."""
    if request.room_id is not None:
        list(Room.objects.select_for_update().filter(clinic=clinic, pk=request.room_id))
    user_model = get_user_model()
    list(user_model.objects.select_for_update().filter(pk__in=sorted(request.staff_ids)).order_by("pk"))
    list(Patient.objects.select_for_update().filter(pk=request.patient.pk))


def _audit(member: Membership, appointment: Appointment, action: AuditAction, detail: str) -> None:
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=appointment.patient,
        action=action,
        category=DataCategory.SCHEDULE,
        detail=detail,
    )


def appointment_book(*, member: Membership, request: Request) -> Appointment:
    """Book after checking every conflict under locks; refused with all of them named."""
    require(member, Action.SCHEDULE_MANAGE)
    clinic = member.clinic
    _proposal, found, _course = evaluate(clinic, request)
    if found:
        raise SchedulingConflict(found)
    with transaction.atomic():
        _lock(clinic, request)
        proposal, found, course = evaluate(clinic, request)  # again, now that nobody else can book
        if found:
            raise SchedulingConflict(found, just_taken=True)
        appointment = Appointment.objects.create(
            clinic=clinic,
            patient=request.patient,
            course=course,
            kind=request.kind,
            route=course.route if course is not None and request.kind == Kind.DOSING else "",
            starts_at=proposal.start,
            ends_at=proposal.end,
            room_id=proposal.room_id,
            created_by=member.user,
            updated_by=member.user,
        )
        AppointmentStaff.objects.bulk_create(
            AppointmentStaff(appointment=appointment, user_id=a.user_id, role=a.role) for a in proposal.staff
        )
        _audit(
            member,
            appointment,
            AuditAction.CREATE,
            f"booked {request.kind} appointment {appointment.public_id}",
        )
        _after_commit_reminders(appointment)
    return appointment


def _after_commit_reminders(appointment: Appointment) -> None:
    from kapflow.scheduling.reminders import schedule_reminders

    transaction.on_commit(lambda: schedule_reminders(appointment))


def _locked(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_for_update().get(pk=appointment.pk)


def _bump(row: Appointment, user: User, *fields: str) -> None:
    row.version += 1
    row.updated_by = user
    row.save(update_fields=[*fields, "version", "updated_by", "updated_at"])


def appointment_move(*, member: Membership, appointment: Appointment, request: Request) -> Appointment:
    """Move to a new time, room or attendees: the same checks as a booking, itself excluded."""
    require(member, Action.SCHEDULE_MANAGE)
    if appointment.status != Status.BOOKED:
        raise ApplicationError(_("Only a booked appointment can be moved."))
    with transaction.atomic():
        _lock(member.clinic, request)
        row = _locked(appointment)
        if row.status != Status.BOOKED:  # cancelled or checked in since the page was loaded
            raise ApplicationError(_("Only a booked appointment can be moved."))
        proposal, found, _course = evaluate(member.clinic, request, exclude_ids=(row.pk,))
        if found:
            raise SchedulingConflict(found)
        row.starts_at, row.ends_at, row.room_id = proposal.start, proposal.end, proposal.room_id
        _bump(row, member.user, "starts_at", "ends_at", "room")
        row.staff.all().delete()
        AppointmentStaff.objects.bulk_create(
            AppointmentStaff(appointment=row, user_id=a.user_id, role=a.role) for a in proposal.staff
        )
        _audit(member, row, AuditAction.UPDATE, f"moved appointment {row.public_id}")
        _after_commit_reminders(row)
    return row


def appointment_cancel(
    *, member: Membership, appointment: Appointment, reason: str, base_version: int | None = None
) -> Appointment:
    """Cancel a booked appointment; with ``base_version`` (the API's If-Match), only if it has
    not changed since the caller read it."""
    require(member, Action.SCHEDULE_MANAGE)
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("Say why the appointment is cancelled."))
    with transaction.atomic():
        row = _locked(appointment)
        if base_version is not None and row.version != base_version:
            raise Conflict(_("The appointment changed since you read it (moved or updated); read it again."))
        if row.status != Status.BOOKED:
            raise ApplicationError(_("Only a booked appointment can be cancelled."))
        row.status, row.cancel_reason = Status.CANCELLED, reason[:300]
        _bump(row, member.user, "status", "cancel_reason")
        _audit(member, row, AuditAction.UPDATE, f"cancelled appointment {row.public_id}")
    return row


def appointment_no_show(*, member: Membership, appointment: Appointment) -> Appointment:
    require(member, Action.SCHEDULE_MANAGE)
    with transaction.atomic():
        row = _locked(appointment)
        if row.status != Status.BOOKED:
            raise ApplicationError(_("Only a booked appointment can be marked as a no-show."))
        if row.starts_at > timezone.now():
            raise ApplicationError(_("An appointment is a no-show only once its time has come."))
        row.status = Status.NO_SHOW
        _bump(row, member.user, "status")
        _audit(member, row, AuditAction.UPDATE, f"no-show for appointment {row.public_id}")
    return row


def appointment_check_in(*, member: Membership, appointment: Appointment) -> Appointment:
    """The patient has arrived. For a dosing appointment, a prescriber or nurse on the care team
    checking in also opens the dosing session (in the appointment's room)."""
    require(member, Action.SCHEDULE_MANAGE)
    from kapflow.core.access import allowed

    with transaction.atomic():
        row = _locked(appointment)
        if row.status not in (Status.BOOKED, Status.CHECKED_IN):
            raise ApplicationError(_("This appointment is %(s)s.") % {"s": row.get_status_display().lower()})
        zone = member.clinic.tzinfo
        if timezone.localdate(row.starts_at, zone) != timezone.localdate(timezone.now(), zone):
            raise ApplicationError(_("Patients are checked in on the day of their appointment."))
        opens_session = (
            row.kind == Kind.DOSING
            and row.dosing_session_id is None
            and row.course is not None
            and allowed(member, Action.DOSING_MEDICAL, row.patient)
        )
        if opens_session:
            from kapflow.dosing.services import session_check_in

            assert row.course is not None
            row.dosing_session = session_check_in(member=member, course=row.course, room_id=row.room_id)
        row.status = Status.CHECKED_IN
        _bump(row, member.user, "status", "dosing_session")
        _audit(member, row, AuditAction.UPDATE, f"checked in for appointment {row.public_id}")
    return row


def appointment_complete(*, member: Membership, appointment: Appointment) -> Appointment:
    require(member, Action.SCHEDULE_MANAGE)
    with transaction.atomic():
        row = _locked(appointment)
        if row.status != Status.CHECKED_IN:
            raise ApplicationError(_("Check the patient in first."))
        row.status = Status.COMPLETED
        _bump(row, member.user, "status")
        _audit(member, row, AuditAction.UPDATE, f"completed appointment {row.public_id}")
    return row


def _notice_passed(appointment: Appointment) -> bool:
    hours = appointment.clinic.appointment_notice_hours
    return appointment.starts_at - timezone.now() < timedelta(hours=hours)


def portal_cancel(*, user: User, patient: Patient, appointment: Appointment, reason: str) -> Appointment:
    """The patient cancels their own appointment, within the clinic's notice period."""
    if appointment.patient_id != patient.pk:
        raise ApplicationError(_("That is not one of your appointments."))
    with transaction.atomic():
        row = _locked(appointment)
        if row.status != Status.BOOKED:
            raise ApplicationError(_("This appointment can no longer be cancelled here."))
        if _notice_passed(row):
            raise ApplicationError(
                _("Less than %(h)s hours remain; please call the clinic to cancel.")
                % {"h": row.clinic.appointment_notice_hours}
            )
        row.status, row.cancel_reason = (
            Status.CANCELLED,
            (reason.strip() or _("cancelled by the patient"))[:300],
        )
        _bump(row, user, "status", "cancel_reason")
        audit.record(
            user=user,
            clinic=row.clinic,
            patient=patient,
            action=AuditAction.UPDATE,
            category=DataCategory.PORTAL,
            detail=f"patient cancelled appointment {row.public_id}",
        )
    return row


def portal_request_change(
    *, user: User, patient: Patient, appointment: Appointment, text: str
) -> Appointment:
    """The patient asks for another time; the front desk sees the request on the appointment."""
    if appointment.patient_id != patient.pk:
        raise ApplicationError(_("That is not one of your appointments."))
    text = text.strip()
    if not text or len(text) > 1000:
        raise ApplicationError(_("Say which times suit you (at most 1,000 characters)."))
    with transaction.atomic():
        row = _locked(appointment)
        if row.status != Status.BOOKED:
            raise ApplicationError(_("This appointment can no longer be changed here."))
        if _notice_passed(row):
            raise ApplicationError(
                _("Less than %(h)s hours remain; please call the clinic.")
                % {"h": row.clinic.appointment_notice_hours}
            )
        row.change_request, row.change_requested_at = text, timezone.now()
        _bump(row, user, "change_request", "change_requested_at")
        audit.record(
            user=user,
            clinic=row.clinic,
            patient=patient,
            action=AuditAction.UPDATE,
            category=DataCategory.PORTAL,
            detail=f"patient asked to change appointment {row.public_id}",
        )
    return row
