"""Gathering the facts the pure conflict check needs, from the database."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic
from kapflow.core.roles import MEDICAL_ROLES, Role
from kapflow.patients.models import Patient
from kapflow.scheduling import conflicts
from kapflow.scheduling.models import ACTIVE_STATUSES, Appointment, Kind, Unavailability, WorkingHours

# The shipped example opening hours, until the clinic admin sets its own.
EXAMPLE_HOURS = {day: ((time(8, 0), time(18, 0)),) for day in range(5)}
LOOK_AROUND = timedelta(days=8)  # bookings this far either side matter (spacing and weekly maximum)


def role_of(membership: Membership) -> str:
    if membership.role == Role.THERAPIST:
        return conflicts.THERAPIST
    if membership.role in MEDICAL_ROLES:
        return conflicts.MEDICAL
    return "other"


def attendees(clinic: Clinic, user_ids: list[int]) -> tuple[conflicts.Attendee, ...]:
    """The chosen staff, each an active member of the clinic (others are dropped by the caller's check)."""
    members = Membership.objects.filter(clinic=clinic, user_id__in=user_ids, is_active=True).select_related(
        "user"
    )
    return tuple(
        conflicts.Attendee(m.user_id, role_of(m), m.user.full_name or m.user.email)
        for m in sorted(members, key=lambda m: m.user_id)
    )


def clinic_hours(clinic: Clinic) -> dict[int, list[tuple[time, time]]]:
    rows = WorkingHours.objects.filter(clinic=clinic, user__isnull=True)
    if not rows.exists():
        return {day: list(spans) for day, spans in EXAMPLE_HOURS.items()}
    hours: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for row in rows:
        hours[row.weekday].append((row.starts, row.ends))
    return dict(hours)


def staff_hours(clinic: Clinic, user_ids: list[int]) -> dict[int, dict[int, list[tuple[time, time]]]]:
    found: dict[int, dict[int, list[tuple[time, time]]]] = defaultdict(lambda: defaultdict(list))
    for row in WorkingHours.objects.filter(clinic=clinic, user_id__in=user_ids):
        assert row.user_id is not None
        found[row.user_id][row.weekday].append((row.starts, row.ends))
    return {user: dict(days) for user, days in found.items()}


def gather(
    *,
    clinic: Clinic,
    patient: Patient,
    start: datetime,
    end: datetime,
    room_id: int | None,
    staff_ids: list[int],
    exclude_ids: tuple[int, ...] = (),
    gate_blockers: tuple[str, ...] = (),
    min_interval: timedelta = timedelta(0),
    max_per_week: int | None = None,
    extra: tuple[conflicts.Booking, ...] = (),
) -> conflicts.Facts:
    window = Q(starts_at__lt=end + LOOK_AROUND, ends_at__gt=start - LOOK_AROUND)
    involved = Q(patient=patient) | Q(staff__user_id__in=staff_ids)
    if room_id is not None:
        involved |= Q(room_id=room_id)
    rows = (
        Appointment.objects.filter(
            window, involved, clinic=clinic, status__in=ACTIVE_STATUSES, voided_at__isnull=True
        )
        .exclude(pk__in=exclude_ids)
        .prefetch_related("staff")
        .distinct()
    )
    bookings = tuple(
        conflicts.Booking(
            start=a.starts_at,
            end=a.ends_at,
            room_id=a.room_id,
            staff_ids=frozenset(s.user_id for s in a.staff.all()),
            patient_id=a.patient_id,
            is_dosing=a.kind == Kind.DOSING,
            kind=a.kind,
        )
        for a in rows
    )
    blocks = Unavailability.objects.filter(
        clinic=clinic, cancelled_at__isnull=True, starts_at__lt=end, ends_at__gt=start
    )
    closures = tuple(
        (b.starts_at, b.ends_at, b.reason) for b in blocks if b.room_id is None and b.user_id is None
    )
    room_blocks: dict[int, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    staff_blocks: dict[int, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for b in blocks:
        if b.room_id is not None:
            room_blocks[b.room_id].append((b.starts_at, b.ends_at, b.reason))
        if b.user_id is not None:
            staff_blocks[b.user_id].append((b.starts_at, b.ends_at, b.reason))
    return conflicts.Facts(
        now=timezone.now(),
        zone=ZoneInfo(clinic.time_zone),
        bookings=bookings + extra,
        clinic_hours=clinic_hours(clinic),
        staff_hours=staff_hours(clinic, staff_ids),
        closures=closures,
        room_blocks=dict(room_blocks),
        staff_blocks=dict(staff_blocks),
        gate_blockers=gate_blockers,
        min_interval=min_interval,
        max_per_week=max_per_week,
    )
