"""A synthetic clinic network for benchmarks: ``kapflow seed --clinics 25 --patients 50000``.

Every clinic gets staff, rooms, the example protocols and consent text, and patients spread
over the whole pathway: new, screening, not eligible, preparing, in an active, paused,
discontinued or completed course. Treated patients have their screening and baseline measures,
consent, preparation visits, dosing sessions (appointment, administration from a stock lot
with its ledger entry, monitoring readings, the therapist's guide note, now and then an
adverse event), integration visits, PHQ-9 and GAD-7 before every session, journal entries and
their next appointments. Each clinic has a few sessions in progress now, for the live page.

The same ``seed`` and day give the same network. Rows are written with ``kapflow.core.bulk``
(no model instances, no history rows, no access-log entries: nobody looked at anything), one
transaction per clinic, so an interrupted run leaves whole clinics.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from kapflow.accounts.models import Membership, User
from kapflow.clinics.models import Clinic, Location, Room, RoomKind
from kapflow.consent.models import ConsentSignature, ConsentTemplate, ConsentWitness
from kapflow.core.bulk import Table, reset_sequences
from kapflow.core.roles import Role
from kapflow.courses import rules as note_rules
from kapflow.courses.models import (
    ClinicalNote,
    Intention,
    JournalEntry,
    TreatmentCourse,
    Visit,
)
from kapflow.dosing import protocols
from kapflow.dosing.models import (
    Administration,
    AdverseEvent,
    DosingSession,
    LedgerEntry,
    Reading,
    StockLot,
)
from kapflow.measures.instruments.builtin import GAD7, PHQ9
from kapflow.measures.instruments.model import Instrument
from kapflow.measures.instruments.scoring import score
from kapflow.measures.models import MeasureAssignment, MeasureRequest, MeasureResponse, SafetyAlert
from kapflow.patients.models import CareTeamMember, ClinicalBackground, Patient
from kapflow.scheduling.models import Appointment, AppointmentStaff
from kapflow.scheduling.services import types_for
from kapflow.screening.models import EligibilityDecision, HealthQuestionnaire, MedicalScreening
from kapflow.screening.rules import RuleSet, evaluate
from kapflow.screening.services import bmi, facts_from, rules_for

PASSWORD = "kapflow-demo"  # noqa: S105 - the published demo password; the command is refused in production  # nosec B105
SLUG = "network-{:02d}"
HISTORY_DAYS = 3 * 365
SLOTS = (time(8, 0), time(10, 30), time(13, 0), time(15, 30))  # a dosing appointment every 2.5 h
DOSING_LENGTH = timedelta(minutes=150)
LIVE_SESSIONS = 3  # per clinic: dosing sessions in progress at the time of seeding

# Where each patient is on the pathway, with its share of patients (percent).
STAGES = (
    ("new", 10),
    ("screening", 5),
    ("not_eligible", 8),
    ("preparing", 7),
    ("active", 28),
    ("paused", 2),
    ("discontinued", 6),
    ("completed", 34),
)
STAGE_POOL = [stage for stage, share in STAGES for _ in range(share)]
TREATED = frozenset({"active", "paused", "discontinued", "completed"})
ROUTES = (("sublingual", 45), ("intramuscular", 40), ("intravenous", 15))
TIME_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
)
CITIES = (
    "Asheville", "Austin", "Boise", "Boulder", "Burlington", "Charleston", "Denver", "Durham",
    "Eugene", "Fort Collins", "Madison", "Missoula", "Nashville", "Oakland", "Olympia", "Portland",
    "Providence", "Raleigh", "Reno", "Sacramento", "Salt Lake City", "Santa Fe", "Savannah",
    "Seattle", "Spokane", "Tacoma", "Tucson", "Ann Arbor", "Bend", "Flagstaff",
)  # fmt: skip
GIVEN = (
    "Aaliyah", "Aiden", "Amara", "Ana", "Ben", "Caleb", "Camila", "Chen", "Chloe", "Daniel", "Deja",
    "Diego", "Elena", "Eli", "Emma", "Farah", "Gabriel", "Grace", "Hana", "Isaac", "Isabel", "Jamal",
    "Jin", "Jordan", "Kai", "Kofi", "Laila", "Leo", "Lucia", "Malik", "Maya", "Mei", "Nadia", "Noah",
    "Omar", "Priya", "Quinn", "Rafael", "Riley", "Rosa", "Sam", "Sofia", "Tariq", "Theo", "Uma",
    "Victor", "Wren", "Xavier", "Yara", "Zoe",
)  # fmt: skip
FAMILY = (
    "Abbott", "Adeyemi", "Alvarez", "Bauer", "Bennett", "Brooks", "Castillo", "Chen", "Clarke",
    "Cohen", "Diaz", "Dubois", "Ellis", "Fischer", "Flores", "Garcia", "Gupta", "Hall", "Hansen",
    "Ibrahim", "Ito", "Jensen", "Kaur", "Kim", "Kowalski", "Larsen", "Lopez", "Mbeki", "Meyer",
    "Morales", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Perez", "Quinn",
    "Ramos", "Reyes", "Rossi", "Sato", "Schmidt", "Silva", "Singh", "Tanaka", "Torres", "Walsh",
    "Wong", "Yilmaz", "Zhang",
)  # fmt: skip
CONCERNS = (
    "Recurrent major depression; several adequate antidepressant trials without remission.",
    "Treatment-resistant depression with anxious distress.",
    "Chronic PTSD after an accident; prolonged exposure therapy helped only in part.",
    "Depression with prominent anhedonia after two medication trials and CBT.",
)
EXPLAINED = [option.key for option in note_rules.EXPLAINED]  # every point ticked in preparation notes


@dataclass
class Summary:
    clinics: int = 0
    patients: int = 0
    sessions: int = 0
    rows: int = 0
    by_table: dict[str, int] = field(default_factory=dict)


Progress = Callable[[int, int, int, int], None]  # (patients done, patients in all, rows, clinics done)


class SeedRefused(Exception):
    pass


def generate(
    *, clinics: int, patients: int, seed: int, now: datetime | None = None, progress: Progress | None = None
) -> Summary:
    """Create the network; refuses when a network clinic already exists."""
    if clinics < 1 or patients < clinics:
        raise SeedRefused("Give at least one clinic and at least one patient per clinic.")
    if Clinic.objects.filter(slug=SLUG.format(1)).exists():
        raise SeedRefused(f"This database already has a seeded network (clinic {SLUG.format(1)}).")
    with _bulk_load():
        return _generate(clinics, patients, Network(seed=seed, now=now or timezone.now()), progress)


@contextmanager
def _bulk_load() -> Iterator[None]:
    """On SQLite: 1 GiB of page cache keeps the indexes being filled (random public ids) in
    memory, and generated rows need no fsync per clinic (a crash half-way means seeding again).
    The connection's settings are put back afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    outside = not connection.in_atomic_block  # SQLite changes the safety level only between transactions
    with connection.cursor() as cursor:
        cache = cursor.execute("PRAGMA cache_size").fetchone()[0]
        synchronous = cursor.execute("PRAGMA synchronous").fetchone()[0]
        cursor.execute("PRAGMA cache_size = -1048576")
        if outside:
            cursor.execute("PRAGMA synchronous = OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(cache)}")
            if outside:
                cursor.execute(f"PRAGMA synchronous = {int(synchronous)}")


def _generate(clinics: int, patients: int, network: Network, progress: Progress | None) -> Summary:
    summary = Summary()
    for index in range(clinics):
        share = patients // clinics + (1 if index < patients % clinics else 0)
        with transaction.atomic():
            network.clinic(index + 1, share, lambda done: _report(progress, summary, done, patients, network))
            summary.rows += network.flush()
        summary.clinics += 1
        summary.patients += share
        _report(progress, summary, 0, patients, network)
    reset_sequences(network.written_models())
    _analyze()
    summary.sessions = network.tables[DosingSession].written
    summary.by_table = {m._meta.label: t.written for m, t in network.tables.items()}
    return summary


def _analyze() -> None:
    """PostgreSQL plans by statistics that autovacuum gathers in time; millions of rows loaded a
    moment ago have none yet (a course list then took 650 ms instead of 50). Gather them now."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def grow(*, clinic: Clinic, patients: int, seed: int, now: datetime | None = None) -> Summary:
    """Add patients (and all their history) to a clinic of the network, as ``generate`` makes them."""
    if not clinic.slug.startswith(SLUG.format(0)[:-2]):
        raise SeedRefused(f"{clinic.slug} is not a clinic of the seeded network.")
    network = Network(seed=seed, now=now or timezone.now())
    with transaction.atomic():
        place = network.place_of(clinic)
        for _ in range(patients):
            network.patient(place, network.rng.choice(STAGE_POOL))
        network.ledger(place)
        rows = network.flush()
    reset_sequences(network.written_models())
    return Summary(clinics=0, patients=patients, sessions=network.tables[DosingSession].written, rows=rows)


def _report(progress: Progress | None, summary: Summary, done: int, total: int, network: Network) -> None:
    if progress is not None:
        progress(summary.patients + done, total, summary.rows + network.pending(), summary.clinics)


# The order rows are written in: every table after the tables it points to.
ORDER: tuple[type[models.Model], ...] = (
    User,
    Membership,
    Patient,
    CareTeamMember,
    ClinicalBackground,
    HealthQuestionnaire,
    MeasureAssignment,
    MeasureRequest,
    MeasureResponse,
    SafetyAlert,
    MedicalScreening,
    EligibilityDecision,
    ConsentSignature,
    ConsentWitness,
    TreatmentCourse,
    TreatmentCourse.therapists.through,
    TreatmentCourse.medical_staff.through,
    Intention,
    JournalEntry,
    DosingSession,
    Appointment,
    AppointmentStaff,
    Visit,
    ClinicalNote,
    StockLot,
    Administration,
    LedgerEntry,
    Reading,
    AdverseEvent,
)


@dataclass
class Staff:
    admin: int
    desk: list[int]
    therapists: list[int]
    prescribers: list[int]
    nurses: list[int]

    @property
    def medical(self) -> list[int]:
        return self.prescribers + self.nurses


@dataclass
class Place:
    """One clinic being generated: its settings rows, staff, rooms and booking calendar."""

    clinic: Clinic
    staff: Staff
    rooms: list[int]
    protocols: dict[str, int]
    consent: int
    rules: RuleSet
    monitoring: dict[str, dict[str, list[int]]]  # route -> kind of reading -> minutes after the dose
    live_left: int = LIVE_SESSIONS
    booked: dict[tuple[date, int], set[int]] = field(default_factory=dict)  # people, and rooms as -id
    doses: list[dict[str, Any]] = field(default_factory=list)
    record_number: int = 0
    lots: int = 0

    def local(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.clinic.tzinfo)

    def book(self, wanted: date, people: tuple[int, ...], last: date) -> tuple[datetime, int] | None:
        """The first free treatment room and slot on or after ``wanted`` with these people free."""
        day = wanted
        while day <= last:
            if day.weekday() < 5:
                for slot in range(len(SLOTS)):
                    taken = self.booked.setdefault((day, slot), set())
                    room = next((r for r in self.rooms if -r not in taken), None)
                    if room is not None and not taken.intersection(people):
                        taken.update((-room, *people))
                        return self.local(day, SLOTS[slot]), room
            day += timedelta(days=1)
        return None


class Network:
    def __init__(self, *, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible on purpose  # nosec B311
        self.now = now
        self.tables: dict[type[models.Model], Table] = {m: Table(m, self.rng) for m in ORDER}
        self.password = make_password(PASSWORD, salt="kapflowseed")
        self.scores: dict[tuple[str, tuple[int, ...]], dict[str, Any]] = {}

    def written_models(self) -> list[type[models.Model]]:
        return [*self.tables, Clinic, Location, Room]

    def pending(self) -> int:
        return sum(len(t.rows) for t in self.tables.values())

    def flush(self) -> int:
        return sum(self.tables[m].flush() for m in ORDER)

    def add(self, model: type[models.Model], **values: Any) -> int:
        return self.tables[model].add(**values)

    def record(
        self, model: type[models.Model], place: Place, at: datetime, by: int | None, **values: Any
    ) -> int:
        """A clinical row (``ClinicalRecord``): its clinic, times, authorship and public id."""
        return self.add(
            model,
            clinic_id=place.clinic.pk,
            created_at=at,
            updated_at=at,
            created_by_id=by,
            updated_by_id=by,
            **values,
        )

    # --- a clinic and its settings -------------------------------------------------------

    def clinic(self, number: int, patients: int, tick: Callable[[int], None]) -> None:
        rng = self.rng
        city = CITIES[(number - 1) % len(CITIES)]
        name = f"{city} KAP Clinic" if number <= len(CITIES) else f"{city} KAP Clinic {number}"
        clinic = Clinic.objects.create(
            slug=SLUG.format(number),
            name=name,
            time_zone=rng.choice(TIME_ZONES),
            phone=f"+1 555 01{number:02d} 0000",
            email=f"hello@{SLUG.format(number)}.kapflow.test",
        )
        location = Location.objects.create(clinic=clinic, name=f"{city} office")
        rooms = [
            Room.objects.create(
                clinic=clinic, location=location, name=f"Dosing room {i}", kind=RoomKind.TREATMENT
            ).pk
            for i in range(1, 5)
        ]
        Room.objects.create(
            clinic=clinic, location=location, name="Consultation room", kind=RoomKind.CONSULTATION
        )
        staff = self.staff(clinic, patients)
        admin = User.objects.get(pk=staff.admin)
        template = ConsentTemplate.objects.create(
            clinic=clinic,
            version=1,
            title="Consent to ketamine-assisted psychotherapy",
            body="What KAP is, its effects and risks, the roles of the team, and your rights. (Synthetic text.)",
            created_by=admin,
        )
        types_for(clinic)
        place = _place(clinic, staff, rooms, template.pk)
        self.reserve_live_rooms(place)
        for n in range(patients):
            self.patient(place, rng.choice(STAGE_POOL))
            if n % 250 == 249:
                tick(n + 1)
        self.ledger(place)

    def place_of(self, clinic: Clinic) -> Place:
        """A clinic already in the network, with its calendar as booked so far."""
        by_role: dict[str, list[int]] = {}
        for user, role in Membership.objects.filter(clinic=clinic, is_active=True).values_list(
            "user", "role"
        ):
            by_role.setdefault(role, []).append(user)
        staff = Staff(
            admin=by_role[Role.CLINIC_ADMIN][0],
            desk=by_role[Role.FRONT_DESK],
            therapists=by_role[Role.THERAPIST],
            prescribers=by_role[Role.PRESCRIBER],
            nurses=by_role[Role.NURSE],
        )
        rooms = list(
            Room.objects.filter(clinic=clinic, kind=RoomKind.TREATMENT)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        template = ConsentTemplate.objects.filter(clinic=clinic).order_by("-version").first()
        if template is None:
            raise SeedRefused(f"{clinic.slug} has no consent text.")
        place = _place(
            clinic,
            staff,
            rooms,
            template.pk,
            live_left=0,
            record_number=Patient.objects.filter(clinic=clinic).count(),
            lots=StockLot.objects.filter(clinic=clinic).count(),
        )
        starts = {time: n for n, time in enumerate(SLOTS)}
        booked = Appointment.objects.filter(clinic=clinic, kind="dosing", room__isnull=False)
        for appointment in booked.prefetch_related("staff"):
            local = appointment.starts_at.astimezone(clinic.tzinfo)
            slot = starts.get(local.time())
            if slot is not None:
                taken = place.booked.setdefault((local.date(), slot), set())
                taken.update((-(appointment.room_id or 0), *(s.user_id for s in appointment.staff.all())))
        return place

    def staff(self, clinic: Clinic, patients: int) -> Staff:
        slug = clinic.slug

        def person(role: Role, n: int) -> int:
            user = self.add(
                User,
                email=f"{role.value}{n}@{slug}.kapflow.test".replace("_", ""),
                full_name=f"{self.rng.choice(GIVEN)} {self.rng.choice(FAMILY)}",
                password=self.password,
                date_joined=self.now - timedelta(days=HISTORY_DAYS),
            )
            self.add(Membership, user_id=user, clinic_id=clinic.pk, role=role.value, created_at=self.now)
            return user

        def people(role: Role, count: int) -> list[int]:
            return [person(role, n) for n in range(1, count + 1)]

        staff = Staff(
            admin=person(Role.CLINIC_ADMIN, 1),
            desk=people(Role.FRONT_DESK, 2),
            therapists=people(Role.THERAPIST, max(2, patients // 150)),
            prescribers=people(Role.PRESCRIBER, max(1, patients // 600)),
            nurses=people(Role.NURSE, max(2, patients // 300)),
        )
        self.tables[User].flush()
        self.tables[Membership].flush()
        return staff

    def reserve_live_rooms(self, place: Place) -> None:
        """Today's slots in the rooms of the live sessions are taken by them."""
        today = timezone.localdate(self.now, place.clinic.tzinfo)
        for slot in range(len(SLOTS)):
            place.booked.setdefault((today, slot), set()).update(
                -room for room in place.rooms[:LIVE_SESSIONS]
            )

    # --- a patient ------------------------------------------------------------------------

    def patient(self, place: Place, stage: str) -> None:
        rng = self.rng
        today = timezone.localdate(self.now, place.clinic.tzinfo)
        if stage == "completed":
            first = today - timedelta(days=rng.randint(150, HISTORY_DAYS))
        elif stage in TREATED:
            first = today - timedelta(days=rng.randint(25, 110))
        elif stage == "not_eligible":
            first = today - timedelta(days=rng.randint(10, HISTORY_DAYS))
        else:
            first = today - timedelta(days=rng.randint(1, 30))
        place.record_number += 1
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        desk = rng.choice(place.staff.desk)
        created = place.local(first, time(9, rng.randint(0, 59)))
        patient = self.record(
            Patient,
            place,
            created,
            desk,
            record_number=f"{place.clinic.slug.upper()}-{place.record_number:05d}",
            legal_given_name=given,
            legal_family_name=family,
            pronouns=rng.choice(("she/her", "he/him", "they/them", "")),
            date_of_birth=date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)),
            sex_at_birth=rng.choice(("female", "male", "female", "male", "intersex", "declined")),
            email=f"{given}.{family}.{place.record_number}@example.org".lower(),
            phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        )
        person = Person(
            place=place,
            id=patient,
            name=f"{given} {family}",
            therapist=rng.choice(place.staff.therapists),
            prescriber=rng.choice(place.staff.prescribers),
            nurse=rng.choice(place.staff.nurses),
            desk=desk,
        )
        for user, role in ((person.therapist, "therapist"), (person.prescriber, "medical")):
            self.add(
                CareTeamMember, clinic_id=place.clinic.pk, patient_id=patient, user_id=user, team_role=role,
                added_at=created, added_by_id=desk,
            )  # fmt: skip
        if stage == "new":
            return
        screened = created + timedelta(days=rng.randint(5, 10))
        self.add(
            HealthQuestionnaire, clinic_id=place.clinic.pk, patient_id=patient, created_at=created + timedelta(days=2),
            updated_at=created + timedelta(days=2), pregnant_or_breastfeeding="no", psychosis="no", bipolar="no",
            antidepressant_trials=rng.randint(1, 5), psychotherapy=True, psychiatric_history="Depression for years.",
        )  # fmt: skip
        if stage == "screening":
            return
        self.screening(person, screened, eligible=stage != "not_eligible")
        if stage == "not_eligible":
            return
        self.course(person, stage, screened)

    def screening(self, person: Person, at: datetime, *, eligible: bool) -> None:
        place, rng = person.place, self.rng
        self.add(
            ClinicalBackground, clinic_id=place.clinic.pk, patient_id=person.id, updated_at=at,
            updated_by_id=person.therapist,
            presenting_concerns=rng.choice(CONCERNS), diagnoses="F33.1 Major depressive disorder, recurrent, moderate",
            allergies=rng.choice(("None known", "Penicillin (rash)", "Latex")), referral_source="Primary care",
        )  # fmt: skip
        self.appointment(
            person, "screening", at - timedelta(minutes=60), at, None, (person.prescriber, "medical")
        )
        person.phq9 = rng.randint(12, 24)
        person.gad7 = rng.randint(8, 19)
        phq9 = self.response(person, PHQ9, person.phq9, at - timedelta(minutes=30), None, "staff")
        gad7 = self.response(person, GAD7, person.gad7, at - timedelta(minutes=25), None, "staff")
        weight, height = Decimal(rng.randint(50, 120)), Decimal(rng.randint(150, 195))
        person.weight = weight
        bipolar = not eligible and rng.random() < 0.5
        facts = {
            "adequate_trials": rng.randint(2, 5), "psychotherapy_tried": True, "systolic": rng.randint(105, 138),
            "diastolic": rng.randint(65, 88), "bipolar": bipolar, "psychosis_history": not eligible and not bipolar,
        }  # fmt: skip
        screening = self.record(
            MedicalScreening, place, at, person.prescriber, patient_id=person.id, heart_rate=rng.randint(58, 92),
            weight_kg=weight, height_cm=height, bmi=bmi(weight, height), baseline_phq9_id=phq9,
            baseline_gad7_id=gad7, rules_version=place.rules.version, findings=self.findings(place, facts), **facts,
        )  # fmt: skip
        routes = [route for route, _ in ROUTES]
        self.add(
            EligibilityDecision, clinic_id=place.clinic.pk, patient_id=person.id, screening_id=screening,
            outcome="eligible" if eligible else "not_eligible", decided_by_id=person.prescriber,
            decided_at=at + timedelta(days=2), valid_until=(at + timedelta(days=365)).date() if eligible else None,
            routes=routes if eligible else [], reason="" if eligible else "Bipolar or psychotic disorder history.",
        )  # fmt: skip

    # --- a course -------------------------------------------------------------------------

    def course(self, person: Person, stage: str, screened: datetime) -> None:
        place, rng = person.place, self.rng
        consent_at = screened + timedelta(days=4)
        signature = self.record(
            ConsentSignature, place, consent_at, None, patient_id=person.id, template_id=place.consent,
            typed_name=person.name, confirmed=True, signed_at=consent_at,
        )  # fmt: skip
        self.add(ConsentWitness, signature_id=signature, witness_id=person.nurse, witnessed_at=consent_at)
        route = _weighted(rng, ROUTES)
        starts = (screened + timedelta(days=14)).date()
        planned = rng.randint(8, 12) if stage == "completed" else rng.randint(6, 10)
        status = {"preparing": "planned", "active": "active"}.get(stage, stage)
        course = self.record(
            TreatmentCourse, place, screened + timedelta(days=3), person.prescriber, patient_id=person.id,
            route=route, planned_dosing_sessions=planned, status=status, starts_on=starts,
        )  # fmt: skip
        person.course, person.route = course, route
        self.add(TreatmentCourse.therapists.through, treatmentcourse_id=course, user_id=person.therapist)
        self.add(TreatmentCourse.medical_staff.through, treatmentcourse_id=course, user_id=person.prescriber)
        self.add(TreatmentCourse.medical_staff.through, treatmentcourse_id=course, user_id=person.nurse)
        self.record(
            Intention, place, consent_at, None, course_id=course, patient_id=person.id,
            text="To feel connected to the people I love again.",
        )  # fmt: skip
        for days in (7, 11):
            at = screened + timedelta(days=days)
            if at > self.now:
                break
            self.appointment(
                person, "preparation", at, at + timedelta(minutes=60), None, (person.therapist, "therapist")
            )
            self.visit(person, "preparation", at, None)
        if stage == "preparing":
            return
        assignments = {
            PHQ9.key: self.assignment(person, PHQ9.key, screened, starts),
            GAD7.key: self.assignment(person, GAD7.key, screened, starts),
        }
        stop = {"completed": planned, "discontinued": rng.randint(2, 5), "paused": rng.randint(2, 5)}.get(
            stage
        )
        self.sessions(person, planned if stop is None else stop, starts, assignments, stage)
        for k in range(rng.randint(0, 3)):
            at = place.local(starts + timedelta(days=3 + 9 * k), time(21, 0))
            if at < self.now:
                self.record(
                    JournalEntry, place, at, None, course_id=course, patient_id=person.id, shared=rng.random() < 0.5,
                    text="Something softened after the session; I called my sister for the first time in months.",
                )  # fmt: skip

    def sessions(
        self, person: Person, count: int, starts: date, assignments: dict[str, int], stage: str
    ) -> None:
        """The course's dosing sessions, each followed by an integration visit, until ``count``."""
        place = person.place
        open_course = stage == "active"
        today = timezone.localdate(self.now, place.clinic.tzinfo)
        wanted = starts
        last = starts
        for number in range(1, count + 1):
            if open_course and place.live_left > 0 and (wanted > today or number == count):
                place.live_left -= 1
                self.live_session(person, number, assignments)
                return
            people = (person.therapist, person.nurse)
            booked = place.book(wanted, people, wanted + timedelta(days=30))
            if booked is None:
                break
            at, room = booked
            if at + DOSING_LENGTH > self.now:
                if open_course and at.date() <= today + timedelta(days=21):
                    self.appointment(person, "dosing", at, at + DOSING_LENGTH, room, *self.pair(person))
                    for key, assignment in assignments.items():
                        self.request(person, assignment, key, at - timedelta(hours=2), "due")
                return
            self.past_session(person, number, at, room, assignments)
            last = at.date()
            wanted = last + timedelta(days=3 if number < 6 else 7)
        if stage in ("completed", "discontinued"):
            ended = last + timedelta(days=14)
            _set(self.tables[TreatmentCourse], person.course or 0, ended_on=min(ended, today))

    def pair(self, person: Person) -> tuple[tuple[int, str], tuple[int, str]]:
        return (person.therapist, "therapist"), (person.nurse, "medical")

    def past_session(
        self, person: Person, number: int, at: datetime, room: int, assignments: dict[str, int]
    ) -> None:
        place, rng = person.place, self.rng
        session, dosed, discharged = self.dosing(person, number, at, room, assignments, live=False)
        if rng.random() < 0.04:
            self.record(
                AdverseEvent, place, dosed + timedelta(minutes=35), person.nurse, session_id=session,
                patient_id=person.id, kind="nausea_vomiting", severity="mild", occurred_at=dosed + timedelta(minutes=35),
                intervention="Ondansetron 4 mg ODT.", outcome="resolved", recorded_by_id=person.nurse,
            )  # fmt: skip
        self.visit(person, "dosing", discharged, session)
        integration = at + timedelta(days=2)
        if integration < self.now:
            self.appointment(
                person, "integration", integration, integration + timedelta(minutes=60), None,
                (person.therapist, "therapist"),
            )  # fmt: skip
            self.visit(person, "integration", integration + timedelta(minutes=60), None, number=number)

    def live_session(self, person: Person, number: int, assignments: dict[str, int]) -> None:
        """A session in progress: checked in within the last hour and a half, dosed, being watched."""
        place = person.place
        room = place.rooms[LIVE_SESSIONS - 1 - place.live_left]
        at = self.now - timedelta(minutes=self.rng.randint(40, 90))
        self.dosing(person, number, at, room, assignments, live=True)

    def dosing(
        self, person: Person, number: int, at: datetime, room: int, assignments: dict[str, int], *, live: bool
    ) -> tuple[int, datetime, datetime]:
        """The measures before, the session and its appointment, the dose, and the readings so far.
        Returns the session, when the dose was given, and when the patient left (or now)."""
        rng = self.rng
        for key, assignment in assignments.items():
            request = self.request(person, assignment, key, at - timedelta(hours=2), "completed")
            instrument = PHQ9 if key == PHQ9.key else GAD7
            answered = at - timedelta(minutes=40)
            self.response(person, instrument, person.next_total(key, rng), answered, request, "portal")
        dosed = at + timedelta(minutes=20)
        left = self.now if live else dosed + timedelta(minutes=rng.randint(125, 150))
        session = self.session(
            person, number, at, room, status="in_session" if live else "discharged", dosed=dosed,
            discharged=None if live else left,
        )  # fmt: skip
        self.appointment(
            person, "dosing", at, at + DOSING_LENGTH, room, *self.pair(person),
            status="checked_in" if live else "completed", session=session,
        )  # fmt: skip
        self.dose(person, session, dosed)
        self.readings(person, session, at, dosed, left)
        return session, dosed, left

    def session(
        self, person: Person, number: int, at: datetime, room: int, *, status: str, dosed: datetime,
        discharged: datetime | None,
    ) -> int:  # fmt: skip
        place = person.place
        done = discharged is not None
        return self.record(
            DosingSession, place, at, person.nurse, patient_id=person.id, course_id=person.course,
            protocol_id=place.protocols[person.route], route=person.route, number=number, status=status,
            room_id=room, checked_in_at=at, weight_kg=person.weight, weight_at=at, fasting_confirmed=True,
            escort_confirmed=True, escort_name="A friend", intentions_reviewed=True,
            pregnancy_test="not_applicable", first_administered_at=dosed,
            gate_snapshot=[{"check": "all", "state": "ok", "message": "All pre-dose checks met.", "override": False}],
            discharged_at=discharged, discharged_by_id=person.nurse if done else None,
            ready_to_leave_at=discharged, discharge_checklist=(
                [{"item": "vitals_ok", "met": True, "message": "Vital signs back within limits."}] if done else []
            ),
        )  # fmt: skip

    def dose(self, person: Person, session: int, at: datetime) -> None:
        """The administration; its lot and ledger entry are set when the clinic's doses are known."""
        rng = self.rng
        weight = person.weight
        if person.route == "sublingual":
            dose, per_kg = Decimal(rng.choice((100, 150, 200, 250, 300, 400))), None
        else:
            per_kg = Decimal(rng.choice(("0.40", "0.50", "0.60", "0.75")))
            dose = (per_kg * weight).quantize(Decimal("0.01"))
        person.place.doses.append(
            {
                "session_id": session, "patient_id": person.id, "route": person.route, "dose_mg": dose,
                "weight_kg": weight if per_kg else None, "mg_per_kg": per_kg, "started_at": at,
                "ended_at": at + timedelta(minutes=40) if person.route == "intravenous" else None,
                "administered_by_id": person.nurse, "witnessed_by_id": person.prescriber,
            }
        )  # fmt: skip

    def readings(self, person: Person, session: int, at: datetime, dosed: datetime, until: datetime) -> None:
        place, rng = person.place, self.rng
        # Before the dose, then at the minutes the route's protocol asks for (as the live page expects).
        marks: list[tuple[str, datetime]] = [("vitals", at + timedelta(minutes=10))]
        for kind, minutes in place.monitoring[person.route].items():
            if kind in ("vitals", "moaas"):
                marks += [(kind, dosed + timedelta(minutes=m)) for m in minutes]
        for kind, taken in marks:
            if taken > until:
                continue
            values: dict[str, Any] = {
                "moaas": 5 if taken > dosed + timedelta(minutes=90) else rng.randint(3, 5)
            }
            if kind == "vitals":
                values = {
                    "systolic": rng.randint(110, 150), "diastolic": rng.randint(68, 92),
                    "heart_rate": rng.randint(60, 100), "spo2": rng.randint(95, 100),
                    "respiratory_rate": rng.randint(12, 18),
                }  # fmt: skip
            self.record(
                Reading, place, taken, person.nurse, session_id=session, patient_id=person.id, kind=kind,
                taken_at=taken, before_dose=taken < dosed, recorded_by_id=person.nurse, **values,
            )  # fmt: skip

    def visit(self, person: Person, kind: str, at: datetime, session: int | None, number: int = 0) -> None:
        place = person.place
        visit = self.record(
            Visit, place, at, person.therapist, course_id=person.course, patient_id=person.id, kind=kind,
            happened_on=timezone.localdate(at, place.clinic.tzinfo), staff_id=person.therapist,
            dosing_session_id=session,
        )  # fmt: skip
        self.record(
            ClinicalNote, place, at, person.therapist, visit_id=visit, patient_id=person.id, template=kind,
            content=_note(kind, number), status="signed", author_id=person.therapist, signed_at=at,
        )  # fmt: skip

    def appointment(
        self, person: Person, kind: str, starts: datetime, ends: datetime, room: int | None,
        *staff: tuple[int, str], status: str | None = None, session: int | None = None,
    ) -> None:  # fmt: skip
        place = person.place
        if status is None:
            status = "completed" if ends < self.now else "booked"
        appointment = self.record(
            Appointment, place, starts - timedelta(days=7), person.desk, patient_id=person.id,
            course_id=person.course, kind=kind, route=person.route if kind == "dosing" else "", starts_at=starts,
            ends_at=ends, room_id=room, status=status, dosing_session_id=session,
        )  # fmt: skip
        for user, role in staff:
            self.add(AppointmentStaff, appointment_id=appointment, user_id=user, role=role)

    # --- measures -------------------------------------------------------------------------

    def assignment(self, person: Person, key: str, at: datetime, starts: date) -> int:
        return self.record(
            MeasureAssignment, person.place, at, person.therapist, patient_id=person.id, instrument_key=key,
            schedule="before_dosing", starts_on=starts,
        )  # fmt: skip

    def request(self, person: Person, assignment: int, key: str, due: datetime, status: str) -> int:
        return self.add(
            MeasureRequest, clinic_id=person.place.clinic.pk, patient_id=person.id, assignment_id=assignment,
            instrument_key=key, due_at=due, status=status, created_at=due - timedelta(days=3),
        )  # fmt: skip

    def response(
        self,
        person: Person,
        instrument: Instrument,
        total: int,
        at: datetime,
        request: int | None,
        source: str,
    ) -> int:
        place = person.place
        worry = instrument is PHQ9 and self.rng.random() < 0.015
        scored = self.scored(instrument, total, 1 if worry else 0)
        response = self.record(
            MeasureResponse, place, at, None if source == "portal" else person.therapist, patient_id=person.id,
            request_id=request, instrument_key=instrument.key, instrument_version=instrument.version,
            instrument_name=instrument.name, answered_at=at, source=source, **scored,
        )  # fmt: skip
        if scored["flags"]:
            acted = at + timedelta(hours=2)
            self.add(
                SafetyAlert, clinic_id=place.clinic.pk, patient_id=person.id, response_id=response, severity="moderate",
                reason="PHQ-9 item 9 answered above zero.", created_at=at, due_by=at + timedelta(hours=24),
                status="acknowledged" if acted < self.now else "open",
                acknowledged_by_id=person.therapist if acted < self.now else None,
                acknowledged_at=acted if acted < self.now else None,
                action_taken="Called the patient; safety plan reviewed." if acted < self.now else "",
            )  # fmt: skip
        return response

    def findings(self, place: Place, facts: dict[str, Any]) -> list[dict[str, str]]:
        """What the clinic's eligibility rules find in these facts, as the screening page records it."""
        return [
            {"level": str(f.level), "rule": f.rule_id, "message": f.message, "source": f.source}
            for f in evaluate(facts_from(facts), place.rules)
        ]

    def scored(self, instrument: Instrument, total: int, item9: int) -> dict[str, Any]:
        """Answers adding up to ``total`` and their score (the same few patterns, so cached)."""
        items = [item.id for item in instrument.items]
        last = items[-1] if instrument is PHQ9 else None
        rest = [i for i in items if i != last]
        total = max(0, min(total, 3 * len(rest)))
        values = dict.fromkeys(rest, 0)
        for n in range(total):
            values[rest[n % len(rest)]] += 1
        if last is not None:
            values[last] = item9
        key = (instrument.key, tuple(values.values()))
        if key not in self.scores:
            result = score(instrument, values)
            self.scores[key] = {
                "answers": values,
                "total": result.total,
                "band": result.band.label if result.band else "",
                "risk": result.risk,
                "flags": [
                    {"rule": f.rule_id, "item": f.item, "severity": str(f.severity), "message": f.message}
                    for f in result.flags
                ],
            }
        return self.scores[key]

    # --- the controlled-substance ledger --------------------------------------------------

    def ledger(self, place: Place) -> None:
        """Lots received as stock runs low; each dose, in time order, drawn from the open lot."""
        doses = sorted(place.doses, key=lambda d: d["started_at"])
        place.doses = []
        if not doses:
            return
        lots, lot, balance = self.tables[StockLot], 0, Decimal(0)
        size = Decimal(50_000)
        for dose in doses:
            if balance < dose["dose_mg"]:
                place.lots += 1
                received = dose["started_at"] - timedelta(days=1)
                lot = lots.add(
                    clinic_id=place.clinic.pk, form="ketamine HCl 100 mg/mL and 100 mg lozenges",
                    lot_number=f"{place.clinic.slug.upper()}-L{place.lots:03d}", supplier="Synthetic Pharma",
                    expires_on=(received + timedelta(days=730)).date(), received_mg=size, balance_mg=size,
                    received_at=received, received_by_id=place.staff.prescribers[0],
                )  # fmt: skip
                self.add(
                    LedgerEntry, clinic_id=place.clinic.pk, lot_id=lot, kind="receipt", quantity_mg=size,
                    balance_after_mg=size, at=received, by_id=place.staff.prescribers[0],
                    witness_id=place.staff.nurses[0],
                )  # fmt: skip
                balance = size
            balance -= dose["dose_mg"]
            administration = self.add(
                Administration, clinic_id=place.clinic.pk, created_at=dose["started_at"],
                updated_at=dose["started_at"], created_by_id=dose["administered_by_id"],
                updated_by_id=dose["administered_by_id"], lot_id=lot, **dose,
            )  # fmt: skip
            self.add(
                LedgerEntry, clinic_id=place.clinic.pk, lot_id=lot, kind="administration",
                quantity_mg=-dose["dose_mg"], balance_after_mg=balance, at=dose["started_at"],
                by_id=dose["administered_by_id"], witness_id=dose["witnessed_by_id"], administration_id=administration,
            )  # fmt: skip
            _set(lots, lot, balance_mg=balance)


@dataclass
class Person:
    """A patient being generated, with the people who care for them and their course so far."""

    place: Place
    id: int
    name: str
    therapist: int
    prescriber: int
    nurse: int
    desk: int
    course: int | None = None
    route: str = ""
    weight: Decimal = Decimal(70)
    phq9: int = 0
    gad7: int = 0
    responder: bool | None = None
    sessions: int = 0

    def next_total(self, key: str, rng: random.Random) -> int:
        """Scores fall over a course: by about two thirds for responders, a little for others."""
        if self.responder is None:
            self.responder = rng.random() < 0.55
        self.sessions += 1
        fall = (0.08 if self.responder else 0.02) * (self.sessions // 2)
        base = self.phq9 if key == PHQ9.key else self.gad7
        return max(0, round(base * max(0.25, 1 - fall)) + rng.randint(-2, 2))


def _place(clinic: Clinic, staff: Staff, rooms: list[int], consent: int, **more: Any) -> Place:
    """A clinic's settings as its patients need them: protocols, consent text, eligibility rules."""
    versions = {route: protocols.current(clinic, route) for route, _ in ROUTES}
    routes = {route: version.pk for route, version in versions.items()}
    monitoring = {route: version.values.get("monitoring", {}) for route, version in versions.items()}
    return Place(clinic, staff, rooms, routes, consent, rules_for(clinic), monitoring, **more)


def _set(table: Table, pk: int, **values: Any) -> None:
    """Change a row that is still waiting to be written (the newest rows are searched first)."""
    for row in reversed(table.rows):
        if row[table.positions[table.pk_name]] == pk:
            for name, value in values.items():
                row[table.positions[name]] = value
            return
    raise LookupError(f"{table.model.__name__} {pk} is not pending")


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _note(kind: str, number: int) -> dict[str, Any]:
    if kind == "preparation":
        return {
            "intentions_and_goals": "To feel connected again and to stop avoiding people.",
            "explained": EXPLAINED,
            "safety_plan": "Crisis line and sister's number on the fridge.",
            "fasting_and_escort_given": True,
            "readiness": "Ready, a little nervous.",
        }
    if kind == "integration":
        return {
            "follows_session": f"Session {number}",
            "what_came_up": "Memories of childhood summers; a sense of spaciousness.",
            "insights_and_themes": "Less self-blame.",
            "relation_to_intentions": "Connection: wants to call family.",
            "action_steps": "One phone call a week; a walk each morning.",
            "measures_reviewed": "PHQ-9 and GAD-7 trend reviewed together.",
        }
    return {
        "intention_revisited": "Connection.",
        "course_of_session": "Settled quickly, tearful at the peak, calm afterwards.",
        "support_given": "Presence, music, a hand on the shoulder as agreed.",
        "themes_for_integration": "Grief and warmth.",
    }
