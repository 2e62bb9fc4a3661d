"""Every list endpoint of the API, and every FHIR search, answers with the same number of
queries whatever the number of rows: one patient with one of everything, then five (each with one of everything), read by
Priya (prescriber on all their care teams). A query per row, or per patient (an N+1), fails.

The list endpoints are read from the OpenAPI schema and the FHIR search parameters, so a new
one is covered at once.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kapflow.courses import services as course_services
from kapflow.courses.models import TreatmentCourse
from kapflow.dosing import services as dosing
from kapflow.dosing.models import StockLot
from kapflow.fhir import search
from kapflow.measures import services as measures
from kapflow.patients import services as patient_services
from kapflow.patients.models import Patient
from kapflow.screening.models import EligibilityDecision
from kapflow.screening.selectors import current_decision
from tests.api.api_world import PHQ9_WITH_ITEM_9
from tests.api.helpers import api
from tests.api.rest_helpers import schema
from tests.conftest import World
from tests.dosing.helpers import dosed, make_lot, make_ready
from tests.scheduling.helpers import at, book, weekday_ahead

pytestmark = pytest.mark.django_db


def list_paths() -> list[str]:
    return sorted(
        path
        for path, operations in schema()["paths"].items()
        if "get" in operations and "{" not in path and path.startswith("/api/v1/")
    )


def new_patient(world: World, index: int) -> Patient:
    patient = patient_services.patient_create(
        member=world.frontdesk,
        data={
            "legal_given_name": f"Pat{index}",
            "legal_family_name": "Counted",
            "date_of_birth": date(1980 + index, 1, 1),
            "record_number": f"Q-{index}",
        },
    )
    for clinician in (world.therapist, world.prescriber):
        patient_services.care_team_add(member=world.frontdesk, patient=patient, membership_id=clinician.pk)
    return patient


def one_of_everything(world: World, patient: Patient, lot: StockLot, index: int) -> None:
    """A course (screened, decided, consented, preparation visits signed), a dosing session with
    a dose, vitals and an adverse event, a draft integration note, an appointment, a PHQ-9
    assignment and a response that raised a safety alert."""
    course = make_ready(world, patient=patient)
    # Each patient's course started in a month of its own: five cohorts (FHIR Groups).
    TreatmentCourse.objects.filter(pk=course.pk).update(
        starts_on=course.starts_on - timedelta(days=31 * index)
    )
    session = dosed(world, course, lot)
    dosing.event_record(
        member=world.prescriber,
        session=session,
        link="http://testserver/",
        occurred_at=None,
        kind="nausea_vomiting",
        severity="mild",
        outcome="resolved",
        serious=False,
        intervention="",
        description="",
    )
    course_services.visit_create(
        member=world.therapist, course=course, kind="integration", happened_on=timezone.localdate()
    )
    book(world, start=at(weekday_ahead(7), 8 + index), staff=[world.therapist], patient=patient)
    assignment = measures.assignment_create(
        member=world.therapist,
        patient=patient,
        instrument_key="phq9",
        schedule="once",
        starts_on=timezone.localdate() - timedelta(days=1),
    )
    measures.response_submit(
        request=assignment.requests.get(), answers=PHQ9_WITH_ITEM_9, by=world.therapist.user
    )


def fhir_paths() -> list[str]:
    return [f"/fhir/{resource_type}?_count=200" for resource_type in sorted(search.PARAMETERS)]


def queries(client: Any, path: str) -> tuple[int, int, list[str]]:
    """(queries, rows on the page, the SQL) of one GET."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.content[:300])
    body = response.json()
    rows = len(body["results"]) if "results" in body else len(body.get("entry", []))
    return len(captured), rows, [q["sql"] for q in captured.captured_queries]


def test_every_list_endpoint_needs_as_many_queries_for_five_patients_as_for_one(world, settings):
    settings.KAPFLOW_API_RATE_LIMIT = 1_000_000
    cache.clear()
    lot = make_lot(world, quantity="5000")
    one_of_everything(world, world.patient, lot, 0)
    client = api(world.prescriber, read_only=True)
    paths = list_paths()
    assert len(paths) >= 11, paths
    paths += fhir_paths()
    client.get("/api/v1/patients/")  # the token's first use stores its time: not a list's query
    one = {path: queries(client, path) for path in paths}
    for index in range(1, 5):
        one_of_everything(world, new_patient(world, index), lot, index)
    five = {path: queries(client, path) for path in paths}
    for path in paths:
        count_one, rows_one, sql_one = one[path]
        count_five, rows_five, sql_five = five[path]
        if not path.startswith("/fhir/Questionnaire"):  # the clinic's instruments, not a patient's
            assert rows_one >= 1 and rows_five >= 5 * rows_one, (path, rows_one, rows_five)
        extra = [sql[:160] for sql in sql_five if sql not in sql_one][:5]
        said = f"{path}: {count_one} queries for 1 patient, {count_five} for 5: {extra}"
        if path.startswith("/fhir/"):
            # A FHIR search's access-log entry names the patient when the page holds only one
            # (one query to find them by their public id): one query more for one patient.
            assert count_five <= count_one <= count_five + 1, said
        else:
            assert count_five == count_one, said
    cache.clear()


def test_is_current_of_each_listed_decision_is_the_selectors_current_decision(world):
    """The list answers ``is_current`` for a whole page at once; it must say what
    ``current_decision`` says, also after a newer decision and after a newer screening."""
    from kapflow.screening import services as screening_services
    from kapflow.screening.demo import BASE

    make_ready(world)
    other = new_patient(world, 1)
    make_ready(world, patient=other)
    first = EligibilityDecision.objects.get(patient=world.patient)
    screening_services.decision_record(  # a newer decision on Jordan's same screening
        member=world.prescriber,
        screening=first.screening,
        outcome="not_eligible",
        valid_until=None,
        routes=[],
        reason="Blood pressure",
    )
    screening_services.screening_record(  # Pat1's newer screening, not yet decided
        member=world.prescriber, patient=other, data={**BASE, "systolic": 130}
    )
    body = api(world.prescriber).get("/api/v1/screening-decisions/").json()
    assert len(body["results"]) == 3
    for row in body["results"]:
        decision = EligibilityDecision.objects.get(public_id=row["id"])
        assert row["is_current"] == (current_decision(decision.patient) == decision), row
    assert sum(row["is_current"] for row in body["results"]) == 1


def test_the_groups_of_a_search_list_the_members_group_patients_gives(world):
    """The Group search builds a page of cohorts at once; its members must be those
    ``mapping.group_patients`` gives (and the caller may see)."""
    from kapflow.fhir import mapping

    lot = make_lot(world, quantity="5000")
    one_of_everything(world, world.patient, lot, 0)
    for index in (1, 2):
        one_of_everything(world, new_patient(world, index), lot, index)
    TreatmentCourse.objects.filter(patient__legal_given_name="Pat2").update(
        starts_on=TreatmentCourse.objects.get(patient=world.patient).starts_on
    )  # two patients in one cohort
    bundle = api(world.prescriber).get("/fhir/Group").json()
    groups = {entry["resource"]["id"]: entry["resource"] for entry in bundle["entry"]}
    assert len(groups) == 2
    for group_id, group in groups.items():
        expected = [f"Patient/{p.public_id}" for p in mapping.group_patients(world.demo, group_id)]
        assert [m["entity"]["reference"] for m in group.get("member", [])] == expected
        assert group["quantity"] == len(expected) and expected
    assert sorted(len(g["member"]) for g in groups.values()) == [1, 2]
