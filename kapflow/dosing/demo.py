"""Demo dosing: controlled-substance stock, one discharged session per route, and Jordan's
(DEMO-0001) sublingual session in progress today.

Every row is written through the services, as staff would write it. The services stamp "now"
and refuse times more than 12 hours back, so a past session is run within the last three
hours and then moved back to its day by queryset updates (``_shift``); the access log keeps
the real times and is never touched, so its hash chain stays valid. Idempotent: what exists
is left alone, so the command may run on every start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone

from kapflow.accounts.models import Membership, User
from kapflow.clinics.models import Clinic, Room
from kapflow.consent import services as consent_services
from kapflow.consent.models import ConsentSignature
from kapflow.consent.selectors import current_template
from kapflow.courses import services as course_services
from kapflow.courses.demo import NOTES
from kapflow.courses.models import CourseStatus, TreatmentCourse, VisitKind
from kapflow.dosing import services, stock
from kapflow.dosing.models import (
    KETAMINE,
    Administration,
    AdverseEvent,
    DosingSession,
    LedgerEntry,
    LedgerKind,
    Reading,
    StockCount,
    StockLot,
)
from kapflow.dosing.protocol import CONFIRMED_ITEMS, CheckKind
from kapflow.dosing.protocols import parsed
from kapflow.patients import services as patient_services
from kapflow.patients.models import Patient
from kapflow.portal.models import PortalAccount
from kapflow.screening import services as screening_services
from kapflow.screening.demo import BASE
from kapflow.screening.models import MedicalScreening

ESKETAMINE = "esketamine hydrochloride"
JORDAN = "DEMO-0001"


@dataclass(frozen=True)
class Lot:
    number: str
    form: str
    quantity_mg: str
    expires_in_days: int
    supplier: str
    drug: str = KETAMINE


LOTS = [
    Lot("KT-2311A", "100 mg troche", "3000", 120, "Example Compounding Pharmacy"),
    Lot("KT-2402B", "100 mg troche", "6000", 300, "Example Compounding Pharmacy"),
    Lot("KV-5518", "50 mg/mL vial, 10 mL", "5000", 540, "Example Wholesale Distributor"),
    Lot("ES-28-0917", "28 mg nasal spray device", "672", 400, "Example Specialty Pharmacy", ESKETAMINE),
]
RECEIVED_DAYS_AGO = 30
# The rest of the 50 mg drawn up for the intravenous infusion (41 mg given), that day.
WASTE = ("KV-5518", Decimal(9), "Left in the syringe: 50 mg drawn up for the infusion, 41 mg given.")
COUNT_LOT = "KT-2311A"  # counted yesterday evening; matches the ledger


@dataclass(frozen=True)
class PastSession:
    """A demo patient with a course of ``route`` and one discharged session ``days_ago``."""

    patient: dict[str, Any]
    route: str
    days_ago: int
    weight_kg: str
    escort: str
    dose_mg: str
    lot: str
    given_by: str  # "nurse" or "prescriber"; the other one witnesses
    baseline: tuple[int, int, int]  # systolic, diastolic, heart rate before the dose
    caution: dict[int, tuple[int, int]] | None = None  # minute: blood pressure above the caution level
    event: bool = False  # mild nausea at 35 minutes
    discharge_note: str = ""


def _person(
    record_number: str, given: str, family: str, born: date, sex: str, **extra: str
) -> dict[str, Any]:
    return {
        "record_number": record_number,
        "legal_given_name": given,
        "legal_family_name": family,
        "date_of_birth": born,
        "sex_at_birth": sex,
        "email": f"{given.lower()}.{family.lower()}@example.org",
        **extra,
    }


PAST: list[PastSession] = [
    PastSession(
        patient=_person(
            "DEMO-0004",
            "Daniel",
            "Brooks",
            date(1979, 6, 8),
            "male",
            pronouns="he/him",
            phone="+1 303 555 0124",
        ),
        route="sublingual",
        days_ago=14,
        weight_kg="84.0",
        escort="Karen Brooks (spouse)",
        dose_mg="200",
        lot="KT-2311A",
        given_by="nurse",
        baseline=(126, 80, 70),
        event=True,
        discharge_note="Went home with his wife; reminded not to drive until tomorrow.",
    ),
    PastSession(
        patient=_person(
            "DEMO-0005",
            "Aisha",
            "Rahman",
            date(1988, 9, 21),
            "female",
            pronouns="she/her",
            phone="+1 720 555 0168",
        ),
        route="intramuscular",
        days_ago=11,
        weight_kg="64.0",
        escort="Omar Rahman (brother)",
        dose_mg="32",  # 0.5 mg/kg
        lot="KV-5518",
        given_by="prescriber",
        baseline=(118, 76, 78),
        caution={20: (166, 96)},
        discharge_note="Blood pressure settled after the 20-minute reading. Her brother drove her home.",
    ),
    PastSession(
        patient=_person(
            "DEMO-0006",
            "Tomas",
            "Lindqvist",
            date(1969, 1, 30),
            "male",
            pronouns="he/him",
            phone="+1 303 555 0190",
        ),
        route="intravenous",
        days_ago=8,
        weight_kg="82.0",
        escort="Ingrid Lindqvist (daughter)",
        dose_mg="41",  # 0.5 mg/kg over 40 minutes
        lot="KV-5518",
        given_by="prescriber",
        baseline=(130, 84, 66),
        discharge_note="Cannula removed, site clean. Daughter took him home.",
    ),
    PastSession(
        patient=_person(
            "DEMO-0007",
            "Grace",
            "Whitfield",
            date(1958, 3, 14),
            "female",
            pronouns="she/her",
            phone="+1 720 555 0131",
        ),
        route="nasal",
        days_ago=5,
        weight_kg="61.0",
        escort="Ruth Ames (friend)",
        dose_mg="56",  # two 28 mg devices, self-administered under supervision
        lot="ES-28-0917",
        given_by="nurse",
        baseline=(132, 82, 72),
        discharge_note="Spravato REMS monitoring form completed from this record.",
    ),
    PastSession(
        patient=_person(
            "DEMO-0008",
            "Luis",
            "Moreno",
            date(1995, 12, 2),
            "male",
            pronouns="he/him",
            phone="+1 303 555 0155",
        ),
        route="buccal",
        days_ago=2,
        weight_kg="77.0",
        escort="Carmen Moreno (mother)",
        dose_mg="200",
        lot="KT-2311A",
        given_by="nurse",
        baseline=(120, 78, 74),
        discharge_note="Went home with his mother.",
    ),
]

PAST_BY_ROUTE = {spec.route: spec for spec in PAST}

# How far the blood pressure rises above the baseline, by minute after the dose.
RISE = {10: 8, 15: 10, 20: 12, 30: 14, 40: 14, 45: 12, 55: 8, 60: 6, 70: 4, 85: 2, 90: 2}


@dataclass(frozen=True)
class Staff:
    desk: Membership
    therapist: Membership
    prescriber: Membership
    nurse: Membership

    @property
    def clinicians(self) -> tuple[Membership, ...]:
        return (self.therapist, self.prescriber, self.nurse)


def load(*, desk: Membership, therapist: Membership, prescriber: Membership, nurse: Membership) -> None:
    clinic = desk.clinic
    staff = Staff(desk, therapist, prescriber, nurse)
    with timezone.override(clinic.tzinfo):
        lots = _lots(staff)
        for spec in PAST:
            _past_session(staff, spec, lots)
        _waste_and_count(staff, lots)
        _in_progress(staff, lots)


def _at(clinic: Clinic, days_ago: int, hour: int, minute: int = 0) -> datetime:
    """That day's local time at the clinic."""
    day = timezone.localdate() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, minute), tzinfo=clinic.tzinfo)


# --- Stock ----------------------------------------------------------------------------------


def _lots(staff: Staff) -> dict[str, StockLot]:
    """The lots, received by Dr. Priya a month ago."""
    clinic = staff.prescriber.clinic
    found: dict[str, StockLot] = {}
    for spec in LOTS:
        lot = StockLot.objects.filter(clinic=clinic, drug=spec.drug, lot_number=spec.number).first()
        if lot is None:
            lot = stock.lot_receive(
                member=staff.prescriber,
                lot_number=spec.number,
                form=spec.form,
                quantity_mg=Decimal(spec.quantity_mg),
                expires_on=timezone.localdate() + timedelta(days=spec.expires_in_days),
                supplier=spec.supplier,
                drug=spec.drug,
            )
            received = _at(clinic, RECEIVED_DAYS_AGO, 9)
            StockLot.objects.filter(pk=lot.pk).update(received_at=received)
            StockLot.history.filter(id=lot.pk).update(history_date=received)
            # Ledger entries are written once (LedgerEntry.save refuses an update); only the demo
            # moves one, by a queryset update, to place a receipt written now on its day.
            LedgerEntry.objects.filter(lot=lot, kind=LedgerKind.RECEIPT).update(at=received)
            lot.refresh_from_db()
        found[spec.number] = lot
    return found


def _waste_and_count(staff: Staff, lots: dict[str, StockLot]) -> None:
    clinic = staff.prescriber.clinic
    number, quantity, reason = WASTE
    lot = lots[number]
    if not LedgerEntry.objects.filter(lot=lot, kind=LedgerKind.WASTE).exists():
        entry = stock.waste_record(
            member=staff.prescriber,
            lot=lot,
            quantity_mg=quantity,
            witness_id=staff.nurse.user_id,
            reason=reason,
        )
        ivs = PAST_BY_ROUTE["intravenous"]
        # As above: the demo alone moves a ledger entry, to the day of the infusion.
        LedgerEntry.objects.filter(pk=entry.pk).update(at=_at(clinic, ivs.days_ago, 11, 30))
    counted = lots[COUNT_LOT]
    if not StockCount.objects.filter(lot=counted).exists():
        counted.refresh_from_db()
        count = stock.count_record(
            member=staff.prescriber,
            lot=counted,
            counted_mg=counted.balance_mg,
            witness_id=staff.nurse.user_id,
            reason="",
        )
        StockCount.objects.filter(pk=count.pk).update(at=_at(clinic, 1, 17))


# --- Patients, screening, consent, course ---------------------------------------------------


def _patient(staff: Staff, data: dict[str, Any]) -> Patient:
    clinic = staff.desk.clinic
    patient = Patient.objects.filter(clinic=clinic, record_number=data["record_number"]).first()
    if patient is None:
        patient = patient_services.patient_create(member=staff.desk, data=data)
    _on_care_team(staff, patient, staff.clinicians)
    return patient


def _on_care_team(staff: Staff, patient: Patient, members: tuple[Membership, ...]) -> None:
    for member in members:
        if not patient.care_team.filter(user=member.user, removed_at__isnull=True).exists():
            patient_services.care_team_add(member=staff.desk, patient=patient, membership_id=member.pk)


def _eligible(staff: Staff, patient: Patient, route: str, weight_kg: str) -> None:
    if MedicalScreening.objects.filter(patient=patient).exists():
        return
    screening = screening_services.screening_record(
        member=staff.prescriber, patient=patient, data={**BASE, "weight_kg": Decimal(weight_kg)}
    )
    screening_services.decision_record(
        member=staff.prescriber,
        screening=screening,
        outcome="eligible",
        valid_until=timezone.localdate() + timedelta(days=180),
        routes=[route],
    )


def _consent(staff: Staff, patient: Patient) -> None:
    """The patient signs the clinic's consent in the portal (an account with no password of
    its own: not a published login), witnessed by the nurse."""
    template = current_template(patient.clinic)
    if template is None or ConsentSignature.objects.filter(patient=patient).exists():
        return
    account = PortalAccount.objects.filter(patient=patient).select_related("user").first()
    if account is None:
        email = f"{patient.record_number.lower()}.portal@demo.kapflow.test"
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email, None, full_name=patient.display_name
        )
        account = PortalAccount.objects.create(user=user, patient=patient, clinic=patient.clinic)
    signature = consent_services.consent_sign(
        user=account.user, patient=patient, template=template, typed_name=patient.legal_name, confirmed=True
    )
    consent_services.consent_witness(member=staff.nurse, signature=signature)


def _course(staff: Staff, patient: Patient, route: str, first_session_on: date) -> TreatmentCourse:
    course = TreatmentCourse.objects.filter(patient=patient).first()
    if course is not None:
        return course
    required = patient.clinic.preparation_visits_required
    course = course_services.course_create(
        member=staff.therapist,
        patient=patient,
        route=route,
        planned_dosing_sessions=6,
        therapist_ids=[staff.therapist.user_id],
        medical_ids=[staff.nurse.user_id, staff.prescriber.user_id],
        starts_on=first_session_on - timedelta(days=7 * required + 3),
    )
    course = course_services.course_set_status(
        member=staff.therapist, course=course, status=CourseStatus.ACTIVE
    )
    for index in range(required):
        _signed_visit(
            staff.therapist,
            course,
            VisitKind.PREPARATION,
            first_session_on - timedelta(days=7 * (required - index)),
            NOTES[min(index, len(NOTES) - 1)],
        )
    return course


def _signed_visit(
    therapist: Membership, course: TreatmentCourse, kind: str, on: date, content: dict[str, Any]
) -> None:
    visit = course_services.visit_create(member=therapist, course=course, kind=kind, happened_on=on)
    note = course_services.note_save_draft(
        member=therapist, note=visit.note, content=content, base_version=visit.note.version
    )
    course_services.note_sign(member=therapist, note=note, base_version=note.version)


# --- Sessions ---------------------------------------------------------------------------------


def _vitals(spec: PastSession, minute: int) -> dict[str, int | None]:
    if spec.caution and minute in spec.caution:
        systolic, diastolic = spec.caution[minute]
        return {"systolic": systolic, "diastolic": diastolic, "heart_rate": spec.baseline[2] + 12, "spo2": 97}
    rise = RISE.get(minute, 0)
    systolic, diastolic, heart_rate = spec.baseline
    return {
        "systolic": systolic + rise,
        "diastolic": diastolic + rise * 6 // 10,
        "heart_rate": heart_rate + rise // 2,
        "spo2": 98 if rise < 10 else 97,
    }


def _moaas(minute: int) -> int:
    return 4 if 15 <= minute <= 45 else 5


def _administer(
    staff: Staff, session: DosingSession, spec_dose: str, lot: StockLot, start: datetime, given_by: str
) -> None:
    member, witness = (
        (staff.nurse, staff.prescriber) if given_by == "nurse" else (staff.prescriber, staff.nurse)
    )
    session.refresh_from_db()
    infusion = parsed(session.protocol).infusion_minutes
    services.administration_record(
        member=member,
        session=session,
        dose_mg=Decimal(spec_dose),
        lot=lot,
        started_at=start,
        ended_at=start + timedelta(minutes=infusion) if infusion else None,
        witness_id=witness.user_id,
        override_reason="",
        base_version=session.version,
    )


def _check_in(
    staff: Staff,
    course: TreatmentCourse,
    at: datetime,
    weight_kg: str,
    escort: str,
    *,
    pregnancy_test: str = "not_applicable",
    medications: str = "None today.",
) -> DosingSession:
    """Checked in by the nurse at ``at``, with the pre-dose record complete."""
    room = Room.objects.filter(clinic=course.clinic, name="Dosing room 1").first()
    session = services.session_check_in(
        member=staff.nurse, course=course, room_id=room.pk if room else None, now=at
    )
    return services.predose_update(
        member=staff.nurse,
        session=session,
        fasting_confirmed=True,
        escort_confirmed=True,
        escort_name=escort,
        intentions_reviewed=True,
        pregnancy_test=pregnancy_test,
        weight_kg=Decimal(weight_kg),
        concomitant_medications=medications,
    )


def _past_session(staff: Staff, spec: PastSession, lots: dict[str, StockLot]) -> None:
    clinic = staff.desk.clinic
    day = timezone.localdate() - timedelta(days=spec.days_ago)
    patient = _patient(staff, spec.patient)
    _eligible(staff, patient, spec.route, spec.weight_kg)
    _consent(staff, patient)
    course = _course(staff, patient, spec.route, day)
    if DosingSession.objects.filter(course=course).exists() or course.status != CourseStatus.ACTIVE:
        return
    # Run within the last three hours, so the minimum observation has passed by now.
    now = timezone.now()
    dosed_at = now - timedelta(minutes=135)
    session = _check_in(staff, course, dosed_at - timedelta(minutes=25), spec.weight_kg, spec.escort)
    systolic, diastolic, heart_rate = spec.baseline
    services.reading_record(
        member=staff.nurse,
        session=session,
        kind="vitals",
        taken_at=dosed_at - timedelta(minutes=15),
        values={"systolic": systolic, "diastolic": diastolic, "heart_rate": heart_rate, "spo2": 98},
    )
    _administer(staff, session, spec.dose_mg, lots[spec.lot], dosed_at, spec.given_by)
    schedule = parsed(session.protocol).monitoring
    for minute in schedule.get(CheckKind.VITALS, ()):
        services.reading_record(
            member=staff.nurse,
            session=session,
            kind="vitals",
            taken_at=dosed_at + timedelta(minutes=minute + 1),
            values=_vitals(spec, minute),
        )
    for minute in schedule.get(CheckKind.MOAAS, ()):
        services.reading_record(
            member=staff.nurse,
            session=session,
            kind="moaas",
            taken_at=dosed_at + timedelta(minutes=minute + 1),
            moaas=_moaas(minute),
        )
    services.reading_record(
        member=staff.nurse,
        session=session,
        kind="observation",
        taken_at=dosed_at + timedelta(minutes=30),
        note="Eyeshades on, music playing; calm, talking a little about what came up.",
    )
    if spec.event:
        services.event_record(
            member=staff.nurse,
            session=session,
            kind="nausea_vomiting",
            severity="mild",
            serious=False,
            occurred_at=dosed_at + timedelta(minutes=35),
            intervention="Sat up; sips of water and an emesis bag at hand.",
            outcome="resolved",
            description="Felt queasy as the effects peaked; did not vomit. Settled within 10 minutes.",
        )
    session.refresh_from_db()
    services.discharge_sign(
        member=staff.prescriber,
        session=session,
        confirmed=frozenset(CONFIRMED_ITEMS),
        note=spec.discharge_note,
    )
    session.refresh_from_db()
    _shift(session, session.checked_in_at - _at(clinic, spec.days_ago, 9, 30))
    if spec.days_ago > clinic.integration_due_days:
        _signed_visit(
            staff.therapist,
            course,
            VisitKind.INTEGRATION,
            day + timedelta(days=1),
            {
                "follows_session": f"Session 1, {day:%Y-%m-%d}",
                "what_came_up": "A sense of distance from the usual worries; memories of a grandparent.",
                "insights_and_themes": "Self-compassion; noticing the critical voice without obeying it.",
                "relation_to_intentions": "Close to the intention set in preparation.",
                "action_steps": "A daily ten-minute walk without the phone; journal twice a week.",
                "measures_reviewed": "PHQ-9 and GAD-7 to repeat next week.",
            },
        )


def _shift(session: DosingSession, delta: timedelta) -> None:
    """Move a session written in the last hours back by ``delta``: its clock, its readings,
    doses, events and their ledger entries. Only the demo does this."""
    moved = {"created_at": F("created_at") - delta, "updated_at": F("updated_at") - delta}
    DosingSession.objects.filter(pk=session.pk).update(
        checked_in_at=F("checked_in_at") - delta,
        weight_at=F("weight_at") - delta,
        first_administered_at=F("first_administered_at") - delta,
        discharged_at=F("discharged_at") - delta,
        ready_to_leave_at=F("ready_to_leave_at") - delta,
        **moved,
    )
    DosingSession.history.filter(id=session.pk).update(history_date=F("history_date") - delta)
    Reading.objects.filter(session=session).update(taken_at=F("taken_at") - delta, **moved)
    Administration.objects.filter(session=session).update(
        started_at=F("started_at") - delta, ended_at=F("ended_at") - delta, **moved
    )
    AdverseEvent.objects.filter(session=session).update(occurred_at=F("occurred_at") - delta, **moved)
    # LedgerEntry.save refuses updates (entries are written once); a queryset update bypasses
    # it. Only the demo does this, to keep each dose's ledger entry at the time of the dose.
    LedgerEntry.objects.filter(administration__session=session).update(at=F("at") - delta)


def _in_progress(staff: Staff, lots: dict[str, StockLot]) -> None:
    """Jordan's first sublingual session, checked in by the nurse, dosed about 25 minutes ago:
    the 0 and 20 minute vital signs are done, the 20 minute MOAA/S is overdue."""
    jordan = Patient.objects.filter(clinic=staff.desk.clinic, record_number=JORDAN).first()
    if jordan is None:
        return
    course = TreatmentCourse.objects.filter(patient=jordan, status=CourseStatus.ACTIVE).first()
    if course is None:
        return
    _on_care_team(staff, jordan, (staff.nurse,))
    if DosingSession.objects.filter(patient=jordan).exists():
        return
    dosed_at = timezone.now() - timedelta(minutes=27)
    session = _check_in(
        staff,
        course,
        dosed_at - timedelta(minutes=25),
        "68.0",
        "Sam Rivera (sibling)",
        pregnancy_test="negative",
        medications="Sertraline 100 mg this morning.",
    )
    services.reading_record(
        member=staff.nurse,
        session=session,
        kind="vitals",
        taken_at=dosed_at - timedelta(minutes=12),
        values={"systolic": 134, "diastolic": 86, "heart_rate": 76, "spo2": 98},
    )
    _administer(staff, session, "200", lots["KT-2311A"], dosed_at, "nurse")
    for minute, values in ((0, (136, 86, 78)), (20, (148, 92, 84))):
        systolic, diastolic, heart_rate = values
        services.reading_record(
            member=staff.nurse,
            session=session,
            kind="vitals",
            taken_at=dosed_at + timedelta(minutes=minute + 1),
            values={"systolic": systolic, "diastolic": diastolic, "heart_rate": heart_rate, "spo2": 98},
        )
    guide = services.guide_note(member=staff.therapist, session=session)
    course_services.note_save_draft(
        member=staff.therapist,
        note=guide.note,
        content={"intention_revisited": "To meet the critical voice with curiosity, not fear."},
        base_version=guide.note.version,
    )
