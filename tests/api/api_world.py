"""Jordan's record with one of everything the API serves, built through the services, for the
API authorization matrix and the schemathesis run: an active sublingual course (screened,
eligible, consented, preparation visits signed), a stock lot, a checked-in dosing session (and
the same session after its first dose), a draft integration note, a booked preparation appointment, a PHQ-9 assignment and a response
whose item 9 raised a safety alert."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import cached_property

from django.utils import timezone

from kapflow.courses import services as course_services
from kapflow.courses.models import ClinicalNote, TreatmentCourse
from kapflow.dosing import services as dosing
from kapflow.dosing.models import DosingSession, StockLot
from kapflow.fhir import export_services
from kapflow.fhir.models import ExportJob, ExportKind
from kapflow.fhir.tasks import run_export
from kapflow.measures import services as measures
from kapflow.measures.models import MeasureAssignment, MeasureResponse, SafetyAlert
from kapflow.patients.models import Patient
from kapflow.scheduling.models import Appointment
from kapflow.screening.models import EligibilityDecision
from tests.conftest import World
from tests.dosing.helpers import checked_in, make_lot, make_ready
from tests.scheduling.helpers import at, book, weekday_ahead

PHQ9_WITH_ITEM_9 = {**{f"q{n}": 1 for n in range(1, 9)}, "q9": 1}


class Records:
    """Each record is made the first time a test asks for it (with what it needs), so a row of
    the matrix pays only for its own records."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.patient: Patient = world.patient
        self.today = timezone.localdate(timezone=world.demo.tzinfo)

    @cached_property
    def course(self) -> TreatmentCourse:
        return make_ready(self.world)

    @cached_property
    def lot(self) -> StockLot:
        return make_lot(self.world)

    @cached_property
    def session(self) -> DosingSession:
        self.lot  # noqa: B018 - a dose needs a lot in stock
        return checked_in(self.world, self.course)

    @cached_property
    def dosed_session(self) -> DosingSession:
        """The session above, after Priya gave the first dose (200 mg)."""
        session = self.session
        dosing.administration_record(
            member=self.world.prescriber,
            session=session,
            dose_mg=Decimal("200"),
            lot=self.lot,
            started_at=None,
            ended_at=None,
            witness_id=None,
            override_reason="",
            base_version=session.version,
        )
        session.refresh_from_db()
        return session

    @cached_property
    def draft_note(self) -> ClinicalNote:
        visit = course_services.visit_create(
            member=self.world.therapist, course=self.course, kind="integration", happened_on=self.today
        )
        return visit.note

    @cached_property
    def signed_note(self) -> ClinicalNote:
        note = (
            ClinicalNote.objects.filter(visit__course=self.course, signed_at__isnull=False)
            .order_by("pk")
            .first()
        )
        assert note is not None, "make_ready signs the preparation visits"
        return note

    @cached_property
    def appointment(self) -> Appointment:
        return book(self.world, start=at(weekday_ahead(7), 10), staff=[self.world.therapist])

    @cached_property
    def assignment(self) -> MeasureAssignment:
        return measures.assignment_create(
            member=self.world.therapist,
            patient=self.patient,
            instrument_key="phq9",
            schedule="once",
            starts_on=self.today - timedelta(days=1),
        )

    @cached_property
    def response(self) -> MeasureResponse:
        request = self.assignment.requests.get()
        return measures.response_submit(
            request=request, answers=PHQ9_WITH_ITEM_9, by=self.world.therapist.user
        )

    @cached_property
    def alert(self) -> SafetyAlert:
        return self.response.alerts.get()

    @cached_property
    def decision(self) -> EligibilityDecision:
        self.course  # noqa: B018 - screened and decided on the way to a course
        return EligibilityDecision.objects.get(patient=self.patient)

    @cached_property
    def export_job(self) -> ExportJob:
        """Theo's finished FHIR export of Jordan (the worker has run it)."""
        self.dosed_session  # noqa: B018 - something to export
        job = export_services.export_start(
            member=self.world.therapist,
            kind=ExportKind.PATIENT,
            parameters=export_services.parse_parameters({}),
            request_url=f"http://testserver/fhir/Patient/{self.patient.public_id}/$export",
            patient_id=str(self.patient.public_id),
        )
        run_export.call(str(job.public_id))
        job.refresh_from_db()
        return job

    def everything(self) -> Records:
        for name in ("dosed_session", "draft_note", "signed_note", "appointment", "alert", "decision"):
            getattr(self, name)
        return self
