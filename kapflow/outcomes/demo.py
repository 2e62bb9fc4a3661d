"""Demo outcomes history: a year of completed courses, so every figure of the outcomes
dashboard has a value over its default period (the last twelve months).

Seventeen patients (DEMO-0101 to DEMO-0117, invented) each completed a course of six weekly
dosing sessions, at least three courses per route. The patients are registered through the
patient services (record numbers, care team and access log as staff would write them); their
clinical history is seed data, written straight with the ORM in bulk: courses, preparation,
integration and follow-up visits with signed notes, discharged sessions with their readings,
doses, adverse events and discharge checklists, a historical lot per drug and form whose
ledger entries add up, and PHQ-9 / GAD-7 assignments, requests and responses. The demo
patients whose first session was in the last fortnight (DEMO-0004 to DEMO-0008) get a
questionnaire before and after it.

Outcomes are mixed on purpose: some courses respond, some remit, some do neither, one has no
baseline (its first questionnaire was missed) and one starts below the response threshold.
Nothing here goes through the access log but the patient services, so ``kapflow audit verify``
holds. Idempotent: nothing is added once the history exists.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, DateTimeField, F, Model, Value, When
from django.utils import timezone

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic, Room
from kapflow.courses.demo import NOTES
from kapflow.courses.models import ClinicalNote, CourseStatus, NoteStatus, TreatmentCourse, Visit, VisitKind
from kapflow.dosing import discharge, vitals
from kapflow.dosing import dose as dose_rules
from kapflow.dosing.models import (
    KETAMINE,
    Administration,
    AdverseEvent,
    DosingSession,
    LedgerEntry,
    LedgerKind,
    PregnancyTest,
    ProtocolVersion,
    Reading,
    ReadingKind,
    SessionStatus,
    StockLot,
)
from kapflow.dosing.protocol import CONFIRMED_ITEMS, CheckKind, Protocol
from kapflow.dosing.protocols import current, parsed
from kapflow.measures import registry
from kapflow.measures.instruments.scoring import score
from kapflow.measures.models import (
    MeasureAssignment,
    MeasureRequest,
    MeasureResponse,
    RequestStatus,
    ResponseSource,
    Schedule,
)
from kapflow.patients import services as patient_services
from kapflow.patients.models import Patient

ESKETAMINE = "esketamine hydrochloride"
PHQ9, GAD7 = "phq9", "gad7"


@dataclass(frozen=True)
class Event:
    minute: int
    kind: str
    severity: str
    outcome: str
    description: str
    intervention: str
    serious: bool = False


@dataclass(frozen=True)
class Special:
    """What made one session differ from the rest: readings past a limit, an adverse event,
    a longer stay."""

    vitals: dict[int, dict[str, int]] = field(default_factory=dict)
    moaas: dict[int, int] = field(default_factory=dict)
    event: Event | None = None
    extra_minutes: int = 0
    note: str = ""


@dataclass(frozen=True)
class Course:
    record_number: str
    given: str
    family: str
    born: date
    sex: str
    pronouns: str
    route: str
    weight_kg: str
    doses: tuple[int, ...]  # mg per session, six weekly sessions
    first_days_ago: int  # the first dosing session, days before today
    # PHQ-9 totals due 5 days before the first session, then every 14 days (None: missed).
    phq: tuple[int | None, ...]
    baseline: tuple[int, int, int]  # systolic, diastolic, heart rate before each dose
    escort: str
    medications: str = "No regular medicines."


def _c(
    record: str, given: str, family: str, born: date, sex: str, route: str, weight: str, **rest: Any
) -> Course:
    return Course(
        record, given, family, born, sex, "she/her" if sex == "female" else "he/him", route, weight, **rest
    )


# fmt: off
COURSES: list[Course] = [
    # sublingual (100 to 400 mg): A responds and remits, B neither, C responds, D has no baseline
    _c("DEMO-0101", "Harriet", "Voss", date(1975, 2, 11), "female", "sublingual", "80.0",
       doses=(150, 200, 250, 300, 300, 300), first_days_ago=340, phq=(18, 14, 9, 6, 4),
       baseline=(124, 78, 72), escort="Peter Voss (husband)", medications="Sertraline 150 mg daily."),
    _c("DEMO-0102", "Desmond", "Achterberg", date(1968, 7, 30), "male", "sublingual", "72.0",
       doses=(150, 200, 250, 250, 250, 250), first_days_ago=300, phq=(16, 15, None, 12, 11),
       baseline=(132, 84, 68), escort="Lena Achterberg (wife)", medications="Lisinopril 10 mg daily."),
    _c("DEMO-0103", "Priscilla", "Nakamura", date(1983, 10, 5), "female", "sublingual", "90.0",
       doses=(100, 150, 150, 150, 150, 150), first_days_ago=250, phq=(21, 17, 12, 10, 9),
       baseline=(118, 76, 80), escort="Kenji Nakamura (brother)"),
    _c("DEMO-0104", "Ezra", "Castellanos", date(1990, 5, 17), "male", "sublingual", "65.0",
       doses=(100, 150, 200, 200, 200, 200), first_days_ago=150, phq=(None, 12, 10, 8, 7),
       baseline=(122, 80, 74), escort="Dana Castellanos (partner)", medications="Bupropion 300 mg daily."),
    # buccal (100 to 400 mg): E responds and remits, F neither, G responds (last one missed)
    _c("DEMO-0105", "Rosalind", "Fairbairn", date(1961, 12, 1), "female", "buccal", "85.0",
       doses=(100, 150, 200, 200, 200, 200), first_days_ago=320, phq=(14, 12, 8, 5, 3),
       baseline=(128, 82, 70), escort="Ivy Fairbairn (daughter)"),
    _c("DEMO-0106", "Bartholomew", "Quist", date(1979, 3, 23), "male", "buccal", "95.0",
       doses=(100, 100, 150, 150, 150, 150), first_days_ago=210, phq=(19, 18, 17, 15, 14),
       baseline=(134, 86, 76), escort="Anneke Quist (sister)", medications="Escitalopram 20 mg daily."),
    _c("DEMO-0107", "Imogen", "Delacroix", date(1993, 8, 9), "female", "buccal", "70.0",
       doses=(150, 200, 250, 250, 250, 250), first_days_ago=120, phq=(13, 10, 7, 6, None),
       baseline=(116, 74, 78), escort="Jules Delacroix (partner)"),
    # intramuscular (0.25 to 1.0 mg/kg): H responds, I responds and remits, J neither,
    # K starts at 8 (below the response threshold) and remits
    _c("DEMO-0108", "Leopold", "Hargreaves", date(1982, 1, 14), "male", "intramuscular", "78.0",
       doses=(39, 47, 58, 58, 58, 58), first_days_ago=330, phq=(20, 16, 11, 9, 8),
       baseline=(126, 80, 66), escort="Martin Hargreaves (father)"),
    _c("DEMO-0109", "Noor", "Valderrama", date(1987, 6, 2), "female", "intramuscular", "62.0",
       doses=(31, 40, 50, 55, 55, 55), first_days_ago=270, phq=(15, 9, 5, 3, 2),
       baseline=(112, 72, 70), escort="Samir Valderrama (husband)", medications="Venlafaxine 150 mg daily."),
    _c("DEMO-0110", "Casimir", "Oyelaran", date(1971, 11, 19), "male", "intramuscular", "88.0",
       doses=(44, 66, 88, 88, 88, 88), first_days_ago=190, phq=(17, 16, 16, 14, 15),
       baseline=(130, 82, 78), escort="Funmi Oyelaran (wife)"),
    _c("DEMO-0111", "Wilhelmina", "Sato", date(1998, 4, 27), "female", "intramuscular", "58.0",
       doses=(29, 35, 35, 35, 35, 35), first_days_ago=110, phq=(8, 7, 5, 4, 4),
       baseline=(114, 70, 72), escort="Hiro Sato (brother)"),
    # intravenous (0.5 to 0.75 mg/kg over 40 minutes): L responds, M responds and remits
    # (a serious hypertensive event in session 5, dose reduced after), N neither
    _c("DEMO-0112", "Thaddeus", "Wren", date(1965, 9, 8), "male", "intravenous", "92.0",
       doses=(46, 46, 46, 46, 46, 46), first_days_ago=345, phq=(23, 20, 15, 12, 10),
       baseline=(132, 84, 64), escort="Margot Wren (wife)", medications="Atorvastatin 20 mg daily."),
    _c("DEMO-0113", "Octavia", "Lindgren", date(1977, 2, 3), "female", "intravenous", "66.0",
       doses=(33, 33, 40, 40, 40, 33), first_days_ago=235, phq=(17, 13, 8, 4, 3),
       baseline=(128, 82, 74), escort="Sven Lindgren (husband)"),
    _c("DEMO-0114", "Florian", "Ashdown", date(1985, 12, 12), "male", "intravenous", "75.0",
       doses=(38, 45, 56, 56, 56, 56), first_days_ago=160, phq=(12, 12, 11, 10, 10),
       baseline=(120, 78, 68), escort="Clara Ashdown (mother)"),
    # nasal esketamine (56 or 84 mg): O responds, P responds and remits, Q neither
    _c("DEMO-0115", "Beatrix", "Holloway", date(1958, 6, 21), "female", "nasal", "70.0",
       doses=(56, 56, 56, 56, 56, 56), first_days_ago=315, phq=(19, 15, 10, 8, 6),
       baseline=(130, 80, 70), escort="Gordon Holloway (husband)", medications="Duloxetine 60 mg daily."),
    _c("DEMO-0116", "Ignatius", "Brennan", date(1974, 10, 30), "male", "nasal", "60.0",
       doses=(56, 84, 84, 84, 84, 84), first_days_ago=225, phq=(14, 11, 8, 6, 4),
       baseline=(122, 78, 72), escort="Siobhan Brennan (sister)", medications="Sertraline 100 mg daily."),
    _c("DEMO-0117", "Marisol", "Ekwueme", date(1989, 1, 6), "female", "nasal", "75.0",
       doses=(56, 56, 84, 84, 84, 84), first_days_ago=130, phq=(22, 21, 20, 19, 18),
       baseline=(118, 76, 76), escort="Chidi Ekwueme (husband)", medications="Vortioxetine 20 mg daily."),
]
# fmt: on

NAUSEA = Event(
    35,
    "nausea_vomiting",
    "mild",
    "resolved",
    "Queasy at the peak of the effects; did not vomit. Settled within 10 minutes.",
    "Sat up; sips of water and an emesis bag at hand.",
)
SPECIALS: dict[tuple[str, int], Special] = {
    ("DEMO-0101", 2): Special(event=NAUSEA),
    ("DEMO-0102", 3): Special(vitals={40: {"systolic": 164, "diastolic": 96}}),
    ("DEMO-0103", 5): Special(
        event=Event(
            90,
            "other",
            "mild",
            "resolved",
            "Mild frontal headache as the effects wore off.",
            "Paracetamol 1 g by mouth; lights dimmed. Gone by discharge.",
        )
    ),
    ("DEMO-0105", 3): Special(
        event=Event(
            40,
            "nausea_vomiting",
            "moderate",
            "resolved",
            "Vomited once at 40 minutes, then felt better.",
            "Ondansetron 4 mg orally disintegrating tablet; lay on her side with an emesis bag.",
        ),
        extra_minutes=20,
    ),
    ("DEMO-0106", 4): Special(vitals={20: {"systolic": 162, "diastolic": 98}}),
    ("DEMO-0107", 1): Special(vitals={40: {"systolic": 154, "diastolic": 102}}),
    ("DEMO-0108", 1): Special(
        event=Event(
            15,
            "agitation",
            "mild",
            "resolved",
            "Restless and frightened as the effects began; did not try to get up.",
            "The guide sat close and breathed slowly with him, music lowered; settled within 10 minutes.",
        )
    ),
    ("DEMO-0110", 2): Special(
        vitals={10: {"heart_rate": 124}},
        event=Event(
            10,
            "tachycardia",
            "mild",
            "resolved",
            "Heart rate 124 at 10 minutes with palpitations.",
            "Reassurance and slow breathing; 96 per minute at 20 minutes.",
        ),
    ),
    ("DEMO-0112", 4): Special(
        vitals={30: {"systolic": 168, "diastolic": 104}, 40: {"systolic": 158, "diastolic": 98}},
        event=Event(
            30,
            "hypertension",
            "moderate",
            "resolved",
            "Blood pressure 168/104 at 30 minutes, without symptoms.",
            "Infusion rate halved for 10 minutes, blood pressure rechecked every 5 minutes.",
        ),
    ),
    ("DEMO-0113", 5): Special(
        vitals={
            30: {"systolic": 172, "diastolic": 104, "heart_rate": 96},
            40: {"systolic": 186, "diastolic": 112, "heart_rate": 104},
            55: {"systolic": 164, "diastolic": 100},
            70: {"systolic": 152, "diastolic": 94},
        },
        event=Event(
            40,
            "hypertension",
            "severe",
            "transferred",
            "Headache and chest tightness with blood pressure 186/112 at the end of the infusion. "
            "ECG and troponin normal in the emergency department; kept overnight for observation, "
            "home the next day.",
            "Labetalol 10 mg IV by the prescriber; 152/94 at 70 minutes. Transferred by ambulance to "
            "the emergency department for assessment of the chest tightness.",
            serious=True,
        ),
        extra_minutes=25,
        note="Left by ambulance for the emergency department (see the adverse event); "
        "blood pressure 148/90 on departure. Next dose reduced to 0.5 mg/kg.",
    ),
    ("DEMO-0114", 3): Special(
        vitals={20: {"spo2": 92}},
        event=Event(
            20,
            "desaturation",
            "mild",
            "resolved",
            "SpO2 92% at 20 minutes while deeply relaxed; breathing regular.",
            "Prompted to take deep breaths and sat up a little; 97% within 2 minutes.",
        ),
    ),
    ("DEMO-0115", 2): Special(vitals={40: {"systolic": 165, "diastolic": 102}}),
    ("DEMO-0116", 1): Special(
        moaas={30: 3, 45: 4},
        event=Event(
            30,
            "sedation",
            "mild",
            "resolved",
            "MOAA/S 3 at 30 minutes: responded only when his name was called loudly. Breathing "
            "and SpO2 normal.",
            "Closer observation; MOAA/S 4 at 45 and 5 at 60 minutes.",
        ),
    ),
    ("DEMO-0117", 4): Special(event=NAUSEA),
}

# Historical lots, used up by the end of the history: (drug, form, number, routes).
LOTS = [
    (KETAMINE, "100 mg troche", "KT-H2412", ("sublingual", "buccal")),
    (KETAMINE, "50 mg/mL vial, 10 mL", "KV-H2411", ("intramuscular", "intravenous")),
    (ESKETAMINE, "28 mg nasal spray device", "ES-H-0925", ("nasal",)),
]

# How far the blood pressure rises above the baseline, by minute after the dose.
RISE = {10: 8, 15: 10, 20: 12, 30: 14, 40: 14, 45: 12, 55: 8, 60: 6, 70: 4, 85: 2, 90: 2}
SLOTS = (-5, 9, 23, 37, 51)  # questionnaire due days relative to the first dosing session
SESSIONS_APART = 7
LATE_DAYS = 9  # a late answer comes this many days after its due day (on time is within 7)

GATE_SNAPSHOT = [
    {"check": "screening", "state": "ok", "message": "Eligible, consent current, preparation done."},
    {"check": "vitals", "state": "ok", "message": "Within the protocol's pre-dose limits."},
    {"check": "measures", "state": "ok", "message": "None outstanding."},
    {"check": "safety_alert", "state": "ok", "message": "None open."},
    {"check": "fasting", "state": "ok", "message": "Confirmed."},
    {"check": "escort", "state": "ok", "message": "Confirmed."},
    {"check": "intentions", "state": "ok", "message": "Reviewed."},
]
INTEGRATION_NOTES = [
    (
        "Felt held by the music; a long stretch of calm without the usual inner critic.",
        "Self-compassion; noticing the critical voice without obeying it.",
        "A daily walk without the phone; journal twice a week.",
    ),
    (
        "Memories of a grandparent's kitchen; sadness that felt clean rather than heavy.",
        "Grief that was never given room; permission to rest.",
        "Write a letter to the grandparent; call the sister on Sunday.",
    ),
    (
        "Mostly visual; a sense of floating above the week's worries.",
        "Distance from rumination; the worries look smaller from outside.",
        "Notice rumination and name it; five minutes of breathing in the morning.",
    ),
]

# The demo patients whose first session was in the last fortnight (kapflow.dosing.demo):
# PHQ-9 and GAD-7 a few days before it and the day after it.
FIRST_SESSION_SCORES = {
    "DEMO-0004": ((17, 13), (12, 9)),
    "DEMO-0005": ((15, 11), (9, 8)),
    "DEMO-0006": ((20, 15), (9, 7)),
    "DEMO-0007": ((13, 10), (12, 10)),
    "DEMO-0008": ((16, 12), (14, 11)),
}


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
    staff = Staff(desk, therapist, prescriber, nurse)
    with timezone.override(desk.clinic.tzinfo):
        _first_session_scores(staff)
        records = [c.record_number for c in COURSES]
        if TreatmentCourse.objects.filter(clinic=desk.clinic, patient__record_number__in=records).exists():
            return
        History(staff).write()


# --- helpers -----------------------------------------------------------------------------------


def _local(clinic: Clinic, day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clinic.tzinfo)


def _answers(key: str, total: int) -> dict[str, int]:
    """Item answers adding up to ``total``, spread evenly; PHQ-9 item 9 kept at 0 (no alert)."""
    items = [f"q{n}" for n in range(1, 10 if key == PHQ9 else 8)]
    scored = items[:-1] if key == PHQ9 else items
    answers = dict.fromkeys(items, 0)
    for index in range(total):
        answers[scored[index % len(scored)]] += 1
    return answers


def _gad(phq: int, offset: int) -> int:
    return max(0, min(21, phq * 3 // 4 + offset))


def _response(
    clinic: Clinic, patient: Patient, key: str, total: int, at: datetime, **extra: Any
) -> MeasureResponse:
    instrument = registry.instrument_for(clinic, key)
    answers = _answers(key, total)
    result = score(instrument, answers)
    assert result.total == total and not result.flags, (key, total)
    return MeasureResponse(
        clinic=clinic,
        patient=patient,
        instrument_key=key,
        instrument_version=instrument.version,
        instrument_name=instrument.name,
        answers=answers,
        total=result.total,
        band=result.band.label if result.band else "",
        risk=result.risk,
        flags=[],
        answered_at=at,
        source=ResponseSource.PORTAL,
        **extra,
    )


def _backdate(model: type[Model], rows: list[Any], when: Any) -> None:
    """Set created_at/updated_at (auto_now fields, stamped "now" by bulk_create) to the time
    the row belongs to: ``when`` is an expression (an F of the row) or a function of the row."""
    if not rows:
        return
    if callable(when):
        when = Case(*(When(pk=row.pk, then=Value(when(row))) for row in rows), output_field=DateTimeField())
    model._default_manager.filter(pk__in=[row.pk for row in rows]).update(created_at=when, updated_at=when)


def _first_session_scores(staff: Staff) -> None:
    clinic = staff.desk.clinic
    rows = []
    for record, ((phq_before, gad_before), (phq_after, gad_after)) in FIRST_SESSION_SCORES.items():
        patient = Patient.objects.filter(clinic=clinic, record_number=record).first()
        if patient is None or MeasureResponse.objects.filter(patient=patient).exists():
            continue
        session = DosingSession.objects.filter(patient=patient, first_administered_at__isnull=False).first()
        if session is None or session.first_administered_at is None:
            continue
        day = timezone.localdate(session.first_administered_at)
        before = _local(clinic, day - timedelta(days=4), 19, 10)
        after = _local(clinic, day + timedelta(days=1), 18, 40)
        for key, before_total, after_total in ((PHQ9, phq_before, phq_after), (GAD7, gad_before, gad_after)):
            rows.append(_response(clinic, patient, key, before_total, before))
            rows.append(_response(clinic, patient, key, after_total, after))
    created = MeasureResponse.objects.bulk_create(rows)
    _backdate(MeasureResponse, created, F("answered_at"))


# --- the history ---------------------------------------------------------------------------------


class History:
    """Collects every row of the history, then writes them in bulk, parents first."""

    def __init__(self, staff: Staff) -> None:
        self.staff = staff
        self.clinic = staff.desk.clinic
        self.today = timezone.localdate()
        rooms = list(Room.objects.filter(clinic=self.clinic, name__startswith="Dosing room").order_by("name"))
        self.rooms: list[Room | None] = list(rooms) or [None]
        self.courses: list[TreatmentCourse] = []
        self.sessions: list[DosingSession] = []
        self.administrations: list[Administration] = []
        self.readings: list[Reading] = []
        self.events: list[AdverseEvent] = []
        self.visits: list[Visit] = []
        self.notes: list[ClinicalNote] = []
        self.assignments: list[MeasureAssignment] = []
        self.requests: list[MeasureRequest] = []
        self.responses: list[MeasureResponse] = []
        self.note_days: dict[int, datetime] = {}  # id() of a visit or note: when it was signed
        self.lot_of_route: dict[str, StockLot] = {}

    def write(self) -> None:
        patients = [self._patient(spec) for spec in COURSES]
        self._lots()
        for index, (spec, patient) in enumerate(zip(COURSES, patients, strict=True)):
            self._course(index, spec, patient)
        self._save()

    # --- collecting -------------------------------------------------------------------------

    def _patient(self, spec: Course) -> Patient:
        patient = Patient.objects.filter(clinic=self.clinic, record_number=spec.record_number).first()
        if patient is None:
            digits = spec.record_number[-3:]
            patient = patient_services.patient_create(
                member=self.staff.desk,
                data={
                    "record_number": spec.record_number,
                    "legal_given_name": spec.given,
                    "legal_family_name": spec.family,
                    "date_of_birth": spec.born,
                    "sex_at_birth": spec.sex,
                    "pronouns": spec.pronouns,
                    "email": f"{spec.given.lower()}.{spec.family.lower()}@example.org",
                    "phone": f"+1 720 555 0{digits}",
                },
            )
        for member in self.staff.clinicians:
            if not patient.care_team.filter(user=member.user, removed_at__isnull=True).exists():
                patient_services.care_team_add(
                    member=self.staff.desk, patient=patient, membership_id=member.pk
                )
        return patient

    def _lots(self) -> None:
        first = max(c.first_days_ago for c in COURSES)
        received = _local(self.clinic, self.today - timedelta(days=first + 12), 9)
        for drug, form, number, routes in LOTS:
            lot = StockLot(
                clinic=self.clinic,
                drug=drug,
                form=form,
                lot_number=number,
                supplier="Example Compounding Pharmacy"
                if "troche" in form
                else "Example Wholesale Distributor",
                expires_on=received.date() + timedelta(days=540),
                received_mg=Decimal(0),
                balance_mg=Decimal(0),
                received_at=received,
                received_by=self.staff.prescriber.user,
            )
            for route in routes:
                self.lot_of_route[route] = lot

    def _course(self, index: int, spec: Course, patient: Patient) -> None:
        clinic, staff = self.clinic, self.staff
        first_day = self.today - timedelta(days=spec.first_days_ago)
        required = clinic.preparation_visits_required
        last_day = first_day + timedelta(days=SESSIONS_APART * (len(spec.doses) - 1))
        ended_on = last_day + timedelta(days=14)
        course = TreatmentCourse(
            clinic=clinic,
            patient=patient,
            route=spec.route,
            planned_dosing_sessions=len(spec.doses),
            status=CourseStatus.COMPLETED,
            status_reason="Completed the planned sessions; follow-up questionnaires continue for a month.",
            starts_on=first_day - timedelta(days=7 * required + 3),
            ended_on=ended_on,
            created_by=staff.therapist.user,
            updated_by=staff.therapist.user,
        )
        self.courses.append(course)
        for n in range(required):
            content = NOTES[min(n, len(NOTES) - 1)]
            self._visit(
                course, VisitKind.PREPARATION, first_day - timedelta(days=7 * (required - n)), content
            )
        protocol_version = current(clinic, spec.route)
        protocol = parsed(protocol_version)
        for number, dose in enumerate(spec.doses, start=1):
            day = first_day + timedelta(days=SESSIONS_APART * (number - 1))
            session = self._session(index, spec, course, protocol_version, protocol, number, dose, day)
            self._integration(index, course, session, number, day)
        self._visit(
            course,
            VisitKind.FOLLOW_UP,
            ended_on,
            {"notes": "End of the course reviewed; questionnaires for a month more, then as needed."},
        )
        self._measures(index, spec, patient, first_day)

    def _visit(self, course: TreatmentCourse, kind: str, day: date, content: dict[str, Any]) -> Visit:
        signed = _local(self.clinic, day, 17, 30)
        visit = Visit(
            clinic=self.clinic,
            course=course,
            patient=course.patient,
            kind=kind,
            happened_on=day,
            staff=self.staff.therapist.user,
            created_by=self.staff.therapist.user,
            updated_by=self.staff.therapist.user,
        )
        note = ClinicalNote(
            clinic=self.clinic,
            visit=visit,
            patient=course.patient,
            template=kind,
            content=content,
            status=NoteStatus.SIGNED,
            author=self.staff.therapist.user,
            signed_at=signed,
            version=3,
            created_by=self.staff.therapist.user,
            updated_by=self.staff.therapist.user,
        )
        self.visits.append(visit)
        self.notes.append(note)
        self.note_days[id(visit)] = self.note_days[id(note)] = signed
        return visit

    def _integration(
        self, index: int, course: TreatmentCourse, session: DosingSession, number: int, day: date
    ) -> None:
        """Most sessions have their integration visit the next day or the one after; some a
        few days late (past the clinic's due days), a few none."""
        pattern = (index * 3 + number) % 9
        if pattern == 8:
            return
        after = {6: self.clinic.integration_due_days + 2, 7: self.clinic.integration_due_days + 3}.get(
            pattern, 1 + pattern % 2
        )
        on = day + timedelta(days=after)
        came_up, themes, steps = INTEGRATION_NOTES[(index + number) % len(INTEGRATION_NOTES)]
        self._visit(
            course,
            VisitKind.INTEGRATION,
            on,
            {
                "follows_session": f"Session {number}, {day:%Y-%m-%d}",
                "what_came_up": came_up,
                "insights_and_themes": themes,
                "relation_to_intentions": "Close to the intention set in preparation.",
                "action_steps": steps,
                "measures_reviewed": "PHQ-9 and GAD-7 trend reviewed together.",
            },
        )

    def _session(
        self,
        index: int,
        spec: Course,
        course: TreatmentCourse,
        protocol_version: ProtocolVersion,
        protocol: Protocol,
        number: int,
        dose: int,
        day: date,
    ) -> DosingSession:
        staff = self.staff
        special = SPECIALS.get((spec.record_number, number), Special())
        checked_in = _local(self.clinic, day, 9 if index % 2 == 0 else 13, 0 if number % 2 else 15)
        dosed_at = checked_in + timedelta(minutes=25)
        weight = Decimal(spec.weight_kg)
        # The intravenous infusion is given by the prescriber; the others alternate.
        giver, witness = (
            (staff.prescriber, staff.nurse)
            if spec.route == "intravenous" or (index + number) % 2
            else (staff.nurse, staff.prescriber)
        )
        session = DosingSession(
            clinic=self.clinic,
            patient=course.patient,
            course=course,
            protocol=protocol_version,
            route=spec.route,
            number=number,
            status=SessionStatus.DISCHARGED,
            room=self.rooms[(index + number) % len(self.rooms)],
            checked_in_at=checked_in,
            weight_kg=weight,
            weight_at=checked_in + timedelta(minutes=5),
            fasting_confirmed=True,
            escort_confirmed=True,
            escort_name=spec.escort,
            intentions_reviewed=True,
            pregnancy_test=PregnancyTest.NEGATIVE
            if spec.sex == "female" and spec.born.year > 1975
            else PregnancyTest.NOT_APPLICABLE,
            concomitant_medications=spec.medications,
            gate_snapshot=[{**check, "override": ""} for check in GATE_SNAPSHOT],
            first_administered_at=dosed_at,
            created_by=staff.nurse.user,
            updated_by=staff.nurse.user,
        )
        self.sessions.append(session)
        dose_mg = Decimal(dose)
        self.administrations.append(
            Administration(
                clinic=self.clinic,
                session=session,
                patient=course.patient,
                drug=KETAMINE if spec.route != "nasal" else ESKETAMINE,
                route=spec.route,
                dose_mg=dose_mg,
                weight_kg=weight,
                mg_per_kg=dose_rules.per_kg(dose_mg, weight),
                started_at=dosed_at,
                ended_at=dosed_at + timedelta(minutes=protocol.infusion_minutes)
                if protocol.infusion_minutes
                else None,
                lot=self.lot_of_route[spec.route],
                administered_by=giver.user,
                witnessed_by=witness.user,
                booster=False,
                created_by=giver.user,
                updated_by=giver.user,
            )
        )
        last_vitals, last_vitals_at, last_moaas, last_moaas_at = self._readings(
            spec, session, protocol, special, dosed_at
        )
        if special.event is not None:
            event = special.event
            self.events.append(
                AdverseEvent(
                    clinic=self.clinic,
                    session=session,
                    patient=course.patient,
                    kind=event.kind,
                    description=event.description,
                    severity=event.severity,
                    serious=event.serious,
                    occurred_at=dosed_at + timedelta(minutes=event.minute, seconds=30),
                    intervention=event.intervention,
                    outcome=event.outcome,
                    recorded_by=staff.nurse.user,
                    created_by=staff.nurse.user,
                    updated_by=staff.nurse.user,
                )
            )
        facts = discharge.DischargeFacts(
            first_administered_at=dosed_at,
            now=dosed_at,
            min_observation_minutes=protocol.min_observation_minutes,
            last_vitals=last_vitals,
            last_vitals_at=last_vitals_at,
            last_moaas=last_moaas,
            last_moaas_at=last_moaas_at,
            confirmed=frozenset(CONFIRMED_ITEMS),
        )
        ready = discharge.ready_at(facts)
        discharged_at = ready + timedelta(minutes=4 + (index * 5 + number * 3) % 17 + special.extra_minutes)
        facts = replace(facts, now=discharged_at)
        items = discharge.checklist(protocol.discharge_criteria, facts, protocol.during)
        assert all(item.met for item in items), (spec.record_number, number, items)
        signer = staff.prescriber if number % 2 else staff.nurse
        session.discharged_at = discharged_at
        session.discharged_by = signer.user
        session.ready_to_leave_at = ready
        session.discharge_checklist = [
            {"item": str(i.item), "met": i.met, "message": i.message} for i in items
        ]
        session.discharge_note = special.note or f"Went home with {spec.escort.split(' (')[0]}."
        session.updated_by = signer.user
        session.version = 6
        return session

    def _readings(
        self, spec: Course, session: DosingSession, protocol: Protocol, special: Special, dosed_at: datetime
    ) -> tuple[dict[str, int | None], datetime, int, datetime]:
        systolic, diastolic, heart_rate = spec.baseline
        nurse = self.staff.nurse.user

        def reading(at: datetime, before: bool, kind: str, **values: Any) -> Reading:
            found = (
                vitals.breaches(values, protocol.before if before else protocol.during)
                if kind == ReadingKind.VITALS
                else []
            )
            row = Reading(
                clinic=self.clinic,
                session=session,
                patient=session.patient,
                kind=kind,
                taken_at=at,
                before_dose=before,
                level=str(vitals.worst(found)),
                breaches=[{**asdict(b), "level": str(b.level)} for b in found],
                recorded_by=nurse,
                created_by=nurse,
                updated_by=nurse,
                **values,
            )
            self.readings.append(row)
            return row

        reading(
            dosed_at - timedelta(minutes=12),
            True,
            ReadingKind.VITALS,
            systolic=systolic,
            diastolic=diastolic,
            heart_rate=heart_rate,
            spo2=98,
        )
        last_vitals: dict[str, int | None] = {}
        last_vitals_at = last_moaas_at = dosed_at
        last_moaas = 5
        for minute in protocol.monitoring.get(CheckKind.VITALS, ()):
            rise = RISE.get(minute, 0)
            values: dict[str, int] = {
                "systolic": systolic + rise,
                "diastolic": diastolic + rise * 6 // 10,
                "heart_rate": heart_rate + rise // 2,
                "spo2": 98 if rise < 10 else 97,
            }
            values.update(special.vitals.get(minute, {}))
            last_vitals_at = dosed_at + timedelta(minutes=minute + 1)
            row = reading(last_vitals_at, False, ReadingKind.VITALS, **values)
            last_vitals = row.vitals()
        for minute in protocol.monitoring.get(CheckKind.MOAAS, ()):
            last_moaas = special.moaas.get(minute, 4 if 15 <= minute <= 45 else 5)
            last_moaas_at = dosed_at + timedelta(minutes=minute + 1)
            reading(last_moaas_at, False, ReadingKind.MOAAS, moaas=last_moaas)
        return last_vitals, last_vitals_at, last_moaas, last_moaas_at

    def _measures(self, index: int, spec: Course, patient: Patient, first_day: date) -> None:
        """PHQ-9 and GAD-7 every 14 days from 5 days before the first session. Most are answered
        within two days of due, some late (9 days after), a few missed."""
        therapist = self.staff.therapist.user
        days = [first_day + timedelta(days=offset) for offset in SLOTS]
        for key in (PHQ9, GAD7):
            assignment = MeasureAssignment(
                clinic=self.clinic,
                patient=patient,
                instrument_key=key,
                schedule=Schedule.EVERY_N_DAYS,
                interval_days=14,
                starts_on=days[0],
                ends_on=days[-1],
                created_by=therapist,
                updated_by=therapist,
            )
            self.assignments.append(assignment)
            for slot, (day, phq) in enumerate(zip(days, spec.phq, strict=True)):
                due = _local(self.clinic, day)
                request = MeasureRequest(
                    public_id=uuid.uuid4(),
                    clinic=self.clinic,
                    patient=patient,
                    assignment=assignment,
                    instrument_key=key,
                    due_at=due,
                    status=RequestStatus.MISSED if phq is None else RequestStatus.COMPLETED,
                )
                self.requests.append(request)
                if phq is None:
                    continue
                late = slot > 0 and (index * 2 + slot) % 7 == 3
                delay = timedelta(days=LATE_DAYS if late else (index + slot) % 3, hours=19, minutes=5 * slot)
                total = phq if key == PHQ9 else _gad(phq, index % 3 - 1)
                self.responses.append(
                    _response(self.clinic, patient, key, total, due + delay, request=request)
                )

    # --- writing ----------------------------------------------------------------------------

    def _save(self) -> None:
        staff = self.staff
        lots = {id(lot): lot for lot in self.lot_of_route.values()}
        # The ledger: each lot received what its doses used, and each dose takes its share.
        entries: list[LedgerEntry] = []
        for lot in lots.values():
            given = sorted(
                (a for a in self.administrations if a.lot is lot), key=lambda a: (a.started_at, id(a))
            )
            lot.received_mg = sum((a.dose_mg for a in given), Decimal(0))
            lot.balance_mg = Decimal(0)
            lot.save()
            entries.append(
                LedgerEntry(
                    clinic=self.clinic,
                    lot=lot,
                    kind=LedgerKind.RECEIPT,
                    quantity_mg=lot.received_mg,
                    balance_after_mg=lot.received_mg,
                    at=lot.received_at,
                    by=staff.prescriber.user,
                )
            )
            balance = lot.received_mg
            for administration in given:
                balance -= administration.dose_mg
                entries.append(
                    LedgerEntry(
                        clinic=self.clinic,
                        lot=lot,
                        kind=LedgerKind.ADMINISTRATION,
                        quantity_mg=-administration.dose_mg,
                        balance_after_mg=balance,
                        at=administration.started_at,
                        by=administration.administered_by,
                        witness=administration.witnessed_by,
                        administration=administration,
                    )
                )
            assert balance == lot.balance_mg
        TreatmentCourse.objects.bulk_create(self.courses)
        through_rows = []
        therapists, medical = TreatmentCourse.therapists.through, TreatmentCourse.medical_staff.through
        for course in self.courses:
            through_rows.append(therapists(treatmentcourse_id=course.pk, user_id=staff.therapist.user_id))
        therapists.objects.bulk_create(through_rows)
        medical.objects.bulk_create(
            [
                medical(treatmentcourse_id=course.pk, user_id=member.user_id)
                for course in self.courses
                for member in (staff.prescriber, staff.nurse)
            ]
        )
        DosingSession.objects.bulk_create(self.sessions)
        Administration.objects.bulk_create(self.administrations)
        Reading.objects.bulk_create(self.readings, batch_size=500)
        AdverseEvent.objects.bulk_create(self.events)
        LedgerEntry.objects.bulk_create(entries)
        Visit.objects.bulk_create(self.visits)
        ClinicalNote.objects.bulk_create(self.notes)
        MeasureAssignment.objects.bulk_create(self.assignments)
        MeasureRequest.objects.bulk_create(self.requests)
        MeasureResponse.objects.bulk_create(self.responses)
        # bulk_create stamps auto_now fields with "now": put each row at its own time.
        start_of = {c.pk: _local(self.clinic, c.starts_on, 10) for c in self.courses}
        _backdate(TreatmentCourse, self.courses, lambda c: start_of[c.pk])
        DosingSession.objects.filter(pk__in=[s.pk for s in self.sessions]).update(
            created_at=F("checked_in_at"), updated_at=F("discharged_at")
        )
        _backdate(Administration, self.administrations, F("started_at"))
        _backdate(Reading, self.readings, F("taken_at"))
        _backdate(AdverseEvent, self.events, F("occurred_at"))
        _backdate(Visit, self.visits, lambda v: self.note_days[id(v)])
        _backdate(ClinicalNote, self.notes, lambda n: self.note_days[id(n)])
        _backdate(MeasureAssignment, self.assignments, lambda a: _local(self.clinic, a.starts_on, 8))
        MeasureRequest.objects.filter(pk__in=[r.pk for r in self.requests]).update(created_at=F("due_at"))
        _backdate(MeasureResponse, self.responses, F("answered_at"))
