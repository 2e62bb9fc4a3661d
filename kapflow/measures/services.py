"""Writes of measurement-based care: assignments, answers, responses, corrections, alerts.

Staff writes check ``CLINICAL_EDIT`` on the patient (clinicians on the care team). Portal
writes act for the signed-in patient on their own request only (``portal_view`` resolves it).
Every write saves and audits in one transaction.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kapflow.accounts.models import Membership, User
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.errors import ApplicationError, Conflict
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.measures import registry
from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.definitions import parse_definition, to_definition
from kapflow.measures.instruments.model import DefinitionError, Instrument, Rater, Severity
from kapflow.measures.instruments.scoring import InvalidAnswers, score, visible_items
from kapflow.measures.models import (
    DOSING_SCHEDULES,
    AlertSeverity,
    AlertStatus,
    ClinicInstrument,
    MeasureAssignment,
    MeasureRequest,
    MeasureResponse,
    RequestStatus,
    ResponseSource,
    SafetyAlert,
    Schedule,
)
from kapflow.patients.models import Patient

ALREADY_SUBMITTED = gettext_lazy(
    "This questionnaire was already submitted; the answers you sent first were kept."
)


class AlreadySubmitted(Conflict):
    pass


def _instrument(patient: Patient, key: str) -> Instrument:
    try:
        return registry.instrument_for(patient.clinic, key)
    except registry.UnknownInstrument:
        raise ApplicationError(_("There is no instrument %(key)s in this clinic.") % {"key": key}) from None


def _day_start(day: date, patient: Patient) -> datetime:
    return datetime.combine(day, time.min, tzinfo=patient.clinic.tzinfo)


def assignment_create(
    *,
    member: Membership,
    patient: Patient,
    instrument_key: str,
    schedule: str,
    starts_on: date,
    interval_days: int | None = None,
    hours_after: int | None = None,
    ends_on: date | None = None,
) -> MeasureAssignment:
    """Ask the patient to complete an instrument once or on a schedule."""
    require(member, Action.CLINICAL_EDIT, patient)
    instrument = _instrument(patient, instrument_key)
    if instrument.rater == Rater.OBSERVER:
        raise ApplicationError(
            _("%(name)s is rated by staff during a session, not assigned to the patient.")
            % {"name": instrument.short_name}
        )
    if schedule == Schedule.EVERY_N_DAYS and not (interval_days and 1 <= interval_days <= 365):
        raise ApplicationError(_("Give the number of days between questionnaires (1 to 365)."))
    if schedule == Schedule.AFTER_DOSING and not (hours_after and 1 <= hours_after <= 336):
        raise ApplicationError(_("Give the number of hours after each dosing session (1 to 336)."))
    if ends_on is not None and ends_on < starts_on:
        raise ApplicationError(_("The end date is before the start date."))
    with transaction.atomic():
        assignment = MeasureAssignment.objects.create(
            clinic=patient.clinic,
            patient=patient,
            instrument_key=instrument.key,
            schedule=schedule,
            interval_days=interval_days if schedule == Schedule.EVERY_N_DAYS else None,
            hours_after=hours_after if schedule == Schedule.AFTER_DOSING else None,
            starts_on=starts_on,
            ends_on=ends_on,
            created_by=member.user,
            updated_by=member.user,
        )
        if schedule not in DOSING_SCHEDULES:
            _create_request(assignment, _day_start(starts_on, patient))
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=patient,
            action=AuditAction.CREATE,
            category=DataCategory.MEASURES,
            detail=f"assigned {instrument.key} ({schedule})",
        )
    return assignment


def _create_request(assignment: MeasureAssignment, due_at: datetime) -> MeasureRequest:
    request, _created = MeasureRequest.objects.get_or_create(
        assignment=assignment,
        due_at=due_at,
        defaults={
            "public_id": uuid.uuid4(),
            "clinic": assignment.clinic,
            "patient": assignment.patient,
            "instrument_key": assignment.instrument_key,
        },
    )
    return request


def dosing_requests(
    patient: Patient, *, before_dose_at: datetime | None = None, after_dose_at: datetime | None = None
) -> list[MeasureRequest]:
    """The occurrences of dosing-relative assignments: before-dosing ones due at check-in,
    after-dosing ones due the assignment's hours after the first dose."""
    created = []
    active = MeasureAssignment.objects.filter(
        patient=patient, stopped_at__isnull=True, voided_at__isnull=True
    )
    if before_dose_at is not None:
        for assignment in active.filter(schedule=Schedule.BEFORE_DOSING):
            created.append(_create_request(assignment, before_dose_at))
    if after_dose_at is not None:
        for assignment in active.filter(schedule=Schedule.AFTER_DOSING):
            assert assignment.hours_after
            created.append(
                _create_request(assignment, after_dose_at + timedelta(hours=assignment.hours_after))
            )
    return created


def ensure_requests(patient: Patient, now: datetime | None = None) -> None:
    """Create the occurrences of repeating assignments that have fallen due, and mark an
    older unanswered one as missed once a newer one is due (the patient sees the current one)."""
    now = now or timezone.now()
    repeating = MeasureAssignment.objects.filter(
        patient=patient, schedule=Schedule.EVERY_N_DAYS, stopped_at__isnull=True, voided_at__isnull=True
    )
    for assignment in repeating:
        assert assignment.interval_days
        first = _day_start(assignment.starts_on, patient)
        last_day = assignment.ends_on
        step = timedelta(days=assignment.interval_days)
        elapsed = max(0, (now - first) // step) if now >= first else -1
        if elapsed < 0:
            continue
        due_at = first + elapsed * step
        if last_day is not None and due_at.date() > last_day:
            continue
        with transaction.atomic():
            try:
                current = _create_request(assignment, due_at)
            except IntegrityError:
                continue
            assignment.requests.filter(status=RequestStatus.DUE, due_at__lt=current.due_at).update(
                status=RequestStatus.MISSED
            )


def assignment_stop(*, member: Membership, assignment: MeasureAssignment) -> None:
    require(member, Action.CLINICAL_EDIT, assignment.patient)
    with transaction.atomic():
        assignment.stopped_at = timezone.now()
        assignment.updated_by = member.user
        assignment.version += 1
        assignment.save(update_fields=["stopped_at", "updated_by", "version", "updated_at"])
        assignment.requests.filter(status=RequestStatus.DUE).update(status=RequestStatus.CANCELLED)
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=assignment.patient,
            action=AuditAction.UPDATE,
            category=DataCategory.MEASURES,
            detail=f"stopped {assignment.instrument_key} assignment",
        )


def draft_answer(*, request: MeasureRequest, item_id: str, value: int) -> dict[str, int]:
    """Keep one answer of an unfinished questionnaire (the portal saves as the patient goes)."""
    instrument = _instrument(request.patient, request.instrument_key)
    with transaction.atomic():
        locked = MeasureRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != RequestStatus.DUE:
            raise AlreadySubmitted(str(ALREADY_SUBMITTED))
        answers = {k: int(v) for k, v in dict(locked.draft).items()}
        item = next((i for i in visible_items(instrument, answers) if i.id == item_id), None)
        if item is None:
            raise ApplicationError(_("That question is not part of this questionnaire now."))
        if value not in {option.value for option in item.options}:
            raise ApplicationError(_("Choose one of the answers offered."))
        answers[item_id] = value
        # An answer can hide later questions (skip logic): drop answers no longer asked.
        shown = {i.id for i in visible_items(instrument, answers)}
        locked.draft = {k: v for k, v in answers.items() if k in shown}
        locked.save(update_fields=["draft"])
    return dict(locked.draft)


def _store(
    *,
    patient: Patient,
    instrument: Instrument,
    answers: dict[str, int],
    by: User,
    source: str,
    request: MeasureRequest | None = None,
    replaces: MeasureResponse | None = None,
    reason: str = "",
    answered_at: datetime | None = None,
) -> MeasureResponse:
    try:
        result = score(instrument, answers)
    except InvalidAnswers as exc:
        problems = "; ".join(f"{item}: {problem}" for item, problem in exc.problems.items())
        raise ApplicationError(
            _("The answers are not complete or not valid (%(problems)s).") % {"problems": problems}
        ) from None
    response = MeasureResponse.objects.create(
        clinic=patient.clinic,
        patient=patient,
        request=request,
        instrument_key=instrument.key,
        instrument_version=instrument.version,
        instrument_name=instrument.name,
        answers=answers,
        total=result.total,
        band=result.band.label if result.band else "",
        risk=result.risk,
        flags=[
            {"rule": f.rule_id, "item": f.item, "severity": str(f.severity), "message": f.message}
            for f in result.flags
        ],
        answered_at=answered_at or timezone.now(),
        source=source,
        replaces=replaces,
        correction_reason=reason,
        created_by=by,
        updated_by=by,
    )
    for flag in result.flags:
        _raise_alert(response, flag.severity, flag.message)
    audit.record(
        user=by,
        clinic=patient.clinic,
        patient=patient,
        action=AuditAction.CREATE,
        category=DataCategory.MEASURES,
        detail=f"{instrument.key} response {response.public_id}"
        + (f" correcting {replaces.public_id}" if replaces else ""),
    )
    return response


def _raise_alert(response: MeasureResponse, severity: Severity, message: str) -> SafetyAlert:
    clinic = response.patient.clinic
    hours = clinic.alert_hours_high if severity == Severity.HIGH else clinic.alert_hours_moderate
    alert = SafetyAlert.objects.create(
        public_id=uuid.uuid4(),
        clinic=clinic,
        patient=response.patient,
        response=response,
        severity=AlertSeverity(str(severity)),
        reason=message[:300],
        due_by=timezone.now() + timedelta(hours=hours),
    )
    audit.record(
        user=None,
        clinic=clinic,
        patient=response.patient,
        action=AuditAction.CREATE,
        category=DataCategory.MEASURES,
        detail=f"safety alert {alert.public_id} ({severity})",
    )
    return alert


def response_submit(
    *, request: MeasureRequest, answers: dict[str, Any], by: User, member: Membership | None = None
) -> MeasureResponse:
    """Submit the answers to a due request: by the patient (portal) or by staff on their behalf."""
    patient = request.patient
    if member is not None:
        require(member, Action.CLINICAL_EDIT, patient)
    instrument = _instrument(patient, request.instrument_key)
    clean = _as_ints(answers)
    with transaction.atomic():
        locked = MeasureRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != RequestStatus.DUE:
            raise AlreadySubmitted(str(ALREADY_SUBMITTED))
        response = _store(
            patient=patient,
            instrument=instrument,
            answers=clean,
            by=by,
            request=locked,
            source=ResponseSource.PORTAL if member is None else ResponseSource.STAFF,
        )
        locked.status = RequestStatus.COMPLETED
        locked.draft = {}
        locked.save(update_fields=["status", "draft"])
    return response


def response_record_paper(
    *,
    member: Membership,
    patient: Patient,
    instrument_key: str,
    answers: dict[str, Any],
    answered_at: datetime,
) -> MeasureResponse:
    """Record a questionnaire the patient filled in on paper earlier (dated when answered)."""
    require(member, Action.CLINICAL_EDIT, patient)
    if answered_at > timezone.now():
        raise ApplicationError(_("A questionnaire cannot have been answered in the future."))
    instrument = _instrument(patient, instrument_key)
    with transaction.atomic():
        return _store(
            patient=patient,
            instrument=instrument,
            answers=_as_ints(answers),
            by=member.user,
            source=ResponseSource.STAFF,
            answered_at=answered_at,
        )


def response_correct(
    *, member: Membership, original: MeasureResponse, answers: dict[str, Any], reason: str
) -> MeasureResponse:
    """A correction: a new response that points to the one it replaces (which stays readable)."""
    require(member, Action.CLINICAL_EDIT, original.patient)
    if not reason.strip():
        raise ApplicationError(_("Say why the response is being corrected."))
    instrument = registry.instrument_for(original.patient.clinic, original.instrument_key)
    with transaction.atomic():
        locked = MeasureResponse.objects.select_for_update().get(pk=original.pk)
        if MeasureResponse.objects.filter(replaces=locked).exists():
            raise Conflict(_("This response was already corrected; correct the newer one instead."))
        return _store(
            patient=locked.patient,
            instrument=instrument,
            answers=_as_ints(answers),
            by=member.user,
            source=ResponseSource.STAFF,
            replaces=locked,
            reason=reason.strip(),
        )


def _as_ints(answers: dict[str, Any]) -> dict[str, int]:
    clean: dict[str, int] = {}
    for key, value in answers.items():
        try:
            clean[str(key)] = int(value)
        except (TypeError, ValueError):
            raise ApplicationError(
                _("Answer %(item)s is not one of the answers offered.") % {"item": key}
            ) from None
    return clean


def alert_acknowledge(*, member: Membership, alert: SafetyAlert, action_taken: str) -> SafetyAlert:
    require(member, Action.CLINICAL_EDIT, alert.patient)
    if not action_taken.strip():
        raise ApplicationError(_("Record the action taken."))
    with transaction.atomic():
        locked = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.status != AlertStatus.OPEN:
            raise Conflict(
                _("%(name)s already recorded the action for this alert.") % {"name": locked.acknowledged_by}
            )
        locked.status = AlertStatus.ACKNOWLEDGED
        locked.acknowledged_by = member.user
        locked.acknowledged_at = timezone.now()
        locked.action_taken = action_taken.strip()
        locked.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "action_taken"])
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=locked.patient,
            action=AuditAction.UPDATE,
            category=DataCategory.MEASURES,
            detail=f"safety alert {locked.public_id} acknowledged",
        )
    return locked


def instrument_add(*, member: Membership, data: object) -> Instrument:
    """Add a clinic's own instrument from its decoded definition (raises DefinitionError)."""
    require(member, Action.INSTRUMENT_MANAGE)
    instrument = parse_definition(data)
    if instrument.key in BUILT_IN:
        raise DefinitionError(
            [
                _('the key "%(key)s" belongs to a built-in instrument; choose another')
                % {"key": instrument.key}
            ]
        )
    with transaction.atomic():
        ClinicInstrument.objects.create(
            clinic=member.clinic,
            key=instrument.key,
            version=instrument.version,
            name=instrument.name,
            definition=to_definition(instrument),
            uploaded_by=member.user,
        )
        audit.record(
            user=member.user,
            clinic=member.clinic,
            action=AuditAction.CREATE,
            category=DataCategory.CLINIC,
            detail=f"instrument {instrument.key} v{instrument.version}",
        )
    return instrument
