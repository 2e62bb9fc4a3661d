"""Helpers for the dosing tests: Jordan made ready for dosing (screened, eligible, consented,
an active course with Theo and Priya, the clinic's preparation visits signed), a stock lot,
and a checked-in session with the pre-dose record complete."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from kapflow.accounts.models import User
from kapflow.consent.services import consent_sign, current_template, template_publish
from kapflow.courses import services as course_services
from kapflow.courses.models import CourseStatus, TreatmentCourse
from kapflow.dosing import services, stock
from kapflow.dosing.models import Administration, DosingSession, Reading, StockLot
from kapflow.portal.models import PortalAccount
from kapflow.screening import services as screening_services
from kapflow.screening.demo import BASE
from tests.conftest import PASSWORD

ROUTES = ["sublingual", "buccal", "intramuscular", "intravenous", "nasal"]


def make_ready(world, *, route: str = "sublingual", systolic: int = 128, patient=None) -> TreatmentCourse:
    """Jordan (or ``patient``, who must have Theo and Priya on the care team) eligible for every
    route, consent signed, an active course of ``route`` with the clinic's required preparation
    visits signed. Returns the course."""
    patient = patient or world.patient
    screening = screening_services.screening_record(
        member=world.prescriber, patient=patient, data={**BASE, "systolic": systolic}
    )
    screening_services.decision_record(
        member=world.prescriber,
        screening=screening,
        outcome="eligible",
        valid_until=timezone.localdate() + timedelta(days=180),
        routes=ROUTES,
    )
    template = current_template(world.demo) or template_publish(
        member=world.admin, title="Consent", body="## Risks\nRaised blood pressure."
    )
    account = PortalAccount.objects.filter(patient=patient).first()
    if account is None:
        user = User.objects.create_user(
            f"ready.{patient.pk}@example.org", PASSWORD, full_name=patient.legal_name
        )
        account = PortalAccount.objects.create(user=user, patient=patient, clinic=world.demo)
    consent_sign(
        user=account.user, patient=patient, template=template, typed_name=patient.legal_name, confirmed=True
    )
    course = course_services.course_create(
        member=world.therapist,
        patient=patient,
        route=route,
        planned_dosing_sessions=6,
        therapist_ids=[world.therapist.user_id],
        medical_ids=[world.prescriber.user_id],
        starts_on=timezone.localdate() - timedelta(days=14),
    )
    course = course_services.course_set_status(
        member=world.therapist, course=course, status=CourseStatus.ACTIVE
    )
    for _ in range(world.demo.preparation_visits_required):
        visit = course_services.visit_create(
            member=world.therapist,
            course=course,
            kind="preparation",
            happened_on=timezone.localdate() - timedelta(days=7),
        )
        note = course_services.note_save_draft(
            member=world.therapist,
            note=visit.note,
            content={"readiness": "Ready."},
            base_version=visit.note.version,
        )
        course_services.note_sign(member=world.therapist, note=note, base_version=note.version)
    return course


def make_lot(
    world, *, quantity: str = "2000", lot_number: str = "LOT-A1", expires_on: date | None = None
) -> StockLot:
    return stock.lot_receive(
        member=world.prescriber,
        lot_number=lot_number,
        form="100 mg troche",
        quantity_mg=Decimal(quantity),
        expires_on=expires_on or timezone.localdate() + timedelta(days=365),
    )


def second_patient(world):
    """Morgan: another Demo patient with Theo and Priya on the care team."""
    from kapflow.patients import services as patient_services

    morgan = patient_services.patient_create(
        member=world.frontdesk,
        data={
            "legal_given_name": "Morgan",
            "legal_family_name": "Lee",
            "date_of_birth": date(1979, 3, 3),
            "record_number": "R-2",
        },
    )
    for clinician in (world.therapist, world.prescriber):
        patient_services.care_team_add(member=world.frontdesk, patient=morgan, membership_id=clinician.pk)
    return morgan


def checked_in(
    world, course: TreatmentCourse, *, vitals: tuple[int, int] = (124, 80), weight: str | None = "70.0"
) -> DosingSession:
    """A session with the pre-dose record complete and pre-dose vitals taken (by Priya)."""
    session = services.session_check_in(member=world.prescriber, course=course)
    session = services.predose_update(
        member=world.prescriber,
        session=session,
        fasting_confirmed=True,
        escort_confirmed=True,
        escort_name="Sam Rivera",
        intentions_reviewed=True,
        pregnancy_test="not_applicable",
        weight_kg=Decimal(weight) if weight else None,
        concomitant_medications="Sertraline 100 mg daily",
    )
    services.reading_record(
        member=world.prescriber,
        session=session,
        kind="vitals",
        values={"systolic": vitals[0], "diastolic": vitals[1], "heart_rate": 72, "spo2": 98},
    )
    session.refresh_from_db()
    return session


def dosed(world, course: TreatmentCourse, lot: StockLot, *, dose: str = "200", at=None) -> DosingSession:
    """A checked-in session with its first dose given (by Priya) ``at`` (default: now)."""
    session = checked_in(world, course)
    services.administration_record(
        member=world.prescriber,
        session=session,
        dose_mg=Decimal(dose),
        lot=lot,
        started_at=at,
        ended_at=None,
        witness_id=None,
        override_reason="",
        base_version=session.version,
    )
    session.refresh_from_db()
    return session


def backdate(session: DosingSession, minutes: int) -> None:
    """Move the session's clock back, as if the first dose was ``minutes`` ago."""
    shift = timedelta(minutes=minutes)
    assert session.first_administered_at is not None, "backdate a session after its first dose"
    DosingSession.objects.filter(pk=session.pk).update(
        first_administered_at=session.first_administered_at - shift,
        checked_in_at=session.checked_in_at - shift,
    )
    for reading in Reading.objects.filter(session=session):
        Reading.objects.filter(pk=reading.pk).update(taken_at=reading.taken_at - shift)
    for given in Administration.objects.filter(session=session):
        Administration.objects.filter(pk=given.pk).update(started_at=given.started_at - shift)
    session.refresh_from_db()
