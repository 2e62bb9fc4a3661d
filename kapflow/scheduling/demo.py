"""Demo scheduling: today's dosing appointment of the session in progress, and the coming
week: further dosing sessions of the demo courses (each followed by its integration visit),
preparation and follow-up visits, spread over the dosing rooms and the consultation room.

Idempotent: nothing is added when the demo already has appointments ahead. Everything but
today's appointment goes through the booking service, so the demo obeys the conflict rules.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic, Room
from kapflow.courses.models import CourseStatus, TreatmentCourse
from kapflow.dosing.models import DosingSession, SessionStatus
from kapflow.patients.models import Patient
from kapflow.scheduling import services
from kapflow.scheduling.models import Appointment, AppointmentStaff, Kind, Status


def _working_days(start: date, count: int) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def load(*, desk: Membership, therapist: Membership, prescriber: Membership, nurse: Membership) -> None:
    clinic = desk.clinic
    zone = ZoneInfo(clinic.time_zone)
    if Appointment.objects.filter(clinic=clinic, starts_at__gte=timezone.now()).exists():
        return
    rooms = {r.name: r for r in Room.objects.filter(clinic=clinic)}
    _today_in_session(clinic, therapist, nurse, rooms.get("Dosing room 1"))
    days = _working_days(timezone.localdate(timezone.now(), zone) + timedelta(days=1), 5)

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), zone)

    def book(
        patient: Patient, kind: str, start: datetime, staff: list[Membership], room: Room | None
    ) -> None:
        request = services.Request(
            patient=patient,
            kind=kind,
            starts_at=start,
            room_id=room.pk if room else None,
            staff_ids=tuple(m.user_id for m in staff),
        )
        services.appointment_book(member=desk, request=request)

    patients = {p.record_number: p for p in Patient.objects.filter(clinic=clinic)}
    dosing_rooms = [rooms.get("Dosing room 1"), rooms.get("Dosing room 2")]
    consult = rooms.get("Consultation room")
    # Each demo course with a held session: its next dosing session, the integration visit after it.
    order = ["DEMO-0004", "DEMO-0005", "DEMO-0006", "DEMO-0007", "DEMO-0008"]
    for n, record in enumerate(order):
        patient = patients.get(record)
        course = _active_course(patient)
        if patient is None or course is None:
            continue
        day = days[n % len(days)]
        medical = nurse if n % 2 == 0 else prescriber
        book(
            patient,
            Kind.DOSING,
            at(day, 9 if n % 2 == 0 else 12, 30),
            [therapist, medical],
            dosing_rooms[n % 2],
        )
        book(
            patient, Kind.INTEGRATION, at(days[min(n + 1, len(days) - 1)], 16 + (n % 2)), [therapist], consult
        )
    jordan = patients.get("DEMO-0001")
    if jordan is not None:
        book(jordan, Kind.INTEGRATION, at(days[0], 14), [therapist], consult)
    maggie, marcus = patients.get("DEMO-0002"), patients.get("DEMO-0003")
    if maggie is not None:
        book(maggie, Kind.SCREENING, at(days[1], 10), [prescriber], consult)
    if marcus is not None:
        book(marcus, Kind.FOLLOW_UP, at(days[2], 11), [prescriber], consult)


def _active_course(patient: Patient | None) -> TreatmentCourse | None:
    if patient is None:
        return None
    return TreatmentCourse.objects.filter(patient=patient, status=CourseStatus.ACTIVE).first()


def _today_in_session(clinic: Clinic, therapist: Membership, nurse: Membership, room: Room | None) -> None:
    """The appointment of the session in progress: checked in, linked to the session."""
    session = (
        DosingSession.objects.filter(clinic=clinic, status=SessionStatus.IN_SESSION, appointment__isnull=True)
        .select_related("course")
        .first()
    )
    if session is None:
        return
    start = session.checked_in_at.replace(second=0, microsecond=0)
    length = services.dosing_minutes(session.clinic, session.route)
    appointment = Appointment.objects.create(
        clinic=session.clinic,
        patient=session.patient,
        course=session.course,
        kind=Kind.DOSING,
        route=session.route,
        starts_at=start,
        ends_at=start + timedelta(minutes=length),
        room=room or session.room,
        status=Status.CHECKED_IN,
        dosing_session=session,
        created_by=nurse.user,
        updated_by=nurse.user,
    )
    AppointmentStaff.objects.bulk_create(
        [
            AppointmentStaff(appointment=appointment, user=therapist.user, role="therapist"),
            AppointmentStaff(appointment=appointment, user=nurse.user, role="medical"),
        ]
    )
