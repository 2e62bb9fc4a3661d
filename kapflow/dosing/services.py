"""Writes of a dosing session: check-in, the pre-dose record and overrides, monitoring
readings, administrations (medical professionals only, through the gate and the dose check,
deducted from the ledger), adverse events, discharge, cancellation and addenda.

Each write checks the actor on the patient (``require``), the session's state and the pure
rules, then saves and audits in one transaction. A discharged or cancelled session is locked:
only addenda are added to it.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic, Room
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.errors import ApplicationError, Conflict, FieldError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.core.roles import Role
from kapflow.courses.models import CourseStatus, TreatmentCourse, Visit, VisitKind
from kapflow.dosing import dose as dose_rules
from kapflow.dosing import gate, selectors, stock, vitals
from kapflow.dosing.models import (
    Administration,
    AdverseEvent,
    DosingSession,
    EventKind,
    EventOutcome,
    PregnancyTest,
    Reading,
    ReadingKind,
    SessionAddendum,
    SessionStatus,
    Severity,
    StockLot,
)
from kapflow.dosing.protocol import CONFIRMED_ITEMS, DischargeItem
from kapflow.dosing.protocols import current, parsed

MAX_TEXT = 3000
CLOCK_SKEW = timedelta(minutes=2)  # a time this far in the future is still "now"
MAX_SESSION = timedelta(hours=12)


class SessionLocked(ApplicationError):
    status = 409


def _audit(member: Membership, session: DosingSession, action: AuditAction, detail: str) -> None:
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=session.patient,
        action=action,
        category=DataCategory.CLINICAL,
        detail=detail,
    )


def _locked(session: DosingSession, *, open_only: bool = True) -> DosingSession:
    """The session's row, locked; refused when discharged or cancelled."""
    row = DosingSession.objects.select_for_update().get(pk=session.pk)
    if open_only and row.is_locked:
        raise SessionLocked(
            _("This session is %(status)s and its record is locked; add an addendum instead.")
            % {"status": row.get_status_display().lower()}
        )
    return row


def _bump(row: DosingSession, member: Membership, *fields: str) -> None:
    row.version += 1
    row.updated_by = member.user
    row.save(update_fields=[*fields, "version", "updated_by", "updated_at"])


def _time(at: datetime | None, session: DosingSession, what: str) -> datetime:
    now = timezone.now()
    at = at or now
    if at > now + CLOCK_SKEW:
        raise ApplicationError(_("%(what)s cannot be in the future.") % {"what": what})
    if at < session.checked_in_at - timedelta(hours=1) or at < now - MAX_SESSION:
        raise ApplicationError(_("%(what)s must be during this session.") % {"what": what})
    return at


def room_of(clinic: Clinic, room_id: int | None) -> Room | None:
    if room_id is None:
        return None
    room = Room.objects.filter(clinic=clinic, pk=room_id, is_active=True).first()
    if room is None:
        raise ApplicationError(_("Choose one of this clinic's rooms in use."))
    return room


def session_check_in(
    *, member: Membership, course: TreatmentCourse, room_id: int | None = None, now: datetime | None = None
) -> DosingSession:
    """Open the next dosing session of an active course under the route's current protocol."""
    require(member, Action.DOSING_MEDICAL, course.patient)
    if course.status != CourseStatus.ACTIVE:
        raise ApplicationError(_("Dosing sessions are held in an active course; start the course first."))
    room = room_of(member.clinic, room_id)
    version = current(member.clinic, course.route)
    now = now or timezone.now()
    last = (
        DosingSession.objects.filter(course=course)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    try:
        with transaction.atomic():
            session = DosingSession.objects.create(
                clinic=course.clinic,
                patient=course.patient,
                course=course,
                protocol=version,
                route=course.route,
                number=(last or 0) + 1,
                room=room,
                checked_in_at=now,
                created_by=member.user,
                updated_by=member.user,
            )
            _dosing_requests(session)
            _audit(member, session, AuditAction.CREATE, f"checked in for dosing session {session.number}")
    except IntegrityError:
        raise ApplicationError(
            _("This patient already has a dosing session open; continue that one or discharge it first.")
        ) from None
    return session


def _dosing_requests(session: DosingSession) -> None:
    """Ask for the patient's before-dosing questionnaires (in the portal and on the session page)."""
    from kapflow.measures.services import dosing_requests

    dosing_requests(session.patient, before_dose_at=session.checked_in_at)


def predose_update(
    *,
    member: Membership,
    session: DosingSession,
    fasting_confirmed: bool,
    escort_confirmed: bool,
    escort_name: str,
    intentions_reviewed: bool,
    pregnancy_test: str,
    weight_kg: Decimal | None,
    concomitant_medications: str,
) -> DosingSession:
    require(member, Action.DOSING_MEDICAL, session.patient)
    if pregnancy_test not in PregnancyTest.values:
        raise ApplicationError(_("Choose the pregnancy test result from the list."))
    if weight_kg is not None and not Decimal(20) <= weight_kg <= Decimal(350):
        raise ApplicationError(_("The weight must be from 20 to 350 kg."))
    if escort_confirmed and not escort_name.strip():
        raise ApplicationError(_("Name the person who takes the patient home."))
    with transaction.atomic():
        row = _locked(session)
        if row.status != SessionStatus.CHECKED_IN and weight_kg != row.weight_kg:
            raise ApplicationError(_("The weight cannot change after the first dose; add an addendum."))
        changed = []
        if weight_kg is not None and weight_kg != row.weight_kg:
            row.weight_kg, row.weight_at = weight_kg, timezone.now()
            changed += ["weight_kg", "weight_at"]
        row.fasting_confirmed = fasting_confirmed
        row.escort_confirmed = escort_confirmed
        row.escort_name = escort_name.strip()[:200]
        row.intentions_reviewed = intentions_reviewed
        row.pregnancy_test = pregnancy_test
        row.concomitant_medications = concomitant_medications.strip()[:MAX_TEXT]
        fields = ["fasting_confirmed", "escort_confirmed", "escort_name", "intentions_reviewed"]
        _bump(row, member, *fields, "pregnancy_test", "concomitant_medications", *changed)
        _audit(member, row, AuditAction.UPDATE, f"pre-dose record of session {row.public_id}")
    return row


def reading_record(
    *,
    member: Membership,
    session: DosingSession,
    kind: str,
    taken_at: datetime | None = None,
    values: dict[str, int | None] | None = None,
    moaas: int | None = None,
    score: int | None = None,
    note: str = "",
) -> Reading:
    """A timed monitoring entry. Vitals are judged against the protocol's limits (pre-dose or
    during) and any breach is stored with the reading; impossible values are refused."""
    require(member, Action.DOSING_MEDICAL, session.patient)
    if kind not in ReadingKind.values:
        raise ApplicationError(_("Choose what is being recorded."))
    values = {k: v for k, v in (values or {}).items() if k in vitals.PHYSIOLOGICAL}
    note = note.strip()
    if kind == ReadingKind.VITALS:
        if values.get("systolic") is None or values.get("diastolic") is None:
            raise ApplicationError(_("Enter at least the blood pressure (systolic and diastolic)."))
        problems = vitals.implausible(values)
        if problems:
            raise ApplicationError(" ".join(problems))
    elif kind == ReadingKind.MOAAS and (moaas is None or not 0 <= moaas <= 5):
        raise ApplicationError(_("MOAA/S is a score from 0 to 5."))
    elif kind == ReadingKind.DISSOCIATION and (score is None or not 0 <= score <= 1000):
        raise ApplicationError(_("Enter the dissociation score."))
    elif kind == ReadingKind.OBSERVATION and not note:
        raise ApplicationError(_("Write the observation."))
    if len(note) > MAX_TEXT:
        raise ApplicationError(_("Keep the note under 3,000 characters."))
    with transaction.atomic():
        row = _locked(session)
        at = _time(taken_at, row, _("The time of the reading"))
        before = row.first_administered_at is None or at < row.first_administered_at
        protocol = parsed(row.protocol)
        found = (
            vitals.breaches(values, protocol.before if before else protocol.during)
            if kind == ReadingKind.VITALS
            else []
        )
        reading = Reading.objects.create(
            clinic=row.clinic,
            session=row,
            patient=row.patient,
            kind=kind,
            taken_at=at,
            before_dose=before,
            moaas=moaas if kind == ReadingKind.MOAAS else None,
            score=score if kind == ReadingKind.DISSOCIATION else None,
            note=note,
            level=str(vitals.worst(found)),
            breaches=[{**asdict(b), "level": str(b.level)} for b in found],
            recorded_by=member.user,
            created_by=member.user,
            updated_by=member.user,
            **(values if kind == ReadingKind.VITALS else {}),
        )
        detail = f"{kind} reading in session {row.public_id}"
        if found:
            detail += f" ({vitals.worst(found)}: " + ", ".join(b.limit for b in found) + ")"
        _audit(member, row, AuditAction.CREATE, detail)
    return reading


def override_set(*, member: Membership, session: DosingSession, check: str, reason: str) -> DosingSession:
    """A medical professional's written reason to proceed past an overridable check."""
    require(member, Action.DOSING_MEDICAL, session.patient)
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("Write the reason for proceeding."))
    if len(reason) > 1000:
        raise ApplicationError(_("Keep the reason under 1,000 characters."))
    with transaction.atomic():
        row = _locked(session)
        if row.status != SessionStatus.CHECKED_IN:
            raise ApplicationError(_("Overrides are recorded before the first dose."))
        result = {c.check: c for c in selectors.session_gate(row).checks}
        found = result.get(gate.Check(check)) if check in gate.Check.__members__.values() else None
        if found is None or not found.overridable:
            raise ApplicationError(_("This check cannot be overridden; it has to be met."))
        row.overrides = {
            **row.overrides,
            check: {
                "reason": reason,
                "by": member.user_id,
                "by_name": member.user.full_name or member.user.email,
                "at": timezone.now().isoformat(),
            },
        }
        _bump(row, member, "overrides")
        _audit(member, row, AuditAction.UPDATE, f"override of the {check} check in session {row.public_id}")
    return row


def administration_record(
    *,
    member: Membership,
    session: DosingSession,
    dose_mg: Decimal,
    lot: StockLot | None,
    started_at: datetime | None,
    ended_at: datetime | None,
    witness_id: int | None,
    override_reason: str,
    base_version: int,
) -> Administration:
    """Record a dose given by the member (a medical professional on the care team).

    The first dose needs the pre-dose gate to pass; every dose is checked against the
    protocol's range and cumulative maximum and taken from an unexpired lot with the stock.
    ``base_version`` is the session version the form showed: if another administration (or
    any change) was saved meanwhile, this one is refused rather than recorded twice.
    """
    require(member, Action.DOSE_ADMINISTER, session.patient)
    if lot is None:
        raise ApplicationError(_("Choose the lot the dose was drawn from (its lot number)."))
    if lot.clinic_id != member.clinic_id:
        raise ApplicationError(_("That lot belongs to another clinic."))
    if lot.expires_on < timezone.localdate():
        raise ApplicationError(
            _("Lot %(lot)s expired on %(day)s: expired stock is not given.")
            % {"lot": lot.lot_number, "day": lot.expires_on}
        )
    with transaction.atomic():
        row = _locked(session)
        if row.version != base_version:
            raise Conflict(
                _(
                    "This session changed while you were entering the dose (another administration or "
                    "entry was saved). Nothing was recorded: check the session and enter the dose again if "
                    "it is still to be recorded."
                )
            )
        protocol = parsed(row.protocol)
        first = row.first_administered_at is None
        if first:
            result = selectors.session_gate(row)
            if not result.may_administer:
                failing = "; ".join(f"{c.label}: {c.message}" for c in result.failing)
                raise ApplicationError(_("The pre-dose gate does not pass. %(why)s") % {"why": failing})
        start = _time(started_at, row, _("The start of the administration"))
        if not first and row.first_administered_at and start < row.first_administered_at:
            raise ApplicationError(_("A further dose cannot start before the first one."))
        end = None
        if protocol.infusion_minutes is None and ended_at is not None:
            # Not stored for a dose that is no infusion: refused, so no caller believes it was.
            raise FieldError("ended_at", _("Only an infusion has an end: leave the end time empty."))
        if protocol.infusion_minutes is not None:
            if ended_at is None:
                raise ApplicationError(_("Enter when the infusion ended (or is planned to end)."))
            if not start < ended_at <= start + timedelta(hours=6):
                raise ApplicationError(_("The infusion must end after it starts, within 6 hours."))
            end = ended_at
        found = selectors.weight(row)
        check = dose_rules.check_dose(
            protocol,
            dose_rules.DoseFacts(
                dose_mg=dose_mg,
                weight_kg=found.kg if found and protocol.per_kg else None,
                given_mg=selectors.given_mg(row),
                booster=not first,
                override_reason=override_reason,
            ),
        )
        if not check.allowed:
            raise ApplicationError(" ".join(check.problems))
        witness = stock.witness_for(member, witness_id, required=False)
        administration = Administration.objects.create(
            clinic=row.clinic,
            session=row,
            patient=row.patient,
            drug=lot.drug,
            route=row.route,
            dose_mg=dose_mg,
            weight_kg=found.kg if found else None,
            mg_per_kg=check.mg_per_kg
            if check.mg_per_kg is not None
            else (dose_rules.per_kg(dose_mg, found.kg) if found else None),
            started_at=start,
            ended_at=end,
            lot=lot,
            administered_by=member.user,
            witnessed_by=witness,
            booster=not first,
            override_reason=override_reason.strip() if check.needs_override else "",
            outside_protocol=list(check.problems),
            created_by=member.user,
            updated_by=member.user,
        )
        stock.deduct_for(member=member, administration=administration)
        fields = []
        if first:
            row.first_administered_at = start
            row.status = SessionStatus.IN_SESSION
            row.gate_snapshot = [
                {"check": str(c.check), "state": str(c.state), "message": c.message, "override": c.overridden}
                for c in selectors.session_gate(row).checks
            ]
            fields = ["first_administered_at", "status", "gate_snapshot"]
            _after_dosing_requests(row, start)
        _bump(row, member, *fields)
        detail = f"administered {dose_mg} mg {row.route} (lot {lot.lot_number}) in session {row.public_id}"
        if check.needs_override:
            detail += " with a dose override"
        _audit(member, row, AuditAction.CREATE, detail)
    return administration


def _after_dosing_requests(session: DosingSession, at: datetime) -> None:
    from kapflow.measures.services import dosing_requests

    dosing_requests(session.patient, after_dose_at=at)


def event_record(
    *,
    member: Membership,
    session: DosingSession,
    kind: str,
    severity: str,
    serious: bool,
    occurred_at: datetime | None,
    intervention: str,
    outcome: str,
    description: str,
    link: str = "",
) -> AdverseEvent:
    """An adverse event; a serious one notifies the prescribers on the care team by email (a link only)."""
    require(member, Action.CLINICAL_EDIT, session.patient)
    if kind not in EventKind.values or severity not in Severity.values or outcome not in EventOutcome.values:
        raise ApplicationError(_("Choose the type, severity and outcome from the lists."))
    if kind == EventKind.OTHER and not description.strip():
        raise ApplicationError(_("Describe the event."))
    if len(description) > MAX_TEXT or len(intervention) > MAX_TEXT:
        raise ApplicationError(_("Keep each text under 3,000 characters."))
    # A life-threatening event is serious by definition (21 CFR 312.32), ticked or not.
    serious = serious or severity == Severity.LIFE_THREATENING
    with transaction.atomic():
        row = _locked(session)
        if row.first_administered_at is None:
            raise ApplicationError(_("Adverse events are recorded once a dose has been given."))
        at = _time(occurred_at, row, _("The time of the event"))
        event = AdverseEvent.objects.create(
            clinic=row.clinic,
            session=row,
            patient=row.patient,
            kind=kind,
            severity=severity,
            serious=serious,
            occurred_at=at,
            intervention=intervention.strip(),
            outcome=outcome,
            description=description.strip(),
            recorded_by=member.user,
            created_by=member.user,
            updated_by=member.user,
        )
        _audit(
            member,
            row,
            AuditAction.CREATE,
            f"{'serious ' if serious else ''}adverse event in session {row.public_id}",
        )
        if serious:
            _notify_prescribers(row, link)
    return event


def _notify_prescribers(session: DosingSession, link: str) -> None:
    # The care team as it is now: a prescriber of the course who has left it could not open the link.
    team = set(session.patient.care_team.filter(removed_at__isnull=True).values_list("user_id", flat=True))
    recipients = list(
        Membership.objects.filter(
            clinic=session.clinic, user_id__in=team, role=Role.PRESCRIBER, is_active=True
        ).values_list("user__email", flat=True)
    )
    if not recipients:
        return
    url = link or reverse(
        "dosing:session", kwargs={"clinic": session.clinic.slug, "session_id": session.public_id}
    )
    body = render_to_string("dosing/email/serious_event.txt", {"clinic": session.clinic, "url": url})
    subject = _("A serious adverse event was recorded at %(clinic)s") % {"clinic": session.clinic.name}
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients))


def discharge_sign(
    *, member: Membership, session: DosingSession, confirmed: frozenset[DischargeItem], note: str = ""
) -> DosingSession:
    """Sign the discharge when every criterion of the protocol is met; the record then locks."""
    require(member, Action.DOSING_MEDICAL, session.patient)
    confirmed = frozenset(item for item in confirmed if item in CONFIRMED_ITEMS)
    if len(note) > MAX_TEXT:
        raise ApplicationError(_("Keep the note under 3,000 characters."))
    with transaction.atomic():
        row = _locked(session)
        if row.first_administered_at is None:
            raise ApplicationError(_("No dose has been given; cancel the session instead of discharging."))
        now = timezone.now()
        items = selectors.discharge_checklist(row, confirmed, now=now)
        unmet = [item for item in items if not item.met]
        if unmet:
            raise ApplicationError(
                _("Discharge is not possible yet: %(why)s")
                % {"why": "; ".join(f"{i.label}: {i.message}" for i in unmet)}
            )
        from kapflow.dosing.discharge import ready_at

        row.status = SessionStatus.DISCHARGED
        row.discharged_at = now
        row.discharged_by = member.user
        row.discharge_checklist = [{"item": str(i.item), "met": i.met, "message": i.message} for i in items]
        row.ready_to_leave_at = ready_at(selectors.discharge_facts(row, confirmed, now=now))
        row.discharge_note = note.strip()
        _bump(
            row,
            member,
            "status",
            "discharged_at",
            "discharged_by",
            "discharge_checklist",
            "ready_to_leave_at",
            "discharge_note",
        )
        _audit(member, row, AuditAction.UPDATE, f"discharged from session {row.public_id}")
    return row


def session_cancel(*, member: Membership, session: DosingSession, reason: str) -> DosingSession:
    require(member, Action.DOSING_MEDICAL, session.patient)
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("Say why the session is cancelled."))
    with transaction.atomic():
        row = _locked(session)
        if row.first_administered_at is not None:
            raise ApplicationError(
                _("A dose has been given: the session ends with a discharge, not a cancellation.")
            )
        row.status = SessionStatus.CANCELLED
        row.cancel_reason = reason[:2000]
        _bump(row, member, "status", "cancel_reason")
        _audit(member, row, AuditAction.UPDATE, f"cancelled session {row.public_id}")
    return row


def addendum_add(*, member: Membership, session: DosingSession, text: str) -> SessionAddendum:
    require(member, Action.CLINICAL_EDIT, session.patient)
    text = text.strip()
    if not text or len(text) > 10000:
        raise ApplicationError(_("Write the addendum (at most 10,000 characters)."))
    with transaction.atomic():
        row = _locked(session, open_only=False)
        addendum = SessionAddendum.objects.create(session=row, text=text, author=member.user)
        _audit(member, row, AuditAction.CREATE, f"addendum to session {row.public_id}")
    return addendum


def guide_note(*, member: Membership, session: DosingSession) -> Visit:
    """The member's guide note of the session (a visit of the course), started on first use."""
    from kapflow.courses.services import visit_create

    require(member, Action.CLINICAL_EDIT, session.patient)
    existing = Visit.objects.filter(dosing_session=session, staff=member.user, voided_at__isnull=True).first()
    if existing is not None:
        return existing
    return visit_create(
        member=member,
        course=session.course,
        kind=VisitKind.DOSING,
        happened_on=timezone.localdate(session.checked_in_at),
        dosing_session=session,
    )
