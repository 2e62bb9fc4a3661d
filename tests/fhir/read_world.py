"""A record with something of every kind kapflow maps to FHIR, built through the services.

Jordan: screened (vitals, weight, height), consented (witnessed), an active sublingual course
with two signed preparation visits and an integration visit, a dosing session (pre-dose vitals
by Priya, a 200 mg dose by Priya, MOAA/S, a dissociation score, vitals with SpO2 and respiratory
rate, a moderate adverse event, Theo's guide note), PHQ-9, GAD-7 (then corrected) and C-SSRS
responses, and Theo's psychotherapy note holding ``MARKER``.
Morgan: an intravenous course, a 35 mg infusion over 40 minutes by Priya, consent withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from kapflow.consent.models import ConsentSignature
from kapflow.consent.services import consent_withdraw, consent_witness
from kapflow.courses import psychotherapy_services
from kapflow.courses import services as course_services
from kapflow.courses.models import TreatmentCourse, Visit
from kapflow.dosing import services as dosing
from kapflow.dosing.models import Administration, AdverseEvent, DosingSession, Reading
from kapflow.measures import services as measures
from kapflow.measures.models import MeasureResponse
from kapflow.patients.models import Patient
from tests.conftest import World
from tests.dosing.helpers import checked_in, make_lot, make_ready, second_patient

MARKER = "QUOKKA-FHIR-MARKER-5521"
PHQ9 = {"q1": 2, "q2": 2, "q3": 1, "q4": 2, "q5": 1, "q6": 1, "q7": 1, "q8": 0, "q9": 0}  # total 10
GAD7 = {"q1": 1, "q2": 1, "q3": 1, "q4": 1, "q5": 0, "q6": 0, "q7": 0}  # total 4, corrected to 6


@dataclass
class Rich:
    course: TreatmentCourse
    session: DosingSession
    given: Administration
    event: AdverseEvent
    moaas: Reading
    vitals: Reading
    phq9: MeasureResponse
    gad7: MeasureResponse
    gad7_fixed: MeasureResponse
    integration: Visit
    guide: Visit
    consent: ConsentSignature
    morgan: Patient
    iv_given: Administration
    withdrawn: ConsentSignature


def build(world: World) -> Rich:
    course = make_ready(world)
    lot = make_lot(world)
    consent = ConsentSignature.objects.get(patient=world.patient)
    consent_witness(member=world.frontdesk, signature=consent)
    ago = timezone.now() - timedelta(days=1)
    phq9 = measures.response_record_paper(
        member=world.therapist, patient=world.patient, instrument_key="phq9", answers=PHQ9, answered_at=ago
    )
    gad7 = measures.response_record_paper(
        member=world.therapist, patient=world.patient, instrument_key="gad7", answers=GAD7, answered_at=ago
    )
    gad7_fixed = measures.response_correct(
        member=world.therapist, original=gad7, answers={**GAD7, "q5": 2}, reason="Misread item 5."
    )
    measures.response_record_paper(
        member=world.therapist,
        patient=world.patient,
        instrument_key="cssrs",
        answers={"q1": 1, "q2": 0, "q6": 0},
        answered_at=ago,
    )
    session = checked_in(world, course)
    given = dosing.administration_record(
        member=world.prescriber,
        session=session,
        dose_mg=Decimal("200"),
        lot=lot,
        started_at=None,
        ended_at=None,
        witness_id=world.nurse.user_id,
        override_reason="",
        base_version=session.version,
    )
    session.refresh_from_db()
    moaas = dosing.reading_record(member=world.prescriber, session=session, kind="moaas", moaas=4)
    dosing.reading_record(member=world.prescriber, session=session, kind="dissociation", score=12)
    vitals = dosing.reading_record(
        member=world.prescriber,
        session=session,
        kind="vitals",
        values={"systolic": 136, "diastolic": 86, "heart_rate": 80, "spo2": 97, "respiratory_rate": 14},
    )
    dosing.reading_record(
        member=world.prescriber, session=session, kind="observation", note=f"Calm. {MARKER}-observation"
    )
    event = dosing.event_record(
        member=world.prescriber,
        session=session,
        kind="nausea_vomiting",
        severity="moderate",
        serious=False,
        occurred_at=None,
        intervention="Ondansetron 4 mg ODT",
        outcome="resolving",
        description="Nausea 30 minutes after the dose",
    )
    guide = dosing.guide_note(member=world.therapist, session=session)
    course_services.note_save_draft(
        member=world.therapist,
        note=guide.note,
        content={"course_of_session": MARKER},
        base_version=guide.note.version,
    )
    integration = course_services.visit_create(
        member=world.therapist, course=course, kind="integration", happened_on=timezone.localdate()
    )
    psychotherapy_services.note_create(
        member=world.therapist, patient=world.patient, text=MARKER, course=course
    )

    morgan = second_patient(world)
    iv_course = make_ready(world, route="intravenous", patient=morgan)
    iv_session = checked_in(world, iv_course)
    start = timezone.now() - timedelta(minutes=50)
    iv_given = dosing.administration_record(
        member=world.prescriber,
        session=iv_session,
        dose_mg=Decimal("35"),
        lot=lot,
        started_at=start,
        ended_at=start + timedelta(minutes=40),
        witness_id=None,
        override_reason="",
        base_version=iv_session.version,
    )
    withdrawn = ConsentSignature.objects.get(patient=morgan)
    consent_withdraw(
        signature=withdrawn, reason="Told us by phone.", user=world.prescriber.user, member=world.prescriber
    )
    return Rich(
        course=course,
        session=session,
        given=given,
        event=event,
        moaas=moaas,
        vitals=vitals,
        phq9=phq9,
        gad7=gad7,
        gad7_fixed=gad7_fixed,
        integration=integration,
        guide=guide,
        consent=consent,
        morgan=morgan,
        iv_given=iv_given,
        withdrawn=withdrawn,
    )
