"""The patient's own appointments in the portal: reads only, scoped to the signed-in portal
account's patient and clinic, and logged as portal views.

Times are shown in the clinic's time zone. Each appointment carries what the patient needs to
prepare: the instructions of its type and, for a dosing session, the fasting times of the
route's current protocol, the escort and the no-driving rule. Nothing clinical is shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kapflow.clinics.models import Clinic
from kapflow.core import audit
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.patients.models import Patient
from kapflow.portal.models import PortalAccount
from kapflow.scheduling.models import Appointment, Kind, Status

EARLIER_SHOWN = 20  # the most recent past appointments listed under "Earlier"
UPCOMING_STATUSES = (Status.BOOKED, Status.CHECKED_IN)


@dataclass(frozen=True)
class PortalAppointment:
    """One appointment as the patient sees it (times already in the clinic's zone)."""

    appointment: Appointment
    starts: datetime
    ends: datetime
    kind: str
    route: str
    room: str
    location: str
    address: str
    instructions: str
    is_dosing: bool
    fasting: list[str] = field(default_factory=list)
    changeable: bool = False

    @property
    def dosing_rules(self) -> list[str]:
        """Everything a dosing session asks of the patient: fasting, escort, no driving."""
        return [*self.fasting, *dosing_reminders()] if self.is_dosing else []

    @property
    def public_id(self) -> uuid.UUID:
        return self.appointment.public_id

    @property
    def status(self) -> str:
        return self.appointment.status

    @property
    def change_request(self) -> str:
        return self.appointment.change_request

    @property
    def change_requested_at(self) -> datetime | None:
        return self.appointment.change_requested_at


@dataclass(frozen=True)
class AppointmentsPage:
    upcoming: list[PortalAppointment]
    earlier: list[PortalAppointment]
    notice_hours: int


def _own(patient: Patient) -> QuerySet[Appointment]:
    """The patient's appointments in their own clinic (voided ones are not theirs to see)."""
    return Appointment.objects.filter(
        patient=patient, clinic_id=patient.clinic_id, voided_at__isnull=True
    ).select_related("clinic", "course", "room", "room__location")


def _upcoming_filter(now: datetime) -> Q:
    return Q(status__in=UPCOMING_STATUSES, ends_at__gt=now)


def may_change(appointment: Appointment, now: datetime | None = None) -> bool:
    """Booked, and the clinic's notice period has not begun: the patient may cancel or ask to
    move it in the portal (the services check the same again when it is posted)."""
    now = now or timezone.now()
    notice = timedelta(hours=appointment.clinic.appointment_notice_hours)
    return appointment.status == Status.BOOKED and appointment.starts_at - now >= notice


def _route_label(value: str) -> str:
    from kapflow.screening.models import Route

    try:
        return str(Route(value).label)
    except ValueError:
        return value


def _duration(minutes: int) -> str:
    if minutes and minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def fasting_lines(clinic: Clinic, route: str) -> list[str]:
    """The fasting times of the route's current protocol, in plain words ([] if it has none)."""
    if not route:
        return []
    from kapflow.dosing.protocols import current, parsed

    try:
        protocol = parsed(current(clinic, route))
    except ApplicationError:
        return []
    lines = []
    if protocol.fasting_food_hours:
        lines.append(
            _("Do not eat for %(time)s before your session.")
            % {"time": _duration(protocol.fasting_food_hours * 60)}
        )
    if protocol.fasting_liquid_minutes:
        lines.append(
            _("Do not drink anything for %(time)s before your session.")
            % {"time": _duration(protocol.fasting_liquid_minutes)}
        )
    return lines


def dosing_reminders() -> list[str]:
    return [
        _("Come with someone who will take you home after the session."),
        _("You must not drive until the next day."),
    ]


def _dosing_route(appointment: Appointment) -> str:
    if appointment.route:
        return appointment.route
    return appointment.course.route if appointment.course is not None else ""


def describe(
    appointment: Appointment,
    *,
    instructions: dict[str, str],
    now: datetime,
    with_fasting: bool = True,
) -> PortalAppointment:
    clinic = appointment.clinic
    zone = clinic.tzinfo
    is_dosing = appointment.kind == Kind.DOSING
    route = _dosing_route(appointment) if is_dosing else ""
    room = appointment.room
    location = room.location if room is not None else None
    return PortalAppointment(
        appointment=appointment,
        starts=timezone.localtime(appointment.starts_at, zone),
        ends=timezone.localtime(appointment.ends_at, zone),
        kind=str(appointment.get_kind_display()),
        route=_route_label(route) if route else "",
        room=room.name if room is not None else "",
        location=location.name if location is not None else "",
        address=(location.address if location is not None and location.address else clinic.address),
        instructions=instructions.get(appointment.kind, ""),
        is_dosing=is_dosing,
        fasting=fasting_lines(clinic, route) if is_dosing and with_fasting else [],
        changeable=may_change(appointment, now),
    )


def _instructions(clinic: Clinic) -> dict[str, str]:
    from kapflow.scheduling.services import types_for

    return {kind: kind_type.instructions for kind, kind_type in types_for(clinic).items()}


def _log(account: PortalAccount, action: str, detail: str) -> None:
    audit.record(
        user=account.user,
        clinic=account.clinic,
        patient=account.patient,
        action=action,
        category=DataCategory.PORTAL,
        detail=detail,
    )


def appointments_page(*, account: PortalAccount) -> AppointmentsPage:
    """The patient's upcoming appointments (soonest first) and the most recent earlier ones;
    cancelled appointments are left out. Logged as a portal view."""
    patient, now = account.patient, timezone.now()
    rows = _own(patient).exclude(status=Status.CANCELLED)
    instructions = _instructions(account.clinic)
    upcoming = [
        describe(row, instructions=instructions, now=now)
        for row in rows.filter(_upcoming_filter(now)).order_by("starts_at", "pk")
    ]
    earlier = [
        describe(row, instructions=instructions, now=now, with_fasting=False)
        for row in rows.exclude(_upcoming_filter(now))
        .filter(starts_at__lte=now)
        .order_by("-starts_at", "-pk")[:EARLIER_SHOWN]
    ]
    _log(account, AuditAction.VIEW, "appointments page")
    return AppointmentsPage(
        upcoming=upcoming, earlier=earlier, notice_hours=account.clinic.appointment_notice_hours
    )


def own_appointment(
    *, account: PortalAccount, appointment_id: uuid.UUID, detail: str, action: str = AuditAction.VIEW
) -> PortalAppointment:
    """One of the patient's own appointments, or 404 (another patient's id is not found).
    Logged with ``detail`` and the appointment's id."""
    row = _own(account.patient).filter(public_id=appointment_id).first()
    if row is None:
        raise Http404("No such appointment.")
    item = describe(row, instructions=_instructions(account.clinic), now=timezone.now())
    _log(account, action, f"{detail} {row.public_id}")
    return item


def next_appointment(patient: Patient) -> PortalAppointment | None:
    """The patient's next appointment, for the portal home (which logs its own view)."""
    now = timezone.now()
    row = _own(patient).filter(_upcoming_filter(now)).order_by("starts_at", "pk").first()
    if row is None:
        return None
    return describe(row, instructions={}, now=now, with_fasting=False)
