"""Hostile input to the FHIR endpoints: read, search and ``$export``.

Every answer to a hostile id, type or parameter is a 4xx OperationOutcome
(``application/fhir+json``, valid as a FHIR R4B resource), never a 500, and nothing is stored.
Another clinic's record is not found (404). The export file route serves only the files of the
caller's own finished job: no path, encoded or not, reaches a file outside it.

A few values are not malformed but lie at the edges of what Python can count (a birth date of
9999-12-31, ``_count`` of 10**30): those are answered with a searchset Bundle, not an error.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.core.cache import cache
from django.db import transaction
from fhir.resources.R4B import get_fhir_model_class
from rest_framework.test import APIClient

from kapflow.api.tokens import token_create, token_revoke
from kapflow.courses.models import TreatmentCourse
from kapflow.fhir import export_services, search
from kapflow.fhir.models import ExportJob, ExportKind, ExportStatus
from kapflow.fhir.tasks import run_export
from tests.api.helpers import token_for
from tests.conftest import World
from tests.dosing.helpers import make_ready
from tests.test_authorization_matrix import domain_state

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"
TYPES = sorted(search.PARAMETERS)
PATIENT_DATA_TYPES = [t for t in TYPES if search.PARAMETERS[t] >= search.BY_PATIENT]
NOBODY = "4b1f5a1c-3f8e-4f7e-9d7a-000000000000"
SECRET = "SECRET-OUTSIDE-THE-EXPORT-5519"
ASYNC = {"HTTP_PREFER": "respond-async"}

# Ids no FHIR type of kapflow gives out, as they appear in the URL (percent-encoded).
HOSTILE_IDS = [
    "not-a-uuid",
    NOBODY,
    f"{NOBODY}-bp",
    f"{NOBODY}-",
    f"{NOBODY}{NOBODY}",
    f"{{{NOBODY}}}",
    f"urn:uuid:{NOBODY}",
    "%00",
    f"{NOBODY}%00",
    "..",
    "%2e%2e",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "%2F..%2F..%2Fetc%2Fpasswd",
    "a" * 5000,
    "%F0%9F%92%A9",
    "%ED%A0%80",  # a surrogate, encoded: no UTF-8
    "%FF%FE",
    "'%20OR%201=1%20--",
    "*",
    "cohort-0000-01",
    "cohort-9999-12",
    "cohort-2026-13",
    "cohort-2026-00",
    "phq9-v0",
    "phq9-v1%00",
]
HOSTILE_TYPES = ["patient", "PATIENT", "observation", "Patient%00", "Practitioner", "Binary", "..", "%2e%2e",
                 "Patient.ndjson", "metadata2", "a" * 300, "%F0%9F%92%A9", "DocumentReference",
                 "PsychotherapyNote"]  # fmt: skip


@pytest.fixture
def fhir_world(world: World, settings: Any, tmp_path: Any) -> Iterator[World]:
    """Jordan with an active course (so a cohort), and a quiet rate limit."""
    settings.DATA_DIR = tmp_path
    settings.KAPFLOW_API_RATE_LIMIT = 1_000_000
    cache.clear()
    make_ready(world)
    yield world
    cache.clear()


def client_for(member: Any, *, read_only: bool = False) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(member, read_only=read_only)}")
    return client


def state() -> dict[str, list[dict[str, Any]]]:
    found = domain_state()
    found["api.ApiToken"] = [
        {k: v for k, v in row.items() if k != "last_used_at"} for row in found["api.ApiToken"]
    ]
    return found


def assert_outcome(response: Any, what: str, expected: set[int] | None = None) -> dict[str, Any]:
    status = response.status_code
    shown = response.content[:300]
    assert status != 500, f"{what}: a server error"
    assert 400 <= status < 500, f"{what}: {status} {shown!r}"
    if expected is not None:
        assert status in expected, f"{what}: {status}, expected {sorted(expected)}: {shown!r}"
    assert response["Content-Type"].startswith(FHIR_JSON), f"{what}: {response['Content-Type']} {shown!r}"
    body = response.json()
    get_fhir_model_class("OperationOutcome").model_validate(body)
    issue = body["issue"][0]
    assert issue["severity"] == "error" and issue["code"] and issue["diagnostics"], f"{what}: {body!r}"
    return body


def assert_searchset(response: Any, what: str) -> dict[str, Any]:
    assert response.status_code == 200, f"{what}: {response.status_code} {response.content[:300]!r}"
    body = response.json()
    assert body["resourceType"] == "Bundle" and body["type"] == "searchset", f"{what}: {body!r}"
    assert len(body.get("entry", [])) <= search.MAX_COUNT
    return body


def query(params: dict[str, str]) -> str:
    return urlencode(params, quote_via=quote)


# --- read ---------------------------------------------------------------------------------------
def test_hostile_ids_and_types_are_not_found_operation_outcomes(fhir_world):
    client = client_for(fhir_world.therapist)
    before = state()
    for resource_type in TYPES:
        for hostile in HOSTILE_IDS:
            path = f"/fhir/{resource_type}/{hostile}"
            assert_outcome(client.get(path), f"GET {path[:80]}", {404})
    for hostile_type in HOSTILE_TYPES:
        for path in (f"/fhir/{hostile_type}", f"/fhir/{hostile_type}/{fhir_world.patient.public_id}"):
            assert_outcome(client.get(path), f"GET {path[:80]}", {404})
    for path in (
        "/fhir/Patient/../../etc",
        "/fhir/Patient/../../../etc/passwd",
        "/fhir/Patient/..%2F..%2Fetc",
        f"/fhir/Patient/{fhir_world.patient.public_id}/../../etc",
        f"/fhir/Patient/{fhir_world.patient.public_id}/_history/1",
        f"/fhir/Patient/{fhir_world.patient.public_id}%2F..",
        "/fhir//Patient",
        "/fhir/%00",
    ):
        assert_outcome(client.get(path), f"GET {path}", {404})
    assert state() == before


def test_another_clinics_records_are_not_found(fhir_world):
    client = client_for(fhir_world.therapist)
    other = fhir_world.other_patient.public_id
    before = state()
    assert_outcome(client.get(f"/fhir/Patient/{other}"), "Olivia", {404})
    for resource_type in PATIENT_DATA_TYPES:
        for name in ("patient", "subject"):
            for value in (str(other), f"Patient/{other}", f"http://elsewhere.example/fhir/Patient/{other}"):
                path = f"/fhir/{resource_type}?{query({name: value})}"
                assert_outcome(client.get(path), f"GET {path}", {404})
    bundle = client.get(f"/fhir/Patient?{query({'_id': str(other)})}").json()
    assert bundle["total"] == 0  # a search finds nothing of another clinic's
    assert state() == before

    with transaction.atomic():  # Jordan's course, moved to the Other clinic
        course = TreatmentCourse.objects.get(patient=fhir_world.patient)
        TreatmentCourse.objects.filter(pk=course.pk).update(
            clinic=fhir_world.other, patient=fhir_world.other_patient
        )
        moved = state()
        assert_outcome(client.get(f"/fhir/EpisodeOfCare/{course.public_id}"), "a moved course", {404})
        assert state() == moved
        transaction.set_rollback(True)


# --- search -------------------------------------------------------------------------------------
BAD_PAGING = [
    {"_count": "-1"},
    {"_count": "abc"},
    {"_count": ""},
    {"_count": "1.5"},
    {"_count": "1e3"},
    {"_count": "0x10"},
    {"_count": "9" * 5000},
    {"_count": "%00"},
    {"_offset": "-1"},
    {"_offset": "abc"},
    {"_offset": "9" * 5000},
    {"foo": "1"},
    {"_sort": "name"},
    {"_include": "*"},
    {"_revinclude": "*"},
    {"_elements": "id"},
    {"_summary": "count"},
    {"_has:Observation:patient:code": "x"},
    {"patient:missing": "true"},
    {"name:exact": "x"},
    {"\x00": "x"},
    {"_count\x00": "1"},
]
BAD_REFERENCES = [
    "garbage",
    "Patient/",
    "Patient",
    "Group/abc",
    "Practitioner/" + NOBODY,
    "Patient/not-a-uuid",
    f"Patient/{NOBODY},Patient/{NOBODY}",
    "\x00",
    f"Patient/{NOBODY}\x00",
    f"Patient/{NOBODY}/_history/1",
    "../../etc/passwd",
    "a" * 5000,
]
BAD_BIRTHDATES = ["0000-00-00", "0000", "2026-13-01", "1990-02-30", "19900101", "1990-1-1", "ge", "xx1990",
                  "ge1990-01-01T00:00:00", "1990-01-01,", "\x00", "9" * 5000]  # fmt: skip


def test_hostile_search_parameters_are_400_operation_outcomes(fhir_world):
    client = client_for(fhir_world.therapist)
    before = state()
    cases: list[tuple[str, dict[str, str], set[int]]] = []
    for resource_type in TYPES:
        cases += [(resource_type, params, {400}) for params in BAD_PAGING]
        cases += [(resource_type, {"_format": "xml"}, {406})]
    for resource_type in PATIENT_DATA_TYPES:
        for name in ("patient", "subject"):
            cases += [(resource_type, {name: value}, {400, 404}) for value in BAD_REFERENCES]
        cases += [(resource_type, {"patient": f"Patient/{NOBODY}"}, {404})]
    cases += [("Patient", {"birthdate": value}, {400}) for value in BAD_BIRTHDATES]
    cases += [("Patient", {name: "x\x00y"}, {400}) for name in ("name", "identifier", "_id")]
    cases += [("Observation", {"code": "http://evil.example|44261-6"}, {400})]
    cases += [("Observation", {"category": "http://evil.example|survey"}, {400})]
    cases += [("Observation", {"code": "44261-6\x00"}, {400})]
    for resource_type, params, expected in cases:
        path = f"/fhir/{resource_type}?{query(params)}"
        assert_outcome(client.get(path), f"GET {path[:120]}", expected)
    # The same parameter twice where once is the rule.
    assert_outcome(client.get("/fhir/Observation?_count=1&_count=2"), "_count twice", {400})
    assert_outcome(client.get(f"/fhir/Observation?patient={NOBODY}&subject={NOBODY}"), "two patients", {400})
    assert state() == before


def test_edge_values_that_are_not_malformed_give_a_bundle(fhir_world):
    """Dates at the end of Python's calendar, and numbers beyond any page, are not errors."""
    client = client_for(fhir_world.therapist)
    for birthdate in ("9999-12-31", "eq9999-12-31", "gt9999-12-31", "le9999-12-31", "9999", "9999-12", "0001-01-01",
                      "lt0001-01-01", "ge0001-01-01"):  # fmt: skip
        body = assert_searchset(client.get(f"/fhir/Patient?birthdate={birthdate}"), f"birthdate={birthdate}")
        born_before_9999 = birthdate.startswith(("le", "ge"))
        assert body["total"] == (1 if born_before_9999 else 0), birthdate  # Jordan, born 1986
    huge = str(10**30)
    assert_searchset(client.get(f"/fhir/Patient?_count={huge}"), "_count 10**30")
    body = assert_searchset(client.get(f"/fhir/Observation?_offset={huge}"), "_offset 10**30")
    assert "entry" not in body
    body = assert_searchset(client.get("/fhir/Patient?name=%25"), "name=%")  # a LIKE wildcard, escaped
    assert body["total"] == 0
    assert_searchset(client.get("/fhir/Group?_id=cohort-9999-12"), "a cohort of December 9999")


def test_the_group_of_the_last_month_python_knows_is_simply_empty(fhir_world):
    """Regression: Group/cohort-9999-12 (and cohort-0000-01) were a 500 (the month after it
    is out of Python's range)."""
    client = client_for(fhir_world.therapist)
    for cohort in ("cohort-9999-12", "cohort-0000-01"):
        assert_outcome(client.get(f"/fhir/Group/{cohort}"), cohort, {404})
        assert_outcome(
            client_for(fhir_world.admin).get(f"/fhir/Group/{cohort}/$export", **ASYNC), cohort, {404}
        )
    assert not ExportJob.objects.exists()


def test_a_birthdate_at_the_end_of_the_calendar_is_searched_not_a_500(fhir_world):
    """Regression: birthdate=9999-12-31 was an OverflowError (the day after it)."""
    response = client_for(fhir_world.frontdesk).get("/fhir/Patient?birthdate=9999-12-31")
    assert_searchset(response, "birthdate=9999-12-31")


def test_a_nul_in_a_search_value_is_400(fhir_world):
    """Regression: PostgreSQL refuses text with NUL (a 500 there); SQLite simply found nothing."""
    response = client_for(fhir_world.frontdesk).get("/fhir/Patient?name=Jor%00dan")
    assert "NUL" in assert_outcome(response, "name with NUL", {400})["issue"][0]["diagnostics"]


def test_front_desk_is_refused_a_cohort_whether_or_not_it_exists(fhir_world):
    """Regression: a cohort that existed was 403 and one that did not 404, telling the front
    desk in which months courses started."""
    course = TreatmentCourse.objects.get(patient=fhir_world.patient)
    client = client_for(fhir_world.frontdesk)
    assert_outcome(client.get(f"/fhir/Group/cohort-{course.starts_on:%Y-%m}"), "existing cohort", {403})
    assert_outcome(client.get("/fhir/Group/cohort-1999-01"), "no such cohort", {403})


def test_revoked_and_unknown_tokens_and_writes_are_refused(fhir_world):
    member = fhir_world.therapist
    user_token, secret = token_create(user=member.user, membership=member, name="revoked", read_only=False)
    token_revoke(user=member.user, token=user_token)
    path = f"/fhir/Patient/{fhir_world.patient.public_id}"
    for header in (
        f"Bearer {secret}",
        "Bearer kf_" + "x" * 40,
        "Bearer " + "x" * 5000,
        "Basic abc",
        "Bearer",
    ):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        assert_outcome(client.get(path), header[:20], {401})
    read_only, read_write = client_for(member, read_only=True), client_for(member)
    before = state()
    for method in ("post", "put", "patch", "delete"):
        assert_outcome(
            getattr(read_only, method)(path, {"resourceType": "Patient"}, format="json"), method, {403}
        )
        response = getattr(read_write, method)(path, {"resourceType": "Patient"}, format="json")
        assert_outcome(response, f"{method} read-write", {405})
    assert state() == before


# --- $export ------------------------------------------------------------------------------------
@pytest.fixture
def finished_job(fhir_world: World) -> ExportJob:
    """Theo's finished export of Jordan, with its files on disk."""
    job = export_services.export_start(
        member=fhir_world.therapist,
        kind=ExportKind.PATIENT,
        parameters=export_services.parse_parameters({}),
        request_url="http://testserver/fhir/Patient/x/$export",
        patient_id=str(fhir_world.patient.public_id),
    )
    run_export.call(str(job.public_id))
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and "Patient" in job.counts
    return job


def test_hostile_export_kick_offs_are_refused_and_store_no_job(fhir_world):
    admin, therapist = client_for(fhir_world.admin), client_for(fhir_world.therapist)
    other = fhir_world.other_patient.public_id
    before = state()
    for params in (
        {"_since": "0001-01-01T00:00:00+14:00"},  # no time in UTC
        {"_since": "9999-12-31T23:59:59-12:00"},
        {"_since": "2026-01-01T00:00:00+24:00"},
        {"_since": "0000-00-00T00:00:00Z"},
        {"_since": "2026-01-01T00:00:00Z\x00"},
        {"_since": "9" * 5000},
        {"_type": "patient"},
        {"_type": "Patient\x00"},
        {"_type": "../Patient"},
        {"_type": "Patient,,Observation"},
        {"_type": "a" * 5000},
        {"_outputFormat": "application/fhir+ndjson\x00"},
        {"_outputFormat": "../../etc/passwd"},
    ):
        path = f"/fhir/$export?{query(params)}"
        assert_outcome(admin.get(path, **ASYNC), f"GET {path[:100]}", {400})
    assert_outcome(admin.get("/fhir/$export", HTTP_PREFER="respond-sync"), "Prefer: respond-sync", {400})
    for hostile in (*HOSTILE_IDS, str(other)):
        path = f"/fhir/Patient/{hostile}/$export"
        assert_outcome(therapist.get(path, **ASYNC), f"GET {path[:100]}", {404})
        path = f"/fhir/Group/{hostile}/$export"
        assert_outcome(admin.get(path, **ASYNC), f"GET {path[:100]}", {404})
    assert state() == before
    assert not ExportJob.objects.exists()


def test_the_export_status_and_file_routes_serve_nothing_outside_the_job(fhir_world, finished_job, tmp_path):
    client = client_for(fhir_world.therapist)
    job = finished_job.public_id
    # Files a path might reach: beside the exports, in the exports folder, another job's file.
    (tmp_path / "secret.ndjson").write_text(SECRET)
    (tmp_path / "exports" / "secret.ndjson").write_text(SECRET)
    elsewhere = tmp_path / "exports" / str(uuid.uuid4())
    elsewhere.mkdir()
    (elsewhere / "Patient.ndjson").write_text(SECRET)
    (finished_job.directory / "Secret.ndjson").write_text(SECRET)  # in the job's folder, not its manifest
    other_job = ExportJob.objects.create(
        clinic=fhir_world.other,
        requested_by=fhir_world.other_admin.user,
        kind=ExportKind.SYSTEM,
        types=["Patient"],
        request_url="http://testserver/fhir/$export",
        status=ExportStatus.DONE,
        counts={"Patient": 1},
    )
    other_job.directory.mkdir(parents=True)
    other_job.file_path("Patient").write_text(SECRET)

    served = client.get(f"/fhir/$export-file/{job}/Patient.ndjson")  # the guard: its own file is served
    assert served.status_code == 200
    assert SECRET not in b"".join(served.streaming_content).decode()

    priya, oscar = client_for(fhir_world.prescriber), client_for(fhir_world.other_admin)
    before = state()
    paths = [f"/fhir/$export-file/{job}/{name}.ndjson" for name in (
        "..%2F..%2Fsecret", "..%2Fsecret", "%2e%2e%2f%2e%2e%2fsecret", "..", "%2e%2e", "Secret", "secret",
        "patient", "Patient.ndjson", "Patient%00", f"..%2F{other_job.public_id}%2FPatient",
        f"..%2F{elsewhere.name}%2FPatient", "%2Ftmp%2Fsecret", "Patient%2F..%2F..%2Fsecret", "a" * 300,
    )]  # fmt: skip
    paths += [
        f"/fhir/$export-file/{job}/../../secret.ndjson",
        f"/fhir/$export-file/{job}/Patient.ndjson%00",
        f"/fhir/$export-file/{job}/Patient.ndjson.part",
        f"/fhir/$export-file/{other_job.public_id}/Patient.ndjson",
        f"/fhir/$export-file/{elsewhere.name}/Patient.ndjson",
        f"/fhir/$export-file/..%2F{job}/Patient.ndjson",
        f"/fhir/$export-file/{job}%2F..%2F{elsewhere.name}/Patient.ndjson",
        "/fhir/$export-file/../secret.ndjson",
        "/fhir/$export-file/%2e%2e/secret.ndjson",
        f"/fhir/$export-status/{other_job.public_id}",
        f"/fhir/$export-status/{elsewhere.name}",
        "/fhir/$export-status/not-a-uuid",
        "/fhir/$export-status/%00",
        "/fhir/$export-status/..%2F..%2Fsecret",
    ]
    for path in paths:
        response = client.get(path)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert SECRET.encode() not in content, path
        assert_outcome(response, f"GET {path[:100]}", {404})
    for path in (f"/fhir/$export-status/{other_job.public_id}", "/fhir/$export-status/not-a-uuid"):
        assert_outcome(client.delete(path), f"DELETE {path}", {404})
    # Another person of the same clinic, or of another: the job does not exist for them.
    for path in (f"/fhir/$export-status/{job}", f"/fhir/$export-file/{job}/Patient.ndjson"):
        assert_outcome(priya.get(path), f"Priya GET {path}", {404})
        assert_outcome(oscar.get(path), f"Oscar GET {path}", {404})
    assert state() == before


def test_cancelling_an_export_is_in_the_access_log(fhir_world, finished_job):
    """Regression: the DELETE of a job (a change: the job is cancelled, its files removed)
    left no entry in the access log."""
    from kapflow.core.models import AccessLogEntry, AuditAction, DataCategory

    client = client_for(fhir_world.therapist)
    response = client.delete(f"/fhir/$export-status/{finished_job.public_id}")
    assert response.status_code == 202
    entry = AccessLogEntry.objects.latest("pk")
    assert (entry.user_id, entry.action, entry.category) == (
        fhir_world.therapist.user_id,
        AuditAction.UPDATE,
        DataCategory.EXPORT,
    )
    assert entry.patient_id == fhir_world.patient.pk and "cancelled" in entry.detail
