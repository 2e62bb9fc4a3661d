"""A small fixed data set for the outcome reports, written straight with the ORM (fast).

The period is March 2025 in the Demo clinic's time zone (America/Denver), both days counted:
[2025-03-01 00:00 MST, 2025-04-01 00:00 MDT). One patient per course (scores belong to the
patient). PHQ-9 baseline -> latest (the last score before the period end):

    course  route          baseline  latest  response   remission  change  sessions held  max mg/kg
    A       sublingual     10        5       yes (edge)  no (=5)    -5      2             0.500
    B       sublingual     11        6       no (45%)    no         -5      1             0.499
    C       buccal         16        4       yes         yes        -12     3             2.000
    D       buccal         12        5       yes         no (=5)    -7      1             1.999
    E       intramuscular  9         3       not eligible yes       -6      5             1.000
    F       intramuscular  none      7       left out   left out    -       0 (in session) no weight
    G       sublingual     20        2       first dose 2025-02-28 23:30 local: not in the period

GAD-7: A 12 -> 6, C 15 -> 5. Every other figure (sessions, events, blood pressure, discharge
times, integration visits, questionnaires) is spelled out where it is planted below and
computed by hand in test_figures.py.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from kapflow.accounts.models import User
from kapflow.clinics.models import Clinic
from kapflow.courses.models import CourseStatus, TreatmentCourse, Visit, VisitKind
from kapflow.dosing import protocols, vitals
from kapflow.dosing.models import (
    Administration,
    AdverseEvent,
    DosingSession,
    EventOutcome,
    Reading,
    SessionStatus,
    StockLot,
)
from kapflow.measures.models import (
    MeasureAssignment,
    MeasureRequest,
    MeasureResponse,
    RequestStatus,
    ResponseSource,
)
from kapflow.patients.models import Patient

DENVER = ZoneInfo("America/Denver")
FIRST_DAY = date(2025, 3, 1)
LAST_DAY = date(2025, 3, 31)
START = datetime(2025, 3, 1, tzinfo=DENVER)
END = datetime(2025, 4, 1, tzinfo=DENVER)  # exclusive


def at(day: int, hour: int = 10, minute: int = 0, month: int = 3) -> datetime:
    """A wall-clock time in Denver in 2025 (March unless told)."""
    return datetime(2025, month, day, hour, minute, tzinfo=DENVER)


@dataclass
class Fixed:
    clinic: Clinic
    patients: dict[str, Patient] = field(default_factory=dict)
    courses: dict[str, TreatmentCourse] = field(default_factory=dict)
    sessions: dict[str, DosingSession] = field(default_factory=dict)  # "A1", "A2", ...


class _Builder:
    def __init__(self, world, clinic: Clinic | None = None, prefix: str = "OUT") -> None:
        self.clinic = clinic or world.demo
        self.staff: User = (world.prescriber if clinic is None else world.other_admin).user
        self.prefix = prefix
        self.fixed = Fixed(clinic=self.clinic)
        self.lot = StockLot.objects.create(
            clinic=self.clinic,
            form="100 mg troche",
            lot_number=f"{prefix}-LOT",
            expires_on=date(2026, 12, 31),
            received_mg=Decimal("10000"),
            balance_mg=Decimal("10000"),
            received_at=at(1, 8, month=1),
            received_by=self.staff,
        )
        self._assignments: dict[tuple[int, str], MeasureAssignment] = {}

    def _record(self) -> dict[str, object]:
        return {"clinic": self.clinic, "created_by": self.staff, "updated_by": self.staff}

    # --- people and courses -------------------------------------------------------------------
    def course(self, key: str, route: str, born: date = date(1980, 6, 15)) -> TreatmentCourse:
        patient = Patient.objects.create(
            **self._record(),
            record_number=f"{self.prefix}-{key}",
            legal_given_name=f"Patient{key}",
            legal_family_name="Outcome",
            date_of_birth=born,
        )
        course = TreatmentCourse.objects.create(
            **self._record(),
            patient=patient,
            route=route,
            planned_dosing_sessions=6,
            status=CourseStatus.ACTIVE,
            starts_on=date(2025, 2, 1),
        )
        self.fixed.patients[key] = patient
        self.fixed.courses[key] = course
        return course

    def session(
        self,
        key: str,
        number: int,
        first_dose: datetime | None,
        *,
        discharge_after: int | None = None,
        status: str | None = None,
        mg_per_kg: str | None = "1.000",
        voided: bool = False,
    ) -> DosingSession:
        """Checked in 30 minutes before the first dose; discharged ``discharge_after`` minutes
        after it; one (non-booster) administration of ``mg_per_kg`` at 70 kg (None: no weight)."""
        course = self.fixed.courses[key]
        checked_in = (first_dose or at(20, 9)) - timedelta(minutes=30)
        if status is None:
            status = SessionStatus.DISCHARGED if discharge_after is not None else SessionStatus.IN_SESSION
        session = DosingSession.objects.create(
            **self._record(),
            patient=course.patient,
            course=course,
            protocol=protocols.current(self.clinic, course.route),
            route=course.route,
            number=number,
            status=status,
            checked_in_at=checked_in,
            weight_kg=Decimal("70.0") if mg_per_kg is not None else None,
            first_administered_at=first_dose,
            discharged_at=first_dose + timedelta(minutes=discharge_after)
            if first_dose is not None and discharge_after is not None
            else None,
            discharged_by=self.staff if discharge_after is not None else None,
            voided_at=at(31, 12) if voided else None,
            voided_by=self.staff if voided else None,
            void_reason="Entered for the wrong patient." if voided else "",
        )
        if first_dose is not None:
            self.administration(session, first_dose, mg_per_kg)
        self.fixed.sessions[f"{key}{number}"] = session
        return session

    def administration(
        self,
        session: DosingSession,
        started: datetime,
        mg_per_kg: str | None,
        *,
        booster: bool = False,
        voided: bool = False,
    ) -> Administration:
        per_kg = Decimal(mg_per_kg) if mg_per_kg is not None else None
        return Administration.objects.create(
            **self._record(),
            session=session,
            patient=session.patient,
            route=session.route,
            dose_mg=(per_kg * 70).quantize(Decimal("0.01")) if per_kg is not None else Decimal("100"),
            weight_kg=Decimal("70.0") if per_kg is not None else None,
            mg_per_kg=per_kg,
            started_at=started,
            lot=self.lot,
            administered_by=self.staff,
            booster=booster,
            voided_at=at(31, 12) if voided else None,
            voided_by=self.staff if voided else None,
        )

    # --- monitoring and events ----------------------------------------------------------------
    def vitals(
        self,
        session: DosingSession,
        taken: datetime,
        systolic: int,
        diastolic: int,
        heart_rate: int = 80,
        *,
        voided: bool = False,
    ) -> Reading:
        """A vitals reading judged as kapflow.dosing.services.reading_record judges it."""
        values = {"systolic": systolic, "diastolic": diastolic, "heart_rate": heart_rate, "spo2": 98}
        before = session.first_administered_at is None or taken < session.first_administered_at
        protocol = protocols.parsed(session.protocol)
        found = vitals.breaches(values, protocol.before if before else protocol.during)
        return Reading.objects.create(
            **self._record(),
            session=session,
            patient=session.patient,
            kind="vitals",
            taken_at=taken,
            before_dose=before,
            level=str(vitals.worst(found)),
            breaches=[{**asdict(b), "level": str(b.level)} for b in found],
            recorded_by=self.staff,
            voided_at=at(31, 12) if voided else None,
            voided_by=self.staff if voided else None,
            **values,
        )

    def event(
        self,
        session: DosingSession,
        kind: str,
        *,
        severity: str = "mild",
        serious: bool = False,
        voided: bool = False,
    ) -> AdverseEvent:
        assert session.first_administered_at is not None
        return AdverseEvent.objects.create(
            **self._record(),
            session=session,
            patient=session.patient,
            kind=kind,
            severity=severity,
            serious=serious,
            occurred_at=session.first_administered_at + timedelta(minutes=20),
            outcome=EventOutcome.RESOLVED,
            recorded_by=self.staff,
            voided_at=at(31, 12) if voided else None,
            voided_by=self.staff if voided else None,
        )

    def visit(self, key: str, day: date, kind: str = VisitKind.INTEGRATION, *, voided: bool = False) -> Visit:
        course = self.fixed.courses[key]
        return Visit.objects.create(
            **self._record(),
            course=course,
            patient=course.patient,
            kind=kind,
            happened_on=day,
            staff=self.staff,
            voided_at=at(31, 12) if voided else None,
            voided_by=self.staff if voided else None,
        )

    # --- questionnaires -----------------------------------------------------------------------
    def score(
        self,
        key: str,
        instrument: str,
        total: int,
        answered: datetime,
        *,
        request: MeasureRequest | None = None,
        replaces: MeasureResponse | None = None,
    ) -> MeasureResponse:
        return MeasureResponse.objects.create(
            **self._record(),
            patient=self.fixed.patients[key],
            request=request,
            instrument_key=instrument,
            instrument_version="1",
            instrument_name="PHQ-9" if instrument == "phq9" else "GAD-7",
            answers={"entered": "by staff"},
            total=total,
            answered_at=answered,
            source=ResponseSource.STAFF,
            replaces=replaces,
            correction_reason="Typed the wrong total." if replaces is not None else "",
        )

    def request(
        self, key: str, due: datetime, status: str = RequestStatus.DUE, instrument: str = "phq9"
    ) -> MeasureRequest:
        patient = self.fixed.patients[key]
        assignment = self._assignments.get((patient.pk, instrument))
        if assignment is None:
            assignment = MeasureAssignment.objects.create(
                **self._record(),
                patient=patient,
                instrument_key=instrument,
                schedule="every_n_days",
                interval_days=7,
                starts_on=date(2025, 2, 1),
            )
            self._assignments[(patient.pk, instrument)] = assignment
        return MeasureRequest.objects.create(
            public_id=uuid.uuid4(),
            clinic=self.clinic,
            patient=patient,
            assignment=assignment,
            instrument_key=instrument,
            due_at=due,
            status=status,
        )


def build(world) -> Fixed:
    """The fixed data set in the Demo clinic (nothing in Other)."""
    b = _Builder(world)

    # A: sublingual; baseline 10 (the last before the first dose; 20 before that), latest 5 on
    # 20 March (a 20 after the period end is not the latest): 10 -> 5 is exactly 50%, responds.
    b.course("A", "sublingual", born=date(1935, 3, 2))
    a1 = b.session("A", 1, at(3), discharge_after=120, mg_per_kg="0.500")
    b.administration(a1, at(3, 10, 40), "3.000", booster=True)  # boosters are not "the dose"
    a2 = b.session("A", 2, at(10), discharge_after=90, mg_per_kg="0.400")
    b.score("A", "phq9", 20, at(20, 9, month=2))
    b.score("A", "phq9", 10, at(1, 10), request=b.request("A", at(1, 9), RequestStatus.COMPLETED))
    b.score("A", "phq9", 8, at(10, 15))
    b.score("A", "phq9", 5, at(20, 9))
    b.score("A", "phq9", 20, at(5, 9, month=4))
    b.score("A", "gad7", 12, at(1, 10))
    b.score("A", "gad7", 6, at(20, 9))

    # B: sublingual; 11 -> 6 (5 of 11 = 45%): no response. Its evening session is checked in
    # at 19:30 on 4 March local time (5 March in UTC). A voided session of B (dose 5 mg/kg, a
    # sedation event) counts for nothing.
    b.course("B", "sublingual")
    b.session("B", 1, at(4, 20), discharge_after=100, mg_per_kg="0.499")
    b2 = b.session("B", 2, at(8), discharge_after=60, mg_per_kg="5.000", voided=True)
    b.event(b2, "sedation")
    b.score("B", "phq9", 11, at(2, 9))
    b.score("B", "phq9", 6, at(17, 9), request=b.request("B", at(10, 9), RequestStatus.COMPLETED))

    # C: buccal; 16 -> 4 (a 9 on 25 March corrected to 4): responds and remits. GAD-7 15 -> 5.
    b.course("C", "buccal")
    c1 = b.session("C", 1, at(5), discharge_after=60, mg_per_kg="1.000")
    c2 = b.session("C", 2, at(12), discharge_after=75, mg_per_kg="1.500")
    c3 = b.session("C", 3, at(19), discharge_after=90, mg_per_kg="2.000")
    b.score("C", "phq9", 16, at(2, 9))
    typo = b.score("C", "phq9", 9, at(25, 9))
    b.score("C", "phq9", 4, at(25, 9), replaces=typo)
    b.score("C", "gad7", 15, at(2, 9))
    b.score("C", "gad7", 5, at(25, 9))

    # D: buccal; 12 -> 5: responds (10 <= 12), no remission (5 is not below 5). A cancelled
    # session (no dose) is not a session of the period.
    b.course("D", "buccal")
    d1 = b.session("D", 1, at(6), discharge_after=47, mg_per_kg="1.999")
    b.session("D", 2, None, status=SessionStatus.CANCELLED)
    b.score("D", "phq9", 12, at(5, 9))
    b.score("D", "phq9", 5, at(27, 9))

    # E: intramuscular; baseline 9: not eligible for response; 9 -> 3 remits; five sessions.
    b.course("E", "intramuscular")
    e_sessions = [
        b.session("E", n, at(day), discharge_after=minutes, mg_per_kg="1.000")
        for n, (day, minutes) in enumerate(((3, 60), (7, 70), (11, 80), (15, 90), (19, 100)), start=1)
    ]
    b.administration(e_sessions[0], at(3, 10, 5), "5.000", voided=True)  # voided: not the largest
    b.score("E", "phq9", 9, at(1, 12))
    b.score("E", "phq9", 3, at(19, 9, 1), request=b.request("E", at(12, 9), RequestStatus.COMPLETED))

    # F: intramuscular; no PHQ-9 before the first dose (left out, counted); still in session;
    # no weight recorded.
    b.course("F", "intramuscular")
    f1 = b.session("F", 1, at(28), mg_per_kg=None)
    b.score("F", "phq9", 7, at(28, 12))

    # G: sublingual; first dose 23:30 on 28 February local (1 March in UTC): not in the period,
    # though its second session (5 March) is a session of the period.
    b.course("G", "sublingual")
    g1 = b.session("G", 1, at(28, 23, 30, month=2), discharge_after=90, mg_per_kg="1.000")
    g2 = b.session("G", 2, at(5, 14), discharge_after=110, mg_per_kg="1.000")
    b.score("G", "phq9", 20, at(20, 9, month=2))
    b.score("G", "phq9", 2, at(20, 9))

    # Adverse events of the period's sessions: nausea 2, hypertension 1, desaturation 1
    # (serious), agitation 1. Not counted: a voided one, one in February, the voided session's.
    b.event(a1, "nausea_vomiting")
    b.event(c2, "hypertension", severity="moderate")
    b.event(c3, "nausea_vomiting")
    b.event(e_sessions[2], "desaturation", severity="severe", serious=True)
    b.event(g2, "agitation")
    b.event(a2, "tachycardia", voided=True)
    b.event(g1, "nausea_vomiting")

    # Blood pressure (during: caution above 160/100, hard stop above 180/110; before the dose:
    # 140/90 and 160/100). Caution: A1, C1, E1 (systolic caution with a heart-rate hard stop)
    # and F1 (before the dose). Hard stop: C1 (diastolic). Not blood pressure: D1 (heart rate).
    # Not counted: a voided reading (E2), February (G1), the voided session B2.
    b.vitals(a1, at(3, 10, 30), 165, 90)
    b.vitals(a2, at(10, 10, 30), 120, 80)
    b.vitals(c1, at(5, 10, 20), 150, 115)
    b.vitals(c1, at(5, 10, 40), 170, 95)
    b.vitals(d1, at(6, 10, 20), 130, 80, heart_rate=125)
    b.vitals(e_sessions[0], at(3, 10, 20), 165, 90, heart_rate=145)
    b.vitals(e_sessions[1], at(7, 10, 20), 185, 95, voided=True)
    b.vitals(f1, at(28, 9, 45), 145, 85)
    b.vitals(g1, at(28, 23, 50, month=2), 185, 95)
    b.vitals(b2, at(8, 10, 20), 190, 120)

    # Integration visits (due within 3 days, the session's local day included). In time: A1
    # (6 Mar, the last day), B1 (4 Mar, its local day), C2 (13 Mar), E2 (8 Mar), E4 (16 Mar),
    # G2 (7 Mar). Late or none: A2 (14 Mar is 4 days), C1 (a preparation visit is not one),
    # C3, D1, E1, E3 (its 12 Mar visit is voided), E5.
    b.visit("A", date(2025, 3, 6))
    b.visit("A", date(2025, 3, 14))
    b.visit("B", date(2025, 3, 4))
    b.visit("C", date(2025, 3, 6), VisitKind.PREPARATION)
    b.visit("C", date(2025, 3, 13))
    b.visit("E", date(2025, 3, 8))
    b.visit("E", date(2025, 3, 12), voided=True)
    b.visit("E", date(2025, 3, 16))
    b.visit("G", date(2025, 3, 7))

    # Questionnaires due in the period: A's (1 Mar, answered in an hour), B's (10 Mar, answered
    # exactly 7 days later: on time), E's (12 Mar, answered 7 days and 1 minute later: late),
    # and two never answered (missed, still due). Not due in the period: a cancelled one, one
    # due in February, one due in April.
    b.request("D", at(15, 9), RequestStatus.MISSED)
    b.request("D", at(22, 9), RequestStatus.DUE)
    b.request("C", at(18, 9), RequestStatus.CANCELLED)
    feb = b.request("G", at(25, 9, month=2), RequestStatus.COMPLETED)
    b.score("G", "phq9", 20, at(25, 10, month=2), request=feb)
    b.request("G", at(2, 9, month=4), RequestStatus.DUE)
    return b.fixed


def build_other(world) -> Fixed:
    """One course in the Other clinic with a first dose, a response and an event in March."""
    b = _Builder(world, clinic=world.other, prefix="OTH")
    b.course("Z", "sublingual")
    z1 = b.session("Z", 1, at(10), discharge_after=100, mg_per_kg="1.000")
    b.event(z1, "nausea_vomiting", serious=True)
    b.vitals(z1, at(10, 10, 30), 190, 120)
    b.visit("Z", date(2025, 3, 11))
    b.score("Z", "phq9", 20, at(1, 9))
    b.score("Z", "phq9", 2, at(20, 9), request=b.request("Z", at(20, 8), RequestStatus.COMPLETED))
    return b.fixed
